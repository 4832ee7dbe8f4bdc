"""Write the landing zone drop by drop: each file's rows in file order, turned into text a piece
at a time, its junk lines among them, then the drop's `_SUCCESS`."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
from tqdm import tqdm

from fulfilment_monitor.feeds import FEEDS, SOURCES, FeedFile, files_of
from fulfilment_monitor.generate import defects, placement
from fulfilment_monitor.generate.clock import Clock
from fulfilment_monitor.generate.encode import body_bytes, encoded_columns, header_bytes
from fulfilment_monitor.generate.ids import Ids
from fulfilment_monitor.generate.rows import format_rows
from fulfilment_monitor.generate.spill import Columns
from fulfilment_monitor.generate.world import World

PIECE = 100_000  # rows turned into text at a time (~60 MB of Arrow strings for contractor events)


def write_landing(w: World, out: Path, ids: Ids, progress: bool = False) -> tuple[dict[str, int], list[tuple]]:
    """Write every drop. Returns (lines per feed file in complete drops, quarantine truth rows)."""
    clock, days = w.clock, w.clock.days
    repeat_days = placement.oms_repeat_days(w)
    plan = defects.plan_junk(w, placement.drop_counts(w, repeat_days))
    rng = w.rng("writer/junk")
    landing = out / "landing"
    totals = {f"{f.source}/{f.file}": 0 for f in FEEDS}
    quarantine = []
    drops = [(source, d) for d in range(days) for source in SOURCES] + [("contractor", days)]
    for source, d in tqdm(drops, desc="writing drops", unit="drop", disable=not progress):
        folder = landing / source / clock.fmt_date([clock.start_day + d])[0].as_py()
        folder.mkdir(parents=True, exist_ok=True)
        for feed in files_of(source):
            rows = placement.drop_rows(w, feed.table, d, repeat_days)
            junk = plan.by_file.get((feed.table, d), []) if d < days else []
            written, listed = write_file(folder / feed.file, feed, rows, ids, clock, junk, rng)
            if d < days:
                totals[f"{feed.source}/{feed.file}"] += written
                quarantine += [(source, folder.name, feed.file, line_no, kind) for line_no, kind in listed]
        if d < days:
            (folder / "_SUCCESS").write_bytes(b"")
    return totals, quarantine


def write_file(path: Path, feed: FeedFile, rows: Columns, ids: Ids, clock: Clock, junk: list[str],
               rng: np.random.Generator) -> tuple[int, list[tuple[int, str]]]:
    """Write one feed file; returns (lines written, [(line_no, junk kind)])."""
    good = len(rows["row"])
    inserts = _junk_lines(feed, rows, ids, clock, junk, rng) if good and junk else []
    first_line = 2 if feed.is_csv else 1
    listed, lines_done, junk_lines = [], 0, 0
    with open(path, "wb") as handle:
        handle.write(header_bytes(feed))
        for start in range(0, good, PIECE):
            end = min(start + PIECE, good)
            body, offsets = body_bytes(feed, _text(feed, _slice(rows, start, end), ids, clock))
            # A record spans as many lines as it holds line breaks (quoted ones included): the
            # truth names the physical line where each junk record starts.
            newlines = np.flatnonzero(np.frombuffer(body, np.uint8) == 0x0A)
            lines_before = np.concatenate(([0], np.cumsum(np.bincount(
                np.searchsorted(offsets, newlines, side="right") - 1, minlength=end - start)[:end - start])))
            cursor = 0
            while inserts and inserts[0][0] <= end:
                at, is_last, _, line, kind = inserts.pop(0)
                handle.write(body[offsets[cursor]:offsets[at - start]])
                cursor = at - start
                listed.append((first_line + lines_done + int(lines_before[cursor]) + junk_lines, kind))
                junk_lines += line.count(b"\n") + 1
                handle.write(line if is_last else line + b"\n")
            handle.write(body[offsets[cursor]:])
            lines_done += int(lines_before[-1])
    return good + len(listed), listed


def _junk_lines(feed: FeedFile, rows: Columns, ids: Ids, clock: Clock, junk: list[str],
                rng: np.random.Generator) -> list[tuple]:
    """Junk lines built from random real rows, at random places (a truncated one last), in the
    order they go into the file: (position among good rows, is the last line, sequence, bytes, kind)."""
    good = len(rows["row"])
    drawn = []
    for j, kind in enumerate(junk):
        row = int(rng.integers(0, good))
        draw = defects.junk_draw(kind, rng)
        last = kind == "truncated_line"
        drawn.append((good if last else int(rng.integers(0, good + 1)), 1 if last else 0, j, row, draw, kind))
    templates = _text(feed, {k: v[[d[3] for d in drawn]] for k, v in rows.items()}, ids, clock)
    inserts = [(at, is_last, j, defects.junk_line(feed, kind, [c[i].as_py() for c in templates], draw), kind)
               for i, (at, is_last, j, _, draw, kind) in enumerate(drawn)]
    return sorted(inserts, key=lambda x: (x[0], x[1], x[2]))


def _text(feed: FeedFile, rows: Columns, ids: Ids, clock: Clock) -> list[pa.Array]:
    return encoded_columns(feed, format_rows(feed, rows, ids, clock))


def _slice(rows: Columns, start: int, end: int) -> Columns:
    return {k: v[start:end] for k, v in rows.items()}
