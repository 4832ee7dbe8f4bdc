-- Grain: one row per booking version whose window fell due by T (booking_id, version_no):
-- the missed_window rule's population (macros/time.sql window_fell_due) - live at start, not
-- ended by the customer, and window_end + grace <= T. on_time: the booking was delivered by window_end + grace (the
-- rule's own test, so windows_on_time + missed windows = windows due). metric_date: the UTC
-- date of window_end.
-- Incremental (macros/incremental.sql): a run deletes and recomputes the bookings whose events
-- changed, and those with a version that fell due since the last build's T.
-- depends_on: {{ ref('stg_contractor__events') }}
{{ config(materialized='incremental', incremental_strategy='append',
          post_hook="{{ record_increment() }}",
          pre_hook="{{ collect_touched(metric_windows_touched(), 'booking_id', replace=true) }}") }}
with versions as (
    select v.booking_id, v.version_no, v.order_id, v.contractor_id, v.window_end, b.delivered_at,
           {{ window_deadline('v.window_end') }} as deadline
    from {{ ref('int_booking_versions') }} as v
    join {{ ref('int_bookings') }} as b using (booking_id)
    where {{ window_fell_due('v') }}
    {%- if is_incremental() %}
      and {{ is_touched('v.booking_id') }}
    {%- endif %}
)
select
    booking_id,
    version_no,
    order_id,
    contractor_id,
    window_end,
    deadline,
    {{ utc_date('window_end') }} as metric_date,
    coalesce(delivered_at <= deadline, false) as on_time,
    {{ built_at() }} as _built_at
from versions
