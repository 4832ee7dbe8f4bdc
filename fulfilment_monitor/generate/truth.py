"""The ground truth files: truth/exceptions.csv and truth/quarantine.csv (sorted, deterministic)."""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from fulfilment_monitor.generate.rows import Ids
from fulfilment_monitor.generate.world import NULL, World

EXCEPTION_COLUMNS = ("exception_type", "exception_subtype", "order_id", "key")
QUARANTINE_COLUMNS = ("source", "extract_date", "file", "line_no", "reason_kind")


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


def write_csv(path: Path, header, rows) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def write_truth(out: Path, exceptions, quarantine) -> None:
    write_csv(out / "truth" / "exceptions.csv", EXCEPTION_COLUMNS, exceptions)
    write_csv(out / "truth" / "quarantine.csv", QUARANTINE_COLUMNS, sorted(quarantine))
