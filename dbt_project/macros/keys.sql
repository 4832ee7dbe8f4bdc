{# The stable id of an exception: the first 16 hex digits of md5(type|key). #}
{% macro exception_id(type_sql, key_sql) -%}
    left(md5({{ type_sql }} || '|' || {{ key_sql }}), 16)
{%- endmacro %}

{# Keep one row per key: the first by the given order. #}
{% macro first_per(partition_by, order_by) -%}
    QUALIFY row_number() OVER (PARTITION BY {{ partition_by }} ORDER BY {{ nulls_last(order_by.split(', ')) }}) = 1
{%- endmacro %}
