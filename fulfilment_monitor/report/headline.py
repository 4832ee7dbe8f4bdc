"""The day's rates against the previous 7 days, from marts.fct_daily_metrics.

A week's rate is its summed counts divided (not an average of daily rates), so a quiet day
weighs what it counted.
"""
from __future__ import annotations

import duckdb

from fulfilment_monitor.report.period import Period
from fulfilment_monitor.report.queries import one

# (label, numerator, denominator) of each rate in fct_daily_metrics
RATES = (
    ("On time (booking window)", "windows_on_time", "windows_due"),
    ("Promise kept (promised date)", "promises_kept", "promises_due"),
    ("Delivered at first attempt", "first_attempts_delivered", "first_attempts"),
    ("Inbound contacts per open order", "inbound_contacts", "open_orders"),
)


def rates(con: duckdb.DuckDBPyConnection, period: Period) -> list[dict]:
    """Per rate: the report date's value and the previous week's, with their denominators."""
    sums = ", ".join(f"sum({col}) FILTER (WHERE metric_date {cond}) AS {col}_{name}"
                     for _, num, den in RATES for col in (num, den)
                     for name, cond in (("day", "= $day"), ("week", "BETWEEN $first AND $day - 1")))
    got = one(con, f"SELECT {sums} FROM marts.fct_daily_metrics",
              {"day": period.report_date, "first": period.first_date})
    result = []
    for label, num, den in RATES:
        entry = {"label": label, "is_share": den != "open_orders"}
        for name in ("day", "week"):
            n, d = got.get(f"{num}_{name}"), got.get(f"{den}_{name}")
            entry[name] = n / d if n is not None and d else None
            entry[f"{name}_base"] = int(d or 0)
        result.append(entry)
    return result
