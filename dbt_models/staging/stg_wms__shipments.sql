-- Grain: one row per shipment dispatched by T (the WMS feed is append-only; a
-- re-sent row counts once). A picker's re-release is a new shipment_id: kept.
select
    shipment_id, order_id, warehouse_id,
    {{ instant('dispatched_at') }} as dispatched_at,
    contractor_id, tracking_ref, shipment_reason, replaces_shipment_id
from {{ source('raw', 'wms_shipments') }}
where {{ known_at(instant('dispatched_at')) }}
{{ first_per('shipment_id', '_extract_date, _line_no') }}
