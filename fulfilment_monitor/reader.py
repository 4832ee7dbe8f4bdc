"""Read every file of one feed file type in a batch of drops with DuckDB's own reader.

CSV goes through `read_csv` (RFC 4180: a quoted header, a byte-order mark, quoted commas,
doubled quotes and line breaks inside quotes, LF / CRLF / CR line ends); JSON Lines through
`read_csv` as a line reader (a record is a line, by the format's definition). Each record
is checked as it is read (row_checks.checked_sql), in one pass; the reader keeps what it
rejects itself (wrong column count, unterminated quote, invalid UTF-8) with its line, so
nothing is dropped. `read_feed` leaves temporary tables:

    <table>           the records the reader accepted, checked, in file order (rowid)
    <table>_rejected  the records it rejected: file, reader line, reason, text
    <table>_files     per file: where its rows start, and how its lines are placed
    <table>_steps     for files with rejected records: how far each accepted one moves down
    <table>_placed    the physical line of each record of the few files with line breaks in
                      quotes or blank lines

`Read.accepted()` selects accepted records with `_line_no` (the physical line where each
starts), `Read.rejected()` the rejected ones with theirs.

Line numbers. The reader counts line breaks outside quotes, and numbers only the records
it rejects; accepted records come out in file order, so the k-th accepted record takes the
k-th line the rejected ones leave free, and a record's physical line adds the line breaks
inside the quotes of the records before it. Most files have neither: their k-th record is
on line k + the header, found without a join. A blank line in a CSV file is no record and
leaves no trace in the reader's output: a file whose records do not add up to its lines is
placed by Python's `csv` module instead. A JSON Lines file DuckDB refuses whole (mixed line
ends) is split on its line feeds, as the format defines. Both fall-backs are rare and only
place records; the values are always DuckDB's.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from fulfilment_monitor.feeds import TEXT, TIMESTAMP, FeedFile
from fulfilment_monitor.row_checks import checked_sql
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
    """The line where the last non-blank line of a file is: its line breaks + 1 (counted in
    place: a file can be large)."""
    end = len(data)
    while end and data[end - 1] in b"\r\n":
        end -= 1
    if not end:
        return 0
    breaks = data.count(b"\n", 0, end)
    if data.find(b"\r", 0, end) >= 0:  # CR or CRLF line ends (rare: the scan for CR alone is cheap)
        breaks += data.count(b"\r", 0, end) - data.count(b"\r\n", 0, end)
    return breaks + 1


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
    options = ("header=false, auto_detect=false, strict_mode=true, store_rejects=true, "
               "rejects_table='reader_errors', rejects_scan='reader_scans'")
    if feed.is_csv:
        columns = "{" + ", ".join(f"{quote_sql(c)}: 'VARCHAR'" for c in feed.column_names) + "}"
        return (f"read_csv({paths}, columns={columns}, delim=',', quote='\"', escape='\"', "
                f"{options.replace('header=false', 'header=true')})")
    return (f"read_csv({paths}, columns={{'_line': 'VARCHAR'}}, delim=E'{_JSON_DELIMITER}', quote='', "
            f"escape='', {options})")


def _scan(con: duckdb.DuckDBPyConnection, feed: FeedFile, items: list[FileInput], table: str) -> None:
    """Append the checked records DuckDB reads of `items` to `table`, its rejections to `<table>_rejected`."""
    paths = [str(i.path) for i in items]
    ids = "[" + ", ".join(str(i.file_id) for i in items) + "]"  # file_index -> file id, without a join
    con.register("reader_paths", pa.table({"file_path": paths, "_file_id": pa.array([i.file_id for i in items], pa.int32())}))
    try:
        con.sql("DROP TABLE IF EXISTS reader_errors; DROP TABLE IF EXISTS reader_scans")
        # Only projections between the reader and the table: the file order is kept (rowid).
        source = f"(SELECT *, {ids}[file_index::BIGINT + 1] AS _reader_file FROM {_reader(feed, paths)})"
        con.sql(f"INSERT INTO {table} {checked_sql(feed, source, '_reader_file')}")
        con.sql(f"""INSERT INTO {table}_rejected
                    SELECT p._file_id, e.line, any_value(e.error_type ORDER BY e.column_idx),
                           regexp_replace(any_value(e.csv_line ORDER BY e.column_idx), '^[\\r\\n]+|[\\r\\n]+$', '', 'g')
                    FROM reader_errors AS e JOIN reader_scans AS s USING (scan_id, file_id)
                    JOIN reader_paths AS p USING (file_path)
                    GROUP BY p._file_id, e.line""")
    finally:
        con.unregister("reader_paths")
        con.sql("DROP TABLE IF EXISTS reader_errors; DROP TABLE IF EXISTS reader_scans")


def _split_json_lines(con: duckdb.DuckDBPyConnection, feed: FeedFile, item: FileInput, table: str) -> None:
    """A JSON Lines file DuckDB refuses whole, split on its line feeds (a CR before one belongs
    to the line end): every line a row in order, blank ones too; invalid UTF-8 rejected."""
    lines = item.path.read_bytes().split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    texts, rejected = [], []
    for number, line in enumerate(lines, start=1):
        line = line[:-1] if line.endswith(b"\r") else line
        try:
            texts.append(line.decode("utf-8"))
        except UnicodeDecodeError:
            rejected.append((number, line.decode("utf-8", "replace")))
    con.register("reader_split", pa.table({"_line": texts}))
    con.register("reader_split_rejected", pa.table({
        "_file_id": pa.array([item.file_id] * len(rejected), pa.int32()),
        "line": pa.array([n for n, _ in rejected], pa.int64()),
        "error_type": ["INVALID ENCODING"] * len(rejected), "csv_line": [t for _, t in rejected]}))
    try:
        con.sql(f"INSERT INTO {table} {checked_sql(feed, 'reader_split', str(item.file_id))}")
        con.sql(f"INSERT INTO {table}_rejected SELECT * FROM reader_split_rejected")
    finally:
        con.unregister("reader_split")
        con.unregister("reader_split_rejected")


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
    return pa.table({"_file_id": pa.array([item.file_id] * len(ks), pa.int32()), "_k": pa.array(ks, pa.int64()),
                     "_reader_line": pa.array(lines, pa.int64()), "_line_no": pa.array(starts, pa.int64()),
                     "_breaks": pa.array([0] * len(ks), pa.int64())})


def _breaks_of_record(feed: FeedFile) -> str:
    """SQL: the line breaks inside a record's quoted fields (only text fields can hold one)."""
    texts = [c.name for c in feed.columns if c.kind in (TEXT, TIMESTAMP)]
    return "CASE WHEN _check IS NOT NULL THEN " + breaks_sql("_raw") + " ELSE " + \
        " + ".join(f"coalesce({breaks_sql(c)}, 0)" for c in texts) + " END"


def _place(con: duckdb.DuckDBPyConnection, feed: FeedFile, table: str, items: list[FileInput]) -> None:
    """`<table>_files`, `<table>_steps` and `<table>_placed`: see the module's docstring."""
    first = 2 if feed.is_csv else 1  # the reader's line of the first record
    con.register("reader_files", pa.table({
        "_file_id": pa.array([i.file_id for i in items], pa.int32()),
        "_header_extra": [i.header_lines - 1 for i in items], "_physical_end": [i.physical_end for i in items]}))
    try:
        # A CSV file whose records and header do not reach its last line holds line breaks in
        # quotes or blank lines (a JSON line reader keeps blank lines as records: never).
        extra = ("false" if not feed.is_csv else
                 "f._header_extra + 1 + coalesce(a.n, 0) + coalesce(r.n, 0) <> f._physical_end "
                 "AND coalesce(a.n, 0) + coalesce(r.n, 0) > 0")
        con.sql(f"""
            CREATE OR REPLACE TEMP TABLE {table}_files AS
            WITH accepted AS (SELECT _file_id, min(rowid) AS first_rowid, count(*) AS n FROM {table} GROUP BY 1),
            rejected AS (SELECT _file_id, count(*) AS n FROM {table}_rejected GROUP BY 1)
            SELECT f._file_id, f._header_extra, f._physical_end, a.first_rowid,
                   {first} - 1 + f._header_extra AS line_offset, coalesce(r.n, 0) > 0 AS with_rejects,
                   {extra} AS with_breaks
            FROM reader_files AS f LEFT JOIN accepted AS a USING (_file_id) LEFT JOIN rejected AS r USING (_file_id)""")
    finally:
        con.unregister("reader_files")
    # Files with rejected records only: the k-th accepted record moves down one line for each
    # rejected record before it. Intervals of k with the same count, for a join without a sort.
    con.sql(f"""
        CREATE OR REPLACE TEMP TABLE {table}_steps AS
        WITH before AS (
            SELECT _file_id, line - {first} + 1 - row_number() OVER (PARTITION BY _file_id ORDER BY line) AS lo
            FROM {table}_rejected AS r JOIN {table}_files AS f USING (_file_id) WHERE NOT f.with_breaks
        ), counted AS (SELECT _file_id, lo, count(*) AS n FROM before GROUP BY ALL)
        SELECT _file_id, lo, lead(lo) OVER (PARTITION BY _file_id ORDER BY lo) AS hi,
               sum(n) OVER (PARTITION BY _file_id ORDER BY lo) AS _j
        FROM counted""")
    # Files with line breaks in quotes: every record's line, from the breaks before it.
    con.sql(f"""
        CREATE OR REPLACE TEMP TABLE {table}_placed AS
        WITH files AS (SELECT * FROM {table}_files WHERE with_breaks),
        accepted AS (
            SELECT t._file_id, t.rowid - f.first_rowid + 1 AS _k, {_breaks_of_record(feed)} AS _breaks
            FROM {table} AS t JOIN files AS f USING (_file_id)
        ), rejected AS (
            SELECT r.*, row_number() OVER (PARTITION BY _file_id ORDER BY line) AS _j
            FROM {table}_rejected AS r JOIN files USING (_file_id)
        ), steps AS (
            SELECT _file_id, line - {first} + 1 - _j AS accepted_before, max(_j) AS _j FROM rejected GROUP BY ALL
        ), records AS (
            SELECT a._file_id, a._k, a._k + coalesce(s._j, 0) + {first} - 1 AS _reader_line, a._breaks
            FROM accepted AS a ASOF LEFT JOIN steps AS s ON s._file_id = a._file_id AND a._k > s.accepted_before
            UNION ALL
            SELECT _file_id, NULL, line, {breaks_sql('csv_line')} FROM rejected
        )
        SELECT r._file_id, r._k, r._reader_line,
               r._reader_line + f._header_extra + coalesce(sum(r._breaks) OVER (
                   PARTITION BY r._file_id ORDER BY r._reader_line
                   ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS _line_no,
               r._breaks
        FROM records AS r JOIN files AS f USING (_file_id)""")
    # ... unless the breaks do not account for the extra lines either: blank lines in between.
    blank = con.sql(f"""
        SELECT p._file_id FROM {table}_placed AS p JOIN {table}_files AS f USING (_file_id)
        GROUP BY p._file_id, f._physical_end HAVING max(p._line_no + p._breaks) <> f._physical_end""").fetchall()
    for (file_id,) in blank:
        item = next(i for i in items if i.file_id == file_id)
        rejected = {line for (line,) in con.sql(f"SELECT line FROM {table}_rejected WHERE _file_id = ?",
                                                 params=[file_id]).fetchall()}
        con.sql(f"DELETE FROM {table}_placed WHERE _file_id = ?", params=[file_id])
        con.register("reader_positions", _csv_positions(item, rejected))
        try:
            con.sql(f"INSERT INTO {table}_placed BY NAME SELECT * FROM reader_positions")
        finally:
            con.unregister("reader_positions")


class Read:
    """The records of one feed file type in a batch, read and checked (see the module's docstring)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, feed: FeedFile, table: str):
        self.con, self.feed, self.table = con, feed, table

    def accepted(self, where: str = "true") -> str:
        """SQL: the accepted records matching `where` (over `t`, the checked table; JSON blank
        lines are no records), each with `_line_no` and `_row` (its rowid)."""
        t = self.table
        return f"""
            SELECT coalesce(p._line_no, r._k + r.line_offset + coalesce(s._j, 0)) AS _line_no, r.*
            FROM (SELECT t.rowid AS _row, t.rowid - f.first_rowid + 1 AS _k, f.line_offset, t.*
                  FROM {t} AS t JOIN {t}_files AS f USING (_file_id)
                  WHERE NOT t._blank AND ({where})) AS r
            LEFT JOIN {t}_steps AS s ON s._file_id = r._file_id AND r._k > s.lo AND (s.hi IS NULL OR r._k <= s.hi)
            LEFT JOIN {t}_placed AS p ON p._file_id = r._file_id AND p._k = r._k"""

    def rejected(self) -> str:
        """SQL: the records the reader rejected: `_file_id`, `_line_no`, `_raw`, `_reason`."""
        t = self.table
        return f"""
            SELECT r._file_id, coalesce(p._line_no, r.line + f._header_extra) AS _line_no, r.csv_line AS _raw,
                   {_reason_sql(self.feed, "r.error_type")} AS _reason
            FROM {t}_rejected AS r JOIN {t}_files AS f USING (_file_id)
            LEFT JOIN {t}_placed AS p ON p._file_id = r._file_id AND p._reader_line = r.line AND p._k IS NULL"""

    def drop(self) -> None:
        for suffix in ("", "_rejected", "_files", "_steps", "_placed"):
            self.con.sql(f"DROP TABLE IF EXISTS {self.table}{suffix}")


def read_feed(con: duckdb.DuckDBPyConnection, feed: FeedFile, items: list[FileInput], table: str) -> Read:
    """Read and check `items` (the same feed file of several drops): see the module's docstring.

    A file with a problem already (its CSV header, see `check_header`) is not read; a CSV file
    DuckDB refuses whole gets a file-level problem; a JSON Lines file DuckDB refuses whole is
    split on its line feeds.
    """
    readable = [i for i in items if not i.problems and i.size]
    con.sql(f"CREATE OR REPLACE TEMP TABLE {table} AS {checked_sql(feed, _empty(feed), 'NULL::INTEGER')}")
    con.sql(f"CREATE OR REPLACE TEMP TABLE {table}_rejected (_file_id INTEGER, line BIGINT, "
            f"error_type VARCHAR, csv_line VARCHAR)")
    try:
        if readable:
            _scan(con, feed, readable, table)
    except duckdb.InvalidInputException:  # a file the reader refuses whole (not a bug of ours)
        con.sql(f"DELETE FROM {table}; DELETE FROM {table}_rejected")  # one file at a time, then
        for item in readable:
            try:
                _scan(con, feed, [item], table)
            except duckdb.InvalidInputException as exc:
                con.sql(f"DELETE FROM {table} WHERE _file_id = {item.file_id}")
                con.sql(f"DELETE FROM {table}_rejected WHERE _file_id = {item.file_id}")
                if feed.is_csv:
                    item.problems.append(f"{feed.file}: not readable as CSV ({short_error(exc)})")
                else:
                    _split_json_lines(con, feed, item, table)
    _place(con, feed, table, [i for i in readable if not i.problems])
    return Read(con, feed, table)


def _empty(feed: FeedFile) -> str:
    """A relation with the reader's columns and no row (the checked table's shape)."""
    columns = [f'NULL::VARCHAR AS "{c}"' for c in feed.column_names] if feed.is_csv else ["NULL::VARCHAR AS _line"]
    return f"(SELECT {', '.join(columns)} LIMIT 0)"
