{# The columns every rule model returns, in one order, so the exceptions mart can union them.
   Arguments are SQL expressions; identifiers a rule is not about stay null. #}
{% macro exception_columns(type, key, order_id, occurred_at, evidence, subtype=none,
                           booking_id=none, shipment_id=none, contact_id=none, event_id=none,
                           contractor_id=none, warehouse_id=none, resolved_by_rule='false') -%}
    '{{ type }}' as exception_type,
    CAST({{ subtype or 'null' }} AS STRING) as exception_subtype,
    CAST({{ key }} AS STRING) as exception_key,
    CAST({{ order_id }} AS STRING) as order_id,
    CAST({{ booking_id or 'null' }} AS STRING) as booking_id,
    CAST({{ shipment_id or 'null' }} AS STRING) as shipment_id,
    CAST({{ contact_id or 'null' }} AS STRING) as contact_id,
    CAST({{ event_id or 'null' }} AS STRING) as event_id,
    CAST({{ contractor_id or 'null' }} AS STRING) as contractor_id,
    CAST({{ warehouse_id or 'null' }} AS STRING) as warehouse_id,
    CAST({{ occurred_at }} AS {{ instant_type() }}) as occurred_at,
    CAST({{ resolved_by_rule }} AS BOOLEAN) as resolved_by_rule,
    CAST({{ evidence }} AS STRING) as evidence
{%- endmacro %}

{# Local wall-clock time as text for evidence. #}
{% macro fmt_local(ts) -%}
    {{ format_time(ts, '%Y-%m-%d %H:%M') }}
{%- endmacro %}

{# An instant as UTC text for evidence. #}
{% macro fmt_utc(ts) -%}
    {{ format_time(to_local_time(ts, "'UTC'"), '%Y-%m-%d %H:%M UTC') }}
{%- endmacro %}
