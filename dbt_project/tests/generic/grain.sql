{# A model's grain: fails on every combination of `columns` that appears more than once or has
   a null part (one scan, where unique + not_null on each column would take several).
   `nullable`: the key columns a null is allowed in (a null then counts as one value). #}
{% test grain(model, columns, nullable=[]) %}
select {{ columns | join(', ') }}, count(*) as n
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{%- for column in columns if column not in nullable %} or {{ column }} is null{% endfor %}
{% endtest %}
