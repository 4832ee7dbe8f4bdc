-- Grain: one row per customer and order (case_id) with at least one open exception on an
-- order that is not cancelled: what the case is about and how urgent it is (priority 0-100).
-- Exceptions without an order or a customer cannot be a case (nothing to write about).
with severity_points as (
    -- Priority = the worst severity's points (the severities seed) + 5 per further open exception
    --            (max 15) + big ticket 10 + 1 per day open (max 15) + effort score / 10
    --            (fct_customer_effort, max 10): at most 100.
    select severity, severity_rank, priority_points as points from {{ ref('severities') }}
),
open_exceptions as (
    select e.exception_id, e.exception_type, e.customer_id, e.order_id, e.occurred_at,
           e.severity, s.severity_rank, s.points,
           least(e.occurred_at, e.first_detected_at) as opened_at  -- at_risk_promise's occurred_at is its deadline
    from {{ ref('int_exceptions_detected') }} as e
    join {{ ref('int_orders') }} as o on o.order_id = e.order_id
    join severity_points as s on s.severity = e.severity
    where e.status = 'open' and o.order_status <> 'cancelled' and e.customer_id is not null
),
types as (
    select customer_id, order_id,
           {{ ordered_list('exception_type', ['severity_rank', 'exception_type']) }} as exception_types
    from (select customer_id, order_id, exception_type, min(severity_rank) as severity_rank
          from open_exceptions group by all)
    group by all
),
cases as (
    select
        customer_id,
        order_id,
        {{ ordered_list('exception_id', ['severity_rank', 'occurred_at', 'exception_id']) }} as exception_ids,
        count(*) as open_exceptions,
        {{ value_at_min('severity', 'severity_rank') }} as worst_severity,
        max(points) as severity_points,
        bool_or(exception_type = 'high_effort_contact') as has_high_effort,
        min(opened_at) as opened_at
    from open_exceptions
    group by all
),
scored as (
    select
        c.*,
        t.exception_types,
        coalesce(f.is_big_ticket, false) as is_big_ticket,
        greatest(0, {{ quotient(hour_boundaries_between('c.opened_at', as_of()), 24) }}) as days_open,
        coalesce(ef.effort_score, 0) as effort_score
    from cases as c
    join types as t using (customer_id, order_id)
    left join {{ ref('int_order_fulfilment') }} as f on f.order_id = c.order_id
    left join {{ ref('int_customer_effort') }} as ef on ef.order_id = c.order_id
)
select
    left(md5(customer_id || '|' || order_id), 16) as case_id,
    customer_id,
    order_id,
    exception_types,
    exception_ids,
    open_exceptions,
    worst_severity,
    is_big_ticket,
    has_high_effort,
    opened_at,
    days_open,
    effort_score,
    CAST(least(100, severity_points
                    + least(15, 5 * (open_exceptions - 1))
                    + case when is_big_ticket then 10 else 0 end
                    + least(15, days_open)
                    + least(10, {{ quotient('effort_score', 10) }})) AS INTEGER) as priority
from scored
