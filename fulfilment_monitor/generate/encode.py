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


def csv_escape(values: np.ndarray) -> np.ndarray:
    """Quote the values that contain a comma, quote or line break (RFC 4180)."""
    needs = ((np.strings.find(values, ",") >= 0) | (np.strings.find(values, '"') >= 0)
             | (np.strings.find(values, "\n") >= 0))
    if not needs.any():
        return values
    quoted = np.strings.add(np.strings.add('"', np.strings.replace(values, '"', '""')), '"')
    return np.where(needs, quoted, values)


def encoded_columns(feed: FeedFile, columns) -> list[np.ndarray]:
    """Each column's text exactly as it appears in the file (escaped/quoted, nulls rendered)."""
    out = []
    for col, (values, null, free_text) in zip(feed.columns, columns):
        if feed.is_csv:
            text = csv_escape(values) if free_text else values
            if null is not None:
                text = np.where(null, "", text)
        else:
            text = values if col.kind in (INT, BOOL) else np.strings.add(np.strings.add('"', values), '"')
            if null is not None:
                text = np.where(null, "null", text)
        out.append(np.asarray(text))
    return out


def json_prefixes(feed: FeedFile) -> list[str]:
    """The literal text before each JSON value: `{"event_id":`, `,"event_type":`, …"""
    return [("{" if i == 0 else ",") + f'"{c.name}":' for i, c in enumerate(feed.columns)]


def join_line(feed: FeedFile, fields: list[str]) -> str:
    """One line (without newline) from encoded field texts."""
    if feed.is_csv:
        return ",".join(fields)
    return "".join(p + v for p, v in zip(json_prefixes(feed), fields)) + "}"


def body_bytes(feed: FeedFile, encoded: list[np.ndarray]) -> tuple[bytes, np.ndarray]:
    """The data lines as one bytes object, and the byte offset where each line starts (plus the end)."""
    n = len(encoded[0]) if encoded else 0
    if n == 0:
        return b"", np.zeros(1, np.int64)
    arrays = [pa.array(c, type=pa.large_string()) for c in encoded]
    if feed.is_csv:
        parts = []
        for i, a in enumerate(arrays):
            parts += [a] if i == 0 else [pa.scalar(",", pa.large_string()), a]
    else:
        parts = []
        for prefix, a in zip(json_prefixes(feed), arrays):
            parts += [pa.scalar(prefix, pa.large_string()), a]
        parts.append(pa.scalar("}", pa.large_string()))
    parts.append(pa.scalar("\n", pa.large_string()))
    lines = pc.binary_join_element_wise(*parts, pa.scalar("", pa.large_string()))
    if isinstance(lines, pa.ChunkedArray):
        lines = lines.combine_chunks()
    _, offsets_buf, data_buf = lines.buffers()
    offsets = np.frombuffer(offsets_buf, dtype=np.int64)[lines.offset:lines.offset + n + 1]
    data = data_buf.to_pybytes()[offsets[0]:offsets[-1]]
    return data, offsets - offsets[0]


def header_bytes(feed: FeedFile) -> bytes:
    return (",".join(feed.column_names) + "\n").encode() if feed.is_csv else b""
