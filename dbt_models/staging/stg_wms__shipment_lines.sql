-- Grain: one row per shipment and order line (shipment_id, line_no), for shipments dispatched by T.
select l.shipment_id, l.line_no, l.quantity
from {{ source('raw', 'wms_shipment_lines') }} as l
where {{ known_at() }}
  and l.shipment_id in (select shipment_id from {{ ref('stg_wms__shipments') }})
{{ first_per('l.shipment_id, l.line_no', 'l._extract_date, l._line_no') }}
