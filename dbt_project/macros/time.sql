{# T, the reference time of the run: every rule is evaluated as of this instant.
   The pipeline passes it in the environment (FULFILMENT_AS_OF, read only when executing), so
   a new T each night does not make dbt re-parse the project as a new --vars would; the var
   `as_of` (`--vars '{as_of: ...}'`, unit tests' overrides) wins when it is set. #}
{% macro as_of() -%}
    {%- if not execute -%}
        CAST(NULL AS {{ instant_type() }})
    {%- else -%}
        {%- set moment = var('as_of') or env_var('FULFILMENT_AS_OF', '') -%}
        {%- if not moment -%}
            {{ exceptions.raise_compiler_error("set the reference time: FULFILMENT_AS_OF=2026-11-21T00:00:00Z or --vars '{as_of: 2026-11-21T00:00:00Z}'") }}
        {%- endif -%}
        CAST('{{ moment }}' AS {{ instant_type() }})
    {%- endif -%}
{%- endmacro %}

{# Known at T (source-feeds.md, "When a drop is known"), the one place that says it: a drop
   extracted on D is known from the end of D (midnight UTC after it), and in a known drop a
   fact is known once its own timestamp `stamp` (an instant) is at or before T. So the nightly
   run for D never sees the drop of D+1, and a backfill at the same T sees what it saw.
   `at` is the instant to judge at (default T). Reads the raw lineage column _extract_date. #}
{% macro known_at(stamp=none, at=none) -%}
    {%- set moment = at or as_of() -%}
    _extract_date < {{ utc_date(moment) }}
    {%- if stamp %} and {{ stamp }} <= {{ moment }}{% endif %}
{%- endmacro %}

{# A raw ISO 8601 timestamp (offset included) as an instant. #}
{% macro instant(column) -%}
    {{ parse_instant(column) }}
{%- endmacro %}

{# The wall clock written in a raw ISO 8601 timestamp, in its own offset. #}
{% macro wall_clock(column) -%}
    {{ parse_wall_clock(column) }}
{%- endmacro %}

{# The local calendar date of an instant in an IANA zone (UTC when the zone is unknown). #}
{% macro local_date(instant_sql, zone_sql) -%}
    CAST({{ to_local_time(instant_sql, "coalesce(" ~ zone_sql ~ ", 'UTC')") }} AS DATE)
{%- endmacro %}

{# The order version `v` (stg_oms__order_versions) that was the current truth at `instant`. #}
{% macro version_at(v, instant) -%}
    {{ v }}.valid_from <= {{ instant }} and ({{ v }}.valid_to is null or {{ v }}.valid_to > {{ instant }})
{%- endmacro %}

{# When a booking version's window counts as missed: window_end + missed_window_grace_minutes. #}
{% macro window_deadline(window_end) -%}
    {{ window_end }} + {{ minutes(var('missed_window_grace_minutes')) }}
{%- endmacro %}

{# The missed_window rule's population, one definition for the rule and the on-time metric: a
   booking version `v` (int_booking_versions) with a window, live at its start (not superseded
   before window_start), not ended by the customer, whose deadline has passed by T. #}
{% macro window_fell_due(v) -%}
    {{ v }}.window_start is not null and {{ v }}.window_end is not null
    and ({{ v }}.superseded_at is null or {{ v }}.superseded_at >= {{ v }}.window_start)
    and coalesce({{ v }}.ended_by_initiator, '') <> 'customer'
    and {{ window_deadline(v ~ '.window_end') }} <= {{ as_of() }}
{%- endmacro %}

{# The end of a promised date in the customer's IANA zone (UTC when unknown), as an instant. #}
{% macro promise_deadline(promised_date, zone) -%}
    {{ to_instant('CAST(' ~ promised_date ~ ' + 1 AS TIMESTAMP)', 'coalesce(' ~ zone ~ ", 'UTC')") }}
{%- endmacro %}

{# The UTC calendar date of an instant. #}
{% macro utc_date(instant_sql) -%}
    CAST({{ to_local_time(instant_sql, "'UTC'") }} AS DATE)
{%- endmacro %}
