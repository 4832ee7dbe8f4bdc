"""What broke in the last day and what is still open, by type and by severity, against the previous 7 days."""
from __future__ import annotations

import duckdb

from fulfilment_monitor.feeds import SEVERITIES
from fulfilment_monitor.report.period import Period
from fulfilment_monitor.report.queries import rows

_COUNTS = """
    count(*) FILTER (WHERE occurred_at >= ? AND occurred_at < ?) AS last_day,
    count(*) FILTER (WHERE occurred_at >= ? AND occurred_at < ?) AS previous_7_days,
    count(*) FILTER (WHERE status = 'open') AS open_now"""


def _windows(period: Period) -> list:
    return [*period.last_day, *period.previous_week]


def by_type(con: duckdb.DuckDBPyConnection, period: Period) -> list[dict]:
    """One row per exception type with something to show, its open exceptions split by severity."""
    per_severity = ", ".join(f"count(*) FILTER (WHERE status = 'open' AND severity = '{s}') AS open_{s}"
                             for s in SEVERITIES)
    return rows(con, f"""
        SELECT exception_type, {_COUNTS}, {per_severity}
        FROM marts.fct_fulfilment_exceptions
        GROUP BY exception_type
        HAVING last_day + previous_7_days + open_now > 0
        ORDER BY open_now DESC, last_day DESC, exception_type""", _windows(period))


def by_severity(con: duckdb.DuckDBPyConnection, period: Period) -> list[dict]:
    """Every severity, worst first, zeros included."""
    ranked = ", ".join(f"('{s}', {rank})" for rank, s in enumerate(SEVERITIES))
    return rows(con, f"""
        SELECT s.severity, {_COUNTS.replace('count(*)', 'count(e.exception_id)')}
        FROM (VALUES {ranked}) AS s(severity, rank)
        LEFT JOIN marts.fct_fulfilment_exceptions AS e USING (severity)
        GROUP BY s.severity, s.rank
        ORDER BY s.rank""", _windows(period))
