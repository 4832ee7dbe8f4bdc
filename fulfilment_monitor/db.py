"""Opening DuckDB files: UTC sessions, and a clear error when another writer holds the lock.

A file's path reaches DuckDB as a bound parameter (ATTACH takes one), never spliced into SQL:
a folder may be named `it's a "db" dir`.
"""
from __future__ import annotations

from pathlib import Path

import duckdb

from fulfilment_monitor.errors import UserError
from fulfilment_monitor.settings import duckdb_config


def connect(path: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A connection whose results never depend on the server's time zone, within the memory,
    threads and spill folder the settings give DuckDB."""
    if read_only and not path.exists():
        raise UserError(f"database {path} does not exist (run `run` first)")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(path), read_only=read_only)
        con.sql("SET TimeZone = 'UTC'")
        # SET, not connect(config=...): dbt may hold the same file open in this process, and
        # DuckDB refuses a second connection to it with another configuration.
        for name, value in duckdb_config(path).items():
            con.execute(f"SET {name} = ?", [value])
    except duckdb.IOException as exc:
        raise _refused(path, exc) from None
    return con


def attach(con: duckdb.DuckDBPyConnection, path: Path, alias: str, read_only: bool = False) -> None:
    """Attach the database file `path` to `con` as `alias` (one of the pipeline's own names)."""
    try:
        con.execute(f"ATTACH ? AS {alias}{' (READ_ONLY)' if read_only else ''}", [str(path)])
    except duckdb.IOException as exc:
        raise _refused(path, exc) from None


def _refused(path: Path, exc: duckdb.IOException) -> UserError:
    if "lock" in str(exc).lower():
        return UserError(f"database {path} is locked by another writer; try again when it ends")
    return UserError(f"cannot open database {path}: {str(exc).splitlines()[0]}")


def query(con: duckdb.DuckDBPyConnection, sql: str, params: list | dict | None = None) -> list[tuple]:
    """Run a query and fetch it to the end (DuckDB 2.0 wants results drained)."""
    return con.execute(sql, params or []).fetchall()
