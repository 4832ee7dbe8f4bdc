"""The careful reader: one feed file, line by line, every physical line loaded or quarantined.

DuckDB's reader is fast but, on a file it cannot read plainly (a quote that never closes, a
blank line, line ends of several kinds, a line over its size limit), it may swallow lines or
skip them without a trace. reader.py proves, per file, that DuckDB accounted for every line;
a file it cannot prove is read here instead, by these rules:

- A line ends at LF, CRLF or CR, mixed freely. A CSV field in quotes may hold commas, doubled
  quotes and line breaks (a CR in quotes stays in the value).
- A CSV record that ends on the line it starts on is a record (the right number of fields) or
  is quarantined alone: a wrong column count, a stray quote (text after a closing quote: a quote
  inside a quoted field not doubled), a blank line, bytes that are not UTF-8. A quote inside an
  unquoted field is data, as Python's csv module and DuckDB read it.
- A record that a quote opened on line L carries over later lines is kept only when it is a
  well-formed record of the right width. Otherwise (the quote runs to the end of the file, or
  what it makes is no record) line L alone is quarantined (unterminated quote), and reading
  resumes at line L+1: the good lines after it still load.
- A record longer than MAX_RECORD_BYTES (DuckDB's own limit) is quarantined whole, its
  neighbours untouched; one holding a control character (NUL, ESC, ...: never text) too.
- A JSON Lines record is one line; its JSON is checked later, with every record's
  (row_checks.py). Blank lines pass on as records, for that check to quarantine.

The file is read through a memory map: its size costs no memory.
"""
from __future__ import annotations

import mmap
import re
from dataclasses import dataclass, field
from pathlib import Path

MAX_RECORD_BYTES = 2_097_152  # DuckDB's default max_line_size: the same limit on either path
SHOWN_CHARS = 4096  # of a record over the limit, kept in quarantine
BOM = b"\xef\xbb\xbf"
LINE_END = re.compile(rb"\r\n|\r|\n")
# RFC 4180, the quoted part unrolled (no backtracking); a quote inside an unquoted field is data,
# as Python's csv module and DuckDB read it.
_FIELD = rb'"[^"]*(?:""[^"]*)*"|(?:[^",\r\n][^,\r\n]*)?'

RECORD = re.compile(rb"(?:%s)(?:,(?:%s))*" % (_FIELD, _FIELD))
FIELD = re.compile(r'"([^"]*(?:""[^"]*)*)"|([^,]*)', re.S)  # over a record RECORD matched whole
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # never text (a tab or a line break may be)
# Raw bytes that are never text, as the loader scans for them (reader.py): NUL..BS, VT, FF, SO..US, DEL.
CONTROL_BYTES = bytes([*range(0, 9), 11, 12, *range(14, 32), 127])

TOO_LONG = "record longer than the reader's maximum line size"
UNTERMINATED = "malformed CSV record (unterminated quote)"
STRAY = "malformed CSV record (stray quote)"
NOT_UTF8 = "not valid UTF-8"


@dataclass
class Records:
    """What the careful reader made of one file, in file order."""
    values: list[list[str]] = field(default_factory=list)  # accepted: CSV fields, or [the JSON line]
    lines: list[tuple[int, int]] = field(default_factory=list)  # accepted: (first, last) physical line
    rejected: list[tuple[int, int, str, str]] = field(default_factory=list)  # (first, last, reason, text)

    def reject(self, first: int, last: int, reason: str, body: bytes) -> None:
        self.rejected.append((first, last, reason, shown(body)))

    def accept(self, first: int, last: int, values: list[str]) -> None:
        self.values.append(values)
        self.lines.append((first, last))


def shown(body: bytes) -> str:
    """A rejected record's text as quarantine keeps it: bad bytes replaced, control characters
    escaped (a NUL in a database text breaks the tools that read it), a record over the size
    limit cut to its first SHOWN_CHARS characters."""
    if len(body) <= MAX_RECORD_BYTES:
        text = bytes(body).decode("utf-8", "replace")
    else:
        text = bytes(body[:SHOWN_CHARS * 4]).decode("utf-8", "replace")[:SHOWN_CHARS] + "…"
    return CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


def breaks(body: bytes) -> int:
    """The line breaks (LF, CRLF or CR) in `body`."""
    return body.count(b"\n") + body.count(b"\r") - body.count(b"\r\n")


def _after_line_end(data, end: int) -> int:
    """The position after the line end at `end` (or `end`, at the end of the file)."""
    if data[end:end + 2] == b"\r\n":
        return end + 2
    return end + 1 if end < len(data) else end


def _fields(text: str) -> list[str]:
    """The fields of a well-formed record (RECORD matched it whole)."""
    if '"' not in text:
        return text.split(",")
    fields, pos = [], 0
    while True:
        m = FIELD.match(text, pos)
        fields.append(m.group(1).replace('""', '"') if m.group(1) is not None else m.group(2))
        pos = m.end() + 1  # past the comma
        if pos > len(text):
            return fields


def _decoded(body: bytes) -> tuple[str | None, str | None]:
    """(text, None) of a record's bytes, or (None, why it is no text)."""
    if len(body) > MAX_RECORD_BYTES:
        return None, TOO_LONG
    try:
        text = bytes(body).decode("utf-8")
    except UnicodeDecodeError:
        return None, NOT_UTF8
    bad = CONTROL.search(text)
    return (None, f"control character ({repr(bad.group())[1:-1]})") if bad else (text, None)


def read_csv(data, width: int) -> Records:
    """Every record after the header of a CSV file's bytes, by the rules above."""
    records = Records()
    start = len(BOM) if data[:3] == BOM else 0
    header = RECORD.match(data, start)
    pos, line = _after_line_end(data, header.end()), 2 + breaks(data[start:header.end()])
    size = len(data)
    while pos < size:
        end = RECORD.match(data, pos).end()
        body = data[pos:end]
        inner = breaks(body) if b'"' in body else 0  # only a quoted field holds a line break
        at_line_end = end == size or data[end] in b"\r\n"
        if at_line_end:
            text, why = _decoded(body)
            values = _fields(text if text is not None else bytes(body).decode("utf-8", "replace"))
            if inner and len(values) != width:
                why = UNTERMINATED  # the quote on this line swallowed the next ones into no record
            elif why is None and len(values) != width:
                why = "blank line" if not body else "wrong column count"
            if why != UNTERMINATED:
                if why:
                    records.reject(line, line + inner, why, body)
                else:
                    records.accept(line, line + inner, values)
                pos, line = _after_line_end(data, end), line + inner + 1
                continue
        else:  # the record cannot go on: a quote where none may be
            at_field_start = end == pos or data[end - 1:end] == b","
            why = UNTERMINATED if inner or (data[end:end + 1] == b'"' and at_field_start) else STRAY
        # Line L alone, and on from L + 1.
        found = LINE_END.search(data, pos)
        end = found.start() if found else size
        records.reject(line, line, why, data[pos:end])
        pos, line = _after_line_end(data, end), line + 1
    return records


def read_json_lines(data) -> Records:
    """Every line of a JSON Lines file's bytes as a record (its text), or quarantined."""
    records = Records()
    pos, line, size = (len(BOM) if data[:3] == BOM else 0), 1, len(data)
    while pos < size:
        found = LINE_END.search(data, pos)
        end = found.start() if found else size
        body = data[pos:end]
        text, why = _decoded(body)
        if why:
            records.reject(line, line, why, body)
        else:
            records.accept(line, line, [text])
        pos, line = (found.end() if found else size), line + 1
    return records


def read_file(path: Path, is_csv: bool, width: int) -> Records:
    """Read one feed file carefully (see the module's docstring)."""
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
        return read_csv(data, width) if is_csv else read_json_lines(data)
