-- Grain: one row per order (key order_id) at risk at T: open, not delivered in full, its
-- promised_date today or tomorrow in the customer's time zone (UTC when unknown), and
-- either no active booking whose current window is on or before the promised date, or
-- lines not yet fully dispatched. A forecast at T: occurred_at is the deadline, the end
-- of the promised date in the customer's zone.
with orders as (
    select o.*, c.timezone,
           {{ local_date(as_of(), 'c.timezone') }} as local_today,
           f.fully_delivered_at, coalesce(f.fully_dispatched, true) as fully_dispatched
    from {{ ref('int_orders') }} as o
    left join {{ ref('stg_oms__customers') }} as c using (customer_id)
    left join {{ ref('int_order_fulfilment') }} as f using (order_id)
    where o.is_open and f.fully_delivered_at is null
),
booked_in_time as (
    select b.order_id
    from {{ ref('int_bookings') }} as b
    join {{ ref('int_booking_versions') }} as v using (booking_id)
    where b.active_until is null
    group by b.order_id, b.booking_id
    having {{ value_at_max('v.window_local_date', 'v.version_no') }} <= (
        select promised_date from {{ ref('int_orders') }} as o where o.order_id = b.order_id)
),
at_risk as (
    select *, order_id in (select order_id from booked_in_time) as booked
    from orders
    where promised_date between local_today and local_today + 1
)
select
    {{ exception_columns(
        type='at_risk_promise', key='order_id', order_id='order_id',
        occurred_at=promise_deadline('promised_date', 'timezone'),
        evidence="'promised ' || " ~ format_time('promised_date', '%Y-%m-%d') ~ " || ' ('
                  || case when promised_date = local_today then 'today' else 'tomorrow' end || ' in '
                  || coalesce(timezone, 'UTC') || ')'
                  || case when not booked then '; no booking on or before that date' else '' end
                  || case when not fully_dispatched then '; not fully dispatched' else '' end") }}
from at_risk
where not booked or not fully_dispatched
