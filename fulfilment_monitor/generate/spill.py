"""Rows kept on disk between the generator's steps: named piles of columns, appended part by part
and read back whole or part by part, so that no step holds more than the rows it works on.

A pile is one file of segments, each an Arrow IPC stream (lz4-compressed, integers in the
smallest type that holds them) behind its length. Appends wait in memory until more than
BUDGET bytes are waiting, then every pile's waiting parts are written as one segment each:
one open file at a time however many piles there are, and a small landing zone never
touches the disk.
"""
from __future__ import annotations

import shutil
from collections import defaultdict
from pathlib import Path
from typing import Iterator

import numpy as np
import pyarrow as pa

BUDGET = 64 << 20  # bytes of parts waiting in memory before they go to disk
_OPTIONS = pa.ipc.IpcWriteOptions(compression="lz4")

_NARROW = (np.int8, np.int16, np.int32, np.int64)

Key = tuple  # ("made", "oms_orders"), ("drop", "oms_orders", 3), ("born", "order", -1), ...
Columns = dict[str, np.ndarray]


class Spill:
    """Piles of rows in a scratch folder, removed by close()."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        self.rows: dict[Key, int] = defaultdict(int)  # rows appended, per pile
        self._waiting: dict[Key, list[Columns]] = defaultdict(list)
        self._waiting_bytes = 0

    def append(self, key: Key, columns: Columns) -> None:
        n = len(next(iter(columns.values())))
        if n == 0:
            return
        self.rows[key] += n
        self._waiting[key].append(columns)
        self._waiting_bytes += sum(v.nbytes for v in columns.values())
        if self._waiting_bytes > BUDGET:
            self.flush()

    def flush(self) -> None:
        for key, parts in self._waiting.items():
            table = pa.table({name: _narrow(np.concatenate([p[name] for p in parts])) for name in parts[0]})
            sink = pa.BufferOutputStream()
            with pa.ipc.new_stream(sink, table.schema, options=_OPTIONS) as writer:
                writer.write_table(table)
            data = sink.getvalue()
            path = self._path(key)
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "ab") as handle:
                handle.write(len(data).to_bytes(8, "little"))
                handle.write(data)
        self._waiting.clear()
        self._waiting_bytes = 0

    def keys(self, *prefix) -> list[Key]:
        """The piles whose key starts with `prefix`, in key order."""
        return sorted(k for k in self.rows if k[:len(prefix)] == prefix)

    def parts(self, key: Key) -> Iterator[Columns]:
        """The pile's rows, a segment at a time, in the order appended: those on disk, then
        those still waiting (appends to other piles meanwhile may write these: they are read
        as they were when asked for)."""
        path = self._path(key)
        size = path.stat().st_size if path.exists() else 0
        waiting = list(self._waiting.get(key, ()))
        if size:
            with open(path, "rb") as handle:
                while handle.tell() < size:
                    length = int.from_bytes(handle.read(8), "little")
                    table = pa.ipc.open_stream(handle.read(length)).read_all()
                    yield {name: _widen(column.to_numpy()) for name, column in zip(table.column_names, table.columns)}
        yield from waiting

    def read(self, key: Key, columns) -> Columns:
        """The whole pile (`columns` name the columns of an empty one)."""
        parts = list(self.parts(key))
        if not parts:
            return {name: np.zeros(0, np.int64) for name in columns}
        return {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}

    def remove(self, key: Key) -> None:
        """Forget a pile that is no longer needed."""
        self._waiting_bytes -= sum(v.nbytes for part in self._waiting.pop(key, ()) for v in part.values())
        self.rows.pop(key, None)
        self._path(key).unlink(missing_ok=True)

    def close(self) -> None:
        self._waiting.clear()
        shutil.rmtree(self.folder, ignore_errors=True)

    def _path(self, key: Key) -> Path:
        return self.folder.joinpath(*map(str, key[:-1]), f"{key[-1]}.arrows")


def _narrow(values: np.ndarray) -> np.ndarray:
    """Integers in the smallest type that holds them (most codes fit a byte): less to write."""
    if values.dtype != np.int64 or not len(values):
        return values
    low, high = int(values.min()), int(values.max())
    return values.astype(next(t for t in _NARROW if np.iinfo(t).min <= low and high <= np.iinfo(t).max))


def _widen(values: np.ndarray) -> np.ndarray:
    return values.astype(np.int64) if values.dtype.kind == "i" and values.dtype != np.int64 else values


def by_key(keys: np.ndarray, columns: Columns) -> Iterator[tuple[int, Columns]]:
    """The rows split by an integer key, each group in its original order."""
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    starts = np.flatnonzero(np.diff(ordered, prepend=ordered[:1] - 1))
    for start, end in zip(starts, [*starts[1:], len(order)]):
        take = order[start:end]
        yield int(ordered[start]), {name: values[take] for name, values in columns.items()}
