-- Grain: one row per outbound marketing or upsell contact (contact_id) that reached a
-- customer while they had an open exception: what marketing_suppression exists to prevent.
-- "Reached": any outcome but no_answer. An exception is open from when the promise broke
-- (or, for at_risk_promise, was first detected) until the earliest moment it is known to be
-- put right: a run saw it resolved, the order closed, the order was delivered in full (for
-- the types severity_map resolves by delivery) or, for a missed window, its booking delivered.
with exceptions as (
    select e.exception_id, e.exception_type, e.customer_id, e.order_id, e.booking_id, e.status,
           least(e.occurred_at, e.first_detected_at) as opened_at
    from {{ ref('fct_fulfilment_exceptions') }} as e
    where e.customer_id is not null
),
resolved_by_delivery as (
    select exception_type, bool_or(resolved_by_delivery) as by_delivery
    from {{ ref('severity_map') }}
    group by exception_type
),
seen_resolved as (
    select exception_id, min(detected_at) as seen_resolved_at
    from {{ ref('exception_history') }}
    where status = 'resolved' and detected_at <= {{ as_of() }}
    group by exception_id
),
order_closed as (
    select e.exception_id, min(v.valid_from) as closed_at
    from exceptions as e
    join {{ ref('stg_oms__order_versions') }} as v
        on v.order_id = e.order_id and not v.is_open and v.valid_from >= e.opened_at
    group by e.exception_id
),
spells as (
    select e.*,
           -- resolved with no known moment: counted as never open (no false alarm).
           -- greatest() skips nulls: a moment that is not known must not become opened_at.
           case when e.status = 'resolved' then coalesce(
               least(r.seen_resolved_at, oc.closed_at,
                     case when d.by_delivery and f.fully_delivered_at is not null
                          then greatest(f.fully_delivered_at, e.opened_at) end,
                     case when e.exception_type = 'missed_window' and b.delivered_at is not null
                          then greatest(b.delivered_at, e.opened_at) end),
               e.opened_at)
           end as resolved_at
    from exceptions as e
    left join seen_resolved as r on r.exception_id = e.exception_id
    left join order_closed as oc on oc.exception_id = e.exception_id
    left join resolved_by_delivery as d on d.exception_type = e.exception_type
    left join {{ ref('int_order_fulfilment') }} as f on f.order_id = e.order_id
    left join {{ ref('int_bookings') }} as b on b.booking_id = e.booking_id
),
marketing as (
    select contact_id, customer_id, channel, team, reason, outcome, started_at
    from {{ ref('stg_contacts__contacts') }}
    where direction = 'outbound' and (team = 'marketing' or reason = 'upsell') and outcome <> 'no_answer'
)
select
    m.contact_id,
    m.customer_id,
    m.started_at,
    CAST(timezone('UTC', m.started_at) AS DATE) as day,
    m.channel,
    m.team,
    m.reason,
    count(*) as open_exceptions,
    arg_min(s.exception_id, s.opened_at) as exception_id,
    arg_min(s.exception_type, s.opened_at) as exception_type
from marketing as m
join spells as s
    on s.customer_id = m.customer_id
    and s.opened_at <= m.started_at
    and (s.resolved_at is null or m.started_at < s.resolved_at)
group by all
