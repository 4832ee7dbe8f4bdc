-- Grain: one row per order and updated_at: every state the OMS reported, known at T,
-- with the interval [valid_from, valid_to) during which it was the current truth.
-- Repeated re-exports of the same row collapse; ordering is by updated_at, never load order.
-- Incremental (macros/incremental.sql): a run recomputes every version of an order that gained a known row.
{{ config(unique_key='order_id', pre_hook="{{ collect_touched(keys_newly_known('oms_orders', 'order_id', instant('updated_at')), 'order_id') }}") }}
with known as (
    select *, {{ instant('updated_at') }} as updated_at_ts
    from {{ source('raw', 'oms_orders') }}
    where {{ known_at(instant('updated_at')) }}
{%- if is_incremental() %}
      and {{ is_touched('order_id') }}
{%- endif %}
),
versions as (
    select *
    from known
    {{ first_per('order_id, updated_at_ts', '_extract_date desc, _line_no desc') }}
)
select
    order_id,
    customer_id,
    sales_channel,
    store_id,
    {{ instant('placed_at') }} as placed_at,
    promised_date,
    order_status,
    order_status = 'placed' as is_open,
    order_total,
    currency,
    updated_at_ts as valid_from,
    lead(updated_at_ts) over (partition by order_id order by updated_at_ts) as valid_to,
    {{ built_at() }} as _built_at
from versions
