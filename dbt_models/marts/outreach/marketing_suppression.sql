-- Grain: one row per customer who must not receive marketing now because they have at
-- least one open exception (any order). Marketing tools exclude these customer_ids.
with open_exceptions as (
    select e.customer_id, e.order_id, e.exception_type, e.severity, s.severity_rank,
           least(e.occurred_at, e.first_detected_at) as opened_at
    from {{ ref('int_exceptions_detected') }} as e
    join {{ ref('severities') }} as s using (severity)
    where e.status = 'open' and e.customer_id is not null
)
select
    e.customer_id,
    count(*) as open_exceptions,
    {{ ordered_list('e.exception_type', ['e.exception_type'], distinct=true) }} as exception_types,
    {{ ordered_list('e.order_id', ['e.order_id'], distinct=true, where='e.order_id is not null') }} as order_ids,
    {{ value_at_min('e.severity', 'e.severity_rank') }} as worst_severity,
    min(e.opened_at) as suppressed_since,
    coalesce(bool_or(c.marketing_opt_in), false) as marketing_opt_in
from open_exceptions as e
left join {{ ref('stg_oms__customers') }} as c on c.customer_id = e.customer_id
group by e.customer_id
