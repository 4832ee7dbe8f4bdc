"""Load complete drops into `raw`: read by DuckDB, every row checked once, all or nothing per drop.

A batch of drops is read together, one DuckDB reader per feed file whatever the number of
drops (reader.py), and every record is checked against its feed's declaration
(row_checks.py). The gate then judges each drop as a whole (validation/drop_gate.py). One
transaction writes the batch: each accepted drop's good rows to `raw.<table>` with their
lineage, its bad rows to `quarantine.rows` with their reason; every drop, accepted or
rejected, to the ledger (`audit.drops`, per file `audit.drop_files`) with what the gate
found (`audit.validations`). A rejected drop writes no row, and a process dying mid-batch
leaves none of the batch: a drop is never half loaded.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Callable

import duckdb
import pyarrow as pa

from fulfilment_monitor.feeds import FEEDS, SQL_TYPES, FeedFile, files_of
from fulfilment_monitor.landing import Drop
from fulfilment_monitor.reader import FileInput, Read, check_header, physical_lines, read_feed
from fulfilment_monitor.row_checks import duplicates, json_field_problems, record_text_sql
from fulfilment_monitor.validation import store as validations
from fulfilment_monitor.validation.outcome import Outcome

LINEAGE_COLUMNS = """
    _load_id VARCHAR NOT NULL,
    _source VARCHAR NOT NULL,
    _extract_date DATE NOT NULL,
    _file VARCHAR NOT NULL,
    _line_no BIGINT NOT NULL,
    _loaded_at TIMESTAMPTZ NOT NULL"""
FILE_PROBLEM = "file_readable_with_declared_format"


@dataclass
class FileResult:
    """One feed file of a drop: its records read and quarantined, and any file-level problem."""
    feed: FeedFile
    file_id: int
    read: int = 0
    rejected: int = 0  # records quarantined by the reader or the row checks
    problems: list[str] = field(default_factory=list)  # reject the drop
    notes: list[str] = field(default_factory=list)  # recorded as warnings

    @property
    def loaded(self) -> int:
        return self.read - self.rejected


@dataclass
class DropResult:
    drop: Drop
    checksum: str = ""
    status: str = "loaded"  # loaded | rejected | skipped
    files: list[FileResult] = field(default_factory=list)
    validations: list[Outcome] = field(default_factory=list)  # every check's outcome

    @property
    def read(self) -> int:
        return sum(f.read for f in self.files)

    @property
    def quarantined(self) -> int:
        return sum(f.rejected for f in self.files)

    @property
    def loaded(self) -> int:
        return self.read - self.quarantined

    @property
    def problems(self) -> list[str]:
        """Why the drop is rejected: every failed critical check, one line each."""
        return [o.problem for o in self.validations if o.blocks]

    @property
    def load_id(self) -> str:
        return f"{self.drop.name}/{self.checksum[:12]}"

    @property
    def checkable(self) -> bool:
        """Every file read: what the gate's expectations look at."""
        return not any(f.problems for f in self.files)


@dataclass
class FeedRecords:
    """The records of one feed file type in a batch: the reader's (checked) and the keys repeated."""
    read: Read
    duplicates: str | None  # temp table of the rowids of records repeating a key, if the feed has keys

    def good(self) -> str:
        """SQL condition (over `t`, the checked table) of a record to load."""
        repeated = f" AND t.rowid NOT IN (SELECT _row FROM {self.duplicates})" if self.duplicates else ""
        return f"t._check IS NULL{repeated}"

    def bad(self) -> str:
        """SQL: every record to quarantine, with `_file_id, _line_no, _raw, _reason`."""
        repeated = f" OR t.rowid IN (SELECT _row FROM {self.duplicates})" if self.duplicates else ""
        return f"""
            SELECT _file_id, _line_no, coalesce(_raw, {record_text_sql(self.read.feed)}) AS _raw,
                   coalesce(_check, 'duplicate key within drop') AS _reason
            FROM ({self.read.accepted(f"t._check IS NOT NULL{repeated}")})
            UNION ALL {self.read.rejected()}"""

    def drop(self) -> None:
        self.read.drop()
        if self.duplicates:
            self.read.con.sql(f"DROP TABLE IF EXISTS {self.duplicates}")


@dataclass
class Batch:
    """Drops read together: their results, and per feed file its records in temp tables."""
    drops: list[DropResult]
    records: dict[str, FeedRecords] = field(default_factory=dict)  # raw table -> its records
    files: dict[int, tuple[DropResult, FileResult]] = field(default_factory=dict)  # file id -> owner


# The gate: judges every drop of a batch, adding its outcomes to each DropResult.validations
# (a failed critical outcome rejects the drop). See validation/drop_gate.py.
Gate = Callable[[duckdb.DuckDBPyConnection, Batch], None]


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the raw, quarantine and audit tables if this is a new database."""
    for schema in ("raw", "quarantine", "audit"):
        con.sql(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    for feed in FEEDS:
        columns = ",\n    ".join(f"{c.name} {SQL_TYPES[c.kind]}" for c in feed.columns)
        con.sql(f"CREATE TABLE IF NOT EXISTS raw.{feed.table} (\n    {columns},{LINEAGE_COLUMNS}\n)")
    con.sql("""
        CREATE TABLE IF NOT EXISTS quarantine.rows (
            load_id VARCHAR NOT NULL, source VARCHAR NOT NULL, extract_date DATE NOT NULL,
            file VARCHAR NOT NULL, line_no BIGINT NOT NULL, raw_text VARCHAR, reason VARCHAR NOT NULL,
            quarantined_at TIMESTAMPTZ NOT NULL)""")
    con.sql("""
        CREATE TABLE IF NOT EXISTS audit.drops (
            source VARCHAR NOT NULL, extract_date DATE NOT NULL, checksum VARCHAR NOT NULL,
            status VARCHAR NOT NULL, load_id VARCHAR, rows_read BIGINT, rows_loaded BIGINT,
            rows_quarantined BIGINT, problems VARCHAR, recorded_at TIMESTAMPTZ NOT NULL,
            PRIMARY KEY (source, extract_date))""")
    con.sql("""
        CREATE TABLE IF NOT EXISTS audit.drop_files (
            source VARCHAR NOT NULL, extract_date DATE NOT NULL, file VARCHAR NOT NULL,
            rows_read BIGINT NOT NULL, rows_loaded BIGINT NOT NULL, rows_quarantined BIGINT NOT NULL,
            PRIMARY KEY (source, extract_date, file))""")
    validations.ensure_table(con)


def drop_states(con: duckdb.DuckDBPyConnection, drops: list[Drop]) -> dict[tuple[str, dt.date], tuple[str, str]]:
    """{(source, extract date): (status, checksum)} of the drops the ledger has seen."""
    if not drops:
        return {}
    rows = con.execute("SELECT source, extract_date, status, checksum FROM audit.drops "
                       "WHERE extract_date BETWEEN ? AND ?",
                       [min(d.extract_date for d in drops), max(d.extract_date for d in drops)]).fetchall()
    return {(source, day): (status, checksum) for source, day, status, checksum in rows}


def _inputs(result: DropResult, first_id: int) -> list[tuple[FeedFile, FileInput]]:
    """Each feed file of the drop, read once: its checksum share, header and line count.
    A missing file counts as an empty one."""
    digest = hashlib.sha256()
    inputs = []
    for n, feed in enumerate(files_of(result.drop.source)):
        path = result.drop.path / feed.file
        data = path.read_bytes() if path.exists() else b""
        digest.update(feed.file.encode())
        digest.update(data if path.exists() else b"<missing>")
        # Only a CSV file's lines are counted: a JSON Lines reader keeps every line as a record.
        item = FileInput(first_id + n, path, size=len(data), physical_end=physical_lines(data) if feed.is_csv else 0)
        if feed.is_csv and path.exists():
            check_header(feed, item, data)
        inputs.append((feed, item))
    result.checksum = digest.hexdigest()
    return inputs


def read_batch(con: duckdb.DuckDBPyConnection, drops: list[Drop]) -> Batch:
    """Read and check every file of `drops` (none skipped here): records in temp tables."""
    batch = Batch([DropResult(d) for d in drops])
    by_feed: dict[str, list[FileInput]] = {}
    for number, result in enumerate(batch.drops):
        for feed, item in _inputs(result, number * len(FEEDS)):
            file_result = FileResult(feed, item.file_id, problems=item.problems)
            result.files.append(file_result)
            batch.files[item.file_id] = (result, file_result)
            by_feed.setdefault(feed.table, []).append(item)
    for table, items in by_feed.items():
        feed = next(f for f in FEEDS if f.table == table)
        read = read_feed(con, feed, items, f"records_{table}")
        records = batch.records[table] = FeedRecords(read, duplicates(con, feed, read.table))
        for file_id, (problem, critical) in json_field_problems(con, feed, read.table).items():
            file_result = batch.files[file_id][1]
            (file_result.problems if critical else file_result.notes).append(problem)
        for file_id, read_count, rejected in con.sql(f"""
                SELECT _file_id, count(*), count(*) FILTER (WHERE NOT ({records.good()}))
                FROM {read.table} AS t WHERE NOT t._blank GROUP BY 1
                UNION ALL SELECT _file_id, count(*), count(*) FROM ({read.rejected()}) GROUP BY 1""").fetchall():
            file_result = batch.files[file_id][1]
            file_result.read += read_count
            file_result.rejected += rejected
    return batch


def _judge(con: duckdb.DuckDBPyConnection, batch: Batch, gate: Gate | None) -> None:
    for result in batch.drops:
        result.validations = [Outcome(f.feed.table, FILE_PROBLEM, False, critical, details=text)
                              for f in result.files
                              for text, critical in [(p, True) for p in f.problems] + [(n, False) for n in f.notes]]
    if gate is not None:
        gate(con, batch)
    for result in batch.drops:
        result.status = "rejected" if result.problems else "loaded"


def _write_rows(con: duckdb.DuckDBPyConnection, batch: Batch, now: dt.datetime) -> None:
    """The accepted drops' good rows to raw, with their lineage, and their bad rows to quarantine."""
    owners = [(file_id, r, f) for file_id, (r, f) in batch.files.items() if r.status == "loaded"]
    con.register("batch_lineage", pa.table({
        "_file_id": pa.array([i for i, _, _ in owners], pa.int32()),
        "_load_id": [r.load_id for _, r, _ in owners],
        "_source": [r.drop.source for _, r, _ in owners],
        "_extract_date": pa.array([r.drop.extract_date for _, r, _ in owners], pa.date32()),
        "_file": [f.feed.file for _, _, f in owners]}))
    try:
        for table, records in batch.records.items():
            columns = ", ".join(next(f for f in FEEDS if f.table == table).column_names)
            con.execute(f"""INSERT INTO raw.{table}
                            SELECT {columns}, l._load_id, l._source, l._extract_date, l._file, c._line_no, ?
                            FROM ({records.read.accepted(records.good())}) AS c
                            JOIN batch_lineage AS l USING (_file_id)""", [now])
            con.execute(f"""INSERT INTO quarantine.rows
                            SELECT l._load_id, l._source, l._extract_date, l._file, c._line_no, c._raw, c._reason, ?
                            FROM ({records.bad()}) AS c JOIN batch_lineage AS l USING (_file_id)""", [now])
    finally:
        con.unregister("batch_lineage")


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: pa.Table) -> None:
    con.register("ledger_rows", rows)
    try:
        con.sql(f"INSERT OR REPLACE INTO {table} BY NAME SELECT * FROM ledger_rows")
    finally:
        con.unregister("ledger_rows")


def _write_ledger(con: duckdb.DuckDBPyConnection, batch: Batch, now: dt.datetime) -> None:
    """Every drop of the batch in the ledger, loaded or rejected, with what its checks found.
    Counts are what happened: a rejected drop loaded and quarantined nothing."""
    drops = batch.drops
    loaded = [r.status == "loaded" for r in drops]
    _insert(con, "audit.drops", pa.table({
        "source": [r.drop.source for r in drops],
        "extract_date": pa.array([r.drop.extract_date for r in drops], pa.date32()),
        "checksum": [r.checksum for r in drops], "status": [r.status for r in drops],
        "load_id": pa.array([r.load_id if ok else None for r, ok in zip(drops, loaded)], pa.string()),
        "rows_read": [r.read for r in drops],
        "rows_loaded": [r.loaded if ok else 0 for r, ok in zip(drops, loaded)],
        "rows_quarantined": [r.quarantined if ok else 0 for r, ok in zip(drops, loaded)],
        "problems": pa.array(["; ".join(r.problems) or None for r in drops], pa.string()),
        "recorded_at": pa.array([now] * len(drops), pa.timestamp("us", tz="UTC"))}))
    files = [(r, f) for r, ok in zip(drops, loaded) if ok for f in r.files]
    _insert(con, "audit.drop_files", pa.table({
        "source": [r.drop.source for r, _ in files],
        "extract_date": pa.array([r.drop.extract_date for r, _ in files], pa.date32()),
        "file": [f.feed.file for _, f in files], "rows_read": pa.array([f.read for _, f in files], pa.int64()),
        "rows_loaded": pa.array([f.loaded for _, f in files], pa.int64()),
        "rows_quarantined": pa.array([f.rejected for _, f in files], pa.int64())}))
    validations.record(con, validations.DROP, [(r.load_id, r.drop.name, r.validations) for r in drops], now)


def _write(con: duckdb.DuckDBPyConnection, batch: Batch, now: dt.datetime) -> None:
    """One transaction: the accepted drops' rows, and every drop's ledger entries and checks.
    Rows carry their line, so their order in `raw` is free: DuckDB may then insert in parallel."""
    con.sql("SET preserve_insertion_order = false")
    con.begin()
    try:
        _write_rows(con, batch, now)
        _write_ledger(con, batch, now)
        con.commit()
    except BaseException:
        con.rollback()
        raise
    finally:
        con.sql("RESET preserve_insertion_order")


def load_batch(con: duckdb.DuckDBPyConnection, drops: list[Drop], gate: Gate | None = None,
               now: dt.datetime | None = None) -> list[DropResult]:
    """Read, check, judge and write `drops` (not yet loaded) as one batch."""
    batch = read_batch(con, drops)
    try:
        _judge(con, batch, gate)
        _write(con, batch, now or dt.datetime.now(dt.timezone.utc))
    finally:
        for records in batch.records.values():
            records.drop()
    return batch.drops


def pending(con: duckdb.DuckDBPyConnection, drops: list[Drop]) -> tuple[list[Drop], list[DropResult]]:
    """(drops to load, results of those skipped): a loaded drop, or one rejected with this
    same content, is skipped; a rejected drop with new content (a corrected re-delivery) is not."""
    states = drop_states(con, drops)
    todo, skipped = [], []
    for drop in drops:
        status, checksum = states.get((drop.source, drop.extract_date), (None, None))
        if status == "loaded" or (status == "rejected" and drop.checksum() == checksum):
            skipped.append(DropResult(drop, checksum, "skipped"))
        else:
            todo.append(drop)
    return todo, skipped


def load_drops(con: duckdb.DuckDBPyConnection, drops: list[Drop], gate: Gate | None = None,
               now: dt.datetime | None = None) -> list[DropResult]:
    """Load, as one batch, every drop of `drops` not loaded yet."""
    ensure_schema(con)
    todo, skipped = pending(con, drops)
    return skipped + (load_batch(con, todo, gate, now) if todo else [])
