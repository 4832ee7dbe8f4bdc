-- Grain: one row per orphaned reschedule: key booking_id for (a), contact_id for (b).
-- (a) a booking_cancelled not initiated by the retailer (null counts as not), with no
--     booking_created for the order within rebook_hours after it, where at that deadline
--     (passed by T) the order was open and not delivered in full.
-- (b) a contact with outcome reschedule_agreed and agreed_date D where, at started_at +
--     rebook_hours (passed by T), no active booking of the (attributed) order had a current
--     version whose window is on local date D. occurred_at is the deadline.
with cancels as (
    select e.*, coalesce(e.order_id, b.order_id) as cancelled_order_id,
           e.occurred_at + {{ hours(var('rebook_hours')) }} as deadline
    from {{ ref('stg_contractor__events') }} as e
    left join {{ ref('int_bookings') }} as b using (booking_id)
    where e.event_type = 'booking_cancelled' and e.booking_id is not null
      and coalesce(e.initiated_by, '') <> 'retailer'
    {{ first_per('e.booking_id', 'e.occurred_at, e.event_id') }}
),
orphaned_cancels as (
    select c.*
    from cancels as c
    join {{ ref('stg_oms__order_versions') }} as v
        on v.order_id = c.cancelled_order_id and v.is_open
        and {{ version_at('v', 'c.deadline') }}
    left join {{ ref('int_order_fulfilment') }} as f on f.order_id = c.cancelled_order_id
    where c.deadline <= {{ as_of() }}
      and (f.fully_delivered_at is null or f.fully_delivered_at > c.deadline)
      and not exists (
          select 1 from {{ ref('stg_contractor__events') }} as n
          where n.order_id = c.cancelled_order_id and n.event_type = 'booking_created'
            and n.occurred_at between c.occurred_at and c.deadline)
),
agreements as (
    select c.*, c.started_at + {{ hours(var('rebook_hours')) }} as deadline
    from {{ ref('int_contacts_attributed') }} as c
    where c.outcome = 'reschedule_agreed' and c.agreed_date is not null
      and c.started_at + {{ hours(var('rebook_hours')) }} <= {{ as_of() }}
),
windows_at_deadline as (
    -- the current version, at the agreement's deadline, of each booking active then
    select a.contact_id, {{ value_at_max('v.window_local_date', 'v.version_no') }} as window_local_date
    from agreements as a
    join {{ ref('int_bookings') }} as b
        on b.order_id = a.attributed_order_id and b.created_at <= a.deadline
        and (b.active_until is null or b.active_until > a.deadline)
    join {{ ref('int_booking_versions') }} as v
        on v.booking_id = b.booking_id and v.started_at <= a.deadline
    group by a.contact_id, b.booking_id
),
orphaned_agreements as (
    select a.* from agreements as a
    where not exists (select 1 from windows_at_deadline as w
                      where w.contact_id = a.contact_id and w.window_local_date = a.agreed_date)
)
select
    {{ exception_columns(
        type='orphaned_reschedule', subtype="'cancelled_not_rebooked'", key='booking_id',
        order_id='cancelled_order_id', booking_id='booking_id', event_id='event_id',
        contractor_id='contractor_id', occurred_at='deadline',
        evidence="'booking ' || booking_id || ' cancelled by ' || coalesce(initiated_by, 'unknown')
                  || coalesce(' (' || reason_code || ')', '') || ' at ' || " ~ fmt_utc('occurred_at') ~ "
                  || '; no new booking within ' || " ~ var('rebook_hours') ~ " || 'h'") }}
from orphaned_cancels
union all
select
    {{ exception_columns(
        type='orphaned_reschedule', subtype="'agreed_date_not_booked'", key='contact_id',
        order_id='attributed_order_id', contact_id='contact_id', occurred_at='deadline',
        evidence="'agent agreed ' || " ~ format_time('agreed_date', '%Y-%m-%d') ~ " || ' on a ' || channel
                  || ' contact at ' || " ~ fmt_utc('started_at') ~ "
                  || '; no active booking on that date ' || " ~ var('rebook_hours') ~ " || 'h later'") }}
from orphaned_agreements
