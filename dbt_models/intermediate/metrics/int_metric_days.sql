-- Grain: one row per metric day (metric_date). Days are UTC calendar dates, like the extract
-- date D whose end is T: from the first order's placed_at to the UTC date of the last instant
-- before T (so a run at T = midnight after D ends on D, never on an empty day of its own).
select CAST(day AS DATE) as metric_date
from {{ day_series(
    "(select " ~ utc_date('min(placed_at)') ~ " from " ~ ref('int_orders') ~ ")",
    utc_date(as_of() ~ ' - INTERVAL 1 MICROSECOND')) }}
