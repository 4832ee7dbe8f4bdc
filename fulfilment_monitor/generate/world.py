"""The simulated world: entity id counters, random streams, and the tables the scenarios add rows
to in vectorised parts. It keeps no rows: each part goes to the spill the moment it is made
(table rows in the order made, births by day, the ground truth by exception type)."""
from __future__ import annotations

import zlib
from collections import defaultdict

import numpy as np

from fulfilment_monitor.generate.clock import Clock
from fulfilment_monitor.generate.spill import Spill, by_key

NULL = -1  # null for every int64 column (codes, ids, days, instants are all >= 0)


class Table:
    """A feed table's columns of int64, added in vectorised parts (missing columns take their
    default); each row is numbered in the order made (`row`) and spilled to ("made", name)."""

    def __init__(self, spill: Spill, name: str, **defaults: int):
        self.spill = spill
        self.name = name
        self.defaults = defaults
        self.made = 0

    def add(self, **values) -> None:
        unknown = set(values) - set(self.defaults)
        if unknown:
            raise KeyError(f"unknown columns {sorted(unknown)}")
        n = max((np.size(v) for v in values.values() if np.ndim(v) > 0), default=1)
        if n == 0:
            return
        part = {}
        for name, default in self.defaults.items():
            value = np.asarray(values.get(name, default), dtype=np.int64)
            part[name] = np.broadcast_to(value, (n,)).copy() if value.ndim == 0 else value.astype(np.int64)
            if part[name].shape != (n,):
                raise ValueError(f"column {name}: {part[name].shape} rows, expected {n}")
        part["row"] = np.arange(self.made, self.made + n, dtype=np.int64)
        self.made += n
        self.spill.append(("made", self.name), part)


class World:
    """Everything the scenarios create, as codes; placement.py and writer.py make files of it."""

    def __init__(self, clock: Clock, seed: int, spill: Spill):
        self.clock = clock
        self.T = clock.T
        self.seed = seed
        self.spill = spill
        self._next: dict[str, int] = defaultdict(int)
        table = lambda name, **defaults: Table(spill, name, **defaults)  # noqa: E731
        # OMS
        self.customers = table("oms_customers", cust=NULL, zone=NULL, first=0, last=0, email=0, email_domain=0,
                               phone=NULL, pref=NULL, c_email=0, c_sms=0, c_phone=0, c_whatsapp=0, mkt=0,
                               updated=NULL)
        self.orders = table("oms_orders", order=NULL, cust=NULL, channel=0, store=NULL, placed=NULL, promised=NULL,
                            status=0, total=0, currency=0, updated=NULL, drop=NULL)
        self.lines = table("oms_order_lines", order=NULL, line_no=0, product=0, qty=0, price=0, updated=NULL)
        # WMS (a shipment line carries its shipment's dispatch time: it travels in the same drop)
        self.shipments = table("wms_shipments", ship=NULL, order=NULL, wh=0, dispatched=NULL, contractor=0,
                               reason=0, replaces=NULL)
        self.ship_lines = table("wms_shipment_lines", ship=NULL, line_no=0, qty=0, dispatched=NULL)
        # contractor
        self.events = table("contractor_events", event=NULL, etype=0, occurred=NULL, contractor=0, booking=NULL,
                            order=NULL, tracking=NULL, ws=NULL, we=NULL, wzone=0, init=NULL, reason=NULL, lag=0)
        # contacts
        self.contacts = table("contacts_contacts", contact=NULL, cust=NULL, order=NULL, channel=0, direction=0,
                              team=0, started=NULL, handle=NULL, reason=0, outcome=0, agreed=NULL, responded=NULL)
        self.tables = {t.name: t for t in (self.customers, self.orders, self.lines, self.shipments,
                                           self.ship_lines, self.events, self.contacts)}
        # set while a scenario makes its instances that break near T (scenarios.base.Placement)
        self.placement = None
        # the story facts told so far: (source, fact, key kind, text key) per World.tell call
        self.told: list[tuple[str, str, str, str]] = []

    def rng(self, stream: str) -> np.random.Generator:
        """An independent, reproducible random stream per scenario (seed, stream name)."""
        return np.random.default_rng([self.seed, zlib.crc32(stream.encode())])

    def ids(self, kind: str, n: int, born) -> np.ndarray:
        """n new entity indexes; `born` (instants) orders the public ids chronologically (ids.py)."""
        first = self._next[kind]
        self._next[kind] += n
        idx = np.arange(first, first + n, dtype=np.int64)
        born = np.broadcast_to(np.asarray(born, np.int64), (n,)).copy()
        for day, part in by_key(self.clock.day_index(born), {"idx": idx, "born": born}):
            self.spill.append(("born", kind, day), part)
        return idx

    def count(self, kind: str) -> int:
        return self._next[kind]

    def tell(self, order, at, source: str, fact: str, key_kind: str, *key) -> None:
        """Record one fact of a story the order timeline must tell, at instants `at` (arrays
        aligned with `order`); `key` as truth.write_stories reads it for `key_kind`: entity
        indexes, or the exception type's name."""
        order = np.atleast_1d(np.asarray(order, np.int64))
        text = key[0] if key and isinstance(key[0], str) else ""
        key0, key1 = _key_parts(() if text else key, order.shape)
        at = np.broadcast_to(np.asarray(at, np.int64), order.shape).copy()
        self.spill.append(("stories",), {"order": order, "at": at, "told": np.full(order.shape, len(self.told)),
                                         "key0": key0, "key1": key1})
        self.told.append((source, fact, key_kind, text))

    def expect(self, kind: str, order, key_kind: str, *key, subtype="") -> None:
        """Record exceptions the rules must find at T (arrays aligned with `order`); `subtype`
        is one string or an array of them."""
        order = np.atleast_1d(np.asarray(order, np.int64))
        key0, key1 = _key_parts(key, order.shape)
        subtype = np.broadcast_to(np.asarray(subtype).astype(str), order.shape)
        self.spill.append(("truth", kind, key_kind), {"order": order, "subtype": subtype, "key0": key0, "key1": key1})


def _key_parts(key, shape) -> list[np.ndarray]:
    """A key's (up to two) numbers aligned with the rows, NULL where it has fewer."""
    parts = [np.broadcast_to(np.asarray(k, np.int64), shape).copy() for k in key]
    return parts + [np.full(shape, NULL)] * (2 - len(parts))
