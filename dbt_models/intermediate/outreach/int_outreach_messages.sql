-- Grain: one row per outreach case (case_id): the service-only message, built from the
-- case's context: the order and its first item, what happened (each open exception in plain
-- words, int_outreach_wording), what happens next and a yes/no question. The next step
-- follows the case's most concrete delivery problem (lowest message_rank) and says when
-- the delivery is booked if the order has an active appointment still ahead of T.
with case_exceptions as (
    select c.case_id, c.order_id, e.exception_id, e.exception_type, e.exception_subtype, e.occurred_at,
           o.promised_date, cu.timezone
    from {{ ref('int_outreach_cases') }} as c
    join {{ ref('int_exceptions_detected') }} as e
        on e.customer_id = c.customer_id and e.order_id = c.order_id and e.status = 'open'
    left join {{ ref('int_orders') }} as o on o.order_id = c.order_id
    left join {{ ref('stg_oms__customers') }} as cu on cu.customer_id = c.customer_id
),
worded as (
    select ce.*, w.message_rank, w.next_unbooked, w.question_unbooked, w.next_booked, w.question_booked,
           replace(w.happened, '{day}', {{ format_time(
               "case when ce.exception_type = 'at_risk_promise' then CAST(ce.promised_date AS TIMESTAMP)
                    else " ~ to_local_time('ce.occurred_at', "coalesce(ce.timezone, 'UTC')") ~ " end",
               '%A %-d %B') }}) as happened
    from case_exceptions as ce
    join {{ ref('int_outreach_wording') }} as w
        on w.exception_type = ce.exception_type
        and (w.exception_subtype is null or w.exception_subtype = ce.exception_subtype)
),
happened as (
    select case_id, {{ joined_text('happened', "'; '", ['message_rank', 'first_at', 'happened']) }} as happened
    from (select case_id, happened, min(message_rank) as message_rank, min(occurred_at) as first_at
          from worded group by all)
    group by case_id
),
lead_exception as (
    select * from worded
    {{ first_per('case_id', 'message_rank, occurred_at, exception_type, exception_id') }}
),
current_windows as (
    -- the current version of every active booking, on the customer's clock (a contractor that
    -- writes UTC would otherwise give a New York customer 13:00-17:00 for their 08:00-12:00)
    select b.order_id, b.booking_id, v.window_start, v.window_end,
           {{ story_local('v.window_start', 'v.window_start_local', 'cu.timezone') }} as window_start_local,
           {{ story_local('v.window_end', 'v.window_end_local', 'cu.timezone') }} as window_end_local
    from {{ ref('int_bookings') }} as b
    join {{ ref('int_booking_versions') }} as v on v.booking_id = b.booking_id
    left join {{ ref('int_orders') }} as o on o.order_id = b.order_id
    left join {{ ref('stg_oms__customers') }} as cu on cu.customer_id = o.customer_id
    where b.active_until is null
    {{ first_per('b.booking_id', 'v.version_no desc') }}
),
next_window as (
    select order_id,
           'on ' || {{ format_time('window_start_local', '%A %-d %B') }} || ' between '
           || {{ format_time('window_start_local', '%H:%M') }} || ' and ' || {{ format_time('window_end_local', '%H:%M') }} as window_text
    from current_windows
    where window_end > {{ as_of() }}
    {{ first_per('order_id', 'window_start, window_end, booking_id') }}
),
items as (
    select order_id,
           first_item || case when line_count = 2 then ' and 1 more item'
                              when line_count > 2 then ' and ' || (line_count - 1) || ' more items'
                              else '' end as items
    from {{ ref('int_order_fulfilment') }}
)
select
    l.case_id,
    'About your order ' || l.order_id || coalesce(' (' || i.items || ')', '') || ': ' || h.happened || '. '
    || case when n.window_text is not null and l.next_booked is not null
            then replace(l.next_booked, '{window}', n.window_text) || ' ' || l.question_booked
            else l.next_unbooked || ' ' || l.question_unbooked end as message
from lead_exception as l
join happened as h using (case_id)
left join next_window as n on n.order_id = l.order_id
left join items as i on i.order_id = l.order_id
