{# Exceptions per UTC day (of occurred_at) and `key` (contractor_id, warehouse_id, ...): all, open,
   and one count per (exception_type, column name) in `types`. #}
{% macro exceptions_per_day(key, types) -%}
    select {{ utc_date('occurred_at') }} as metric_date, {{ key }},
           count(*) as exceptions,
           count(*) filter (where status = 'open') as open_exceptions
           {%- for type, column in types %},
           count(*) filter (where exception_type = '{{ type }}') as {{ column }}
           {%- endfor %}
    from {{ ref('int_exceptions') }}
    where {{ key }} is not null
    group by all
{%- endmacro %}
