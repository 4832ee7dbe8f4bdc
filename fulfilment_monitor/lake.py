"""The lake Spark builds from: each loaded drop's rows as Parquet, partitioned by source and extract date.

Only when the engine is Spark (settings.engine): the loader stays DuckDB (it reads, checks and
keeps the ledger) and hands each drop it loads over here, in the same transaction (load._write
calls `hand_off` before it commits). A drop's rows of each feed table become one file,

    <lake>/raw/<source>/<table>/_extract_date=<D>/<checksum>.parquet

written under a hidden temporary name (Spark skips names starting with a dot) and renamed into
place; the ledger commits after. A file whose load the ledger does not hold as loaded - renamed,
then the process died before the commit - is an orphan: the next hand-off sweeps it. A build
on Spark first catches the lake up with the ledger (`sync`): it also writes the drops loaded
while the engine was DuckDB.
"""
from __future__ import annotations

import os
from pathlib import Path

import duckdb

from fulfilment_monitor import db, settings
from fulfilment_monitor.feeds import FEEDS
from fulfilment_monitor.text import quote_sql

PARTITION = "_extract_date"


def lake_of(con: duckdb.DuckDBPyConnection) -> Path:
    """The lake beside the database file this connection writes."""
    path = db.query(con, "SELECT path FROM duckdb_databases() WHERE database_name = current_database()")[0][0]
    return settings.lake_for(Path(path))


def drop_file(lake: Path, load_id: str, table: str) -> Path:
    """Where one load's rows of one feed table live (load_id: <source>/<extract date>/<checksum>)."""
    source, extract_date, checksum = load_id.split("/")
    return lake / "raw" / source / table / f"{PARTITION}={extract_date}" / f"{checksum}.parquet"


def load_id_of(path: Path) -> str:
    """The load a drop file holds, from its place in the lake."""
    return f"{path.parents[2].name}/{path.parent.name.split('=', 1)[1]}/{path.stem}"


def table_folder(lake: Path, table: str) -> Path:
    source = next(f.source for f in FEEDS if f.table == table)
    return lake / "raw" / source / table


def _loaded(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {row[0] for row in db.query(con, "SELECT load_id FROM audit.drops WHERE status = 'loaded'")}


def _write(con: duckdb.DuckDBPyConnection, lake: Path, load_id: str) -> None:
    """One load's rows of every feed table, each file written aside and renamed into place."""
    for feed in FEEDS:
        if not load_id.startswith(feed.source + "/"):
            continue
        target = drop_file(lake, load_id, feed.table)
        target.parent.mkdir(parents=True, exist_ok=True)
        aside = target.with_name(f".{target.name}.writing")
        con.execute(f"COPY (SELECT * EXCLUDE ({PARTITION}) FROM raw.{feed.table} WHERE _load_id = ?) "
                    f"TO {quote_sql(str(aside))} (FORMAT parquet)", [load_id])  # COPY takes no parameter for its target
        os.replace(aside, target)


def sweep(con: duckdb.DuckDBPyConnection, lake: Path) -> list[Path]:
    """Remove every file of a load the ledger does not hold as loaded, and every one left half
    written; the files removed."""
    loaded = _loaded(con)
    gone = [path for path in (lake / "raw").glob("*/*/*/*")
            if path.name.startswith(".") or load_id_of(path) not in loaded]
    for path in gone:
        path.unlink()
    return gone


def hand_off(con: duckdb.DuckDBPyConnection, load_ids: list[str]) -> None:
    """Inside the loader's transaction, before its commit: sweep the orphans of earlier loads,
    then write these loads' rows to the lake. Nothing at all unless the engine is Spark."""
    if settings.engine() != "spark":
        return
    lake = lake_of(con)
    sweep(con, lake)
    for load_id in load_ids:
        _write(con, lake, load_id)


def sync(work: Path) -> Path:
    """Make the lake hold exactly the loads the ledger holds as loaded (orphans swept, missing
    loads written); the lake."""
    lake = settings.lake_for(work)
    with db.connect(work) as con:
        sweep(con, lake)
        for load_id in sorted(_loaded(con)):
            tables = [f.table for f in FEEDS if load_id.startswith(f.source + "/")]
            if not all(drop_file(lake, load_id, table).exists() for table in tables):
                _write(con, lake, load_id)
    return lake
