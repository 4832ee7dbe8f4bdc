-- Grain: one row per order (key order_id) where, for some order line, the quantity
-- dispatched over all the order's shipments exceeds the ordered quantity. A replacement
-- is left out only when the shipment it replaces failed as damaged or lost; split
-- shipments that add up to no more than ordered never fire. occurred_at is the dispatch
-- of the shipment that first pushed a line over.
with shipped as (
    select s.order_id, l.line_no, l.quantity, s.shipment_id, s.dispatched_at, s.warehouse_id,
           s.contractor_id,
           sum(l.quantity) over (partition by s.order_id, l.line_no
                                 order by s.dispatched_at, s.shipment_id) as dispatched_so_far,
           string_agg(s.shipment_id, ', ') over (partition by s.order_id, l.line_no
                                 order by s.dispatched_at, s.shipment_id) as shipments_so_far
    from {{ ref('stg_wms__shipment_lines') }} as l
    join {{ ref('int_shipments') }} as s using (shipment_id)
    where s.counts_as_dispatch
),
over_dispatched as (
    select sh.*, q.ordered_qty, q.dispatched_qty, q.description
    from shipped as sh
    join {{ ref('int_order_line_quantities') }} as q using (order_id, line_no)
    where sh.dispatched_so_far > q.ordered_qty
    {{ first_per('sh.order_id', 'sh.dispatched_at, sh.line_no, sh.shipment_id') }}
)
select
    {{ exception_columns(
        type='duplicate_shipment', key='order_id', order_id='order_id',
        shipment_id='shipment_id', contractor_id='contractor_id', warehouse_id='warehouse_id',
        occurred_at='dispatched_at',
        evidence="'line ' || line_no || ' (' || description || '): ' || dispatched_qty
                  || ' dispatched against ' || ordered_qty || ' ordered, over shipments ' || shipments_so_far") }}
from over_dispatched
