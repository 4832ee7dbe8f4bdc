"""Read every file of one feed file type in a batch of drops: fast with DuckDB's reader where it
is proven to have accounted for every line, carefully line by line where not.

The fast path: one DuckDB `read_csv` over every file of the batch. CSV goes through it as RFC
4180 (a quoted header, a byte-order mark, quoted commas, doubled quotes); JSON Lines as a line
reader (a record is a line, by the format's definition). Each record is checked as it is read
(row_checks.checked_sql), in one pass; the reader keeps what it rejects itself (wrong column
count, invalid UTF-8) with its line.

The proof, per file: its header's lines, the records DuckDB accepted and those it rejected add
up to the file's physical lines (counted by the loader: LF, CRLF and CR), every rejection is of
a single line (a wrong column count or bad bytes), and the file holds no control character.
Then every record is one line, in order, and the k-th accepted one's line follows from the
rejected lines before it. A CSV file that falls short by exactly the line breaks inside its
records' quoted values is proven too: each record then moves down by the breaks before it. A
file DuckDB refuses or cannot be proven on (a quote that never closes, a blank line, mixed line
ends, a line over the size limit, a NUL) is read again by the careful reader (line_reader.py),
which places every record itself.

`read_feed` leaves temporary tables:

    <table>           the records read, checked, in file order (rowid)
    <table>_rejected  the records the readers rejected: file, first and last line, reason, text
    <table>_files     per file: where its rows start, and the lines before its first record
    <table>_steps     fast files with rejected records: how far each accepted one moves down
    <table>_placed    careful files and fast ones with line breaks in quotes: the first and
                      last line of each accepted record

`Read.accepted()` selects accepted records with `_line_no` and `_last_line_no` (the physical
lines where each starts and ends), `Read.rejected()` the rejected ones with theirs.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from fulfilment_monitor import line_reader
from fulfilment_monitor.feeds import TEXT, TIMESTAMP, FeedFile
from fulfilment_monitor.row_checks import checked_sql
from fulfilment_monitor.text import fragment, quote_sql

# DuckDB's error_type -> the reason a person reads.
READER_REASONS = {
    "CAST": "malformed record",
    "MISSING COLUMNS": "wrong column count",
    "TOO MANY COLUMNS": "wrong column count",
    "UNQUOTED VALUE": line_reader.UNTERMINATED,
    "INVALID ENCODING": line_reader.NOT_UTF8,
    "LINE SIZE OVER MAXIMUM": line_reader.TOO_LONG,
    "INVALID STATE": "malformed CSV record",
}
# In a JSON Lines file the only field delimiter is a control character no JSON text holds raw.
JSON_READER_REASONS = {**READER_REASONS, "TOO MANY COLUMNS": "not valid JSON (control character)"}
# The rejections that cover one line exactly: any other sends the file to the careful reader.
ONE_LINE_REASONS = ("wrong column count", line_reader.NOT_UTF8)
_JSON_DELIMITER = "\\x1f"
# What a column name looks like; anything else in a header is shown only as a count.
COLUMN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,39}")
_NOT_CONTROL = bytes(b for b in range(256) if b >= 32 and b != 0x7F)  # deleted by survey: the controls stay


@dataclass
class FileInput:
    """One feed file of one drop, as a batch reads it (its content was read once, by the loader,
    for the drop's checksum: what the reader needs of it is noted here)."""
    file_id: int
    path: Path
    size: int
    lines: int  # its physical lines (LF, CRLF or CR each end one; a last one may have no end)
    plain: bool = True  # it holds no control character (those only the careful reader reports)
    problems: list[str] = field(default_factory=list)  # file-level: its drop is rejected whole
    header_lines: int = 1  # physical lines the CSV header takes (0 for JSON Lines)


def survey(data: bytes) -> tuple[int, bool]:
    """(physical lines, no control character) of a file's bytes, counted in place: a file can be
    large. One pass keeps only its control bytes (about one a line); all of them must be tabs
    and line ends. (Measured on the 1.9 GB of the benchmark's 1M landing zone: 0.9 s, where
    numpy's comparison and the separate counts took 2.5 s.)"""
    controls = data.translate(None, _NOT_CONTROL)
    lf, cr = controls.count(b"\n"), controls.count(b"\r")
    lines = lf + cr - (data.count(b"\r\n") if cr else 0) + (1 if data and data[-1:] not in b"\r\n" else 0)
    return lines, not controls.translate(None, b"\t\n\r")


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


def _reader(feed: FeedFile) -> str:
    """DuckDB's reader over the files bound as the parameter $1 (a list of paths: a path is
    never spliced into SQL)."""
    options = ("auto_detect=false, strict_mode=true, store_rejects=true, "
               f"max_line_size={line_reader.MAX_RECORD_BYTES}, rejects_table='reader_errors', "
               "rejects_scan='reader_scans'")
    if feed.is_csv:
        columns = "{" + ", ".join(f"{quote_sql(c)}: 'VARCHAR'" for c in feed.column_names) + "}"
        return f"read_csv($1, columns={columns}, delim=',', quote='\"', escape='\"', header=true, {options})"
    return (f"read_csv($1, columns={{'_line': 'VARCHAR'}}, delim=E'{_JSON_DELIMITER}', quote='', "
            f"escape='', header=false, {options})")


def _files_table(items: list[FileInput]) -> pa.Table:
    return pa.table({"_file_id": pa.array([i.file_id for i in items], pa.int32()),
                     "file_path": [str(i.path) for i in items],
                     "_header_lines": pa.array([i.header_lines for i in items], pa.int64()),
                     "_lines": pa.array([i.lines for i in items], pa.int64())})


def _scan(con: duckdb.DuckDBPyConnection, feed: FeedFile, items: list[FileInput], table: str) -> None:
    """Append the checked records DuckDB reads of `items` to `table`, its rejections to `<table>_rejected`."""
    ids = "[" + ", ".join(str(i.file_id) for i in items) + "]"  # file_index -> file id, without a join
    con.register("reader_paths", _files_table(items))
    try:
        con.sql("DROP TABLE IF EXISTS reader_errors; DROP TABLE IF EXISTS reader_scans")
        # Only projections between the reader and the table: the file order is kept (rowid).
        source = f"(SELECT *, {ids}[file_index::BIGINT + 1] AS _reader_file FROM {_reader(feed)})"
        con.execute(f"INSERT INTO {table} {checked_sql(feed, source, '_reader_file')}", [[str(i.path) for i in items]])
        # DuckDB's line of a record is its physical line when the file is proven (_proven).
        physical = "e.line + p._header_lines - 1" if feed.is_csv else "e.line"
        con.sql(f"""INSERT INTO {table}_rejected
                    SELECT p._file_id, {physical}, {physical},
                           {_reason_sql(feed, "any_value(e.error_type ORDER BY e.column_idx, e.error_type)")},
                           regexp_replace(any_value(e.csv_line ORDER BY e.column_idx, e.error_type), '^[\\r\\n]+|[\\r\\n]+$', '', 'g')
                    FROM reader_errors AS e JOIN reader_scans AS s USING (scan_id, file_id)
                    JOIN reader_paths AS p USING (file_path)
                    GROUP BY p._file_id, e.line, p._header_lines""")
    finally:
        con.unregister("reader_paths")
        con.sql("DROP TABLE IF EXISTS reader_errors; DROP TABLE IF EXISTS reader_scans")


def breaks_sql(text: str) -> str:
    """SQL: the line breaks (CRLF, CR or LF) in a text: LFs + CRs - CRLFs; 0 for none or null.
    Counting replaces every value thrice: only a value with a break pays it (on 10M short
    values, 1% with a break: 0.17 s, where counting every value took 0.87 s)."""
    def count(needle: str) -> str:
        return f"(length({text}) - length(replace({text}, {needle}, '')))"
    return (f"CASE WHEN contains({text}, chr(10)) OR contains({text}, chr(13)) THEN "
            f"{count('chr(10)')} + {count('chr(13)')} - {count('chr(13) || chr(10)')} // 2 ELSE 0 END")


def _breaks_of_record(feed: FeedFile) -> str:
    """SQL: the line breaks inside a checked record's quoted fields (only text can hold one; a
    bad record's text is kept whole)."""
    texts = [c.name for c in feed.columns if c.kind in (TEXT, TIMESTAMP)]
    return (f"CASE WHEN _check IS NOT NULL THEN {breaks_sql('_raw')} ELSE "
            + " + ".join(f"coalesce({breaks_sql(c)}, 0)" for c in texts) + " END")


def _unproven(con: duckdb.DuckDBPyConnection, feed: FeedFile, table: str, items: list[FileInput]) -> set[int]:
    """The files of `items` whose records DuckDB cannot be proven to have placed line for line
    (see the module's docstring). A CSV file whose records fall short of its lines by exactly the
    line breaks inside their quotes is proven too, and its records placed (`_place_breaks`)."""
    con.register("reader_files", _files_table(items))
    try:
        counted = con.sql(f"""
            WITH accepted AS (SELECT _file_id, count(*) AS n FROM {table} GROUP BY 1),
            rejected AS (SELECT _file_id, count(*) AS n,
                                bool_and(reason IN ({', '.join(map(quote_sql, ONE_LINE_REASONS))})) AS one_line
                         FROM {table}_rejected GROUP BY 1)
            SELECT f._file_id, coalesce(r.one_line, true),
                   f._lines - f._header_lines - coalesce(a.n, 0) - coalesce(r.n, 0) AS short
            FROM reader_files AS f LEFT JOIN accepted AS a USING (_file_id) LEFT JOIN rejected AS r USING (_file_id)
            WHERE short <> 0 OR NOT coalesce(r.one_line, true)""").fetchall()
    finally:
        con.unregister("reader_files")
    unproven = {file_id for file_id, one_line, short in counted if not one_line or short < 0 or not feed.is_csv}
    quoted = {file_id: short for file_id, one_line, short in counted if file_id not in unproven}
    if quoted:  # placed on the chance; a file whose breaks fall short is forgotten, placing and all
        found = _place_breaks(con, feed, table, [i for i in items if i.file_id in quoted])
        unproven |= {file_id for file_id, short in quoted.items() if found.get(file_id) != short}
    return unproven


def _place_breaks(con: duckdb.DuckDBPyConnection, feed: FeedFile, table: str,
                  items: list[FileInput]) -> dict[int, int]:
    """The lines of every record of fast files with line breaks in quotes: DuckDB numbers records,
    not lines, so each record moves down by the breaks in the records before it (`<table>_placed`
    for the accepted, `<table>_rejected` corrected). Returns the line breaks found in each file's
    records, for the proof (`_unproven`)."""
    con.register("reader_files", _files_table(items))
    try:
        con.sql(f"""
            CREATE OR REPLACE TEMP TABLE reader_placed AS
            WITH rejected AS (
                SELECT _file_id, r.line - f._header_lines AS ordinal, {breaks_sql('r.text')} AS b,
                       row_number() OVER (PARTITION BY _file_id ORDER BY r.line) AS j
                FROM {table}_rejected AS r JOIN reader_files AS f USING (_file_id)
            ), steps AS (SELECT _file_id, ordinal - j AS accepted_before, max(j) AS j FROM rejected GROUP BY ALL),
            accepted AS (
                SELECT _file_id, rowid - min(rowid) OVER (PARTITION BY _file_id) + 1 AS _k, {_breaks_of_record(feed)} AS b
                FROM {table} WHERE _file_id IN (SELECT _file_id FROM reader_files)
            ), records AS (
                SELECT a._file_id, a._k, a._k + coalesce(s.j, 0) AS ordinal, a.b
                FROM accepted AS a ASOF LEFT JOIN steps AS s ON s._file_id = a._file_id AND a._k > s.accepted_before
                UNION ALL SELECT _file_id, NULL, ordinal, b FROM rejected
            ), placed AS (
                SELECT r._file_id, r._k, r.ordinal, r.b, f._header_lines + r.ordinal + coalesce(sum(r.b) OVER (
                    PARTITION BY r._file_id ORDER BY r.ordinal ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS first
                FROM records AS r JOIN reader_files AS f USING (_file_id)
            )
            SELECT p._file_id, p._k, p.first, p.first + p.b AS last, f._header_lines + p.ordinal AS line
            FROM placed AS p JOIN reader_files AS f USING (_file_id)""")
    finally:
        con.unregister("reader_files")
    con.sql(f"INSERT INTO {table}_placed SELECT _file_id, _k, first, last FROM reader_placed WHERE _k IS NOT NULL")
    con.sql(f"""UPDATE {table}_rejected AS r SET line = p.first, last_line = p.last FROM reader_placed AS p
                WHERE p._k IS NULL AND p._file_id = r._file_id AND p.line = r.line""")
    found = dict(con.sql("SELECT _file_id, sum(last - first) FROM reader_placed GROUP BY 1").fetchall())
    con.sql("DROP TABLE reader_placed")
    return found


def _forget(con: duckdb.DuckDBPyConnection, table: str, file_ids: set[int]) -> None:
    """Drop what the fast path read and placed of these files: the careful reader reads them again."""
    if file_ids:
        for suffix in ("", "_rejected", "_placed"):
            con.execute(f"DELETE FROM {table}{suffix} WHERE _file_id IN (SELECT unnest($1))", [sorted(file_ids)])


def _read_carefully(con: duckdb.DuckDBPyConnection, feed: FeedFile, item: FileInput, table: str) -> None:
    """Append one file, read by the careful reader, to `table` (checked), `<table>_placed` and
    `<table>_rejected`."""
    records = line_reader.read_file(item.path, feed.is_csv, len(feed.columns))
    names = feed.column_names if feed.is_csv else ["_line"]
    columns = list(zip(*records.values)) or [()] * len(names)
    accepted, rejected = len(records.values), len(records.rejected)
    con.register("careful_records", pa.table({n: pa.array(c, pa.string()) for n, c in zip(names, columns)}))
    con.register("careful_lines", pa.table({
        "_file_id": pa.array([item.file_id] * accepted, pa.int32()), "_k": pa.array(range(1, accepted + 1), pa.int64()),
        "_line_no": pa.array([first for first, _ in records.lines], pa.int64()),
        "_last_line": pa.array([last for _, last in records.lines], pa.int64())}))
    con.register("careful_rejected", pa.table({
        "_file_id": pa.array([item.file_id] * rejected, pa.int32()),
        "line": pa.array([r[0] for r in records.rejected], pa.int64()),
        "last_line": pa.array([r[1] for r in records.rejected], pa.int64()),
        "reason": pa.array([r[2] for r in records.rejected], pa.string()),
        "text": pa.array([r[3] for r in records.rejected], pa.string())}))
    try:
        con.sql(f"INSERT INTO {table} {checked_sql(feed, 'careful_records', str(item.file_id))}")
        con.sql(f"INSERT INTO {table}_placed SELECT * FROM careful_lines")
        con.sql(f"INSERT INTO {table}_rejected SELECT * FROM careful_rejected")
    finally:
        for name in ("careful_records", "careful_lines", "careful_rejected"):
            con.unregister(name)


def _place(con: duckdb.DuckDBPyConnection, table: str, items: list[FileInput]) -> None:
    """`<table>_files` and `<table>_steps`: see the module's docstring."""
    con.register("reader_files", _files_table(items))
    try:
        con.sql(f"""
            CREATE OR REPLACE TEMP TABLE {table}_files AS
            SELECT f._file_id, a.first_rowid, f._header_lines AS line_offset
            FROM reader_files AS f
            LEFT JOIN (SELECT _file_id, min(rowid) AS first_rowid FROM {table} GROUP BY 1) AS a USING (_file_id)""")
    finally:
        con.unregister("reader_files")
    # The k-th accepted record of a fast file moves down one line for each rejected record
    # before it. Intervals of k with the same count, for a join without a sort.
    con.sql(f"""
        CREATE OR REPLACE TEMP TABLE {table}_steps AS
        WITH before AS (
            SELECT _file_id, line - f.line_offset - row_number() OVER (PARTITION BY _file_id ORDER BY line) AS lo
            FROM {table}_rejected AS r JOIN {table}_files AS f USING (_file_id)
            WHERE _file_id NOT IN (SELECT DISTINCT _file_id FROM {table}_placed)
        ), counted AS (SELECT _file_id, lo, count(*) AS n FROM before GROUP BY ALL)
        SELECT _file_id, lo, lead(lo) OVER (PARTITION BY _file_id ORDER BY lo) AS hi,
               sum(n) OVER (PARTITION BY _file_id ORDER BY lo) AS _j
        FROM counted""")


class Read:
    """The records of one feed file type in a batch, read and checked (see the module's docstring)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, feed: FeedFile, table: str):
        self.con, self.feed, self.table = con, feed, table

    def accepted(self, where: str = "true") -> str:
        """SQL: the accepted records matching `where` (over `t`, the checked table), each with
        `_line_no`, `_last_line_no` and `_row` (its rowid)."""
        t = self.table
        fast = "r._k + r.line_offset + coalesce(s._j, 0)"
        return f"""
            SELECT coalesce(p._line_no, {fast}) AS _line_no, coalesce(p._last_line, {fast}) AS _last_line_no, r.*
            FROM (SELECT t.rowid AS _row, t.rowid - f.first_rowid + 1 AS _k, f.line_offset, t.*
                  FROM {t} AS t JOIN {t}_files AS f USING (_file_id)
                  WHERE {where}) AS r
            LEFT JOIN {t}_steps AS s ON s._file_id = r._file_id AND r._k > s.lo AND (s.hi IS NULL OR r._k <= s.hi)
            LEFT JOIN {t}_placed AS p ON p._file_id = r._file_id AND p._k = r._k"""

    def rejected(self) -> str:
        """SQL: the records the readers rejected: `_file_id`, `_line_no`, `_last_line_no`, `_raw`, `_reason`."""
        return (f"SELECT _file_id, line AS _line_no, last_line AS _last_line_no, text AS _raw, reason AS _reason "
                f"FROM {self.table}_rejected")

    def drop(self) -> None:
        for suffix in ("", "_rejected", "_files", "_steps", "_placed"):
            self.con.sql(f"DROP TABLE IF EXISTS {self.table}{suffix}")


def read_feed(con: duckdb.DuckDBPyConnection, feed: FeedFile, items: list[FileInput], table: str) -> Read:
    """Read and check `items` (the same feed file of several drops): see the module's docstring.
    A file with a problem already (its CSV header, see `check_header`) is not read."""
    readable = [i for i in items if not i.problems and i.size]
    con.sql(f"CREATE OR REPLACE TEMP TABLE {table} AS {checked_sql(feed, _empty(feed), 'NULL::INTEGER')}")
    con.sql(f"CREATE OR REPLACE TEMP TABLE {table}_rejected (_file_id INTEGER, line BIGINT, last_line BIGINT, "
            f"reason VARCHAR, text VARCHAR)")
    con.sql(f"CREATE OR REPLACE TEMP TABLE {table}_placed (_file_id INTEGER, _k BIGINT, _line_no BIGINT, "
            f"_last_line BIGINT)")
    fast = [i for i in readable if i.plain]
    careful = {i.file_id for i in readable if not i.plain}
    if fast:
        try:
            _scan(con, feed, fast, table)
        except duckdb.InvalidInputException:  # a file the reader refuses whole: one file at a time, then
            con.sql(f"DELETE FROM {table}; DELETE FROM {table}_rejected")
            for item in fast:
                try:
                    _scan(con, feed, [item], table)
                except duckdb.InvalidInputException:
                    _forget(con, table, {item.file_id})
                    careful.add(item.file_id)
        unproven = _unproven(con, feed, table, [i for i in fast if i.file_id not in careful])
        _forget(con, table, unproven)
        careful |= unproven
    for item in readable:
        if item.file_id in careful:
            _read_carefully(con, feed, item, table)
    _place(con, table, readable)
    return Read(con, feed, table)


def _empty(feed: FeedFile) -> str:
    """A relation with the reader's columns and no row (the checked table's shape)."""
    columns = [f'NULL::VARCHAR AS "{c}"' for c in feed.column_names] if feed.is_csv else ["NULL::VARCHAR AS _line"]
    return f"(SELECT {', '.join(columns)} LIMIT 0)"
