"""audit.validations: every checked expectation, per drop and per run, kept for the report.

Drop checks are written by the loader in the drop's own transaction, with the
drop's load id (`<source>/<date>/<checksum12>`) as run_id: the run's id is not
known to the loader, and the load id joins to raw._load_id and names the exact
content that was checked, loaded or rejected. Mart checks carry the run's id.
"""
from __future__ import annotations

import datetime as dt
from typing import Iterable

import duckdb

from fulfilment_monitor.validation.outcome import Outcome

DROP, MART = "drop", "mart"


def ensure_table(con: duckdb.DuckDBPyConnection) -> None:
    con.sql("CREATE SCHEMA IF NOT EXISTS audit")
    con.sql("""
        CREATE TABLE IF NOT EXISTS audit.validations (
            run_id VARCHAR, scope VARCHAR NOT NULL, target VARCHAR NOT NULL, suite VARCHAR NOT NULL,
            expectation VARCHAR NOT NULL, success BOOLEAN NOT NULL, critical BOOLEAN NOT NULL,
            details VARCHAR, checked_at TIMESTAMPTZ NOT NULL)""")


def record(con: duckdb.DuckDBPyConnection, run_id: str | None, scope: str, target: str,
           outcomes: Iterable[Outcome], checked_at: dt.datetime) -> None:
    """Append outcomes; the caller owns the transaction (the loader's, for drops)."""
    rows = [[run_id, scope, target, o.suite, o.expectation, o.success, o.critical, o.details or None,
             checked_at] for o in outcomes]
    if rows:
        con.executemany("INSERT INTO audit.validations VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
