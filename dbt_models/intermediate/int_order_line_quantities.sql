-- Grain: one row per order line: ordered, dispatched (by the catalogue's counting) and
-- delivered quantities known at T, and when the line was first delivered in full.
-- Incremental (macros/incremental.sql): a run recomputes every line of the orders whose lines,
-- shipment lines or shipments changed (orders_changed).
{{ config(materialized='incremental', unique_key='order_id', post_hook="{{ record_increment() }}",
          pre_hook="{{ collect_touched(orders_changed(), 'order_id') }}") }}
with order_lines as (
    select * from {{ ref('stg_oms__order_lines') }}
    {%- if is_incremental() %}
    where {{ is_touched('order_id') }}
    {%- endif %}
),
shipped as (
    select s.order_id, l.line_no, l.quantity, s.counts_as_dispatch, s.delivered_at, s.shipment_id
    from {{ ref('stg_wms__shipment_lines') }} as l
    join {{ ref('int_shipments') }} as s using (shipment_id)
    {%- if is_incremental() %}
    where s.order_id in (select order_id from order_lines)
    {%- endif %}
),
totals as (
    select order_id, line_no,
           sum(quantity) filter (where counts_as_dispatch) as dispatched_qty,
           sum(quantity) filter (where delivered_at is not null) as delivered_qty
    from shipped
    group by order_id, line_no
),
delivered_running as (
    select order_id, line_no, delivered_at,
           sum(quantity) over (partition by order_id, line_no order by delivered_at, shipment_id) as delivered_so_far
    from shipped
    where delivered_at is not null
)
select
    ol.order_id,
    ol.line_no,
    ol.sku,
    ol.description,
    ol.fulfilment_type,
    ol.quantity as ordered_qty,
    coalesce(t.dispatched_qty, 0) as dispatched_qty,
    coalesce(t.delivered_qty, 0) as delivered_qty,
    (select min(d.delivered_at) from delivered_running as d
     where d.order_id = ol.order_id and d.line_no = ol.line_no
       and d.delivered_so_far >= ol.quantity) as fully_delivered_at,
    {{ built_at() }} as _built_at
from order_lines as ol
left join totals as t using (order_id, line_no)
