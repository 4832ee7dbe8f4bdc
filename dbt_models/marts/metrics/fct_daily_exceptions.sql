-- Grain: one row per UTC day, exception type and severity (metric_date, exception_type,
-- severity) with at least one exception: the exceptions holding at T whose occurred_at falls
-- on that UTC date, and how many of them are still open at T. at_risk_promise occurs at its
-- deadline, so it can sit on a day after T's.
select
    {{ utc_date('occurred_at') }} as metric_date,
    exception_type,
    severity,
    count(*) as exceptions,
    count(*) filter (where status = 'open') as open_exceptions
from {{ ref('int_exceptions') }}
group by all
