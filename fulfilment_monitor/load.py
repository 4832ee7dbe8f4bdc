"""Load complete drops into `raw`, one transaction per drop, never twice.

Each feed file is read as bytes, split into lines without a Python loop
(numpy finds the newlines, Arrow wraps the buffer), and parsed by one DuckDB
query (`parse.py`). Good rows go to `raw.<table>` with their lineage, bad rows
to `quarantine.rows` with their reason; the ledger `audit.drops` records the
drop. A drop is all-or-nothing: a drop-level check failing, or the process
dying mid-way, leaves no row of it behind. What the checks found is written to
`audit.validations` in the same transaction (see validation/store.py).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Callable

import duckdb
import numpy as np
import pyarrow as pa

from fulfilment_monitor.feeds import SQL_TYPES, FeedFile, files_of
from fulfilment_monitor.landing import Drop
from fulfilment_monitor.parse import parse_sql
from fulfilment_monitor.validation import store as validations
from fulfilment_monitor.validation.outcome import Outcome

LINEAGE_COLUMNS = """
    _load_id VARCHAR NOT NULL,
    _source VARCHAR NOT NULL,
    _extract_date DATE NOT NULL,
    _file VARCHAR NOT NULL,
    _line_no BIGINT NOT NULL,
    _loaded_at TIMESTAMPTZ NOT NULL"""


@dataclass
class FileResult:
    """What one feed file of a drop gave: parsed rows (good and bad) and any drop-level problem."""
    feed: FeedFile
    rows: pa.Table | None = None  # typed rows incl. reject_reason, one per data line
    problems: list[str] = field(default_factory=list)

    @property
    def read(self) -> int:
        return 0 if self.rows is None else self.rows.num_rows

    @property
    def rejected(self) -> int:
        if self.rows is None:
            return 0
        return self.rows.num_rows - self.rows.column("reject_reason").null_count


@dataclass
class DropResult:
    drop: Drop
    checksum: str
    status: str  # loaded | rejected | skipped
    files: list[FileResult] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
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
    def checkable(self) -> bool:
        """Parsed, with every file readable: what the drop checks look at."""
        return self.status != "skipped" and not any(f.problems for f in self.files)


# A drop-level check: given the parsed files of a drop, what it checked (a failed critical
# Outcome rejects the drop); a bare string is a reason to reject. A check may also have
# `prepare(con, results)`, called with a batch of parsed drops before any of them is checked.
DropCheck = Callable[[duckdb.DuckDBPyConnection, Drop, list[FileResult]], list["Outcome | str"]]


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the raw, quarantine and audit tables if this is a new database."""
    for schema in ("raw", "quarantine", "audit"):
        con.sql(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    from fulfilment_monitor.feeds import FEEDS
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
    validations.ensure_table(con)


def read_lines(data: bytes) -> pa.Table:
    """Split bytes into lines (newline kept, trimmed by the parser) with 1-based numbers."""
    buffer = np.frombuffer(data, dtype=np.uint8)
    ends = np.flatnonzero(buffer == 0x0A) + 1
    if len(data) and (len(ends) == 0 or ends[-1] != len(data)):
        ends = np.append(ends, len(data))  # a last line without newline (maybe truncated)
    offsets = np.concatenate(([0], ends)).astype(np.int64)
    raw = pa.LargeBinaryArray.from_buffers(
        pa.large_binary(), len(ends), [None, pa.py_buffer(offsets), pa.py_buffer(data)])
    return pa.table({"_line_no": pa.array(np.arange(1, len(ends) + 1, dtype=np.int64)), "raw": raw})


def parse_file(con: duckdb.DuckDBPyConnection, drop: Drop, feed: FeedFile) -> FileResult:
    """Parse one feed file of a drop; a missing file counts as an empty one."""
    result = FileResult(feed)
    path = drop.path / feed.file
    data = path.read_bytes() if path.exists() else b""
    lines = read_lines(data)
    if feed.is_csv:
        if lines.num_rows == 0:
            if path.exists():
                result.problems.append(f"{feed.file}: empty file, no header row")
            lines = lines.slice(0, 0)
        else:
            header = bytes(lines.column("raw")[0].as_py()).decode("utf-8", "replace").strip()
            expected = ",".join(feed.column_names)
            if header != expected:
                got = header.split(",")
                missing = [c for c in feed.column_names if c not in got]
                extra = [c for c in got if c not in feed.column_names]
                result.problems.append(
                    f"{feed.file}: header does not match the feed format"
                    f" (missing: {', '.join(missing) or '-'}; unexpected: {', '.join(extra) or '-'})")
            lines = lines.slice(1)
    if result.problems:
        return result
    con.register("lines", lines)
    try:
        result.rows = con.sql(parse_sql(feed)).to_arrow_table()
    finally:
        con.unregister("lines")
    return result


def _record(con, drop: Drop, checksum: str, status: str, load_id: str | None,
            result: DropResult, now: dt.datetime) -> None:
    con.execute(
        "INSERT OR REPLACE INTO audit.drops VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [drop.source, drop.extract_date, checksum, status, load_id, result.read, result.loaded,
         result.quarantined, "; ".join(result.problems) or None, now])


def _insert(con, table_sql: str, select_sql: str, rows: pa.Table, params: list) -> None:
    con.register("parsed", rows)
    try:
        con.execute(f"INSERT INTO {table_sql} {select_sql}", params)
    finally:
        con.unregister("parsed")


def _write_file(con, load_id: str, drop: Drop, result: FileResult, now: dt.datetime) -> None:
    feed = result.feed
    columns = ", ".join(feed.column_names)
    lineage = [load_id, drop.source, drop.extract_date, feed.file, now]
    _insert(con, f"raw.{feed.table}",
            f"SELECT {columns}, ?, ?, ?, ?, _line_no, ? FROM parsed "
            f"WHERE reject_reason IS NULL ORDER BY _line_no", result.rows, lineage)
    _insert(con, "quarantine.rows",
            "SELECT ?, ?, ?, ?, _line_no, raw_text, reject_reason, ? FROM parsed "
            "WHERE reject_reason IS NOT NULL ORDER BY _line_no", result.rows, lineage)


def drop_state(con: duckdb.DuckDBPyConnection, drop: Drop) -> tuple[str, str] | None:
    """(status, checksum) of a drop already seen, or None."""
    rows = con.execute("SELECT status, checksum FROM audit.drops WHERE source = ? AND extract_date = ?",
                       [drop.source, drop.extract_date]).fetchall()
    return rows[0] if rows else None


def parse_drop(con: duckdb.DuckDBPyConnection, drop: Drop) -> DropResult:
    """Parse every file of a drop; status `skipped` (nothing parsed) when it is already loaded,
    or was rejected with this same content."""
    checksum = drop.checksum()
    seen = drop_state(con, drop)
    if seen is not None and (seen[0] == "loaded" or seen[1] == checksum):
        return DropResult(drop, checksum, "skipped")
    result = DropResult(drop, checksum, "loaded")
    result.files = [parse_file(con, drop, feed) for feed in files_of(drop.source)]
    return result


def write_drop(con: duckdb.DuckDBPyConnection, result: DropResult, checks: list[DropCheck] = (),
               now: dt.datetime | None = None) -> DropResult:
    """Check a parsed drop, then load it (or record it rejected) in one transaction."""
    if result.status == "skipped":
        return result
    now = now or dt.datetime.now(dt.timezone.utc)
    drop, checksum = result.drop, result.checksum
    result.validations = [Outcome(f.feed.table, "file_readable_with_declared_header", False, details=p)
                          for f in result.files for p in f.problems]
    if result.checkable:
        for check in checks:
            result.validations.extend(Outcome.coerce(o) for o in check(con, drop, result.files))
    result.problems = [o.problem for o in result.validations if o.blocks]
    load_id = f"{drop.name}/{checksum[:12]}"
    con.begin()
    try:
        if result.problems:
            result.status = "rejected"
            _record(con, drop, checksum, "rejected", None, result, now)
        else:
            for file_result in result.files:
                _write_file(con, load_id, drop, file_result, now)
            _record(con, drop, checksum, "loaded", load_id, result, now)
        validations.record(con, load_id, validations.DROP, drop.name, result.validations, now)
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return result


def load_drop(con: duckdb.DuckDBPyConnection, drop: Drop, checks: list[DropCheck] = (),
              now: dt.datetime | None = None) -> DropResult:
    """Load one drop unless it is already loaded (or rejected with the same content)."""
    return write_drop(con, parse_drop(con, drop), checks, now)
