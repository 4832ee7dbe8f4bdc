"""Which drop each row lands in, and the upstream systems' known defects.

- Every row goes to the drop of the UTC date of its own timestamp (OMS updated_at, WMS
  dispatched_at, contractor occurred_at, contact started_at); rows at or after T do not exist
  yet, except contractor events of the first 12 h after T, which go to the extra drop dated
  start+days that has no `_SUCCESS` (still being written) and must never be loaded.
- OMS: on two days the drop repeats all of yesterday's rows unchanged; scenario rows can pin a
  drop (a header one drop after its lines, a stale correction arriving after newer rows).
- Contractor: 3% of events arrive 1-3 drops late (never past the last complete drop, so
  everything that occurred before T is known at T), some are forced late by a scenario; 1.5%
  are delivered again under the same event_id, in the same drop or 1-2 drops later.
- Malformed rows: extra junk lines (never a row a scenario needs) in a few drops, each listed
  in truth/quarantine.csv with its physical line number.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from fulfilment_monitor.feeds import FEEDS, TIMESTAMP, FeedFile
from fulfilment_monitor.generate.clock import DAY, HOUR
from fulfilment_monitor.generate.world import NULL, World

INCOMPLETE_HOURS = 12  # the unfinished drop holds the first hours after T


@dataclass
class Placed:
    """Rows of one feed file placed into drops: `rows` indexes the table frame (a row can
    appear more than once), sorted by (drop, arrival)."""
    rows: np.ndarray
    drop: np.ndarray

    def slices(self) -> dict[int, slice]:
        days, starts = np.unique(self.drop, return_index=True)
        ends = list(starts[1:]) + [len(self.drop)]
        return {int(d): slice(int(s), int(e)) for d, s, e in zip(days, starts, ends)}


def _sorted(rows, drop, arrival) -> Placed:
    order = np.lexsort((rows, arrival, drop))
    return Placed(rows[order], drop[order])


def place_simple(w: World, ts: np.ndarray, override=None) -> Placed:
    """Rows into the drop of their timestamp's UTC date (or `override`), dropping rows >= T."""
    clock = w.clock
    drop = clock.day_index(ts)
    if override is not None:
        drop = np.where(override != NULL, override, drop)
    keep = np.flatnonzero(ts < w.T)
    return _sorted(keep, drop[keep], ts[keep])


def oms_repeat_days(w: World) -> list[int]:
    rng = w.rng("defects/oms-repeat")
    candidates = np.arange(2, w.clock.days - 1)
    return sorted(int(d) for d in rng.choice(candidates, 2, replace=False))


def repeat_yesterday(p: Placed, repeat_days: list[int]) -> Placed:
    """On each repeat day the drop also holds all of yesterday's rows, unchanged, first."""
    rows, drop, arrival = [p.rows], [p.drop], [np.arange(len(p.rows))]
    for day in repeat_days:
        yesterday = np.flatnonzero(p.drop == day - 1)
        rows.append(p.rows[yesterday])
        drop.append(np.full(len(yesterday), day))
        arrival.append(np.full(len(yesterday), -1) - len(yesterday) + np.arange(len(yesterday)))
    rows, drop, arrival = np.concatenate(rows), np.concatenate(drop), np.concatenate(arrival)
    order = np.lexsort((arrival, drop))
    return Placed(rows[order], drop[order])


def place_events(w: World, ev: dict[str, np.ndarray]) -> Placed:
    """Contractor events into drops: late arrivals, at-least-once repeats, the unfinished drop."""
    clock, T, days = w.clock, w.T, w.clock.days
    rng = w.rng("defects/events")
    occurred = ev["occurred"]
    n = len(occurred)
    day = clock.day_index(occurred)
    lag = ev["lag"].copy()
    late = (lag == 0) & (rng.random(n) < 0.03)
    lag[late] = rng.integers(1, 4, late.sum())
    lag = np.where(day + lag <= days - 1, lag, 0)  # never later than the last complete drop
    drop = day + lag
    arrival = np.where(lag > 0, clock.start_s + drop * DAY + rng.integers(0, DAY, n), occurred)
    complete = occurred < T
    unfinished = (occurred >= T) & (occurred < T + INCOMPLETE_HOURS * HOUR)
    drop = np.where(unfinished, days, drop)
    keep = np.flatnonzero(complete | unfinished)
    rows, drop, arrival = keep, drop[keep], arrival[keep]
    # the same event delivered again
    again = np.flatnonzero(rng.random(len(rows)) < 0.015)
    later = rng.random(len(again)) < 0.5
    again_drop = drop[again] + np.where(later, rng.integers(1, 3, len(again)), 0)
    again_arrival = np.where(later, clock.start_s + again_drop * DAY + rng.integers(0, DAY, len(again)),
                             arrival[again] + rng.integers(1, 600, len(again)))
    ok = again_drop <= days
    rows = np.concatenate([rows, rows[again][ok]])
    drop = np.concatenate([drop, again_drop[ok]])
    arrival = np.concatenate([arrival, again_arrival[ok]])
    return _sorted(rows, drop, arrival)


# --- malformed rows ------------------------------------------------------------------------------
KINDS = ("missing_key", "bad_timestamp", "negative_quantity", "unknown_enum", "wrong_column_count",
         "truncated_line", "not_utf8")
BOGUS_ENUM = {"preferred_channel": "pigeon", "sales_channel": "kiosk", "fulfilment_type": "drone",
              "shipment_reason": "resend", "initiated_by": "system", "channel": "fax"}
BAD_TIMESTAMPS = ("2026-13-45T25:61:00-05:00", "05/10/2026 14:32", "yesterday 3pm", "2026-10-05T14:32:00+0X:00")
NOT_UTF8_FIELD = {"oms_customers": ("full_name", "José Peña"), "oms_orders": ("currency", "ÉUR"),
                  "oms_order_lines": ("description", "Café table, round"),
                  "wms_shipments": ("warehouse_id", "WH-MÜN"), "wms_shipment_lines": ("shipment_id", "SH-Ä"),
                  "contractor_events": ("reason_code", "dégât"), "contacts_contacts": ("outcome", "réglé")}


def supports(feed: FeedFile, kind: str) -> bool:
    names = feed.column_names
    if kind == "negative_quantity":
        return "quantity" in names
    if kind == "unknown_enum":
        return any(c in BOGUS_ENUM for c in names)
    if kind == "bad_timestamp":
        return any(c.kind == TIMESTAMP for c in feed.columns)
    if kind == "wrong_column_count":
        return feed.is_csv
    if kind == "truncated_line":
        return not feed.is_csv
    return True


@dataclass
class JunkPlan:
    """Junk lines per (feed table, drop day): a list of kinds."""
    by_file: dict[tuple[str, int], list[str]] = field(default_factory=dict)


def plan_junk(w: World, counts: dict[tuple[str, int], int]) -> JunkPlan:
    """Choose where the malformed lines go: preferably a few "bad days", every file staying under
    2% junk; only when no file has the rows for that (a tiny landing zone) does a file take
    junk beyond 2%, at most 2 lines, which the loader's gate tolerates."""
    rng = w.rng("defects/junk")
    days = w.clock.days
    per_kind = max(1, int(round(sum(counts.values()) / 20_000)))
    bad_days = np.isin(np.arange(days), rng.choice(days, max(3, days // 4), replace=False))
    feeds = {f.table: f for f in FEEDS}
    keys = sorted(counts)
    good = np.array([counts[k] for k in keys], np.int64)
    bad = np.zeros(len(keys), np.int64)
    truncated = np.zeros(len(keys), bool)
    plan = JunkPlan()

    def assign(i: int, kind: str, k: int = 1) -> None:
        plan.by_file.setdefault(keys[i], []).extend([kind] * int(k))
        bad[i] += k
        truncated[i] |= kind == "truncated_line"

    for kind in KINDS:
        left = min(per_kind, 3) if kind == "truncated_line" else per_kind
        ok = np.array([supports(feeds[t], kind) for t, _ in keys]) & (good > 0)
        if kind == "truncated_line":
            ok &= ~truncated
        for pool in (ok & bad_days[[d for _, d in keys]], ok):
            while left > 0:
                room = np.where(pool, np.floor(good * 0.0195).astype(np.int64) - bad, 0).clip(0)
                if kind == "truncated_line":
                    room = np.minimum(room, (~truncated).astype(np.int64))
                if room.sum() == 0:
                    break
                alloc = np.minimum(rng.multinomial(left, room / room.sum()), room)
                if alloc.sum() == 0:
                    alloc[int(np.argmax(room))] = 1
                for i in np.flatnonzero(alloc):
                    assign(i, kind, alloc[i])
                left -= int(alloc.sum())
        for i in sorted(np.flatnonzero(ok & (bad < 2)), key=lambda j: (-good[j], j)):
            if left <= 0:
                break
            if kind == "truncated_line" and truncated[i]:
                continue
            assign(i, kind)
            left -= 1
    return plan


def junk_line(feed: FeedFile, kind: str, fields: list[str], rng: np.random.Generator) -> bytes:
    """A malformed line made from a real row's encoded fields (without newline)."""
    from fulfilment_monitor.generate.encode import join_line
    names = feed.column_names
    fields = list(fields)

    def put(name: str, text: str) -> None:
        fields[names.index(name)] = text if feed.is_csv else (f'"{text}"' if text != "null" else "null")

    if kind == "missing_key":
        put(feed.key[0], "" if feed.is_csv else "null")
    elif kind == "bad_timestamp":
        column = next(c.name for c in feed.columns if c.kind == TIMESTAMP)
        put(column, BAD_TIMESTAMPS[rng.integers(0, len(BAD_TIMESTAMPS))])
    elif kind == "negative_quantity":
        fields[names.index("quantity")] = f"-{rng.integers(1, 4)}"
    elif kind == "unknown_enum":
        column = next(c for c in names if c in BOGUS_ENUM)
        put(column, BOGUS_ENUM[column])
    elif kind == "wrong_column_count":
        fields = fields + ["unexpected"] if rng.random() < 0.5 else fields[:-1]
    elif kind == "not_utf8":
        column, text = NOT_UTF8_FIELD[feed.table]
        put(column, f'"{text}"' if feed.is_csv and "," in text else text)
        return join_line(feed, fields).encode("latin-1", errors="replace")
    line = join_line(feed, fields).encode()
    if kind == "truncated_line":
        line = line[: max(10, int(len(line) * rng.uniform(0.4, 0.8)))]
    return line
