"""The private file: customers' names, email addresses and phone numbers, owner-only, never published.

`<name>.private.duckdb` beside the work database (settings.private_db_for). The published file is
a byte copy of the work database, and DuckDB does not zero the blocks of what it drops or
deletes, so personal data is never written to the work database at all: the loader writes the
personal columns of each feed file that has them (feeds.py) here, with the key and the row's
lineage, and `raw` keeps the rest. The narrow export (outreach_export.py) is the only reader;
`forget` (forget.py) the only other writer.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from fulfilment_monitor import db, tables
from fulfilment_monitor.feeds import FeedFile
from fulfilment_monitor.settings import private_db_for

CATALOG = "personal"  # the private file's name when attached to a work database connection
LINEAGE = "_load_id, _source, _extract_date, _file, _line_no"
LOADED = "SELECT load_id FROM audit.drops WHERE status = 'loaded' AND load_id IS NOT NULL"


def attach(con: duckdb.DuckDBPyConnection, read_only: bool = False, path: Path | None = None) -> None:
    """Attach the private file (by default the one beside the work database `con` is open on)
    as `personal`, with its tables, unless it is attached already."""
    if db.query(con, "SELECT 1 FROM duckdb_databases() WHERE database_name = ?", [CATALOG]):
        return
    if path is None:
        ((work,),) = db.query(con, "SELECT path FROM duckdb_databases() WHERE database_name = current_database()")
        path = private_db_for(Path(work))
    db.attach(con, path, CATALOG, read_only)
    if not read_only:
        tables.ensure_private(con, CATALOG)


def write(con: duckdb.DuckDBPyConnection, accepted: dict[FeedFile, str], now: dt.datetime) -> None:
    """The personal columns of the records a load is about to commit (`accepted`: per feed, SQL
    selecting its records with their lineage), in the private file, before the load's own
    transaction: DuckDB writes one file per transaction.

    Written first and idempotently: the rows of these loads, and of any load the ledger does not
    hold loaded (one that died before its commit), are replaced, so a crash between the two
    commits leaves at worst private rows of a drop not loaded, which its next load rewrites. An
    erased customer's rows are never written, and any left are removed.
    """
    if not accepted:
        return
    attach(con)
    con.begin()
    try:
        for feed, sql in accepted.items():
            table = f"{CATALOG}.main.{feed.table}"
            con.sql(f"DELETE FROM {table} WHERE _load_id NOT IN ({LOADED}) "
                    f"OR _load_id IN (SELECT _load_id FROM ({sql})) OR {feed.person} IN ({tables.ERASED})")
            con.execute(f"""INSERT INTO {table}
                            SELECT {', '.join(feed.private_columns)}, {LINEAGE}, ?
                            FROM ({sql}) WHERE {feed.person} NOT IN ({tables.ERASED})""", [now])
        con.commit()
    except BaseException:
        con.rollback()
        raise


def erase(private: Path, customer_id: str) -> int:
    """Delete every row of one customer from the private file, then rewrite the file (its freed
    blocks would still hold the bytes); how many rows were deleted."""
    from fulfilment_monitor.publish import compact

    if not private.exists():
        return 0
    with duckdb.connect() as con:
        attach(con, path=private)
        deleted = sum(len(db.query(con, f"DELETE FROM {CATALOG}.main.{feed.table} WHERE {feed.person} = ? "
                                        f"RETURNING 1", [customer_id])) for feed in tables.PRIVATE_FEEDS)
    compact(private)
    return deleted
