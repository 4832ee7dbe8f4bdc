-- Grain: one row per missed booking version (key booking_id/v<n>).
-- Fires for a version whose window fell due by T (macros/time.sql window_fell_due: live at
-- start, not ended by the customer, window_end + grace passed) with no delivery by then.
-- Subtype: failed_attempt (a delivery_failed in [window_start, window_end + grace]), else
-- late_delivery (delivered later, by T), else no_show.
with versions as (
    select v.*, {{ window_deadline('v.window_end') }} as deadline,
           b.delivered_at
    from {{ ref('int_booking_versions') }} as v
    join {{ ref('int_bookings') }} as b using (booking_id)
    where {{ window_fell_due('v') }}
),
missed as (
    select * from versions
    where delivered_at is null or delivered_at > deadline
),
failed as (
    select m.booking_id, m.version_no, min(e.occurred_at) as failed_at, min(e.reason_code) as reason_code
    from missed as m
    join {{ ref('stg_contractor__events') }} as e
        on e.booking_id = m.booking_id and e.event_type = 'delivery_failed'
        and e.occurred_at between m.window_start and m.deadline
    group by m.booking_id, m.version_no
)
select
    {{ exception_columns(
        type='missed_window',
        subtype="case when f.failed_at is not null then 'failed_attempt'
                      when m.delivered_at is not null then 'late_delivery' else 'no_show' end",
        key="m.booking_id || '/v' || m.version_no",
        order_id='m.order_id', booking_id='m.booking_id', event_id='m.start_event_id',
        contractor_id='m.contractor_id', occurred_at='m.window_end',
        resolved_by_rule='m.delivered_at is not null',
        evidence="'window ' || " ~ fmt_local('m.window_start_local') ~ " || '-' || " ~ format_time('m.window_end_local', '%H:%M') ~ "
                  || ' (local), booking ' || m.booking_id || ' v' || m.version_no
                  || case when f.failed_at is not null then ': delivery failed (' || coalesce(f.reason_code, 'no reason') || ')'
                          when m.delivered_at is not null then ': delivered late, ' || " ~ fmt_utc('m.delivered_at') ~ "
                          else ': no delivery and no attempt' end") }}
from missed as m
left join failed as f using (booking_id, version_no)
