"""The outreach queue: its top cases for the report and the whole queue as a CSV attachment.

The CSV carries ids, channels, timing, the message and the case's context (what broke, what the
customer already did, the effort so far: whoever contacts the customer starts from the story),
never an email address or a phone number: whoever sends gets those from `export-outreach`.
"""
from __future__ import annotations

import csv
import datetime as dt
import io

import duckdb

from fulfilment_monitor.report.queries import one, rows
from fulfilment_monitor.settings import iso

CSV_COLUMNS = ("case_id", "order_id", "customer_id", "exception_types", "priority", "channel",
               "fallback_channels", "send_after", "escalate", "suppressed_reason", "message", "context")
TOP = 10

_QUEUE = f"SELECT {', '.join(CSV_COLUMNS)} FROM marts.fct_outreach_queue ORDER BY priority DESC, case_id"


def summary(con: duckdb.DuckDBPyConnection) -> dict:
    return one(con, """
        SELECT count(*) AS cases,
               count(*) FILTER (WHERE suppressed_reason IS NULL) AS sendable,
               count(*) FILTER (WHERE escalate) AS escalate
        FROM marts.fct_outreach_queue""")


def top_cases(con: duckdb.DuckDBPyConnection, limit: int = TOP) -> list[dict]:
    return rows(con, f"{_QUEUE} LIMIT {int(limit)}")


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    if isinstance(value, dt.datetime):
        return iso(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def queue_csv(con: duckdb.DuckDBPyConnection) -> bytes:
    """The whole queue, highest priority first; lists are ';'-joined, times ISO 8601 UTC."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows(con, _QUEUE):
        writer.writerow([_cell(row[c]) for c in CSV_COLUMNS])
    return out.getvalue().encode()
