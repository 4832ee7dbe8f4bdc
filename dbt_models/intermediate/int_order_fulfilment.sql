-- Grain: one row per order with lines: its fulfilment profile and when it was delivered
-- in full (every line covered by delivered shipments), null when not yet.
-- Incremental (macros/incremental.sql): a run recomputes the orders whose lines were recomputed.
{{ config(materialized='incremental', unique_key='order_id', post_hook="{{ record_increment() }}",
          pre_hook="{{ collect_touched('select order_id from ' ~ changed_since_last_build(ref('int_order_line_quantities')), 'order_id') }}") }}
select
    order_id,
    count(*) as line_count,
    bool_or(fulfilment_type in ('two_person', 'install')) as is_big_ticket,
    bool_and(dispatched_qty >= ordered_qty) as fully_dispatched,
    case when bool_and(fully_delivered_at is not null) then max(fully_delivered_at) end as fully_delivered_at,
    {{ value_at_min('description', 'line_no') }} as first_item,
    {{ built_at() }} as _built_at
from {{ ref('int_order_line_quantities') }}
{%- if is_incremental() %}
where {{ is_touched('order_id') }}
{%- endif %}
group by order_id
