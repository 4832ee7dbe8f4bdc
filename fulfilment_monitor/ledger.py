"""The load ledger: what happened to every drop, so each loads once by its content.

`audit.drops` holds one row per drop (source, extract date): its content's checksum, its
status (`loaded`, `rejected`, or `held` for review: it failed only a statistical check), its
load id, its counts (true for every status: a rejected or held drop loaded and quarantined
nothing) and why it was rejected or held. `audit.releases` keeps every release of a held drop
(`release SOURCE/DATE --reason TEXT`): the content released (its checksum), who, when and why;
the next run loads that content. `audit.drop_files` holds one
row per file of a drop: its counts, and its size and modification time, a fingerprint that
spares hashing a drop whose files look untouched on every run.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from fulfilment_monitor.landing import Drop


def fingerprint(drop: Drop) -> dict[str, tuple[int, int]]:
    """{file name: (bytes, modification time in ns)} of the drop's regular files."""
    return {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in drop.files() if p.is_file()}


@dataclass(frozen=True)
class Entry:
    """What the ledger knows of a drop."""
    status: str
    checksum: str
    problems: str | None
    files: dict[str, tuple[int, int]]  # the fingerprint when it was recorded
    released: bool = False  # held, and this content released by ops

    def unchanged(self, drop: Drop) -> bool:
        """The drop's content is what was recorded: by its fingerprint, else by its checksum."""
        return (bool(self.files) and fingerprint(drop) == self.files) or drop.checksum() == self.checksum


def entries(con: duckdb.DuckDBPyConnection, drops: list[Drop]) -> dict[tuple[str, dt.date], Entry]:
    """{(source, extract date): Entry} of the drops the ledger has seen."""
    if not drops:
        return {}
    span = [min(d.extract_date for d in drops), max(d.extract_date for d in drops)]
    files: dict[tuple[str, dt.date], dict[str, tuple[int, int]]] = {}
    for source, day, name, size, modified in con.execute(
            "SELECT source, extract_date, file, bytes, modified_ns FROM audit.drop_files "
            "WHERE extract_date BETWEEN ? AND ? AND bytes IS NOT NULL", span).fetchall():
        files.setdefault((source, day), {})[name] = (size, modified)
    return {(source, day): Entry(status, checksum, problems, files.get((source, day), {}), released)
            for source, day, status, checksum, problems, released in con.execute(
                "SELECT d.source, d.extract_date, d.status, d.checksum, d.problems, "
                "       EXISTS (SELECT 1 FROM audit.releases AS r WHERE r.source = d.source "
                "               AND r.extract_date = d.extract_date AND r.checksum = d.checksum) "
                "FROM audit.drops AS d WHERE d.extract_date BETWEEN ? AND ?", span).fetchall()}


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: pa.Table) -> None:
    con.register("ledger_rows", rows)
    try:
        con.sql(f"INSERT OR REPLACE INTO {table} BY NAME SELECT * FROM ledger_rows")
    finally:
        con.unregister("ledger_rows")


def record(con: duckdb.DuckDBPyConnection, results: list, now: dt.datetime) -> None:
    """Every drop of a batch, loaded, rejected or held (load.DropResult), with its files'
    fingerprints; the caller owns the transaction."""
    loaded = [r.status == "loaded" for r in results]
    _insert(con, "audit.drops", pa.table({
        "source": [r.drop.source for r in results],
        "extract_date": pa.array([r.drop.extract_date for r in results], pa.date32()),
        "checksum": [r.checksum for r in results], "status": [r.status for r in results],
        "load_id": pa.array([r.load_id if ok else None for r, ok in zip(results, loaded)], pa.string()),
        "rows_read": pa.array([r.read for r in results], pa.int64()),
        "rows_loaded": pa.array([r.loaded if ok else 0 for r, ok in zip(results, loaded)], pa.int64()),
        "rows_quarantined": pa.array([r.quarantined if ok else 0 for r, ok in zip(results, loaded)], pa.int64()),
        "problems": pa.array(["; ".join(r.problems or r.review) or None for r in results], pa.string()),
        "recorded_at": pa.array([now] * len(results), pa.timestamp("us", tz="UTC"))}))
    files = [(r, ok, f, r.fingerprint.get(f.feed.file, (None, None))) for r, ok in zip(results, loaded) for f in r.files]
    _insert(con, "audit.drop_files", pa.table({
        "source": [r.drop.source for r, _, _, _ in files],
        "extract_date": pa.array([r.drop.extract_date for r, _, _, _ in files], pa.date32()),
        "file": [f.feed.file for _, _, f, _ in files],
        "rows_read": pa.array([f.read for _, _, f, _ in files], pa.int64()),
        "rows_loaded": pa.array([f.loaded if ok else 0 for _, ok, f, _ in files], pa.int64()),
        "rows_quarantined": pa.array([f.rejected if ok else 0 for _, ok, f, _ in files], pa.int64()),
        "bytes": pa.array([size for _, _, _, (size, _) in files], pa.int64()),
        "modified_ns": pa.array([modified for _, _, _, (_, modified) in files], pa.int64())}))


def touch(con: duckdb.DuckDBPyConnection, drop: Drop) -> None:
    """A drop found unchanged by its checksum: remember its files' new fingerprint."""
    for name, (size, modified) in fingerprint(drop).items():
        con.execute("UPDATE audit.drop_files SET bytes = ?, modified_ns = ? "
                    "WHERE source = ? AND extract_date = ? AND file = ?",
                    [size, modified, drop.source, drop.extract_date, name])
