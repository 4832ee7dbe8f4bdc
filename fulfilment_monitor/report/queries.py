"""Read-only queries of the published database as lists of dicts, with one-line errors (the
report's and the story's)."""
from __future__ import annotations

import duckdb

from fulfilment_monitor.errors import UserError


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | dict | None = None) -> list[dict]:
    """Every row as a dict; a missing table or column means the database predates this code."""
    try:
        result = con.execute(sql, params or [])
        names = [d[0] for d in result.description]
        return [dict(zip(names, row)) for row in result.fetchall()]
    except duckdb.CatalogException as exc:
        first = str(exc).splitlines()[0]
        raise UserError(f"the database lacks what this command reads ({first}); run `run` to rebuild it") from None


def one(con: duckdb.DuckDBPyConnection, sql: str, params: list | dict | None = None) -> dict:
    found = rows(con, sql, params)
    return found[0] if found else {}
