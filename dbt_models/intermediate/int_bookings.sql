-- Grain: one row per booking. Active from its booking_created (or first version)
-- until its first booking_cancelled or delivered event (active_until, null while active).
-- Incremental (macros/incremental.sql): a run deletes and recomputes the bookings whose events changed.
{{ config(materialized='incremental', incremental_strategy='append', post_hook="{{ record_increment() }}",
          pre_hook="{{ collect_touched(bookings_changed(), 'booking_id', replace=true) }}") }}
with events as (
    select * from {{ ref('stg_contractor__events') }} where booking_id is not null and is_known_type
    {%- if is_incremental() %}
      and {{ is_touched('booking_id') }}
    {%- endif %}
)
select
    booking_id,
    min(order_id) as order_id,
    min(contractor_id) as contractor_id,
    min(tracking_ref) as tracking_ref,
    coalesce(min(occurred_at) filter (where event_type = 'booking_created'),
             min(occurred_at) filter (where event_type = 'booking_rescheduled')) as created_at,
    min(occurred_at) filter (where event_type = 'booking_cancelled') as cancelled_at,
    min(occurred_at) filter (where event_type = 'delivered') as delivered_at,
    least(min(occurred_at) filter (where event_type = 'booking_cancelled'),
          min(occurred_at) filter (where event_type = 'delivered')) as active_until,
    {{ built_at() }} as _built_at
from events
group by booking_id
having created_at is not null
