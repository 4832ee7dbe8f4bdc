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
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable

import duckdb
import pyarrow as pa

from fulfilment_monitor import lake, ledger, private, redact, tables
from fulfilment_monitor.feeds import FEEDS, FeedFile, files_of
from fulfilment_monitor.landing import Drop, regular_file_inside
from fulfilment_monitor.reader import FileInput, Read, check_header, read_feed, survey
from fulfilment_monitor.row_checks import duplicates, json_field_problems, record_text_sql
from fulfilment_monitor.validation import store as validations
from fulfilment_monitor.validation.outcome import Outcome

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
    # loaded | rejected | held (failed only a statistical check: for ops to review and release) |
    # waiting (a drop of its source before it is held: not read, as if not there yet) |
    # skipped (loaded before, unchanged) | changed (loaded before, content different since:
    # drops are immutable, so an upstream fault to be told)
    status: str = "loaded"
    files: list[FileResult] = field(default_factory=list)
    validations: list[Outcome] = field(default_factory=list)  # every check's outcome
    note: str | None = None  # why a drop not read this time stands rejected, held, changed or waits
    fingerprint: dict[str, tuple[int, int]] = field(default_factory=dict)  # file -> (bytes, mtime ns)
    released: bool = False  # held before, this content released by ops: statistical failures warn

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
        """Why the drop is rejected (or changed): every failed critical check, one line each."""
        return [o.problem for o in self.validations if o.blocks] + ([self.note] if self.note else [])

    @property
    def review(self) -> list[str]:
        """Why the drop is held for review: every failed statistical check, one line each."""
        return [o.problem for o in self.validations if o.holds]

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
        """SQL: every record to quarantine, with `_file_id, _line_no, _last_line_no, _raw, _reason`."""
        repeated = f" OR t.rowid IN (SELECT _row FROM {self.duplicates})" if self.duplicates else ""
        return f"""
            SELECT _file_id, _line_no, _last_line_no, coalesce(_raw, {record_text_sql(self.read.feed)}) AS _raw,
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


def _inputs(result: DropResult, first_id: int) -> list[tuple[FeedFile, FileInput]]:
    """Each feed file of the drop, read once: its checksum share, header and line count.
    A missing file counts as an empty one."""
    digest = hashlib.sha256()
    inputs = []
    for n, feed in enumerate(files_of(result.drop.source)):
        path = result.drop.path / feed.file
        refused = regular_file_inside(path, result.drop.landing)
        data = b"" if refused else path.read_bytes()
        if not refused:
            result.fingerprint[feed.file] = (path.stat().st_size, path.stat().st_mtime_ns)
        digest.update(feed.file.encode())
        digest.update(b"<unreadable>" if refused else data)
        lines, plain = survey(data)
        item = FileInput(first_id + n, path, size=len(data), lines=lines, plain=plain, header_lines=int(feed.is_csv))
        if refused:
            item.problems.append(f"{feed.file}: {refused}")
        elif feed.is_csv:
            check_header(feed, item, data)
        inputs.append((feed, item))
    result.checksum = digest.hexdigest()
    return inputs


def read_batch(con: duckdb.DuckDBPyConnection, drops: list[Drop]) -> Batch:
    """Read and check every file of `drops` (none skipped here): records in temp tables."""
    batch = Batch([DropResult(d) for d in drops])
    by_feed: dict[str, list[FileInput]] = {}
    # Hashing and counting lines release the interpreter: two drops at a time, on two cores.
    with ThreadPoolExecutor(max_workers=2) as pool:
        inputs = list(pool.map(_inputs, batch.drops, [n * len(FEEDS) for n in range(len(batch.drops))]))
    for result, drop_inputs in zip(batch.drops, inputs):
        for feed, item in drop_inputs:
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
                FROM {read.table} AS t GROUP BY 1
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
        result.status = "rejected" if result.problems else "held" if result.review else "loaded"
    wait_behind(batch.drops)


def wait_behind(results: list[DropResult]) -> None:
    """Drops of a source after one of its drops that is held wait for it (status `waiting`, not
    recorded): a held drop is not known until released, and a source's days are known in order."""
    held: dict[str, dt.date] = {}
    for result in results:
        if result.status == "held":
            day = held.get(result.drop.source)
            held[result.drop.source] = min(day, result.drop.extract_date) if day else result.drop.extract_date
    for result in results:
        first = held.get(result.drop.source)
        if first and result.drop.extract_date > first and result.status not in ("skipped", "changed"):
            result.status = "waiting"
            result.note = f"waits for {result.drop.source}/{first.isoformat()}, held for review"


@contextmanager
def _lineage(con: duckdb.DuckDBPyConnection, batch: Batch):
    """`batch_lineage`: the load, drop and file of each file id of the accepted drops."""
    owners = [(file_id, r, f) for file_id, (r, f) in batch.files.items() if r.status == "loaded"]
    con.register("batch_lineage", pa.table({
        "_file_id": pa.array([i for i, _, _ in owners], pa.int32()),
        "_load_id": [r.load_id for _, r, _ in owners],
        "_source": [r.drop.source for _, r, _ in owners],
        "_extract_date": pa.array([r.drop.extract_date for _, r, _ in owners], pa.date32()),
        "_file": [f.feed.file for _, _, f in owners]}))
    try:
        yield
    finally:
        con.unregister("batch_lineage")


def _accepted(records: FeedRecords) -> str:
    """SQL: the good records of the accepted drops, with their lineage."""
    return f"""SELECT c.*, l._load_id, l._source, l._extract_date, l._file
               FROM ({records.read.accepted(records.good())}) AS c JOIN batch_lineage AS l USING (_file_id)"""


def _raw_value(feed: FeedFile, column: str) -> str:
    """SQL: a raw column's value; a derived one (a first name) is null for an erased customer."""
    derived = dict(feed.derived)
    if column not in derived:
        return column
    return f"CASE WHEN {feed.person} IN ({tables.ERASED}) THEN NULL ELSE {derived[column]} END"


def _write_rows(con: duckdb.DuckDBPyConnection, batch: Batch, now: dt.datetime) -> None:
    """The accepted drops' good rows to raw, with their lineage, but their personal fields (written
    to the private file first), and their bad rows to quarantine, personal data masked."""
    for table, records in batch.records.items():
        feed = records.read.feed
        columns = ", ".join(_raw_value(feed, c) for c in feed.raw_columns)
        con.execute(f"""INSERT INTO raw.{table}
                        SELECT {columns}, _load_id, _source, _extract_date, _file, _line_no, ?
                        FROM ({_accepted(records)})""", [now])
        con.execute(f"""INSERT INTO quarantine.rows (load_id, source, extract_date, file, line_no, last_line_no,
                                                     raw_text, reason, quarantined_at)
                        SELECT l._load_id, l._source, l._extract_date, l._file, c._line_no, c._last_line_no,
                               masked_record(?, c._raw), masked_text(c._reason), ?
                        FROM ({records.bad()}) AS c JOIN batch_lineage AS l USING (_file_id)""", [table, now])


def _write_ledger(con: duckdb.DuckDBPyConnection, batch: Batch, now: dt.datetime) -> None:
    """Every drop of the batch in the ledger, loaded, rejected or held, with what its checks
    found (a drop waiting behind a held one is not recorded: it is read again when it is its turn)."""
    judged = [r for r in batch.drops if r.status != "waiting"]
    ledger.record(con, judged, now)
    validations.record(con, validations.DROP, [(r.load_id, r.drop.name, r.validations) for r in judged], now)


def _write(con: duckdb.DuckDBPyConnection, batch: Batch, now: dt.datetime) -> None:
    """The accepted drops' personal fields to the private file (private.write: its own
    transaction, first), then one transaction: the accepted drops' rows, and every drop's
    ledger entries and checks. Rows carry their line, so their order in `raw` is free: DuckDB
    may then insert in parallel."""
    con.sql("SET preserve_insertion_order = false")
    try:
        with _lineage(con, batch):
            private.write(con, {r.read.feed: _accepted(r) for r in batch.records.values() if r.read.feed.person}, now)
            redact.register(con)  # outside the transaction: a rollback would forget the functions
            con.begin()
            try:
                _write_rows(con, batch, now)
                _write_ledger(con, batch, now)
                lake.hand_off(con, [r.load_id for r in batch.drops if r.status == "loaded"])  # Spark's copy, if Spark builds
                con.commit()
            except BaseException:
                con.rollback()
                raise
    finally:
        con.sql("RESET preserve_insertion_order")


def load_batch(con: duckdb.DuckDBPyConnection, drops: list[Drop], gate: Gate | None = None,
               now: dt.datetime | None = None, released: frozenset[str] = frozenset()) -> list[DropResult]:
    """Read, check, judge and write `drops` (not yet loaded) as one batch; `released`: the names
    of those whose content ops released after it was held."""
    batch = read_batch(con, drops)
    for result in batch.drops:
        result.released = result.drop.name in released
    try:
        _judge(con, batch, gate)
        _write(con, batch, now or dt.datetime.now(dt.timezone.utc))
    finally:
        for records in batch.records.values():
            records.drop()
    return batch.drops


def pending(con: duckdb.DuckDBPyConnection, drops: list[Drop]) -> tuple[list[Drop], list[DropResult], set[str]]:
    """(drops to load, results of the others, names of the released drops to load). A loaded drop
    is skipped, unless its content changed since (status `changed`: drops are immutable). A
    rejected or held drop offered again unchanged stays so, unless ops released the held content;
    with new content (a re-delivery) it is loaded. A source's drops after one held wait for it."""
    known = ledger.entries(con, drops)
    todo, others, released = [], [], set()
    for drop in drops:
        entry = known.get((drop.source, drop.extract_date))
        if entry is None:
            todo.append(drop)
        elif entry.unchanged(drop):
            if entry.files and ledger.fingerprint(drop) != entry.files:
                ledger.touch(con, drop)  # same content, touched files: no hashing next time
            if entry.status == "held" and entry.released:
                todo.append(drop)
                released.add(drop.name)
            elif entry.status == "held":
                others.append(DropResult(drop, entry.checksum, "held", note=(
                    f"held for review: {entry.problems}")))
            else:
                note = f"rejected earlier and offered again unchanged: {entry.problems}" \
                    if entry.status == "rejected" else None
                others.append(DropResult(drop, entry.checksum, "skipped" if entry.status == "loaded" else "rejected",
                                         note=note))
        elif entry.status == "loaded":
            others.append(DropResult(drop, drop.checksum(), "changed", note=(
                f"its content changed after it was loaded (loaded {entry.checksum[:12]}, now "
                f"{drop.checksum()[:12]}); a drop is immutable: put back what was delivered, and send "
                f"a correction as a new drop")))
        else:
            todo.append(drop)
    behind = [DropResult(d) for d in todo]
    wait_behind(others + behind)
    waiting = [r for r in behind if r.status == "waiting"]
    return [r.drop for r in behind if r.status != "waiting"], others + waiting, released


def load_drops(con: duckdb.DuckDBPyConnection, drops: list[Drop], gate: Gate | None = None,
               now: dt.datetime | None = None) -> list[DropResult]:
    """Load, as one batch, every drop of `drops` not loaded yet."""
    tables.ensure(con)
    todo, others, released = pending(con, drops)
    return others + (load_batch(con, todo, gate, now, frozenset(released)) if todo else [])
