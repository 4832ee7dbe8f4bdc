-- Grain: one row per booking version (booking_id, version_no). Every booking_created or
-- booking_rescheduled event starts a version; the booking's next rescheduled/cancelled
-- event ends it (superseded_at). Versions are numbered by occurred_at, ties by event_id.
-- Incremental (macros/incremental.sql): a run deletes and recomputes the bookings whose events changed.
{{ config(materialized='incremental', incremental_strategy='append', post_hook="{{ record_increment() }}",
          pre_hook="{{ collect_touched(bookings_changed(), 'booking_id', replace=true) }}") }}
with booking_events as (
    select *,
        row_number() over (partition by booking_id order by occurred_at, event_id) as seq
    from {{ ref('stg_contractor__events') }}
    where booking_id is not null
      and event_type in ('booking_created', 'booking_rescheduled', 'booking_cancelled')
    {%- if is_incremental() %}
      and {{ is_touched('booking_id') }}
    {%- endif %}
),
with_end as (
    select *,
        min(case when event_type in ('booking_rescheduled', 'booking_cancelled') then seq end) over (
            partition by booking_id order by seq
            rows between 1 following and unbounded following) as end_seq
    from booking_events
)
select
    v.booking_id,
    row_number() over (partition by v.booking_id order by v.seq) as version_no,
    v.order_id,
    v.contractor_id,
    v.tracking_ref,
    v.event_id as start_event_id,
    v.event_type as start_event_type,
    v.occurred_at as started_at,
    v.initiated_by as started_by,
    v.window_start,
    v.window_end,
    v.window_start_local,
    v.window_end_local,
    v.window_local_date,
    e.event_id as ended_by_event_id,
    e.event_type as ended_by_type,
    e.initiated_by as ended_by_initiator,
    e.reason_code as ended_by_reason,
    e.occurred_at as superseded_at,
    {{ built_at() }} as _built_at
from with_end as v
left join with_end as e
    on e.booking_id = v.booking_id and e.seq = v.end_seq
where v.event_type in ('booking_created', 'booking_rescheduled')
