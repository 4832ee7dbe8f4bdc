-- Grain: one row per UTC day and contractor (metric_date, contractor_id), every day of
-- int_metric_days for every contractor seen in the contractor feed or on a shipment.
-- Windows by the UTC date of window_end, first attempts by their UTC date, exceptions by the
-- UTC date of occurred_at; rates are null on a day without any.
with contractors as (
    select contractor_id from {{ ref('stg_contractor__events') }} where contractor_id is not null
    union
    select contractor_id from {{ ref('stg_wms__shipments') }} where contractor_id is not null
),
windows as (
    select metric_date, contractor_id, count(*) as windows_due, count(*) filter (where on_time) as windows_on_time
    from {{ ref('int_metric_windows') }} group by all
),
attempts as (
    select metric_date, contractor_id, count(*) as first_attempts,
           count(*) filter (where delivered) as first_attempts_delivered
    from {{ ref('int_metric_first_attempts') }} group by all
),
exceptions as (
    {{ exceptions_per_day('contractor_id', [('missed_window', 'missed_windows'),
                                            ('late_cancellation', 'late_cancellations'),
                                            ('stalled_handoff', 'stalled_handoffs')]) }}
)
select
    d.metric_date,
    k.contractor_id,
    {{ rate_columns('w', 'windows_on_time', 'windows_due', 'on_time_rate') }},
    {{ rate_columns('a', 'first_attempts_delivered', 'first_attempts', 'first_attempt_rate') }},
    coalesce(e.exceptions, 0) as exceptions,
    coalesce(e.open_exceptions, 0) as open_exceptions,
    coalesce(e.missed_windows, 0) as missed_windows,
    coalesce(e.late_cancellations, 0) as late_cancellations,
    coalesce(e.stalled_handoffs, 0) as stalled_handoffs
from {{ ref('int_metric_days') }} as d
cross join contractors as k
left join windows as w using (metric_date, contractor_id)
left join attempts as a using (metric_date, contractor_id)
left join exceptions as e using (metric_date, contractor_id)
