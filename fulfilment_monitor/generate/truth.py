"""The ground truth files: truth/exceptions.csv, truth/quarantine.csv and truth/stories.csv
(sorted, deterministic)."""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from fulfilment_monitor.generate.rows import Ids
from fulfilment_monitor.generate.world import NULL, World

EXCEPTION_COLUMNS = ("exception_type", "exception_subtype", "order_id", "key")
QUARANTINE_COLUMNS = ("source", "extract_date", "file", "line_no", "reason_kind")
STORY_COLUMNS = ("order_id", "step", "happened_at", "source", "fact", "key")


def _key(kind: str, parts: tuple[np.ndarray, ...], ids: Ids) -> np.ndarray:
    """Exception keys as docs/rules.md writes them."""
    if kind == "version":
        booking, version = parts
        return np.strings.add(np.strings.add(ids.booking[booking], "/v"), version.astype(str))
    if kind == "order_ref":
        order, tracking = parts
        ref = np.where(tracking == NULL, "", ids.tracking[np.where(tracking == NULL, 0, tracking)])
        return np.strings.add(np.strings.add(ids.order[order], "/"), ref)
    table = {"order": ids.order, "booking": ids.booking, "contact": ids.contact, "event": ids.event,
             "shipment": ids.shipment}[kind]
    return table[parts[0]]


def exception_rows(w: World, ids: Ids) -> list[tuple[str, str, str, str]]:
    rows = []
    for kind, subtype, order, key_kind, parts in w.truth:
        keys = _key(key_kind, parts, ids)
        rows += list(zip([kind] * len(order), [str(s) for s in subtype], ids.order[order].tolist(), keys.tolist()))
    rows.sort()
    if len(set((r[0], r[3]) for r in rows)) != len(rows):
        raise AssertionError("the ground truth lists an exception twice")
    return rows


def story_rows(w: World, ids: Ids) -> list[tuple]:
    """Every told fact, per order in the order told: (order_id, step, happened_at UTC, source,
    fact, key). Keys as fct_order_timeline's source_key: order_id@updated_at for an order version,
    order_id/line_no for a line, the public id of a shipment, event or contact; for the monitor's
    facts, the exception type (or, for the outreach case, the order id)."""
    told = []
    for n, (order, at, source, fact, key_kind, key) in enumerate(w.stories):
        order_ids = ids.order[order]
        when = np.strings.add(np.datetime_as_string(at.astype("datetime64[s]"), unit="s"), "Z")
        if key_kind == "order_version":
            keys = np.strings.add(np.strings.add(order_ids, "@"), when)
        elif key_kind == "order_line":
            keys = np.strings.add(np.strings.add(order_ids, "/"), key[1].astype(str))
        elif key_kind in ("shipment", "event", "contact"):
            keys = getattr(ids, key_kind)[key[0]]
        elif key_kind == "case":
            keys = order_ids
        else:  # an exception, by type
            keys = np.full(len(order), key[0])
        told += [(o, n, t, source, fact, k) for o, t, k in zip(order_ids.tolist(), when.tolist(), keys.tolist())]
    told.sort(key=lambda r: (r[0], r[1]))
    rows, step, previous = [], 0, None
    for order_id, _, when, source, fact, key in told:
        step = step + 1 if order_id == previous else 1
        previous = order_id
        rows.append((order_id, step, when, source, fact, key))
    return rows


def write_csv(path: Path, header, rows) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def write_truth(out: Path, exceptions, quarantine, stories) -> None:
    write_csv(out / "truth" / "exceptions.csv", EXCEPTION_COLUMNS, exceptions)
    write_csv(out / "truth" / "quarantine.csv", QUARANTINE_COLUMNS, sorted(quarantine))
    write_csv(out / "truth" / "stories.csv", STORY_COLUMNS, stories)
