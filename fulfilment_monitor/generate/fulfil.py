"""Shipments, bookings and contractor events, vectorised, plus the standard happy path.

Every helper takes the rows it acts on as a batch (arrays aligned with the batch) and an
optional `sel` (positions in the batch) so scenarios can bend one step for some rows.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from fulfilment_monitor.generate import catalog as cat
from fulfilment_monitor.generate.clock import HOUR, MINUTE, UTC
from fulfilment_monitor.generate.orders import Orders, hours, uniform
from fulfilment_monitor.generate.world import NULL, World


def _pick(values, sel):
    return values if sel is None else values[sel]


def written_zone(contractor, real) -> np.ndarray:
    """The offset a contractor writes its timestamps in: UTC, or the delivery's local zone."""
    return np.where(cat.CONTRACTOR_UTC[contractor], UTC, real)


@dataclass
class Shipments:
    idx: np.ndarray
    order: np.ndarray  # global order index
    pos: np.ndarray  # position of the order in its Orders batch
    contractor: np.ndarray
    real: np.ndarray
    dispatched: np.ndarray

    def __len__(self) -> int:
        return len(self.idx)

    def take(self, sel) -> "Shipments":
        return Shipments(**{f.name: getattr(self, f.name)[sel] for f in fields(self)})

    def received(self, w: World, t, sel=None, lag=0) -> None:
        """The contractor took the goods (tracking_ref set, no booking yet)."""
        c, real = _pick(self.contractor, sel), _pick(self.real, sel)
        add_events(w, "received_from_warehouse", t, order=_pick(self.order, sel), contractor=c,
                   wzone=written_zone(c, real), tracking=_pick(self.idx, sel), lag=lag)


def dispatch(w: World, o: Orders, pos, t, reason: str = "initial", replaces=NULL, qty=None) -> Shipments:
    """One shipment per order at `pos`, dispatched at t. `qty`: units per flattened order line
    for this shipment (default: every line in full); lines with 0 units are left out."""
    pos = np.asarray(pos)
    t = np.broadcast_to(np.asarray(t, np.int64), pos.shape).copy()
    idx = w.ids("shipment", len(pos), born=t)
    ship_of = np.full(len(o), NULL)
    ship_of[pos] = idx
    units = o.l_qty if qty is None else np.asarray(qty)
    take = (ship_of[o.l_pos] != NULL) & (units > 0)
    w.shipments.add(ship=idx, order=o.idx[pos], wh=o.wh[pos], dispatched=t, contractor=o.contractor[pos],
                    reason=cat.SR[reason], replaces=replaces)
    dispatched_at = np.full(len(o), NULL)
    dispatched_at[pos] = t
    w.ship_lines.add(ship=ship_of[o.l_pos][take], line_no=o.l_no[take], qty=units[take],
                     dispatched=dispatched_at[o.l_pos][take])
    return Shipments(idx=idx, order=o.idx[pos], pos=pos, contractor=o.contractor[pos], real=o.real[pos],
                     dispatched=t)


def add_events(w: World, etype: str, t, *, order, contractor, wzone, booking=NULL, tracking=NULL,
               ws=NULL, we=NULL, init=NULL, reason=NULL, lag=0) -> np.ndarray:
    t = np.atleast_1d(np.asarray(t, np.int64))
    idx = w.ids("event", len(t), born=t)
    w.events.add(event=idx, etype=cat.ET[etype], occurred=t, contractor=contractor, booking=booking,
                 order=order, tracking=tracking, ws=ws, we=we, wzone=wzone, init=init, reason=reason, lag=lag)
    return idx


@dataclass
class Bookings:
    """A batch of delivery appointments. Every event goes through here so the booking's order,
    contractor, tracking_ref and timestamp style stay consistent across its events."""
    idx: np.ndarray
    order: np.ndarray
    contractor: np.ndarray
    tracking: np.ndarray  # shipment index whose tracking_ref the booking carries, NULL for none
    real: np.ndarray

    def __len__(self) -> int:
        return len(self.idx)

    def _event(self, w: World, etype: str, t, sel, **kw) -> np.ndarray:
        c = _pick(self.contractor, sel)
        return add_events(w, etype, t, order=_pick(self.order, sel), contractor=c,
                          wzone=written_zone(c, _pick(self.real, sel)), booking=_pick(self.idx, sel),
                          tracking=_pick(self.tracking, sel), **kw)

    def created(self, w, t, ws, we, sel=None):
        return self._event(w, "booking_created", t, sel, ws=ws, we=we)

    def rescheduled(self, w, t, ws, we, init, reason, sel=None):
        return self._event(w, "booking_rescheduled", t, sel, ws=ws, we=we, init=init, reason=reason)

    def cancelled(self, w, t, init, reason, sel=None):
        return self._event(w, "booking_cancelled", t, sel, init=init, reason=reason)

    def out_for_delivery(self, w, t, sel=None):
        return self._event(w, "out_for_delivery", t, sel)

    def delivered(self, w, t, sel=None):
        return self._event(w, "delivered", t, sel)

    def failed(self, w, t, reason, sel=None):
        return self._event(w, "delivery_failed", t, sel, reason=reason)

    def photo(self, w, t, sel=None):
        return self._event(w, cat.UNKNOWN_EVENT_TYPE, t, sel)


def new_bookings(w: World, order, contractor, real, tracking, born) -> Bookings:
    order = np.atleast_1d(np.asarray(order, np.int64))
    n = len(order)
    bc = lambda v: np.broadcast_to(np.asarray(v, np.int64), (n,)).copy()  # noqa: E731
    return Bookings(idx=w.ids("booking", n, born=born), order=order, contractor=bc(contractor),
                    tracking=bc(tracking), real=bc(real))


def bookings_for(w: World, s: Shipments, born, tracked: bool = True) -> Bookings:
    return new_bookings(w, s.order, s.contractor, s.real, s.idx if tracked else NULL, born)


# --- windows ----------------------------------------------------------------------------
# Windows start 08:00-14:00 local, so a UTC-writing US contractor's window_start carries
# the same calendar date as the local wall clock (the rules read the date as written).
_BIG_STARTS = np.array([8, 10, 12, 14])  # two-hour slots
_PARCEL_STARTS = np.array([8, 10, 12])  # four-hour slots


def window(w: World, rng: np.random.Generator, real, day, big) -> tuple[np.ndarray, np.ndarray]:
    day = np.atleast_1d(np.asarray(day, np.int64))
    n = len(day)
    big = np.broadcast_to(np.asarray(big, bool), (n,))
    start_h = np.where(big, _BIG_STARTS[rng.integers(0, 4, n)], _PARCEL_STARTS[rng.integers(0, 3, n)])
    ws = w.clock.at_local(real, day, start_h * HOUR)
    we = ws + np.where(big, 2, 4) * HOUR
    return ws, we


def inside(rng: np.random.Generator, ws, we) -> np.ndarray:
    """An instant strictly inside [ws, we]."""
    return ws + MINUTE + np.floor(rng.random(np.shape(ws)) * (we - ws - 2 * MINUTE)).astype(np.int64)


# --- the happy path, in steps ------------------------------------------------------------------
def hand_over(w: World, rng, o: Orders, pos=None, dispatch_after=(3, 20), receive_after=(1, 18), **kw):
    """Dispatch every line of the orders and have the contractor receive them."""
    pos = np.arange(len(o)) if pos is None else np.asarray(pos)
    n = len(pos)
    d = o.placed[pos] + hours(rng, *dispatch_after, n)
    s = dispatch(w, o, pos, d, **kw)
    r = d + hours(rng, *receive_after, n)
    s.received(w, r)
    return s, r


def book(w: World, rng, s: Shipments, o: Orders, after, day=None, book_after=(0.1, 4)):
    """The contractor books each shipment into a window on `day` (default: the promised date)."""
    n = len(s)
    t = np.asarray(after, np.int64) + hours(rng, *book_after, n)
    b = bookings_for(w, s, t)
    ws, we = window(w, rng, s.real, o.promised[s.pos] if day is None else day, o.big[s.pos])
    b.created(w, t, ws, we)
    return b, t, ws, we


def deliver(w: World, rng, b: Bookings, ws, we, sel=None, photo_share=0.0):
    """Out for delivery before the window, delivered inside it. Returns delivery instants."""
    ws, we = _pick(ws, sel), _pick(we, sel)
    n = len(ws)
    b.out_for_delivery(w, ws - hours(rng, 0.5, 2.5, n), sel=sel)
    t = inside(rng, ws, we)
    b.delivered(w, t, sel=sel)
    if photo_share:
        idx = np.arange(len(b)) if sel is None else np.asarray(sel)
        snap = rng.random(n) < photo_share
        b.photo(w, t[snap] + uniform(rng, 10, 300, int(snap.sum())), sel=idx[snap])
    return t


def complete(w: World, rng, o: Orders, pos, delivered) -> np.ndarray:
    """The OMS marks the orders completed a little after their last delivery."""
    t = np.asarray(delivered, np.int64) + hours(rng, 1, 8, len(np.atleast_1d(pos)))
    o.rows(w, t, "completed", pos=pos)
    return t


def happy_path(w: World, rng, o: Orders, pos=None, photo_share=0.0, complete_order: bool = True):
    """Dispatch, receive, book on the promised date, deliver in the window, complete."""
    pos = np.arange(len(o)) if pos is None else np.asarray(pos)
    s, r = hand_over(w, rng, o, pos)
    b, bt, ws, we = book(w, rng, s, o, r)
    t = deliver(w, rng, b, ws, we, photo_share=photo_share)
    done = complete(w, rng, o, pos, t) if complete_order else None
    return dict(s=s, received=r, b=b, booked=bt, ws=ws, we=we, delivered=t, completed=done)
