"""Write the landing zone: every drop's files (with injected junk lines) and `_SUCCESS`."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from tqdm import tqdm

from fulfilment_monitor.feeds import FEEDS, SOURCES, FeedFile, files_of
from fulfilment_monitor.generate import defects
from fulfilment_monitor.generate.clock import Clock
from fulfilment_monitor.generate.encode import body_bytes, encoded_columns, header_bytes
from fulfilment_monitor.generate.rows import Ids, format_rows
from fulfilment_monitor.generate.world import World


def _frames(w: World) -> dict[str, dict[str, np.ndarray]]:
    return {
        "oms_customers": w.customers.frame(),
        "oms_orders": w.orders.frame(),
        "oms_order_lines": w.lines.frame(),
        "wms_shipments": w.shipments.frame(),
        "wms_shipment_lines": w.ship_lines.frame(),
        "contractor_events": w.events.frame(),
        "contacts_contacts": w.contacts.frame(),
    }


def place_all(w: World, frames) -> dict[str, defects.Placed]:
    """Every feed file's rows assigned to drops, defects included."""
    repeat_days = defects.oms_repeat_days(w)
    placed = {
        "oms_customers": defects.place_simple(w, frames["oms_customers"]["updated"]),
        "oms_orders": defects.place_simple(w, frames["oms_orders"]["updated"], frames["oms_orders"]["drop"]),
        "oms_order_lines": defects.place_simple(w, frames["oms_order_lines"]["updated"]),
        "wms_shipments": defects.place_simple(w, frames["wms_shipments"]["dispatched"]),
        "contractor_events": defects.place_events(w, frames["contractor_events"]),
        "contacts_contacts": defects.place_simple(w, frames["contacts_contacts"]["started"]),
    }
    for table in ("oms_customers", "oms_orders", "oms_order_lines"):
        placed[table] = defects.repeat_yesterday(placed[table], repeat_days)
    # shipment lines travel with their shipment (same drop, shipment order)
    ships = frames["wms_shipments"]
    lines = frames["wms_shipment_lines"]
    ship_pos = np.full(int(ships["ship"].max(initial=-1)) + 1, -1)
    ship_pos[ships["ship"]] = np.arange(len(ships["ship"]))
    rank = np.full(len(ships["ship"]), -1)
    rank[placed["wms_shipments"].rows] = np.arange(len(placed["wms_shipments"].rows))
    line_rank = rank[ship_pos[lines["ship"]]]
    keep = np.flatnonzero(line_rank >= 0)
    order = keep[np.lexsort((lines["line_no"][keep], line_rank[keep]))]
    placed["wms_shipment_lines"] = defects.Placed(order, placed["wms_shipments"].drop[line_rank[order]])
    return placed


def _take(frame: dict[str, np.ndarray], rows: np.ndarray) -> dict[str, np.ndarray]:
    return {k: v[rows] for k, v in frame.items()}


def write_file(path: Path, feed: FeedFile, frame, rows, ids: Ids, clock: Clock, junk: list[str],
               rng: np.random.Generator) -> tuple[int, list[tuple[int, str]]]:
    """Write one feed file; returns (lines written, [(line_no, junk kind)])."""
    columns = format_rows(feed, _take(frame, rows), ids, clock)
    encoded = encoded_columns(feed, columns)
    body, offsets = body_bytes(feed, encoded)
    good = len(rows)
    header = header_bytes(feed)
    first_line = 2 if feed.is_csv else 1
    if not junk or good == 0:
        path.write_bytes(header + body)
        return good, []
    # junk lines: built from random real rows, inserted at random places (a truncated one last)
    inserts = []  # (position among good rows, is the last line, sequence, bytes, kind)
    for j, kind in enumerate(junk):
        row = int(rng.integers(0, good))
        template = [c[row] for c in encoded]
        line = defects.junk_line(feed, kind, template, rng)
        last = kind == "truncated_line"
        inserts.append((good if last else int(rng.integers(0, good + 1)), 1 if last else 0, j, line, kind))
    inserts.sort(key=lambda x: (x[0], x[1], x[2]))
    # A record spans as many lines as it holds line breaks (quoted ones included): the truth
    # names the physical line where each junk record starts.
    newlines = np.flatnonzero(np.frombuffer(body, np.uint8) == 0x0A)
    lines_before = np.concatenate(([0], np.cumsum(np.bincount(
        np.searchsorted(offsets, newlines, side="right") - 1, minlength=good)[:good])))
    pieces, listed, cursor, junk_lines = [header], [], 0, 0
    for at, is_last, _, line, kind in inserts:
        pieces.append(body[offsets[cursor]:offsets[at]])
        cursor = at
        listed.append((first_line + int(lines_before[at]) + junk_lines, kind))
        junk_lines += line.count(b"\n") + 1
        pieces.append(line if is_last else line + b"\n")
    pieces.append(body[offsets[cursor]:offsets[good]])
    path.write_bytes(b"".join(pieces))
    return good + len(junk), listed


def write_landing(w: World, out: Path, progress: bool = False) -> tuple[dict[str, int], list[tuple], Ids]:
    """Write every drop. Returns (lines per feed file in complete drops, quarantine truth rows,
    the public ids)."""
    clock, days = w.clock, w.clock.days
    frames = _frames(w)
    ids = Ids.of(w)
    placed = place_all(w, frames)
    slices = {table: p.slices() for table, p in placed.items()}
    counts = {(t, d): s.stop - s.start for t, by_day in slices.items() for d, s in by_day.items() if d < days}
    for f in FEEDS:  # files with no rows on a day still exist
        for d in range(days):
            counts.setdefault((f.table, d), 0)
    plan = defects.plan_junk(w, counts)
    rng = w.rng("writer/junk")
    landing = out / "landing"
    totals = {f"{f.source}/{f.file}": 0 for f in FEEDS}
    quarantine = []
    drops = [(source, d) for d in range(days) for source in SOURCES] + [("contractor", days)]
    for source, d in tqdm(drops, desc="writing drops", unit="drop", disable=not progress):
        folder = landing / source / clock.fmt_date(clock.start_day + d).item()
        folder.mkdir(parents=True, exist_ok=True)
        for feed in files_of(source):
            part = slices[feed.table].get(d, slice(0, 0))
            rows = placed[feed.table].rows[part]
            junk = plan.by_file.get((feed.table, d), []) if d < days else []
            written, listed = write_file(folder / feed.file, feed, frames[feed.table], rows, ids, clock, junk, rng)
            if d < days:
                totals[f"{feed.source}/{feed.file}"] += written
                quarantine += [(source, folder.name, feed.file, line_no, kind) for line_no, kind in listed]
        if d < days:
            (folder / "_SUCCESS").write_bytes(b"")
    return totals, quarantine, ids
