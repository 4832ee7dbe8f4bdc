"""Public ids: C0000001, O0000001, SH…, TR…, BK…, EV…, CT…, numbered by birth (ties: the order made).

Entities are made in scenario order; their public ids count them in the order they came into
being. The rank of each one is read from its births, kept by day (spill ("born", kind, day)):
a day at a time, sorted by (instant, index). Held: one int32 rank per entity (about 35 bytes
per order in all), the most the generator holds for the whole landing zone.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fulfilment_monitor.generate.encode import join
from fulfilment_monitor.generate.world import World


@dataclass
class PublicIds:
    """`ids[idx]`: the public ids of entity indexes, prefix + (offset + rank x step) zero-padded."""
    prefix: str
    rank: np.ndarray
    width: int
    offset: int = 1
    step: int = 1

    def __getitem__(self, idx) -> pa.Array:
        number = self.offset + self.rank[idx].astype(np.int64) * self.step
        return join(self.prefix, pc.utf8_lpad(pc.cast(pa.array(number), pa.string()), self.width, "0"))


@dataclass
class Ids:
    customer: PublicIds
    order: PublicIds
    shipment: PublicIds
    tracking: PublicIds
    booking: PublicIds
    event: PublicIds
    contact: PublicIds

    @classmethod
    def of(cls, w: World) -> "Ids":
        def numbered(kind: str, prefix: str) -> PublicIds:
            rank = _ranks(w, kind)
            return PublicIds(prefix, rank, max(7, len(str(len(rank)))))
        shipment = numbered("shipment", "SH")
        return cls(customer=numbered("customer", "C"), order=numbered("order", "O"), shipment=shipment,
                   tracking=PublicIds("TR", shipment.rank, 10, offset=1_000_000_000 + 7919, step=7919),
                   booking=numbered("booking", "BK"), event=numbered("event", "EV"),
                   contact=numbered("contact", "CT"))


def _ranks(w: World, kind: str) -> np.ndarray:
    """Chronological rank of every entity of a kind (ties by creation order)."""
    n = w.count(kind)
    rank = np.empty(n, np.int32 if n < 2**31 else np.int64)
    done = 0
    for key in w.spill.keys("born", kind):  # day by day
        born = w.spill.read(key, ("idx", "born"))
        order = np.lexsort((born["idx"], born["born"]))
        rank[born["idx"][order]] = np.arange(done, done + len(order))
        done += len(order)
        w.spill.remove(key)
    if done != n:
        raise AssertionError(f"{kind}: {n} created but {done} with a birth time")
    return rank
