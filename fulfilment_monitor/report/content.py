"""Everything the report shows, read from the published database in one read-only session."""
from __future__ import annotations

from dataclasses import dataclass

import duckdb

from fulfilment_monitor.report import chart, exceptions, headline, outreach, quality, scorecards
from fulfilment_monitor.report.period import Period
from fulfilment_monitor.settings import iso


@dataclass
class Content:
    context: dict  # what both templates render
    png: bytes  # the trend chart
    queue_csv: bytes  # the outreach queue attachment


def gather(con: duckdb.DuckDBPyConnection, period: Period) -> Content:
    by_type = exceptions.by_type(con, period)
    context = {
        "title": f"Fulfilment report for {period.report_date.isoformat()}",
        "report_date": period.report_date,
        "as_of": iso(period.as_of),
        "rates": headline.rates(con, period),
        "by_type": by_type,
        "by_severity": exceptions.by_severity(con, period),
        "new_exceptions": sum(r["last_day"] for r in by_type),
        "open_exceptions": sum(r["open_now"] for r in by_type),
        "contractors": scorecards.contractors(con, period),
        "warehouses": scorecards.warehouses(con, period),
        "outreach": outreach.summary(con),
        "top_cases": outreach.top_cases(con),
        "quality": quality.section(con, period),
        "trend_days": chart.DAYS,
    }
    return Content(context, chart.png(chart.trend(con, period)), outreach.queue_csv(con))
