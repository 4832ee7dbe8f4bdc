"""Mart checks after the dbt build: a failed critical expectation keeps the published database."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd

from fulfilment_monitor.feeds import CHANNELS
from fulfilment_monitor.validation import gx, store
from fulfilment_monitor.validation.frames import to_frame
from fulfilment_monitor.validation.outcome import Outcome
from fulfilment_monitor.validation.suites import load_suite, mart_suite_paths


def _exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    schema, name = table.split(".")
    return bool(con.execute("SELECT count(*) FROM information_schema.tables "
                            "WHERE table_schema = ? AND table_name = ?", [schema, name]).fetchall()[0][0])


def check_mart(con: duckdb.DuckDBPyConnection, suite_path: Path, as_of: dt.datetime) -> tuple[str, list[Outcome]]:
    """(table, outcomes) for one mart suite; a required table that is missing is a failure."""
    suite = load_suite(suite_path)
    meta = suite.meta or {}
    table = meta["table"]
    if not _exists(con, table):
        if meta.get("optional"):
            return table, []
        return table, [Outcome(suite.name, "table_exists", False, details=f"{table} was not built")]
    sql = "\n".join(meta["frame_sql"]) if "frame_sql" in meta else f"SELECT * FROM {table}"
    frame = to_frame(con.sql(sql).to_arrow_table())
    moment = pd.Timestamp(as_of)
    moment = moment.tz_localize("UTC") if moment.tzinfo is None else moment.tz_convert("UTC")
    return table, gx.validate(suite, frame, {"as_of": moment, "outreach_channels": list(CHANNELS)})


def validate_marts(con: duckdb.DuckDBPyConnection, run_id: str, as_of: dt.datetime) -> list[str]:
    """Check every mart suite and record the outcomes with the run; return what blocks."""
    now = dt.datetime.now(dt.timezone.utc)
    problems = []
    checked = [check_mart(con, path, as_of) for path in mart_suite_paths()]
    store.record(con, store.MART, [(run_id, table, outcomes) for table, outcomes in checked], now)
    problems.extend(o.problem for _, outcomes in checked for o in outcomes if o.blocks)
    return problems
