-- Grain: one row per UTC day (metric_date) from the first order to the last day before T.
-- Each rate is its two counts divided, null on a day without any (see _metrics.yml):
--   on_time_rate      windows due that day (by window_end) delivered by window_end + grace;
--   promise_accuracy  orders promised for that day, delivered in full before the day ended;
--   first_attempt_rate bookings whose first attempt that day delivered;
--   contact_rate      inbound contacts that day per order open at the end of the day (or at T).
with days as (
    select metric_date,
           least({{ to_instant('CAST(metric_date + 1 AS TIMESTAMP)', "'UTC'") }}, {{ as_of() }}) as day_end
    from {{ ref('int_metric_days') }}
),
windows as (
    select metric_date, count(*) as windows_due, count(*) filter (where on_time) as windows_on_time
    from {{ ref('int_metric_windows') }} group by all
),
promises as (
    select metric_date, count(*) as promises_due, count(*) filter (where kept) as promises_kept
    from {{ ref('int_metric_promises') }} group by all
),
attempts as (
    select metric_date, count(*) as first_attempts, count(*) filter (where delivered) as first_attempts_delivered
    from {{ ref('int_metric_first_attempts') }} group by all
),
contacts as (
    select {{ utc_date('started_at') }} as metric_date, count(*) as inbound_contacts
    from {{ ref('stg_contacts__contacts') }}
    where direction = 'inbound'
    group by all
),
open_orders as (
    select d.metric_date, count(v.order_id) as open_orders
    from days as d
    join {{ ref('stg_oms__order_versions') }} as v
        on {{ version_at('v', 'd.day_end') }} and v.is_open
    group by all
),
placed as (
    select {{ utc_date('placed_at') }} as metric_date, count(*) as orders_placed
    from {{ ref('int_orders') }} group by all
),
exceptions as (
    select metric_date, sum(n) as exceptions,
           {{ ordered_map('exception_type', 'n', ['exception_type']) }} as exceptions_by_type
    from (select metric_date, exception_type, CAST(sum(exceptions) AS BIGINT) as n
          from {{ ref('fct_daily_exceptions') }} group by all) as per_type
    group by metric_date
)
select
    d.metric_date,
    coalesce(p.orders_placed, 0) as orders_placed,
    {{ rate_columns('w', 'windows_on_time', 'windows_due', 'on_time_rate') }},
    {{ rate_columns('pr', 'promises_kept', 'promises_due', 'promise_accuracy') }},
    {{ rate_columns('a', 'first_attempts_delivered', 'first_attempts', 'first_attempt_rate') }},
    coalesce(c.inbound_contacts, 0) as inbound_contacts,
    coalesce(o.open_orders, 0) as open_orders,
    coalesce(c.inbound_contacts, 0) / nullif(o.open_orders, 0) as contact_rate,
    coalesce(e.exceptions, 0) as exceptions,
    coalesce(e.exceptions_by_type, {{ empty_count_map() }}) as exceptions_by_type
from days as d
left join placed as p using (metric_date)
left join windows as w using (metric_date)
left join promises as pr using (metric_date)
left join attempts as a using (metric_date)
left join contacts as c using (metric_date)
left join open_orders as o using (metric_date)
left join exceptions as e using (metric_date)
