"""A work database made before personal data left it, brought up to date when the pipeline next opens it.

Such a database holds every customer's full name, email and phone in `raw.oms_customers` and
`staging.stg_oms__customers`, and whole lines of customers.csv in `quarantine.rows`. What can
be done with it, in this order:

1. the personal columns of raw's rows are copied to the private file (private.write: its rows of
   those loads replaced, so it can be repeated; an erased customer's never);
2. one transaction of the work database adds and fills what raw derives from them (the first
   name), drops them from raw, drops every dbt table or view that has one (the next build
   rebuilds the models in full: transform.full_refresh_reason), and masks the quarantined
   records and reasons as the loader now does (redact.py);
3. the work database is compacted: DuckDB does not zero what it drops, so only a fresh file is
   free of the old bytes, and the next published copy with it.

A crash in between repeats the steps on the next run (1 is idempotent, 2 all or nothing). The
published file keeps the old data until the next run publishes.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from fulfilment_monitor import db, private, redact, tables
from fulfilment_monitor.feeds import FEEDS
from fulfilment_monitor.publish import compact
from fulfilment_monitor.text import quote_identifier

PERSONAL = sorted({name for feed in FEEDS for name in feed.personal_columns})


def _holding_personal(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str]]:
    """(schema, table, type) of every table or view with a personal column."""
    return db.query(con, """
        SELECT DISTINCT c.table_schema, c.table_name, t.table_type
        FROM information_schema.columns AS c JOIN information_schema.tables AS t USING (table_schema, table_name)
        WHERE c.table_catalog = current_database() AND c.column_name IN (SELECT unnest(?))
        ORDER BY 1, 2""", [PERSONAL])


def _move_raw(con: duckdb.DuckDBPyConnection) -> None:
    """Step 2's raw part: the derived columns added and filled, the personal ones dropped."""
    for feed in tables.PRIVATE_FEEDS:
        for name, sql in feed.derived:
            con.sql(f"ALTER TABLE raw.{feed.table} ADD COLUMN IF NOT EXISTS {name} VARCHAR")
            con.sql(f"UPDATE raw.{feed.table} SET {name} = CASE WHEN {feed.person} IN ({tables.ERASED}) "
                    f"THEN NULL ELSE {sql} END")
        for name in feed.personal_columns:
            con.sql(f"ALTER TABLE raw.{feed.table} DROP COLUMN IF EXISTS {name}")


def _mask_quarantine(con: duckdb.DuckDBPyConnection) -> None:
    for feed in FEEDS:
        con.execute("UPDATE quarantine.rows SET raw_text = masked_record(?, raw_text), reason = masked_text(reason) "
                    "WHERE source = ? AND file = ?", [feed.table, feed.source, feed.file])


def migrate(work: Path) -> bool:
    """Bring a work database made before the private file up to date (see the module's
    docstring); whether it had to."""
    if not work.exists():
        return False
    with db.connect(work) as con:
        holding = _holding_personal(con)
        if not holding:
            return False
        tables.ensure(con)  # audit.erasures, in a database made before it
        in_raw = {table for schema, table, _ in holding if schema == "raw"}
        private.write(con, {feed: f"SELECT * FROM raw.{feed.table}" for feed in tables.PRIVATE_FEEDS
                            if feed.table in in_raw}, dt.datetime.now(dt.timezone.utc))
        redact.register(con)
        con.begin()
        try:
            _move_raw(con)
            for schema, table, kind in holding:
                if schema != "raw":
                    dropped = "VIEW" if kind == "VIEW" else "TABLE"
                    con.sql(f"DROP {dropped} {quote_identifier(schema)}.{quote_identifier(table)}")
            _mask_quarantine(con)
            con.commit()
        except BaseException:
            con.rollback()
            raise
    compact(work)
    return True
