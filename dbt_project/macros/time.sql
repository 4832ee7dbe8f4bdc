{# T, the reference time of the run: every rule is evaluated as of this instant. #}
{% macro as_of() -%}
    {%- if var('as_of') is none and execute -%}
        {{ exceptions.raise_compiler_error("set the reference time: --vars '{as_of: 2026-11-21T00:00:00Z}'") }}
    {%- endif -%}
    CAST('{{ var("as_of") }}' AS TIMESTAMPTZ)
{%- endmacro %}

{# The UTC date of T: drops extracted after it were not known at T. #}
{% macro as_of_date() -%}
    CAST(timezone('UTC', {{ as_of() }}) AS DATE)
{%- endmacro %}

{# A raw ISO 8601 timestamp (offset included) as an instant. #}
{% macro instant(column) -%}
    CAST({{ column }} AS TIMESTAMPTZ)
{%- endmacro %}

{# The wall clock written in a raw ISO 8601 timestamp, in its own offset. #}
{% macro wall_clock(column) -%}
    CAST(left({{ column }}, 19) AS TIMESTAMP)
{%- endmacro %}

{# Hours and minutes as intervals, from the catalogue's vars. #}
{% macro hours(var_name) -%}
    to_hours(CAST({{ var(var_name) }} AS BIGINT))
{%- endmacro %}

{# The local calendar date of an instant in an IANA zone (UTC when the zone is unknown). #}
{% macro local_date(instant_sql, zone_sql) -%}
    CAST(timezone(coalesce({{ zone_sql }}, 'UTC'), {{ instant_sql }}) AS DATE)
{%- endmacro %}
