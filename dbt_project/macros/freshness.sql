{# `dbt source freshness` judged at T, not at the wall clock: of the rows known at T (their
   loaded_at_field at or before T), the latest against T itself. So a backfill's run for D
   judges the drops it could see, exactly as the nightly run for D did. Overrides dbt's
   collect_freshness for this adapter (dbt looks in the root project first). #}
{% macro duckdb__collect_freshness(source, loaded_at_field, filter) %}
  {% call statement('collect_freshness', fetch_result=True, auto_begin=False) -%}
    select max({{ loaded_at_field }}) as max_loaded_at, {{ as_of() }} as snapshotted_at
    from {{ source }}
    where {{ loaded_at_field }} <= {{ as_of() }}{% if filter %} and ({{ filter }}){% endif %}
  {%- endcall %}
  {{ return(load_result('collect_freshness')) }}
{% endmacro %}
