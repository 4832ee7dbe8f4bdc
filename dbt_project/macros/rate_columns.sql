{# A count, the part of it that went well, and their ratio (null when nothing was due):
   rate_columns('w', 'windows_on_time', 'windows_due', 'on_time_rate'). #}
{% macro rate_columns(relation, part, whole, rate) -%}
    coalesce({{ relation }}.{{ whole }}, 0) as {{ whole }},
    coalesce({{ relation }}.{{ part }}, 0) as {{ part }},
    {{ relation }}.{{ part }} / nullif({{ relation }}.{{ whole }}, 0) as {{ rate }}
{%- endmacro %}
