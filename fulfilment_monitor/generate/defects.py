"""Malformed lines: extra junk lines (never a row a scenario needs) in a few drops, each listed
in truth/quarantine.csv with its physical line number; where they go and what they look like.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from fulfilment_monitor.feeds import FEEDS, TIMESTAMP, FeedFile
from fulfilment_monitor.generate.world import World

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


def junk_draw(kind: str, rng: np.random.Generator):
    """The one random choice a junk line of this kind makes (None when it makes none)."""
    if kind == "bad_timestamp":
        return BAD_TIMESTAMPS[rng.integers(0, len(BAD_TIMESTAMPS))]
    if kind == "negative_quantity":
        return f"-{rng.integers(1, 4)}"
    if kind == "wrong_column_count":
        return rng.random() < 0.5
    if kind == "truncated_line":
        return rng.uniform(0.4, 0.8)
    return None


def junk_line(feed: FeedFile, kind: str, fields: list[str], draw) -> bytes:
    """A malformed line made from a real row's encoded fields (without newline); `draw` is
    junk_draw's choice for it."""
    from fulfilment_monitor.generate.encode import join_line
    names = feed.column_names
    fields = list(fields)

    def put(name: str, text: str) -> None:
        fields[names.index(name)] = text if feed.is_csv else (f'"{text}"' if text != "null" else "null")

    if kind == "missing_key":
        put(feed.key[0], "" if feed.is_csv else "null")
    elif kind == "bad_timestamp":
        put(next(c.name for c in feed.columns if c.kind == TIMESTAMP), draw)
    elif kind == "negative_quantity":
        fields[names.index("quantity")] = draw
    elif kind == "unknown_enum":
        column = next(c for c in names if c in BOGUS_ENUM)
        put(column, BOGUS_ENUM[column])
    elif kind == "wrong_column_count":
        fields = fields + ["unexpected"] if draw else fields[:-1]
    elif kind == "not_utf8":
        column, text = NOT_UTF8_FIELD[feed.table]
        put(column, f'"{text}"' if feed.is_csv and "," in text else text)
        return join_line(feed, fields).encode("latin-1", errors="replace")
    line = join_line(feed, fields).encode()
    if kind == "truncated_line":
        line = line[: max(10, int(len(line) * draw))]
    return line
