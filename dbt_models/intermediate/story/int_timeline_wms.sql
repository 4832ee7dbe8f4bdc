-- Grain: one row per shipment dispatched by T (shipment_id), with what it carried (its lines).
-- Part of fct_order_timeline.
{{ config(materialized='view') }}
with units as (
    select l.shipment_id,
           {{ joined_text('coalesce(' ~ say('unit', {'quantity': 'l.quantity', 'description': 'ol.description'}) ~ ', '
                                    ~ say('unit_of_line', {'quantity': 'l.quantity', 'line_no': 'l.line_no'}) ~ ')',
                          "' + '", ['l.line_no']) }} as units
    from {{ ref('stg_wms__shipment_lines') }} as l
    join {{ ref('stg_wms__shipments') }} as s using (shipment_id)
    left join {{ ref('stg_oms__order_lines') }} as ol on ol.order_id = s.order_id and ol.line_no = l.line_no
    group by l.shipment_id
)
{%- set values = {'units': 'u.units', 'warehouse': 's.warehouse_id', 'contractor': 's.contractor_id',
                  'replaces': 's.replaces_shipment_id'} %}
select
    s.order_id,
    s.dispatched_at as happened_at,
    'wms' as source,
    'shipment' as fact,
    s.shipment_id as source_key,
    case s.shipment_reason
        when 'split' then {{ say('shipment_split', values) }}
        when 'replacement' then coalesce({{ say('shipment_replacement', values) }}, {{ say('shipment_initial', values) }})
        else {{ say('shipment_initial', values) }} end as summary,
    s.shipment_id
from {{ ref('stg_wms__shipments') }} as s
left join units as u using (shipment_id)
