-- Grain: one row per exception in fct_fulfilment_exceptions (exception_id): when it opened and,
-- once put right, the earliest moment that is known and how. Opened: when the promise broke, or
-- when first detected if earlier (at_risk_promise's occurred_at is a deadline ahead). Put right:
-- a run saw it resolved, the order closed, the order was delivered in full (for the types
-- severity_map resolves by delivery) or, for a missed window, its booking delivered. An exception
-- resolved at no known moment counts as put right when it opened (never open: no false alarm).
with exceptions as (
    select e.exception_id, e.exception_type, e.customer_id, e.order_id, e.booking_id, e.status,
           e.first_detected_at, least(e.occurred_at, e.first_detected_at) as opened_at
    from {{ ref('int_exceptions_detected') }} as e
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
    select e.exception_id, min(v.valid_from) as closed_at, {{ value_at_min('v.order_status', 'v.valid_from') }} as closed_as
    from exceptions as e
    join {{ ref('stg_oms__order_versions') }} as v
        on v.order_id = e.order_id and not v.is_open and v.valid_from >= e.opened_at
    group by e.exception_id
),
moments as (
    -- greatest() skips nulls: a moment that is not known must not become opened_at
    select e.*,
           case when e.exception_type = 'missed_window' and b.delivered_at is not null
                then greatest(b.delivered_at, e.opened_at) end as booking_delivered_at,
           case when d.by_delivery and f.fully_delivered_at is not null
                then greatest(f.fully_delivered_at, e.opened_at) end as delivered_in_full_at,
           oc.closed_at, oc.closed_as, r.seen_resolved_at
    from exceptions as e
    left join seen_resolved as r on r.exception_id = e.exception_id
    left join order_closed as oc on oc.exception_id = e.exception_id
    left join resolved_by_delivery as d on d.exception_type = e.exception_type
    left join {{ ref('int_order_fulfilment') }} as f on f.order_id = e.order_id
    left join {{ ref('int_bookings') }} as b on b.booking_id = e.booking_id
),
spells as (
    select *,
           case when status = 'resolved' then coalesce(
               least(seen_resolved_at, closed_at, delivered_in_full_at, booking_delivered_at), opened_at)
           end as resolved_at
    from moments
)
select
    exception_id,
    exception_type,
    customer_id,
    order_id,
    status,
    first_detected_at,
    opened_at,
    resolved_at,
    case when resolved_at is null then null
         when resolved_at = booking_delivered_at then 'booking_delivered'
         when resolved_at = delivered_in_full_at then 'delivered_in_full'
         when resolved_at = closed_at then 'order_' || closed_as
         when resolved_at = seen_resolved_at then 'seen_resolved' end as resolved_how
from spells
