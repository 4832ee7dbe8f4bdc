-- Grain: one row per booking with a delivery attempt (delivered or delivery_failed) by T:
-- its first attempt (by occurred_at, ties by event_id) and whether that attempt delivered.
-- metric_date: the UTC date of the first attempt.
-- Incremental (macros/incremental.sql): a run deletes and recomputes the bookings whose events changed.
{{ config(materialized='incremental', incremental_strategy='append',
          post_hook="{{ record_increment() }}",
          pre_hook="{{ collect_touched(bookings_changed(), 'booking_id', replace=true) }}") }}
select
    booking_id,
    order_id,
    contractor_id,
    event_id,
    occurred_at as attempted_at,
    {{ utc_date('occurred_at') }} as metric_date,
    event_type = 'delivered' as delivered,
    {{ built_at() }} as _built_at
from {{ ref('stg_contractor__events') }}
where booking_id is not null and event_type in ('delivered', 'delivery_failed')
{%- if is_incremental() %}
  and {{ is_touched('booking_id') }}
{%- endif %}
{{ first_per('booking_id', 'occurred_at, event_id') }}
