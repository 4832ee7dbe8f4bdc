-- Grain: one row per booking (key booking_id) with a version whose window's local date is
-- more than max_rebook_days after the order's promised_date (as known at T). The first such
-- version is reported; occurred_at is when it was booked.
select
    {{ exception_columns(
        type='excessive_rebook_delay', key='v.booking_id', order_id='v.order_id',
        booking_id='v.booking_id', event_id='v.start_event_id', contractor_id='v.contractor_id',
        occurred_at='v.started_at',
        evidence="'booking ' || v.booking_id || ' v' || v.version_no || ' window on '
                  || " ~ format_time('v.window_local_date', '%Y-%m-%d') ~ " || ', '
                  || " ~ days_after('v.window_local_date', 'o.promised_date') ~ " || ' days after the promised '
                  || " ~ format_time('o.promised_date', '%Y-%m-%d')) }}
from {{ ref('int_booking_versions') }} as v
join {{ ref('int_orders') }} as o using (order_id)
where v.window_local_date > o.promised_date + CAST({{ var('max_rebook_days') }} AS INTEGER)
{{ first_per('v.booking_id', 'v.version_no') }}
