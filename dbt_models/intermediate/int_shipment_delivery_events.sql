-- Grain: one row per shipment and delivery outcome event (delivered / delivery_failed)
-- that concerns it: the event carries the shipment's tracking_ref, or its booking's events
-- carry it, or its booking (same order) carries no tracking_ref at all.
with outcomes as (
    select e.event_id, e.event_type, e.occurred_at, e.reason_code, e.order_id,
           e.tracking_ref as event_tracking_ref, b.tracking_ref as booking_tracking_ref,
           b.order_id as booking_order_id, e.booking_id
    from {{ ref('stg_contractor__events') }} as e
    left join {{ ref('int_bookings') }} as b using (booking_id)
    where e.event_type in ('delivered', 'delivery_failed')
)
select distinct s.shipment_id, o.event_id, o.event_type, o.occurred_at, o.reason_code
from {{ ref('stg_wms__shipments') }} as s
join outcomes as o
    on o.event_tracking_ref = s.tracking_ref
    or o.booking_tracking_ref = s.tracking_ref
    or (o.event_tracking_ref is null and o.booking_tracking_ref is null
        and coalesce(o.booking_order_id, o.order_id) = s.order_id)
