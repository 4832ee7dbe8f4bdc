-- Grain: one row per order line (order_id, line_no), the latest updated_at known at T.
-- A line may arrive before its order header; it waits here until the header comes.
with known as (
    select *, {{ instant('updated_at') }} as updated_at_ts
    from {{ source('raw', 'oms_order_lines') }}
    where _extract_date <= {{ as_of_date() }}
)
select order_id, line_no, sku,
       -- one line, for every text that names the item (a catalogue may break it over lines)
       trim(regexp_replace(description, '\s+', ' ', 'g')) as description,
       quantity, unit_price, fulfilment_type,
       updated_at_ts as updated_at
from known
where updated_at_ts <= {{ as_of() }}
{{ first_per('order_id, line_no', 'updated_at_ts desc, _extract_date desc, _line_no desc') }}
