"""The simulated world: growing column tables of int64 codes, entity id counters, random
streams and the ground truth, filled by the scenarios and read by the writer."""
from __future__ import annotations

import zlib
from collections import defaultdict

import numpy as np

from fulfilment_monitor.generate.clock import Clock

NULL = -1  # null for every int64 column (codes, ids, days, instants are all >= 0)


class Table:
    """Columns of int64 added in vectorised parts; missing columns take their default."""

    def __init__(self, **defaults: int):
        self.defaults = defaults
        self.parts: list[dict[str, np.ndarray]] = []

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
        self.parts.append(part)

    def frame(self) -> dict[str, np.ndarray]:
        if not self.parts:
            return {name: np.zeros(0, np.int64) for name in self.defaults}
        return {name: np.concatenate([p[name] for p in self.parts]) for name in self.defaults}


class World:
    """Everything the scenarios create, as codes; the writer turns it into feed files."""

    def __init__(self, clock: Clock, seed: int):
        self.clock = clock
        self.T = clock.T
        self.seed = seed
        self._next: dict[str, int] = defaultdict(int)
        self.born: dict[str, list[tuple[np.ndarray, np.ndarray]]] = defaultdict(list)
        # OMS
        self.customers = Table(cust=NULL, zone=NULL, first=0, last=0, email=0, email_domain=0, phone=NULL,
                               pref=NULL, c_email=0, c_sms=0, c_phone=0, c_whatsapp=0, mkt=0, updated=NULL)
        self.orders = Table(order=NULL, cust=NULL, channel=0, store=NULL, placed=NULL, promised=NULL,
                            status=0, total=0, currency=0, updated=NULL, drop=NULL)
        self.lines = Table(order=NULL, line_no=0, product=0, qty=0, price=0, updated=NULL)
        # WMS
        self.shipments = Table(ship=NULL, order=NULL, wh=0, dispatched=NULL, contractor=0, reason=0,
                               replaces=NULL)
        self.ship_lines = Table(ship=NULL, line_no=0, qty=0)
        # contractor
        self.events = Table(event=NULL, etype=0, occurred=NULL, contractor=0, booking=NULL, order=NULL,
                            tracking=NULL, ws=NULL, we=NULL, wzone=0, init=NULL, reason=NULL, lag=0)
        # contacts
        self.contacts = Table(contact=NULL, cust=NULL, order=NULL, channel=0, direction=0, team=0,
                              started=NULL, handle=NULL, reason=0, outcome=0, agreed=NULL, responded=NULL)
        # set while a scenario makes its instances that break near T (scenarios.base.Placement)
        self.placement = None
        # ground truth: (type, subtype, order, key kind, key parts)
        self.truth: list[tuple[str, np.ndarray, np.ndarray, str, tuple[np.ndarray, ...]]] = []
        # stories told fact by fact (truth/stories.csv): (order, at, source, fact, key kind, key parts)
        self.stories: list[tuple[np.ndarray, np.ndarray, str, str, str, tuple]] = []

    def rng(self, stream: str) -> np.random.Generator:
        """An independent, reproducible random stream per scenario (seed, stream name)."""
        return np.random.default_rng([self.seed, zlib.crc32(stream.encode())])

    def ids(self, kind: str, n: int, born=None) -> np.ndarray:
        """n new entity indexes; `born` (instants) orders the public ids chronologically."""
        first = self._next[kind]
        self._next[kind] += n
        idx = np.arange(first, first + n, dtype=np.int64)
        if born is not None:
            self.born[kind].append((idx, np.broadcast_to(np.asarray(born, np.int64), (n,)).copy()))
        return idx

    def count(self, kind: str) -> int:
        return self._next[kind]

    def tell(self, order, at, source: str, fact: str, key_kind: str, *key) -> None:
        """Record one fact of a story the order timeline must tell, at instants `at` (arrays
        aligned with `order`); `key` as truth.story_rows reads it for `key_kind`."""
        order = np.atleast_1d(np.asarray(order, np.int64))
        self.stories.append((order, np.broadcast_to(np.asarray(at, np.int64), order.shape), source, fact,
                             key_kind, key))

    def expect(self, kind: str, order, key_kind: str, *key, subtype="") -> None:
        """Record exceptions the rules must find at T (arrays aligned with `order`); `subtype`
        is one string or an array of them."""
        order = np.atleast_1d(np.asarray(order, np.int64))
        if order.size:
            self.truth.append((kind, np.broadcast_to(np.asarray(subtype, dtype=object), order.shape), order,
                               key_kind, tuple(np.broadcast_to(np.asarray(k, np.int64), order.shape)
                                               for k in key)))
