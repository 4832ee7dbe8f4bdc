-- Grain: one row per order whose promised_date is decided at T: delivered in full by T, or
-- its promised date over (the end of that date in the customer's zone, UTC when unknown, <= T).
-- kept: delivered in full before that end. Cancelled orders are left out: the promise was
-- withdrawn. metric_date: the promised_date itself (a calendar date, not an instant).
-- Incremental (macros/incremental.sql): a run deletes and recomputes the orders whose versions,
-- customer or fulfilment changed, and those whose promised date ended since the last build's T.
-- depends_on: {{ ref('stg_oms__order_versions') }}
{{ config(materialized='incremental', incremental_strategy='append',
          post_hook="{{ record_increment() }}",
          pre_hook="{{ collect_touched(metric_promises_touched(), 'order_id', replace=true) }}") }}
with orders as (
    select o.order_id, o.promised_date, f.fully_delivered_at,
           {{ promise_deadline('o.promised_date', 'c.timezone') }} as deadline
    from {{ ref('int_orders') }} as o
    left join {{ ref('stg_oms__customers') }} as c using (customer_id)
    left join {{ ref('int_order_fulfilment') }} as f using (order_id)
    where o.order_status <> 'cancelled' and o.promised_date is not null
    {%- if is_incremental() %}
      and {{ is_touched('o.order_id') }}
    {%- endif %}
)
select
    order_id,
    promised_date as metric_date,
    deadline,
    fully_delivered_at,
    coalesce(fully_delivered_at < deadline, false) as kept,
    {{ built_at() }} as _built_at
from orders
where fully_delivered_at is not null or deadline <= {{ as_of() }}
