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
import pyarrow as pa

from fulfilment_monitor.validation.outcome import Outcome

DROP, MART = "drop", "mart"


def record(con: duckdb.DuckDBPyConnection, scope: str, checked: Iterable[tuple[str | None, str, list[Outcome]]],
           checked_at: dt.datetime) -> None:
    """Append the outcomes of each (run id, target, outcomes) in one insert; the caller owns
    the transaction (the loader's, for drops)."""
    rows = [(run_id, target, o) for run_id, target, outcomes in checked for o in outcomes]
    if not rows:
        return
    table = pa.table({
        "run_id": pa.array([r for r, _, _ in rows], pa.string()), "scope": [scope] * len(rows),
        "target": [t for _, t, _ in rows], "suite": [o.suite for _, _, o in rows],
        "expectation": [o.expectation for _, _, o in rows], "success": [o.success for _, _, o in rows],
        "critical": [o.critical for _, _, o in rows], "details": [o.details or None for _, _, o in rows],
        "review": [o.review for _, _, o in rows],
        "checked_at": pa.array([checked_at] * len(rows), pa.timestamp("us", tz="UTC"))})
    con.register("validations_rows", table)
    try:
        con.sql("INSERT INTO audit.validations BY NAME SELECT * FROM validations_rows")
    finally:
        con.unregister("validations_rows")
