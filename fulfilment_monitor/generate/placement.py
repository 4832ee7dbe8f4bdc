"""Which drop each row lands in, in which order, and the upstream systems' delivery defects.

- Every row goes to the drop of the UTC date of its own timestamp (OMS updated_at, WMS
  dispatched_at, contractor occurred_at, contact started_at; a shipment line with its shipment);
  rows at or after T do not exist yet, except contractor events of the first 12 h after T, which
  go to the extra drop dated start+days that has no `_SUCCESS` (still being written) and must
  never be loaded.
- OMS: on two days the drop repeats all of yesterday's rows unchanged, first; scenario rows can
  pin a drop (a header one drop after its lines, a stale correction arriving after newer rows).
- Contractor: 3% of events arrive 1-3 drops late (never past the last complete drop, so
  everything that occurred before T is known at T), some are forced late by a scenario; 1.5%
  are delivered again under the same event_id, in the same drop or 1-2 drops later.
- Within a drop, rows come in the order they arrived (ties: the order made); shipment lines
  follow their shipment, by line number.

`place` reads every table's rows in the order made and appends each to its drop's pile, with
its arrival instant. The events' defects are drawn over all events in the order made, in two
passes that keep one byte per event and the few late or repeated ones.
"""
from __future__ import annotations

import numpy as np
from tqdm import tqdm

from fulfilment_monitor.generate.clock import DAY, HOUR
from fulfilment_monitor.generate.spill import Columns, Spill, by_key
from fulfilment_monitor.generate.world import NULL, World

INCOMPLETE_HOURS = 12  # the unfinished drop holds the first hours after T
EVENTS = "contractor_events"
ARRIVES = {"oms_customers": "updated", "oms_orders": "updated", "oms_order_lines": "updated",
           "wms_shipments": "dispatched", "wms_shipment_lines": "dispatched", "contacts_contacts": "started"}
PINNED = {"oms_orders": "drop"}  # a scenario may pin the drop of these rows
REPEATING = ("oms_customers", "oms_orders", "oms_order_lines")  # OMS files that repeat yesterday's rows


def place(w: World, progress: bool = False) -> None:
    """Every table's rows from the order made (spill "made") into their drops (spill "drop")."""
    spill = w.spill
    with tqdm(total=sum(spill.rows[("made", t)] for t in w.tables), desc="placing rows", unit="row",
              unit_scale=True, disable=not progress) as bar:
        for table, column in ARRIVES.items():
            for part in spill.parts(("made", table)):
                arrival = part[column]
                drop = w.clock.day_index(arrival)
                if table in PINNED:
                    drop = np.where(part[PINNED[table]] != NULL, part[PINNED[table]], drop)
                keep = arrival < w.T
                _to_drops(spill, table, _take(part, keep), drop[keep], arrival[keep])
                bar.update(len(arrival))
            spill.remove(("made", table))
        _place_events(w, bar)
        spill.remove(("made", EVENTS))


def oms_repeat_days(w: World) -> list[int]:
    rng = w.rng("defects/oms-repeat")
    candidates = np.arange(2, w.clock.days - 1)
    return sorted(int(d) for d in rng.choice(candidates, 2, replace=False))


def drop_rows(w: World, table: str, day: int, repeat_days: list[int]) -> Columns:
    """A drop's rows of one table in file order; on a repeat day, yesterday's rows come first."""
    if table == "wms_shipment_lines":
        return _shipment_lines(w, day)
    rows = _ordered(w, table, day)
    if table in REPEATING and day in repeat_days:
        yesterday = _ordered(w, table, day - 1)
        rows = {k: np.concatenate([yesterday[k], v]) for k, v in rows.items()}
    return rows


def drop_counts(w: World, repeat_days: list[int]) -> dict[tuple[str, int], int]:
    """Rows per (table, drop) of the complete drops (repeats included; every file of every day)."""
    days = w.clock.days
    counts = {(t, d): 0 for t in w.tables for d in range(days)}
    counts.update({key[1:]: w.spill.rows[key] for key in w.spill.keys("drop") if key[2] < days})
    repeated = {(t, d): counts[(t, d - 1)] for t in REPEATING for d in repeat_days}  # yesterday's own rows
    return {key: n + repeated.get(key, 0) for key, n in counts.items()}


def _ordered(w: World, table: str, day: int) -> Columns:
    rows = w.spill.read(("drop", table, day), [*w.tables[table].defaults, "row", "arrival"])
    return _take(rows, np.lexsort((rows["row"], rows["arrival"])))


def _shipment_lines(w: World, day: int) -> Columns:
    ships = _ordered(w, "wms_shipments", day)
    lines = w.spill.read(("drop", "wms_shipment_lines", day), [*w.tables["wms_shipment_lines"].defaults, "row"])
    by_ship = np.argsort(ships["ship"])
    position = by_ship[np.searchsorted(ships["ship"], lines["ship"], sorter=by_ship)]
    return _take(lines, np.lexsort((lines["row"], lines["line_no"], position)))


def _take(columns: Columns, rows) -> Columns:
    return {k: v[rows] for k, v in columns.items()}


def _to_drops(spill: Spill, table: str, part: Columns, drop: np.ndarray, arrival: np.ndarray) -> None:
    for day, rows in by_key(drop, {**part, "arrival": arrival}):
        spill.append(("drop", table, day), rows)


def _place_events(w: World, bar: tqdm) -> None:
    """Late arrivals, at-least-once repeats and the unfinished drop. Each draw is made over all
    events in the order made, as one vectorised block would make it: a first pass reads each
    event's lag and time, the draws that need no row follow, a second pass sends each event
    (and its repeat, if any) to its drop."""
    clock, T, days, spill = w.clock, w.T, w.clock.days, w.spill
    made = ("made", EVENTS)
    rng = w.rng("defects/events")
    late, kept = _late_events(w, rng)
    repeated = _repeated_events(rng, kept)
    for part in spill.parts(made):
        occurred, first = part["occurred"], int(part["row"][0])
        drop, arrival = clock.day_index(occurred), occurred.copy()
        these = _within(late["row"], first, len(occurred))
        drop[late["row"][these] - first] = late["drop"][these]
        arrival[late["row"][these] - first] = late["arrival"][these]
        drop = np.where(occurred >= T, days, drop)  # the unfinished drop
        keep = kept[first:first + len(occurred)]
        _to_drops(spill, EVENTS, _take(part, keep), drop[keep], arrival[keep])
        these = _within(repeated["row"], first, len(occurred))
        at = repeated["row"][these] - first
        again = {k: v[these] for k, v in repeated.items()}
        again_drop = drop[at] + np.where(again["later"], again["drops_later"], 0)
        again_arrival = np.where(again["later"], clock.start_s + again_drop * DAY + again["second_of_day"],
                                 arrival[at] + again["seconds_later"])
        ok = again_drop <= days
        _to_drops(spill, EVENTS, _take(part, at[ok]), again_drop[ok], again_arrival[ok])
        bar.update(len(occurred))


def _late_events(w: World, rng: np.random.Generator) -> tuple[Columns, np.ndarray]:
    """(the events arriving late: row, drop, arrival; whether each event is kept at all)."""
    clock, days = w.clock, w.clock.days
    made = ("made", EVENTS)
    late = {"row": [], "day": [], "lag": [], "by_chance": []}
    kept = []  # a bool per event: it occurred before T + INCOMPLETE_HOURS
    for part in w.spill.parts(made):  # 3% of the events not already late by their story
        lag, occurred = part["lag"], part["occurred"]
        by_chance = (lag == 0) & (rng.random(len(lag)) < 0.03)
        these = np.flatnonzero((lag > 0) | by_chance)
        for name, values in (("row", part["row"]), ("day", clock.day_index(occurred)), ("lag", lag),
                             ("by_chance", by_chance)):
            late[name].append(values[these])
        kept.append(occurred < w.T + INCOMPLETE_HOURS * HOUR)
    late = {name: np.concatenate([np.zeros(0, np.int64), *parts]) for name, parts in late.items()}
    kept = np.concatenate([np.zeros(0, bool), *kept])
    by_chance = late["by_chance"].astype(bool)
    late["lag"][by_chance] = rng.integers(1, 4, int(by_chance.sum()))
    lag = np.where(late["day"] + late["lag"] <= days - 1, late["lag"], 0)  # never after the last complete drop
    row, drop = late["row"][lag > 0], (late["day"] + lag)[lag > 0]
    arrival = np.empty(len(row), np.int64)
    for start, end in _blocks(len(kept)):  # one draw per event, used by the late ones
        draw = rng.integers(0, DAY, end - start)
        here = _within(row, start, end - start)
        arrival[here] = clock.start_s + drop[here] * DAY + draw[row[here] - start]
    return {"row": row, "drop": drop, "arrival": arrival}, kept


def _repeated_events(rng: np.random.Generator, kept: np.ndarray) -> Columns:
    """The events delivered again (1.5% of those kept): row, and the draws that place the repeat."""
    rows = []
    for start, end in _blocks(len(kept)):  # one draw per kept event
        candidates = start + np.flatnonzero(kept[start:end])
        rows.append(candidates[rng.random(len(candidates)) < 0.015])
    row = np.concatenate([np.zeros(0, np.int64), *rows])
    n = len(row)
    return {"row": row, "later": rng.random(n) < 0.5, "drops_later": rng.integers(1, 3, n),
            "second_of_day": rng.integers(0, DAY, n), "seconds_later": rng.integers(1, 600, n)}


BLOCK = 1 << 20  # events per draw in the passes (any size gives the same draws)


def _blocks(n: int):
    return ((start, min(start + BLOCK, n)) for start in range(0, n, BLOCK))


def _within(sorted_rows: np.ndarray, first: int, n: int) -> np.ndarray:
    """Positions in sorted_rows of the rows first .. first+n-1."""
    return np.arange(*np.searchsorted(sorted_rows, [first, first + n]))
