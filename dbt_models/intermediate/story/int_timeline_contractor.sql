-- Grain: one row per contractor event known at T (event_id). A booking_created or
-- booking_rescheduled event is a booking version (fact booking_version, with who changed it and
-- the window it set); the others are contractor events. Each says what it changed: the version a
-- reschedule or cancel ended (and how long before it was due), whether a delivery kept the window
-- current at that moment. Part of fct_order_timeline.
{{ config(materialized='view') }}
with events as (
    select e.*, coalesce(e.order_id, b.order_id) as the_order_id, cu.timezone as zone
    from {{ ref('stg_contractor__events') }} as e
    left join {{ ref('int_bookings') }} as b using (booking_id)
    left join {{ ref('int_orders') }} as o on o.order_id = coalesce(e.order_id, b.order_id)
    left join {{ ref('stg_oms__customers') }} as cu on cu.customer_id = o.customer_id
),
delivered_in as (
    -- the booking's version current when it was delivered
    select e.event_id, v.window_start, v.window_end,
           {{ story_local('v.window_start', 'v.window_start_local', 'e.zone') }} as window_start_local,
           {{ story_local('v.window_end', 'v.window_end_local', 'e.zone') }} as window_end_local
    from events as e
    join {{ ref('int_booking_versions') }} as v
        on v.booking_id = e.booking_id and v.started_at <= e.occurred_at
        and (v.superseded_at is null or v.superseded_at > e.occurred_at)
    where e.event_type = 'delivered'
    {{ first_per('e.event_id', 'v.version_no desc') }}
),
versions as (
    select e.event_id,
           {{ story_local('started.window_start', 'started.window_start_local', 'e.zone') }} as start_from,
           {{ story_local('started.window_end', 'started.window_end_local', 'e.zone') }} as start_to,
           {{ story_local('ended.window_start', 'ended.window_start_local', 'e.zone') }} as end_from,
           {{ story_local('ended.window_end', 'ended.window_end_local', 'e.zone') }} as end_to
    from events as e
    left join {{ ref('int_booking_versions') }} as started on started.start_event_id = e.event_id
    left join {{ ref('int_booking_versions') }} as ended on ended.ended_by_event_id = e.event_id
),
described as (
    select e.*,
           started.version_no,
           coalesce(started.window_start, d.window_start) as set_window_start,
           coalesce(started.window_end, d.window_end) as set_window_end,
           {{ story_day('w.start_from') }} as day_text,
           {{ story_window('w.start_from', 'w.start_to') }} as window_text,
           {{ story_day('w.end_from') }} as old_day_text,
           {{ story_window('w.end_from', 'w.end_to') }} as old_window_text,
           case when e.occurred_at <= ended.window_start
                then {{ story_duration(seconds_between('e.occurred_at', 'ended.window_start')) }} end as notice_text,
           {{ story_window('d.window_start_local', 'd.window_end_local') }} as delivered_window_text,
           case when e.occurred_at > d.window_end then 'late' when e.occurred_at < d.window_start then 'early'
                when d.window_start is not null then 'in_window' end as delivered_when,
           {{ story_duration(seconds_between('d.window_end', 'e.occurred_at')) }} as late_text
    from events as e
    left join {{ ref('int_booking_versions') }} as started on started.start_event_id = e.event_id
    left join {{ ref('int_booking_versions') }} as ended on ended.ended_by_event_id = e.event_id
    left join delivered_in as d on d.event_id = e.event_id
    left join versions as w on w.event_id = e.event_id
)
{%- set values = {'contractor': 'contractor_id', 'tracking': 'tracking_ref', 'who': phrase('who', 'initiated_by'),
                  'day': 'day_text', 'window': 'window_text', 'old_day': 'old_day_text',
                  'old_window': 'old_window_text', 'notice': 'notice_text',
                  'reason': phrase('reason', 'reason_code', fallback=true), 'event_type': 'event_type'} %}
{%- set delivered = {'window': 'delivered_window_text', 'late': 'late_text'} %}
select
    the_order_id as order_id,
    occurred_at as happened_at,
    'contractor' as source,
    case when event_type in ('booking_created', 'booking_rescheduled') then 'booking_version'
         else 'contractor_event' end as fact,
    event_id as source_key,
    case when not is_known_type then {{ say('unknown_event', values) }}
         else case event_type
        when 'received_from_warehouse' then {{ say('received_from_warehouse', values) }}
        when 'booking_created' then coalesce({{ say('booking_created', values) }}, {{ say('booking_created_plain', values) }})
        when 'booking_rescheduled' then coalesce({{ say('booking_rescheduled', values) }}, {{ say('booking_rescheduled_plain', values) }})
        when 'booking_cancelled' then coalesce({{ say('booking_cancelled', values) }}, {{ say('booking_cancelled_plain', values) }})
        when 'out_for_delivery' then {{ say('out_for_delivery', values) }}
        when 'delivered' then case delivered_when
            when 'in_window' then {{ say('delivered_in_window', delivered) }}
            when 'late' then {{ say('delivered_late', delivered) }}
            when 'early' then {{ say('delivered_early', delivered) }}
            else {{ say('delivered', delivered) }} end
        when 'delivery_failed' then {{ say('delivery_failed', values) }}
    end end as summary,
    case when event_type in ('booking_rescheduled', 'booking_cancelled') then initiated_by end as changed_by,
    event_type,
    booking_id,
    version_no,
    set_window_start as window_start,
    set_window_end as window_end
from described
