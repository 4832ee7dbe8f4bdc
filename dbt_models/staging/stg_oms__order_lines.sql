-- Grain: one row per order line (order_id, line_no), the latest updated_at known at T.
-- A line may arrive before its order header; it waits here until the header comes.
-- Incremental (macros/incremental.sql): a run recomputes every line of an order that gained a known line.
{{ config(unique_key='order_id', pre_hook="{{ collect_touched(keys_newly_known('oms_order_lines', 'order_id', instant('updated_at')), 'order_id') }}") }}
with known as (
    select *, {{ instant('updated_at') }} as updated_at_ts
    from {{ source('raw', 'oms_order_lines') }}
    where {{ known_at(instant('updated_at')) }}
{%- if is_incremental() %}
      and {{ is_touched('order_id') }}
{%- endif %}
)
select order_id, line_no, sku,
       -- one line, for every text that names the item (a catalogue may break it over lines)
       {{ one_line('description') }} as description,
       quantity, unit_price, fulfilment_type,
       updated_at_ts as updated_at, {{ built_at() }} as _built_at
from known
{{ first_per('order_id, line_no', 'updated_at_ts desc, _extract_date desc, _line_no desc') }}
