"""Shipments and hand-over: duplicate shipments (picker re-release), stalled hand-overs, and the
traps (split orders, replacements after damaged/lost, hand-overs just in time or arriving late)."""
from __future__ import annotations

import numpy as np

from fulfilment_monitor.generate.clock import DAY, HOUR
from fulfilment_monitor.generate.contacts import background
from fulfilment_monitor.generate.fulfil import book, complete, deliver, dispatch, hand_over, inside as in_window
from fulfilment_monitor.generate.orders import hours, new_orders
from fulfilment_monitor.generate.scenarios.base import INIT, RC, order_placement, pick, third


def _orders(w, rng, n, lead=(5, 7), **kw):
    return new_orders(w, rng, n, **order_placement(w, lead), **kw)


def _finish(w, rng, o, pos, delivered, max_inbound=1):
    complete(w, rng, o, pos, delivered)
    background(w, rng, o, pos, delivered, max_inbound=max_inbound)


def duplicate_rerelease(w, rng, n):
    """duplicate_shipment: a picker re-releases the wave: a second `initial` shipment (new id and
    tracking_ref) 0.5-6 h later with every line (or only line 1). The contractor receives both,
    books and delivers the first."""
    o = _orders(w, rng, n)
    pos = np.arange(n)
    s, r = hand_over(w, rng, o)
    only_first = rng.random(n) < 0.5
    qty = np.where(only_first[o.l_pos] & (o.l_no > 1), 0, o.l_qty)
    s2 = dispatch(w, o, pos, s.dispatched + hours(rng, 0.5, 6, n), "initial", qty=qty)
    s2.received(w, s2.dispatched + hours(rng, 1, 18, n))
    b, bt, ws, we = book(w, rng, s, o, r)
    _finish(w, rng, o, pos, deliver(w, rng, b, ws, we))
    w.expect("duplicate_shipment", o.idx, "order", o.idx)


def stalled_received_late(w, rng, n):
    """stalled_handoff: no contractor event within 48 h of dispatch; the contractor scans it in
    50-90 h after dispatch, then books and delivers."""
    o = _orders(w, rng, n)
    pos = np.arange(n)
    s, r = hand_over(w, rng, o, receive_after=(50, 90))
    b, bt, ws, we = book(w, rng, s, o, r, day=w.clock.local_day(s.real, r) + rng.integers(1, 3, n))
    _finish(w, rng, o, pos, deliver(w, rng, b, ws, we))
    w.expect("stalled_handoff", o.idx, "shipment", s.idx)


def stalled_lost(w, rng, n):
    """stalled_handoff: dispatched and never seen by the contractor again (order stays open,
    promised date long past)."""
    o = _orders(w, rng, n)
    s = dispatch(w, o, np.arange(n), o.placed + hours(rng, 3, 20, n))
    background(w, rng, o, np.arange(n), np.full(n, w.T), max_inbound=1, allow_unlinked=False)
    w.expect("stalled_handoff", o.idx, "shipment", s.idx)


# --- traps ----------------------------------------------------------------------------------------
def trap_split_order(w, rng, n):
    """Two-line orders shipped in two parts: `initial` (line 1, plus one unit of line 2 when it
    has several) and `split` (the rest of line 2) 18-40 h later, each booked and delivered.
    The parts add up to the ordered quantity: no duplicate."""
    o = _orders(w, rng, n, lead=(6, 8), n_lines=2)
    pos = np.arange(n)
    first = np.where(o.l_no == 1, o.l_qty, np.where(o.l_qty >= 2, 1, 0))
    s1, r1 = hand_over(w, rng, o, qty=first)
    s2 = dispatch(w, o, pos, s1.dispatched + hours(rng, 18, 40, n), "split", qty=o.l_qty - first)
    r2 = s2.dispatched + hours(rng, 1, 18, n)
    s2.received(w, r2)
    b1, _, ws1, we1 = book(w, rng, s1, o, r1)
    b2, _, ws2, we2 = book(w, rng, s2, o, r2)
    t1, t2 = deliver(w, rng, b1, ws1, we1), deliver(w, rng, b2, ws2, we2)
    _finish(w, rng, o, pos, np.maximum(t1, t2))


def _replacement(w, rng, o, s, failed_at, retailer_cancel_at, b):
    """The retailer cancels the failed booking and ships a replacement, booked and delivered."""
    n = len(o)
    b.cancelled(w, retailer_cancel_at, INIT["retailer"], RC["retailer_request"])
    s2 = dispatch(w, o, np.arange(n), retailer_cancel_at + hours(rng, 4, 24, n), "replacement", replaces=s.idx)
    r2 = s2.dispatched + hours(rng, 1, 18, n)
    s2.received(w, r2)
    b2, _, ws2, we2 = book(w, rng, s2, o, r2, day=w.clock.local_day(s2.real, r2) + rng.integers(1, 3, n))
    _finish(w, rng, o, np.arange(n), deliver(w, rng, b2, ws2, we2))


def trap_replacement_before_window(w, rng, n):
    """Damaged or lost found before the window (delivery_failed 6-12 h before it starts): the
    retailer cancels the booking and ships a `replacement`. The replacement is left out of the
    dispatched quantity: no duplicate; the version was cancelled before its start: no miss."""
    o = _orders(w, rng, n)
    s, r = hand_over(w, rng, o)
    b, bt, ws, we = book(w, rng, s, o, r)
    failed = ws - hours(rng, 6, 12, n)
    b.failed(w, failed, pick(rng, ("damaged", "lost"), n, table=RC))
    _replacement(w, rng, o, s, failed, failed + hours(rng, 0.5, 3, n), b)


def replacement_after_failed_attempt(w, rng, n):
    """missed_window/failed_attempt on v1 (damaged/lost at the door, inside the window), then the
    retailer cancels and ships a `replacement`: no duplicate shipment."""
    o = _orders(w, rng, n)
    s, r = hand_over(w, rng, o)
    b, bt, ws, we = book(w, rng, s, o, r)
    b.out_for_delivery(w, ws - hours(rng, 0.5, 2, n))
    failed = in_window(rng, ws, we)
    b.failed(w, failed, pick(rng, ("damaged", "lost"), n, table=RC))
    _replacement(w, rng, o, s, failed, we + hours(rng, 0.5, 3, n), b)
    w.expect("missed_window", o.idx, "version", b.idx, 1, subtype="failed_attempt")


def trap_handoff_just_in_time(w, rng, n):
    """The contractor's first event comes 40-48 h after dispatch (every third exactly 48 h)."""
    o = _orders(w, rng, n, lead=(6, 8))
    pos = np.arange(n)
    d = o.placed + hours(rng, 3, 20, n)
    s = dispatch(w, o, pos, d)
    r = np.where(third(n), d + 48 * HOUR, d + hours(rng, 40, 47.9, n))
    s.received(w, r)
    b, bt, ws, we = book(w, rng, s, o, r)
    _finish(w, rng, o, pos, deliver(w, rng, b, ws, we))


def trap_handoff_event_arrives_late(w, rng, n):
    """The contractor received the goods 2-20 h after dispatch, but that event only reaches us in
    a drop 2-3 days later: it still counts (occurred_at is what matters)."""
    o = _orders(w, rng, n, lead=(6, 8))
    pos = np.arange(n)
    d = o.placed + hours(rng, 3, 20, n)
    s = dispatch(w, o, pos, d)
    r = d + hours(rng, 2, 20, n)
    s.received(w, r, lag=rng.integers(2, 4, n))
    b, bt, ws, we = book(w, rng, s, o, r + 3 * DAY)
    _finish(w, rng, o, pos, deliver(w, rng, b, ws, we))
