-- Grain: one row per shipment and order line (shipment_id, line_no), for shipments dispatched by T.
-- Incremental (macros/incremental.sql): a run recomputes every line of a shipment that gained a
-- known line, or that became known itself (its lines may have arrived before it).
{{ config(unique_key='shipment_id', pre_hook="{{ collect_touched(keys_newly_known('wms_shipment_lines', 'shipment_id')
            ~ ' union ' ~ keys_newly_known('wms_shipments', 'shipment_id', instant('dispatched_at')), 'shipment_id') }}") }}
select l.shipment_id, l.line_no, l.quantity, {{ built_at() }} as _built_at
from {{ source('raw', 'wms_shipment_lines') }} as l
where {{ known_at() }}
  -- a line counts once its shipment is known (dispatched by T), as stg_wms__shipments keeps them
  and l.shipment_id in (select shipment_id from {{ source('raw', 'wms_shipments') }}
                      where {{ known_at(instant('dispatched_at')) }})
{%- if is_incremental() %}
  and {{ is_touched('l.shipment_id') }}
{%- endif %}
{{ first_per('l.shipment_id, l.line_no', 'l._extract_date, l._line_no') }}
