"""Contractor and warehouse scorecards: the report date against the previous 7 days."""
from __future__ import annotations

import duckdb

from fulfilment_monitor.report.period import Period
from fulfilment_monitor.report.queries import rows


def _scorecard(con, period: Period, table: str, key: str, rates: dict[str, tuple[str, str]],
               counts: tuple[str, ...]) -> list[dict]:
    day, week = "metric_date = $day", "metric_date BETWEEN $first AND $day - 1"
    columns = [f"sum({num}) FILTER (WHERE {cond}) / nullif(sum({den}) FILTER (WHERE {cond}), 0) AS {name}_{when}"
               for name, (num, den) in rates.items() for when, cond in (("day", day), ("week", week))]
    columns += [f"CAST(sum({den}) FILTER (WHERE {day}) AS BIGINT) AS {name}_base" for name, (_, den) in rates.items()]
    columns += [f"CAST(coalesce(sum({c}) FILTER (WHERE {cond}), 0) AS BIGINT) AS {c}_{when}"
                for c in counts for when, cond in (("day", day), ("week", week))]
    return rows(con, f"""
        SELECT {key} AS name, {', '.join(columns)},
               CAST(sum(open_exceptions) AS BIGINT) AS open_exceptions
        FROM marts.{table}
        GROUP BY {key}
        ORDER BY open_exceptions DESC, exceptions_week DESC, name""",
                {"day": period.report_date, "first": period.first_date})


def contractors(con: duckdb.DuckDBPyConnection, period: Period) -> list[dict]:
    return _scorecard(con, period, "fct_contractor_scorecard", "contractor_id",
                      {"on_time": ("windows_on_time", "windows_due"),
                       "first_attempt": ("first_attempts_delivered", "first_attempts")},
                      ("exceptions",))


def warehouses(con: duckdb.DuckDBPyConnection, period: Period) -> list[dict]:
    return _scorecard(con, period, "fct_warehouse_scorecard", "warehouse_id",
                      {"handoff": ("handoffs_on_time", "handoffs_due")},
                      ("shipments_dispatched", "exceptions"))
