-- Grain: one row per shipment dispatched by T, with its delivery outcome and whether it
-- counts toward the dispatched quantity: a replacement is left out only when the shipment
-- it replaces has a delivery_failed with reason damaged or lost.
-- Incremental (macros/incremental.sql): a run recomputes the shipments whose outcomes, or whose
-- replaced shipment's outcomes, may have changed (shipments_changed).
-- depends_on: {{ ref('stg_contractor__events') }}
{{ config(materialized='incremental', unique_key='shipment_id', post_hook="{{ record_increment() }}",
          pre_hook="{{ collect_touched(shipments_changed(), 'shipment_id') }}") }}
with shipments as (
    select {{ star_except('', ['_built_at']) }} from {{ ref('stg_wms__shipments') }}
    {%- if is_incremental() %}
    where {{ is_touched('shipment_id') }}
    {%- endif %}
),
outcomes as (
    select
        shipment_id,
        min(occurred_at) filter (where event_type = 'delivered') as delivered_at,
        bool_or(event_type = 'delivery_failed' and reason_code in ('damaged', 'lost')) as failed_damaged_or_lost
    from {{ ref('int_shipment_delivery_events') }}
    {%- if is_incremental() %}
    where shipment_id in (select shipment_id from shipments union select replaces_shipment_id from shipments)
    {%- endif %}
    group by shipment_id
)
select
    s.*,
    o.delivered_at,
    coalesce(o.failed_damaged_or_lost, false) as failed_damaged_or_lost,
    not (s.shipment_reason = 'replacement' and coalesce(r.failed_damaged_or_lost, false)) as counts_as_dispatch,
    {{ built_at() }} as _built_at
from shipments as s
left join outcomes as o using (shipment_id)
left join outcomes as r on r.shipment_id = s.replaces_shipment_id
