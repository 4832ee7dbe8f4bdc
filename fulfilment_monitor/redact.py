"""A quarantined record with its personal fields masked and its structure kept, so ops can see
what was wrong with it without reading whose it was.

- A record whose fields can be found (a CSV line of the declared number of fields, a JSON
  object) keeps every field but the personal ones (feeds.py), which become `***` (an empty
  one stays empty: "missing full_name" must still show).
- A record too broken to find its fields (a wrong column count, an unterminated quote, bytes
  that are not UTF-8, a truncated JSON line) keeps only its first field, the record's id, when
  it looks like one (no space in it); every other comma-separated part becomes `***`.

Either way every email address and phone number left in it is masked (text.mask), in the
records of every feed, and in the reasons, which quote values. The loader calls these as
DuckDB functions (`register`) on the few records it quarantines.
"""
from __future__ import annotations

import csv
import io
import json

import duckdb

from fulfilment_monitor.feeds import FeedFile, feed
from fulfilment_monitor.text import mask, safe

MASK = "***"


def _csv_fields(text: str) -> list[str] | None:
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error:
        return None
    return rows[0] if len(rows) == 1 else None


def _masked_csv(record: FeedFile, text: str) -> str | None:
    fields = _csv_fields(text)
    if fields is None or len(fields) != len(record.columns):
        return None
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(
        [MASK if c.personal and value else mask(value) for c, value in zip(record.columns, fields)])
    return out.getvalue()


def _masked_json(record: FeedFile, text: str) -> str | None:
    try:
        found = json.loads(text)
    except ValueError:
        return None
    if not isinstance(found, dict):
        return None
    personal = set(record.personal_columns)
    return json.dumps({k: MASK if k in personal and v not in (None, "") else
                       mask(v) if isinstance(v, str) else v for k, v in found.items()},
                      ensure_ascii=False, separators=(",", ":"))


def _masked_broken(text: str) -> str:
    first, *rest = text.split(",")
    return ",".join([mask(first) if not any(ch.isspace() for ch in first) else MASK]
                    + [MASK if part else "" for part in rest])


def masked_record(record: FeedFile, text: str) -> str:
    """`text`, a quarantined record of `record`'s file, with its personal data masked."""
    if not record.personal_columns:
        return mask(text)
    parsed = _masked_csv(record, text) if record.is_csv else _masked_json(record, text)
    return parsed if parsed is not None else _masked_broken(text)


def _quarantined(table: str, text: str) -> str:
    return masked_record(feed(table), text)


def register(con: duckdb.DuckDBPyConnection) -> None:
    """`masked_record(table, text)` and `masked_text(text)` (a reason: masked, one line, control
    characters escaped) as SQL functions on `con`."""
    known = {name for (name,) in con.execute(
        "SELECT function_name FROM duckdb_functions() WHERE function_name IN ('masked_record', 'masked_text')"
    ).fetchall()}
    if "masked_record" not in known:
        con.create_function("masked_record", _quarantined, ["VARCHAR", "VARCHAR"], "VARCHAR", side_effects=False)
    if "masked_text" not in known:
        con.create_function("masked_text", safe, ["VARCHAR"], "VARCHAR", side_effects=False)
