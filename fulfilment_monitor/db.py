"""Opening DuckDB files: UTC sessions, and a clear error when another writer holds the lock."""
from __future__ import annotations

from pathlib import Path

import duckdb

from fulfilment_monitor.errors import UserError


def connect(path: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A connection whose results never depend on the server's time zone."""
    if read_only and not path.exists():
        raise UserError(f"database {path} does not exist (run `run` first)")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(path), read_only=read_only)
        con.sql("SET TimeZone = 'UTC'")
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise UserError(f"database {path} is locked by another writer; try again when it ends") from None
        raise UserError(f"cannot open database {path}: {str(exc).splitlines()[0]}") from None
    return con


def query(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[tuple]:
    """Run a query and fetch it to the end (DuckDB 2.0 wants results drained)."""
    return con.execute(sql, params or []).fetchall()
