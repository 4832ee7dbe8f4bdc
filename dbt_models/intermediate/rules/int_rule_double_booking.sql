-- Grain: one row per order and tracking_ref (key order_id/tracking_ref, empty for null)
-- with two or more bookings active at the same moment. Two null tracking_refs are the
-- same. Active intervals overlap when each starts strictly before the other ends.
-- occurred_at is when the second booking became active; booking_id is that booking.
with bookings as (
    select *, coalesce(tracking_ref, '') as ref_key from {{ ref('int_bookings') }}
),
overlapping as (
    select a.order_id, a.ref_key, a.contractor_id,
           case when b.created_at >= a.created_at then b.booking_id else a.booking_id end as second_booking,
           case when b.created_at >= a.created_at then a.booking_id else b.booking_id end as first_booking,
           greatest(a.created_at, b.created_at) as overlap_start
    from bookings as a
    join bookings as b
        on b.order_id = a.order_id and b.ref_key = a.ref_key and b.booking_id > a.booking_id
    where a.created_at < coalesce(b.active_until, {{ end_of_time() }})
      and b.created_at < coalesce(a.active_until, {{ end_of_time() }})
    {{ first_per('a.order_id, a.ref_key', 'overlap_start, second_booking') }}
)
select
    {{ exception_columns(
        type='double_booking', key="order_id || '/' || ref_key", order_id='order_id',
        booking_id='second_booking', contractor_id='contractor_id', occurred_at='overlap_start',
        evidence="'bookings ' || first_booking || ' and ' || second_booking
                  || ' both active from ' || " ~ fmt_utc('overlap_start') ~ "
                  || case when ref_key = '' then ' (no tracking ref)' else ' for tracking ref ' || ref_key end") }}
from overlapping
