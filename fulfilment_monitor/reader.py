"""Read every file of one feed file type in a batch of drops with DuckDB's own reader.

CSV goes through `read_csv` (RFC 4180: a quoted header, a byte-order mark, quoted commas,
doubled quotes and line breaks inside quotes, LF / CRLF / CR line ends); JSON Lines through
`read_csv` as a line reader (a record is a line, by the format's definition). The reader
keeps what it rejects (wrong column count, unterminated quote, invalid UTF-8) with its
line, so nothing is dropped. `read_feed(...).sql` selects one row per record:

    _file_id, _line_no (the physical line where the record starts), _raw (the text of a
    record the reader rejected), _reader_reason (why, else NULL), and the feed's columns
    as text (CSV) or the line as `_line` (JSON Lines)

Line numbers. The reader counts line breaks outside quotes, and numbers only the records
it rejects; accepted records come out in file order (kept by rowid), so the k-th accepted
record takes the k-th line the rejected ones leave free, and a record's physical line adds
the line breaks inside the quotes of the records before it. Most files have neither, and
their k-th record is simply on line k + the header. A blank line in a CSV file is no record
and leaves no trace in the reader's output: a file whose records do not add up to its lines
is placed by Python's `csv` module instead. A JSON Lines file DuckDB refuses whole (mixed
line ends) is split on its line feeds, as the format defines. Both fall-backs are rare
and only place records; the values are always DuckDB's.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from fulfilment_monitor.feeds import FeedFile
from fulfilment_monitor.text import fragment, quote_sql

# DuckDB's error_type -> the reason a person reads.
READER_REASONS = {
    "CAST": "malformed record",
    "MISSING COLUMNS": "wrong column count",
    "TOO MANY COLUMNS": "wrong column count",
    "UNQUOTED VALUE": "malformed CSV record (unterminated quote)",
    "INVALID ENCODING": "not valid UTF-8",
    "LINE SIZE OVER MAXIMUM": "record longer than the reader's maximum line size",
    "INVALID STATE": "malformed CSV record",
}
# In a JSON Lines file the only field delimiter is a control character no JSON text holds raw.
JSON_READER_REASONS = {**READER_REASONS, "TOO MANY COLUMNS": "not valid JSON (control character)"}
_JSON_DELIMITER = "\\x1f"
# What a column name looks like; anything else in a header is shown only as a count.
COLUMN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,39}")


@dataclass
class FileInput:
    """One feed file of one drop, as a batch reads it (its content was read once, by the loader,
    for the drop's checksum: what the reader needs of it is noted here)."""
    file_id: int
    path: Path
    size: int
    physical_end: int  # the line where its last non-blank line is
    problems: list[str] = field(default_factory=list)  # file-level: its drop is rejected whole
    header_lines: int = 1  # physical lines the CSV header takes


def breaks_sql(text: str) -> str:
    """SQL: the line breaks (CRLF, CR or LF) in a text: LFs + CRs - CRLFs."""
    def count(needle: str) -> str:
        return f"(length({text}) - length(replace({text}, {needle}, '')))"
    return f"({count('chr(10)')} + {count('chr(13)')} - {count('chr(13) || chr(10)')} // 2)"


def physical_lines(data: bytes) -> int:
    """The line where the last non-blank line of a file is: its line breaks + 1."""
    body = data.rstrip(b"\r\n")
    if not body:
        return 0
    return body.count(b"\n") + body.count(b"\r") - body.count(b"\r\n") + 1


def check_header(feed: FeedFile, item: FileInput, data: bytes) -> None:
    """The first CSV record must name the feed's columns, in order (quoted or not, BOM or not)."""
    if not data:
        item.problems.append(f"{feed.file}: empty file, no header row")
        return
    try:  # bad bytes after the header are the records' business, not the header's
        reader = csv.reader(io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", errors="replace",
                                             newline=""))
        header = next(reader)
        item.header_lines = reader.line_num
    except (csv.Error, StopIteration):
        header = []
    if not header or any("\ufffd" in name for name in header):
        item.problems.append(f"{feed.file}: unreadable header row")
        return
    expected = feed.column_names
    if header == expected:
        return
    missing = [c for c in expected if c not in header]
    unexpected = [c for c in header if c not in expected]
    if len(missing) == len(expected):  # data where the header should be: say so, never quote it
        item.problems.append(f"{feed.file}: no header row (the first line names none of the feed's "
                             f"{len(expected)} columns)")
    elif missing or unexpected:
        # Names that are not column names are counted, not quoted: they may be data.
        named = [c for c in unexpected if COLUMN_NAME.fullmatch(c)]
        shown = ", ".join(named) + (f"{', ' if named else ''}{len(unexpected) - len(named)} more that are "
                                    f"not column names" if len(named) < len(unexpected) else "")
        item.problems.append(f"{feed.file}: header does not match the feed format (missing: "
                             f"{fragment(', '.join(missing)) or '-'}; unexpected: {fragment(shown) or '-'})")
    else:
        item.problems.append(f"{feed.file}: header has the feed's columns in another order "
                             f"(expected: {fragment(','.join(expected))})")


def short_error(exc: Exception) -> str:
    """DuckDB's reason for refusing a file, cut before any input it may quote."""
    first = (str(exc).splitlines() or [type(exc).__name__])[0]
    return fragment(first.split(" Input:")[0].split('"')[0].strip(), 60)


def _reason_sql(feed: FeedFile, error_type: str) -> str:
    reasons = READER_REASONS if feed.is_csv else JSON_READER_REASONS
    cases = " ".join(f"WHEN {quote_sql(k)} THEN {quote_sql(v)}" for k, v in reasons.items())
    return f"CASE {error_type} {cases} ELSE 'unreadable record' END"


def _reader(feed: FeedFile, paths: list[str]) -> str:
    options = ("header=false, auto_detect=false, strict_mode=true, filename=true, store_rejects=true, "
               "rejects_table='reader_errors', rejects_scan='reader_scans'")
    if feed.is_csv:
        columns = "{" + ", ".join(f"{quote_sql(c)}: 'VARCHAR'" for c in feed.column_names) + "}"
        return (f"read_csv({paths}, columns={columns}, delim=',', quote='\"', escape='\"', "
                f"{options.replace('header=false', 'header=true')})")
    return (f"read_csv({paths}, columns={{'_line': 'VARCHAR'}}, delim=E'{_JSON_DELIMITER}', quote='', "
            f"escape='', {options})")


def _data_columns(feed: FeedFile) -> list[str]:
    return [f'"{c}"' for c in feed.column_names] if feed.is_csv else ["_line"]


def _breaks_of_record(feed: FeedFile, alias: str) -> str:
    """SQL: the line breaks inside a record's quoted fields (0 for JSON Lines)."""
    if not feed.is_csv:
        return "0"
    columns = [f"{alias}.{c}" for c in _data_columns(feed)]
    any_break = " OR ".join(f"regexp_matches({c}, '[\\r\\n]')" for c in columns)
    return f"CASE WHEN {any_break} THEN {' + '.join(f'coalesce({breaks_sql(c)}, 0)' for c in columns)} ELSE 0 END"


def _scan(con: duckdb.DuckDBPyConnection, feed: FeedFile, items: list[FileInput], table: str) -> None:
    """Append what DuckDB reads of `items` to `<table>_accepted` and `<table>_rejected`."""
    paths = [str(i.path) for i in items]
    try:
        con.sql("DROP TABLE IF EXISTS reader_errors; DROP TABLE IF EXISTS reader_scans")
        # Nothing between the reader and the table: its order is the files' order (rowid keeps it).
        con.sql(f"INSERT INTO {table}_accepted SELECT filename, {', '.join(_data_columns(feed))} "
                f"FROM {_reader(feed, paths)}")
        con.sql(f"""INSERT INTO {table}_rejected
                    SELECT s.file_path, e.line, any_value(e.error_type ORDER BY e.column_idx),
                           regexp_replace(any_value(e.csv_line ORDER BY e.column_idx), '^[\\r\\n]+|[\\r\\n]+$', '', 'g')
                    FROM reader_errors AS e JOIN reader_scans AS s USING (scan_id, file_id)
                    GROUP BY s.file_path, e.line""")
    finally:
        con.sql("DROP TABLE IF EXISTS reader_errors; DROP TABLE IF EXISTS reader_scans")


def _json_lines(item: FileInput) -> pa.Table:
    """A JSON Lines file split on its line feeds (a CR before one is the line end's, not data)."""
    lines = item.path.read_bytes().split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    numbers, texts, raws, reasons = [], [], [], []
    for number, line in enumerate(lines, start=1):
        line = line[:-1] if line.endswith(b"\r") else line
        if not line.strip():
            continue  # a blank line is no record
        try:
            text, raw, reason = line.decode("utf-8"), None, None
        except UnicodeDecodeError:
            text, raw, reason = None, line.decode("utf-8", "replace"), "not valid UTF-8"
        numbers.append(number), texts.append(text), raws.append(raw), reasons.append(reason)
    return pa.table({"_file_id": pa.array([item.file_id] * len(numbers), pa.int32()),
                     "_line_no": pa.array(numbers, pa.int64()), "_raw": pa.array(raws, pa.string()),
                     "_reader_reason": pa.array(reasons, pa.string()), "_line": pa.array(texts, pa.string())})


def _csv_positions(item: FileInput, rejected: set[int]) -> pa.Table:
    """(k of an accepted record | reader line of a rejected one, physical start line) of every
    non-blank record after the header, as Python's csv module places them."""
    reader = csv.reader(io.TextIOWrapper(io.BytesIO(item.path.read_bytes()), encoding="utf-8-sig",
                                         errors="replace", newline=""))
    ks, lines, starts, consumed, k = [], [], [], 0, 0
    for number, row in enumerate(reader, start=1):
        start, consumed = consumed + 1, reader.line_num
        if number == 1 or not row:
            continue
        accepted = number not in rejected
        k += accepted
        ks.append(k if accepted else None), lines.append(None if accepted else number), starts.append(start)
    return pa.table({"filename": [str(item.path)] * len(ks), "_k": pa.array(ks, pa.int64()),
                     "_reader_line": pa.array(lines, pa.int64()), "_line_no": pa.array(starts, pa.int64())})


def _place(con: duckdb.DuckDBPyConnection, feed: FeedFile, table: str, items: list[FileInput]) -> None:
    """`<table>_files` (one row per file) and `<table>_placed`: the physical start line of the
    records of every file the plain count cannot place (a rejected record, a line break in
    quotes, a blank line). The others' k-th accepted record is on line k + offset."""
    first = 2 if feed.is_csv else 1  # the reader's line of the first record
    files = pa.table({"_file_id": pa.array([i.file_id for i in items], pa.int32()),
                      "filename": [str(i.path) for i in items],
                      "_header_extra": [i.header_lines - 1 for i in items],
                      "_physical_end": [i.physical_end for i in items]})
    # CSV records that do not reach the file's last line: blank lines in between (a JSON Lines
    # reader keeps blank lines as records, so it never has to guess).
    blank_lines = ("false" if not feed.is_csv else
                   "coalesce(a.n, 0) + coalesce(r.n, 0) > 0 AND f._header_extra + 1 + coalesce(a.n, 0) "
                   "+ coalesce(r.n, 0) + coalesce(a.breaks, 0) + coalesce(r.breaks, 0) <> f._physical_end")
    con.register("reader_files", files)
    try:
        con.sql(f"""
        CREATE OR REPLACE TEMP TABLE {table}_files AS
        WITH accepted AS (
            SELECT filename, min(rowid) AS first_rowid, count(*) AS n, sum({_breaks_of_record(feed, 'a')}) AS breaks
            FROM {table}_accepted AS a GROUP BY filename
        ), rejected AS (
            SELECT filename, count(*) AS n, sum({breaks_sql('csv_line') if feed.is_csv else '0'}) AS breaks
            FROM {table}_rejected GROUP BY filename
        )
        SELECT f.*, a.first_rowid, {first} - 1 + f._header_extra AS line_offset,
               coalesce(r.n, 0) > 0 OR coalesce(a.breaks, 0) > 0 AS complex, {blank_lines} AS blank_lines
        FROM reader_files AS f LEFT JOIN accepted AS a USING (filename) LEFT JOIN rejected AS r USING (filename)""")
    finally:
        con.unregister("reader_files")
    con.sql(f"""
        CREATE OR REPLACE TEMP TABLE {table}_placed AS
        WITH files AS (SELECT * FROM {table}_files WHERE complex AND NOT blank_lines),
        accepted AS (
            SELECT a.filename, a.rowid - f.first_rowid + 1 AS _k, {_breaks_of_record(feed, 'a')} AS _breaks
            FROM {table}_accepted AS a JOIN files AS f USING (filename)
        ), rejected AS (
            SELECT r.*, row_number() OVER (PARTITION BY filename ORDER BY line) AS _j
            FROM {table}_rejected AS r JOIN files USING (filename)
        ), steps AS (  -- before the j-th rejected record came this many accepted ones
            SELECT filename, line - {first} + 1 - _j AS accepted_before, max(_j) AS _j FROM rejected GROUP BY ALL
        ), records AS (
            SELECT a.filename, a._k, a._k + coalesce(s._j, 0) + {first} - 1 AS _reader_line, a._breaks
            FROM accepted AS a ASOF LEFT JOIN steps AS s ON s.filename = a.filename AND a._k > s.accepted_before
            UNION ALL
            SELECT filename, NULL, line, {breaks_sql('csv_line') if feed.is_csv else '0'} FROM rejected
        )
        SELECT r.filename, r._k, r._reader_line,
               r._reader_line + f._header_extra + coalesce(sum(r._breaks) OVER (
                   PARTITION BY r.filename ORDER BY r._reader_line
                   ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS _line_no
        FROM records AS r JOIN files AS f USING (filename)""")
    odd = {name for (name,) in con.sql(f"SELECT filename FROM {table}_files WHERE blank_lines").fetchall()}
    for item in (i for i in items if str(i.path) in odd):
        rejected = {line for (line,) in con.sql(f"SELECT line FROM {table}_rejected WHERE filename = ?",
                                                 params=[str(item.path)]).fetchall()}
        con.register("reader_positions", _csv_positions(item, rejected))
        try:
            con.sql(f"INSERT INTO {table}_placed BY NAME SELECT * FROM reader_positions")
        finally:
            con.unregister("reader_positions")


def _records_sql(feed: FeedFile, table: str) -> str:
    """One row per record: _file_id, _line_no, _raw, _reader_reason, and the data columns."""
    data = ", ".join(f"a.{c}" for c in _data_columns(feed))
    nulls = ", ".join(f"NULL AS {c}" for c in _data_columns(feed))
    plain = "" if feed.is_csv else " AND a._line IS NOT NULL AND trim(a._line, E' \\t\\r\\n') <> ''"
    return f"""
        SELECT f._file_id, a.rowid - f.first_rowid + 1 + f.line_offset AS _line_no,
               NULL::VARCHAR AS _raw, NULL::VARCHAR AS _reader_reason, {data}
        FROM {table}_accepted AS a JOIN {table}_files AS f USING (filename)
        WHERE NOT f.complex AND NOT f.blank_lines{plain}
        UNION ALL
        SELECT a._file_id, p._line_no, NULL, NULL, {data}
        FROM (SELECT a.*, f._file_id, a.rowid - f.first_rowid + 1 AS _k
              FROM {table}_accepted AS a JOIN {table}_files AS f USING (filename)
              WHERE f.complex OR f.blank_lines) AS a
        JOIN {table}_placed AS p ON p.filename = a.filename AND p._k = a._k
        WHERE true{plain}
        UNION ALL
        SELECT f._file_id, p._line_no, r.csv_line, {_reason_sql(feed, 'r.error_type')}, {nulls}
        FROM {table}_rejected AS r JOIN {table}_files AS f USING (filename)
        JOIN {table}_placed AS p ON p.filename = r.filename AND p._reader_line = r.line AND p._k IS NULL
        {'' if feed.is_csv else f"UNION ALL SELECT _file_id, _line_no, _raw, _reader_reason, _line FROM {table}_split"}"""


class Read:
    """The records of one feed file type in a batch: `sql` selects them (while `drop()` is not called)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, feed: FeedFile, table: str):
        self.con, self.table, self.sql = con, table, _records_sql(feed, table)

    def drop(self) -> None:
        for suffix in ("accepted", "rejected", "files", "placed", "split"):
            self.con.sql(f"DROP TABLE IF EXISTS {self.table}_{suffix}")


def read_feed(con: duckdb.DuckDBPyConnection, feed: FeedFile, items: list[FileInput], table: str) -> Read:
    """Read `items` (the same feed file of several drops): the records, each with its physical line.

    A file with a problem already (its CSV header, see `check_header`) is not read; a CSV file
    DuckDB refuses whole gets a file-level problem. A JSON Lines file DuckDB refuses whole is split on its line feeds.
    """
    readable = [i for i in items if not i.problems and i.size]
    columns = ", ".join(f"{c} VARCHAR" for c in _data_columns(feed))
    con.sql(f"CREATE OR REPLACE TEMP TABLE {table}_accepted (filename VARCHAR, {columns})")
    con.sql(f"CREATE OR REPLACE TEMP TABLE {table}_rejected (filename VARCHAR, line BIGINT, "
            f"error_type VARCHAR, csv_line VARCHAR)")
    split: list[FileInput] = []
    try:
        if readable:
            _scan(con, feed, readable, table)
    except duckdb.Error:
        con.sql(f"DELETE FROM {table}_accepted; DELETE FROM {table}_rejected")  # one file at a time
        for item in readable:
            try:
                _scan(con, feed, [item], table)
            except duckdb.Error as exc:
                con.sql(f"DELETE FROM {table}_accepted WHERE filename = ?", params=[str(item.path)])
                con.sql(f"DELETE FROM {table}_rejected WHERE filename = ?", params=[str(item.path)])
                if feed.is_csv:
                    item.problems.append(f"{feed.file}: not readable as CSV ({short_error(exc)})")
                else:
                    split.append(item)
    _place(con, feed, table, [i for i in readable if i not in split])
    if not feed.is_csv:
        con.sql(f"CREATE OR REPLACE TEMP TABLE {table}_split (_file_id INTEGER, _line_no BIGINT, _raw VARCHAR, "
                f"_reader_reason VARCHAR, _line VARCHAR)")
        for item in split:
            con.register("reader_split", _json_lines(item))
            try:
                con.sql(f"INSERT INTO {table}_split BY NAME SELECT * FROM reader_split")
            finally:
                con.unregister("reader_split")
    return Read(con, feed, table)
