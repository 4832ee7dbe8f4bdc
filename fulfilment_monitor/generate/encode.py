"""Formatted columns -> file bytes, CSV or JSON Lines, vectorised with Arrow.

CSV: header row, comma, `"` quoting only for free-text values that need it, `\\n` line ends,
empty field for null. JSON Lines: one object per line with every declared key in order,
strings quoted, integers and booleans bare, `null` for null.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fulfilment_monitor.feeds import BOOL, INT, FeedFile


def join(*texts) -> pa.Array:
    """Arrow strings (or plain strings, the same on every row) joined row by row."""
    return pc.binary_join_element_wise(*texts, "")


def csv_escape(values: pa.Array) -> pa.Array:
    """Quote the values that contain a comma, quote or line break (RFC 4180)."""
    needs = pc.match_substring_regex(values, '[,"\n]')
    if not pc.any(needs).as_py():
        return values
    return pc.if_else(needs, join('"', pc.replace_substring(values, '"', '""'), '"'), values)


def encoded_columns(feed: FeedFile, columns) -> list[pa.Array]:
    """Each column's text exactly as it appears in the file (escaped/quoted, nulls rendered)."""
    out = []
    for col, (values, null, free_text) in zip(feed.columns, columns):
        if feed.is_csv:
            text = csv_escape(values) if free_text else values
            if null is not None:
                text = pc.if_else(pa.array(null), "", text)
        else:
            text = values if col.kind in (INT, BOOL) else join('"', values, '"')
            if null is not None:
                text = pc.if_else(pa.array(null), "null", text)
        out.append(text)
    return out


def json_prefixes(feed: FeedFile) -> list[str]:
    """The literal text before each JSON value: `{"event_id":`, `,"event_type":`, …"""
    return [("{" if i == 0 else ",") + f'"{c.name}":' for i, c in enumerate(feed.columns)]


def join_line(feed: FeedFile, fields: list[str]) -> str:
    """One line (without newline) from encoded field texts."""
    if feed.is_csv:
        return ",".join(fields)
    return "".join(p + v for p, v in zip(json_prefixes(feed), fields)) + "}"


def body_bytes(feed: FeedFile, encoded: list[pa.Array]) -> tuple[bytes, np.ndarray]:
    """The data lines as one bytes object, and the byte offset where each line starts (plus the end)."""
    n = len(encoded[0]) if encoded else 0
    if n == 0:
        return b"", np.zeros(1, np.int64)
    if feed.is_csv:
        parts = [piece for i, a in enumerate(encoded) for piece in ([a] if i == 0 else [",", a])]
    else:
        parts = [piece for prefix, a in zip(json_prefixes(feed), encoded) for piece in (prefix, a)] + ["}"]
    lines = join(*parts, "\n")  # a piece of a file: far below the 2 GB of 32-bit offsets
    _, offsets_buf, data_buf = lines.buffers()
    offsets = np.frombuffer(offsets_buf, dtype=np.int32)[lines.offset:lines.offset + n + 1].astype(np.int64)
    data = data_buf.to_pybytes()[offsets[0]:offsets[-1]]
    return data, offsets - offsets[0]


def header_bytes(feed: FeedFile) -> bytes:
    return (",".join(feed.column_names) + "\n").encode() if feed.is_csv else b""
