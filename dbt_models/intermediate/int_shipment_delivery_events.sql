-- Grain: one row per shipment and delivery outcome event (delivered / delivery_failed)
-- that concerns it: the event carries the shipment's tracking_ref, or its booking's events
-- carry it, or its booking (same order) carries no tracking_ref at all.
-- Three equi-joins under one UNION (which also drops duplicates): a join on an OR of these
-- conditions cannot be hashed and grows with shipments x events.
-- Incremental (macros/incremental.sql): a run deletes and recomputes the shipments whose
-- outcomes may have changed (shipments_changed).
{{ config(materialized='incremental', incremental_strategy='append', post_hook="{{ record_increment() }}",
          pre_hook="{{ collect_touched(shipments_changed(), 'shipment_id', replace=true) }}") }}
with outcomes as (
    select e.event_id, e.event_type, e.occurred_at, e.reason_code,
           e.tracking_ref as event_tracking_ref, b.tracking_ref as booking_tracking_ref,
           case when e.tracking_ref is null and b.tracking_ref is null
                then coalesce(b.order_id, e.order_id) end as untracked_order_id
    from {{ ref('stg_contractor__events') }} as e
    left join {{ ref('int_bookings') }} as b using (booking_id)
    where e.event_type in ('delivered', 'delivery_failed')
),
shipments as (
    select shipment_id, tracking_ref, order_id from {{ ref('stg_wms__shipments') }}
    {%- if is_incremental() %}
    where {{ is_touched('shipment_id') }}
    {%- endif %}
)
{% for shipment_key, outcome_key in [('tracking_ref', 'event_tracking_ref'),
                                     ('tracking_ref', 'booking_tracking_ref'),
                                     ('order_id', 'untracked_order_id')] %}
select s.shipment_id, o.event_id, o.event_type, o.occurred_at, o.reason_code, {{ built_at() }} as _built_at
from shipments as s
join outcomes as o on o.{{ outcome_key }} = s.{{ shipment_key }}
{% if not loop.last %}union{% endif %}
{% endfor %}
