"""Hypothesis strategies: valid feed files built from feeds.py's declarations, and single-line
corruptions of them, with what an independent reader (Python's csv / json) makes of them.

A file is kept as its pieces (header, each record's text, each line's end), so the physical
line of every record is plain arithmetic here, never the pipeline's own counting.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import dataclass, replace
from decimal import Decimal

from hypothesis import strategies as st

from fulfilment_monitor.feeds import BOOL, DATE, DECIMAL, FEEDS, INT, TIMESTAMP, Column, FeedFile

ENDINGS = ("\n", "\r\n", "\r")
BOM = "\ufeff"
# Free text: any printable character (a name, an emoji, a right-to-left letter), and what CSV must
# quote: commas, quotes, line breaks of every kind; tabs and spaces anywhere.
TEXT_CHARS = st.one_of(st.characters(blacklist_categories=("Cs", "Cc")), st.sampled_from(',"\t \n\r'))
# Characters that are never text: what the control-character corruption puts in a line.
CONTROLS = [chr(c) for c in (*range(0, 9), 11, 12, *range(14, 32), 127)]


def breaks(text: str) -> int:
    return text.count("\n") + text.count("\r") - text.count("\r\n")


@st.composite
def _timestamp(draw) -> str:
    moment = draw(st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2035, 12, 31)))
    offset = draw(st.sampled_from(["Z", "+00:00", "-05:00", "+09:30", "+14:00", "-1200"]))
    return moment.replace(microsecond=0).isoformat() + offset


def value_text(column: Column) -> st.SearchStrategy[str | None]:
    """A valid value of `column` as its text (None: null)."""
    if column.values:
        text = st.sampled_from(column.values)
    elif column.kind == INT:
        text = st.integers(1 if column.positive else -10**9, 10**9).map(str)
    elif column.kind == DECIMAL:
        text = st.integers(-10**9, 10**9).map(lambda cents: str(Decimal(cents).scaleb(-2)))
    elif column.kind == DATE:
        text = st.dates(dt.date(2000, 1, 1), dt.date(2035, 12, 31)).map(dt.date.isoformat)
    elif column.kind == TIMESTAMP:
        text = _timestamp()
    elif column.kind == BOOL:
        text = st.sampled_from(["true", "false"])
    else:
        text = st.text(TEXT_CHARS, min_size=1, max_size=12)
    return st.one_of(st.none(), text) if column.nullable else text


def typed(column: Column, text: str | None):
    """A value's text as DuckDB returns the loaded column."""
    if text is None or text == "":
        return None
    return {INT: int, DECIMAL: Decimal, DATE: dt.date.fromisoformat,
            BOOL: lambda t: t == "true"}.get(column.kind, str)(text)


@dataclass(frozen=True)
class FeedText:
    """A feed file as pieces: `lines[0]` is the CSV header (JSON Lines: none), then one text per
    record (a CSV record may hold line breaks in quotes); `ends[i]` ends piece i."""
    feed: FeedFile
    bom: bool
    header: str | None
    records: tuple[bytes, ...]
    ends: tuple[str, ...]  # one per header and record; the last may be ""

    def data(self) -> bytes:
        pieces = ([self.header.encode()] if self.header is not None else []) + list(self.records)
        return (BOM.encode() if self.bom else b"") + b"".join(p + e.encode() for p, e in zip(pieces, self.ends))

    def first_lines(self) -> list[int]:
        """The physical line each record starts on."""
        line = 1 + (1 + breaks(self.header) if self.header is not None else 0)
        firsts = []
        for record in self.records:
            firsts.append(line)
            line += 1 + breaks(record.decode("utf-8", "replace"))
        return firsts


def independent(feed_text: FeedText) -> list[tuple]:
    """(line, values of the declared columns as loaded) of every record, read by Python's own csv
    or json module from the file's bytes."""
    feed = feed_text.feed
    text = feed_text.data().decode("utf-8-sig")
    if feed.is_csv:
        rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))[1:]
        values = [dict(zip(feed.column_names, row)) for row in rows]
    else:
        values = [json.loads(line, parse_float=Decimal) for line in io.StringIO(text, newline="")]
        values = [{k: (v if isinstance(v, (bool, int, Decimal)) or v is None else str(v)) for k, v in obj.items()}
                  for obj in values]
    return [(line, *[typed(c, _text(v.get(c.name))) for c in feed.columns])
            for line, v in zip(feed_text.first_lines(), values)]


def _text(value) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return "true" if value is True else "false" if value is False else str(value)


def _csv_field(value: str | None, quote: bool) -> str:
    value = value or ""
    if quote or any(ch in value for ch in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


@st.composite
def records(draw, feed: FeedFile) -> list[dict[str, str | None]]:
    """1 to 8 valid records, each with a unique key (a key repeated in a drop is quarantined)."""
    rows = draw(st.lists(st.fixed_dictionaries({c.name: value_text(c) for c in feed.columns}), min_size=1, max_size=8))
    for n, row in enumerate(rows):
        row[feed.key[0]] = f"{row[feed.key[0]] or ''}#{n}"  # free text stays free; unique all the same
    return rows


@st.composite
def feed_texts(draw, feed: FeedFile | None = None) -> FeedText:
    """A valid feed file: any feed, any values, optional quoting, BOM or not, any line ends (one
    kind or mixed), a last line end or not."""
    feed = feed or draw(st.sampled_from(FEEDS))
    rows = draw(records(feed))
    ending = draw(st.sampled_from([*ENDINGS, "mixed"]))
    count = len(rows) + feed.is_csv
    ends = [draw(st.sampled_from(ENDINGS)) if ending == "mixed" else ending for _ in range(count)]
    ends[-1] = draw(st.sampled_from([ends[-1], ""]))
    if feed.is_csv:
        header = ",".join(_csv_field(c, draw(st.booleans())) for c in feed.column_names)
        texts = [",".join(_csv_field(row[c.name], draw(st.booleans())) for c in feed.columns) for row in rows]
    else:
        header = None
        texts = [json.dumps(_json_object(feed, row, draw), ensure_ascii=draw(st.booleans()),
                            separators=draw(st.sampled_from([(",", ":"), (", ", ": ")]))) for row in rows]
    return FeedText(feed, draw(st.booleans()), header, tuple(t.encode() for t in texts), tuple(ends))


def _json_object(feed: FeedFile, row: dict, draw) -> dict:
    """A record as a serialiser writes it: typed values; a null field written or left out; fields
    in any order."""
    obj = {}
    for c in feed.columns:
        text = row[c.name]
        if text is None and draw(st.booleans()):
            continue  # serialisers omit nulls
        obj[c.name] = None if text is None else (
            int(text) if c.kind == INT else float(text) if c.kind == DECIMAL else text == "true" if c.kind == BOOL
            else text)
    keys = draw(st.permutations(list(obj)))
    return {k: obj[k] for k in keys}


@dataclass(frozen=True)
class Corruption:
    """One line of a valid file broken: the file before and after; the record of `valid` it costs
    (replaced in place), or the index in `text.records` of a line it inserts; the physical line
    to be quarantined (None: the damage costs no record, as a line end of another kind)."""
    kind: str
    valid: FeedText
    text: FeedText
    lost: int | None = None
    inserted: int | None = None
    line: int | None = None


CSV_KINDS = ("unterminated_quote", "stray_quote", "extra_column", "missing_column", "control_character",
             "invalid_utf8", "cut_short", "blank_line", "mixed_line_end", "duplicated_header")
JSON_KINDS = ("unterminated_quote", "stray_quote", "missing_required_field", "control_character", "invalid_utf8",
              "cut_short", "blank_line", "mixed_line_end")


def _one_line(feed_text: FeedText) -> list[int]:
    """The records that sit on one line (a corruption breaks one line)."""
    return [i for i, r in enumerate(feed_text.records) if not breaks(r.decode())]


KINDS = tuple(dict.fromkeys(CSV_KINDS + JSON_KINDS))


@st.composite
def corruptions(draw, kind: str) -> Corruption:
    """A valid file (of a feed whose format the damage applies to) with one line broken so."""
    valid = draw(feed_texts(draw(st.sampled_from([f for f in FEEDS if kind in (CSV_KINDS if f.is_csv else JSON_KINDS)]))))
    feed = valid.feed
    candidates = _one_line(valid)
    if kind in ("blank_line", "duplicated_header", "mixed_line_end"):
        candidates = list(range(len(valid.records)))
    i = draw(st.sampled_from(candidates)) if candidates else None
    if i is None:
        return Corruption("none", valid, valid)
    record = valid.records[i]
    records, ends = list(valid.records), list(valid.ends)
    offset = feed.is_csv  # ends[i + offset] ends record i
    line = valid.first_lines()[i]
    if kind in ("blank_line", "duplicated_header"):
        inserted = b"" if kind == "blank_line" else valid.header.encode()
        records.insert(i, inserted)
        # After a CR, an LF would make one CRLF of the two line ends: no blank line at all.
        after_cr = i + offset > 0 and ends[i + offset - 1] == "\r"
        ends.insert(i + offset, draw(st.sampled_from(["\r"] if after_cr else ENDINGS)))
        return Corruption(kind, valid, replace(valid, records=tuple(records), ends=tuple(ends)), inserted=i, line=line)
    if kind == "mixed_line_end":
        if not ends[i + offset]:
            return Corruption("none", valid, valid)
        ends[i + offset] = draw(st.sampled_from([e for e in ENDINGS if e != ends[i + offset]]))
        return Corruption(kind, valid, replace(valid, ends=tuple(ends)))
    records[i] = _broken(draw, kind, feed, record, valid.header)
    return Corruption(kind, valid, replace(valid, records=tuple(records)), lost=i, line=line)


def _broken(draw, kind: str, feed: FeedFile, record: bytes, header: str | None) -> bytes:
    text = record.decode()
    if kind == "unterminated_quote":  # a field (CSV) or a string (JSON) opened, never closed
        if feed.is_csv:
            fields = _split_plain(text)
            j = draw(st.integers(0, len(fields) - 1))
            fields[j] = '"' + fields[j].strip('"')
            return ",".join(fields).encode()
        return (text[:-1] + ',"note":"never closed}').encode()
    if kind == "stray_quote":  # a quote inside a quoted value, not doubled (`"Sofa "Oslo""`)
        if feed.is_csv:
            fields = _split_plain(text)
            fields[draw(st.integers(0, len(fields) - 1))] = '"Sofa "Oslo", grey"'
            return ",".join(fields).encode()
        return text.replace('":', '":"', 1).encode()
    if kind == "extra_column":
        return (text + ",extra").encode()
    if kind == "missing_column":
        return ",".join(_split_plain(text)[:-1]).encode()
    if kind == "missing_required_field":
        obj = json.loads(text)
        obj.pop(next(c.name for c in feed.columns if not c.nullable))
        return json.dumps(obj).encode()
    if kind == "control_character":
        at = draw(st.integers(0, len(text)))
        return (text[:at] + draw(st.sampled_from(CONTROLS)) + text[at:]).encode()
    if kind == "invalid_utf8":
        at = draw(st.integers(0, len(record)))
        return record[:at] + draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xe9t\xe9"])) + record[at:]
    if kind == "cut_short":  # CSV: at most up to the last field's comma (a cut last field may read as valid)
        fields = _split_plain(text) if feed.is_csv else None
        end = len(",".join(fields[:-1])) if feed.is_csv else len(text) - 1
        return (",".join(fields) if feed.is_csv else text)[:draw(st.integers(1, max(1, end)))].encode()
    raise ValueError(kind)


def _split_plain(text: str) -> list[str]:
    """A one-line CSV record's fields as written (quotes kept), by Python's csv module's reading."""
    row = next(csv.reader([text]))
    return [_csv_field(v, False) for v in row]
