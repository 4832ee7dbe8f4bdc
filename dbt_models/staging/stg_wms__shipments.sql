-- Grain: one row per shipment dispatched by T (the WMS feed is append-only; a
-- re-sent row counts once). A picker's re-release is a new shipment_id: kept.
-- Incremental (macros/incremental.sql): a run recomputes the shipment_ids that gained a known row.
{{ config(unique_key='shipment_id', pre_hook="{{ collect_touched(keys_newly_known('wms_shipments', 'shipment_id', instant('dispatched_at')), 'shipment_id') }}") }}
select
    shipment_id, order_id, warehouse_id,
    {{ instant('dispatched_at') }} as dispatched_at,
    contractor_id, tracking_ref, shipment_reason, replaces_shipment_id,
    {{ built_at() }} as _built_at
from {{ source('raw', 'wms_shipments') }}
where {{ known_at(instant('dispatched_at')) }}
{%- if is_incremental() %}
  and {{ is_touched('shipment_id') }}
{%- endif %}
{{ first_per('shipment_id', '_extract_date, _line_no') }}
