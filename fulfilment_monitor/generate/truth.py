"""The ground truth files: truth/exceptions.csv, truth/quarantine.csv and truth/stories.csv
(sorted, deterministic), written from what the scenarios recorded (World.expect, World.tell),
an exception type at a time."""
from __future__ import annotations

import csv
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fulfilment_monitor.generate.encode import join
from fulfilment_monitor.generate.ids import Ids
from fulfilment_monitor.generate.world import NULL, World

EXCEPTION_COLUMNS = ("exception_type", "exception_subtype", "order_id", "key")
QUARANTINE_COLUMNS = ("source", "extract_date", "file", "line_no", "reason_kind")
STORY_COLUMNS = ("order_id", "step", "happened_at", "source", "fact", "key")
_RECORDED = ("order", "subtype", "key0", "key1")


def _key(kind: str, key0: np.ndarray, key1: np.ndarray, ids: Ids) -> pa.Array:
    """Exception keys as docs/rules.md writes them."""
    if kind == "version":
        return join(ids.booking[key0], "/v", key1.astype(str))
    if kind == "order_ref":
        ref = pc.if_else(pa.array(key1 == NULL), "", ids.tracking[np.where(key1 == NULL, 0, key1)])
        return join(ids.order[key0], "/", ref)
    return getattr(ids, kind)[key0]


def _strings(texts: pa.Array) -> np.ndarray:
    return np.asarray(texts.to_pylist(), dtype=str)


def write_exceptions(w: World, ids: Ids, path: Path) -> int:
    """Every expected exception, sorted by (type, subtype, order_id, key); returns how many."""
    count = 0
    with _csv(path, EXCEPTION_COLUMNS) as writer:
        for kind in sorted({key[1] for key in w.spill.keys("truth")}):
            parts = [w.spill.read(key, _RECORDED) | {"key": key[2]} for key in w.spill.keys("truth", kind)]
            subtype = np.concatenate([p["subtype"].astype(str) for p in parts])
            order_id = np.concatenate([_strings(ids.order[p["order"]]) for p in parts])
            key = np.concatenate([_strings(_key(p["key"], p["key0"], p["key1"], ids)) for p in parts])
            if len(np.unique(key)) != len(key):
                raise AssertionError(f"the ground truth lists a {kind} exception twice")
            order = np.lexsort((key, order_id, subtype))
            writer.writerows(zip([kind] * len(order), subtype[order].tolist(), order_id[order].tolist(),
                                 key[order].tolist()))
            count += len(order)
    return count


def write_stories(w: World, ids: Ids, path: Path) -> None:
    """Every told fact, per order in the order told: (order_id, step, happened_at UTC, source,
    fact, key). Keys as fct_order_timeline's source_key: order_id@updated_at for an order version,
    order_id/line_no for a line, the public id of a shipment, event or contact; for the monitor's
    facts, the exception type (or, for the outreach case, the order id)."""
    told = w.spill.read(("stories",), ("order", "at", "told", "key0", "key1"))
    order_ids = _strings(ids.order[told["order"]])
    order = np.lexsort((np.arange(len(order_ids)), order_ids))  # by order, then as told
    when = np.strings.add(np.datetime_as_string(told["at"].astype("datetime64[s]"), unit="s"), "Z")
    key = np.empty(len(order_ids), object)
    source, fact = np.empty(len(order_ids), object), np.empty(len(order_ids), object)
    for n, (source_n, fact_n, key_kind, text) in enumerate(w.told):
        these = told["told"] == n
        source[these], fact[these] = source_n, fact_n
        if key_kind == "order_version":
            key[these] = np.strings.add(np.strings.add(order_ids[these], "@"), when[these])
        elif key_kind == "order_line":
            key[these] = np.strings.add(np.strings.add(order_ids[these], "/"), told["key1"][these].astype(str))
        elif key_kind in ("shipment", "event", "contact"):
            key[these] = _strings(getattr(ids, key_kind)[told["key0"][these]])
        elif key_kind == "case":
            key[these] = order_ids[these]
        else:  # an exception, by type
            key[these] = text
    order_ids, when, source, fact, key = (a[order] for a in (order_ids, when, source, fact, key))
    starts = np.ones(len(order_ids), bool)
    starts[1:] = order_ids[1:] != order_ids[:-1]
    first = np.flatnonzero(starts)
    step = np.arange(len(order_ids)) - np.repeat(first, np.diff(np.append(first, len(order_ids)))) + 1
    with _csv(path, STORY_COLUMNS) as writer:
        writer.writerows(zip(order_ids.tolist(), step.tolist(), when.tolist(), source.tolist(), fact.tolist(),
                             key.tolist()))


def write_quarantine(path: Path, quarantine: list[tuple]) -> None:
    with _csv(path, QUARANTINE_COLUMNS) as writer:
        writer.writerows(sorted(quarantine))


@contextmanager
def _csv(path: Path, header):
    """A truth file open for writing, its header written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        yield writer
