"""Booking lifecycles: orphaned cancellations, double bookings, and the traps (a cancel rebooked
in time, a retailer-initiated cancel, cancelled orders)."""
from __future__ import annotations

import numpy as np

from fulfilment_monitor.generate.clock import HOUR, MINUTE
from fulfilment_monitor.generate.contacts import add_contacts, background
from fulfilment_monitor.generate.fulfil import book, bookings_for, complete, deliver, hand_over, new_bookings, window
from fulfilment_monitor.generate.orders import hours, new_orders, uniform
from fulfilment_monitor.generate.scenarios.base import INIT, RC, inside, order_placement, third
from fulfilment_monitor.generate.world import NULL


def _booked(w, rng, n, lead=(5, 7), **kw):
    o = new_orders(w, rng, n, **order_placement(w, lead), **kw)
    s, r = hand_over(w, rng, o)
    b, bt, ws, we = book(w, rng, s, o, r)
    return o, s, b, bt, ws, we


def _cancel_time(rng, bt, ws):
    """A moment after booking and at least 30 h before the window (never a late cancel)."""
    return bt + uniform(rng, 2 * HOUR, ws - bt - 30 * HOUR)


def orphaned_cancel(w, rng, n):
    """orphaned_reschedule (a), key BK1: cancelled by the customer, the contractor or nobody
    (initiated_by null) >= 30 h before the window, no booking_created for the order within 24 h.
    60% get a new booking 30-72 h later (delivered, completed); the rest stay open and unbooked."""
    o, s, b, bt, ws, we = _booked(w, rng, n)
    x = _cancel_time(rng, bt, ws)
    who = rng.choice(3, n, p=[0.5, 0.3, 0.2])
    init = np.array([INIT["customer"], INIT["contractor"], NULL])[who]
    reason = np.array([RC["customer_request"], RC["capacity"], NULL])[who]
    b.cancelled(w, x, init, reason)
    later = np.flatnonzero(rng.random(n) < 0.6)
    t2 = x[later] + hours(rng, 30, 72, len(later))
    s2 = s.take(later)
    b2 = bookings_for(w, s2, t2)
    ws2, we2 = window(w, rng, s2.real, w.clock.local_day(s2.real, t2) + rng.integers(1, 3, len(later)),
                      o.big[later])
    b2.created(w, t2, ws2, we2)
    done = deliver(w, rng, b2, ws2, we2)
    complete(w, rng, o, later, done)
    until = np.full(n, w.T)
    until[later] = done
    background(w, rng, o, np.arange(n), until, max_inbound=1)
    w.expect("orphaned_reschedule", o.idx, "booking", b.idx)


def double_booking_same_ref(w, rng, n):
    """double_booking, key order/tracking_ref: a store associate books an expedited BK2 with the
    same tracking_ref while BK1 is active; BK2 is delivered, then the retailer cancels BK1."""
    o, s, b, bt, ws, we = _booked(w, rng, n, lead=(6, 8), channel="store")
    x = bt + hours(rng, 2, 24, n)
    b2 = bookings_for(w, s, x)
    ws2, we2 = window(w, rng, o.real, w.clock.local_day(o.real, x) + 1, o.big)
    b2.created(w, x, ws2, we2)
    done = deliver(w, rng, b2, ws2, we2)
    b.cancelled(w, done + hours(rng, 1, 5, n), INIT["retailer"], RC["retailer_request"])
    complete(w, rng, o, np.arange(n), done)
    background(w, rng, o, np.arange(n), done, max_inbound=1)
    w.expect("double_booking", o.idx, "order_ref", o.idx, s.idx)


def double_booking_no_ref(w, rng, n):
    """double_booking, key order/ (no tracking_ref): a store booking made at checkout and a second
    one made hours later, both without tracking_ref; BK2 is delivered, the retailer cancels BK1."""
    lo, hi = inside(w)
    o = new_orders(w, rng, n, lo=lo, hi=hi, lead=(6, 8), channel="store")
    t1 = o.placed + uniform(rng, 5 * MINUTE, 30 * MINUTE, n)
    b1 = new_bookings(w, o.idx, o.contractor, o.real, NULL, t1)
    ws1, we1 = window(w, rng, o.real, o.promised, o.big)
    b1.created(w, t1, ws1, we1)
    t2 = o.placed + hours(rng, 1, 20, n)
    b2 = new_bookings(w, o.idx, o.contractor, o.real, NULL, t2)
    ws2, we2 = window(w, rng, o.real, w.clock.local_day(o.real, o.placed) + 3, o.big)
    b2.created(w, t2, ws2, we2)
    hand_over(w, rng, o, dispatch_after=(3, 12), receive_after=(1, 8))
    done = deliver(w, rng, b2, ws2, we2)
    b1.cancelled(w, done + hours(rng, 1, 5, n), INIT["retailer"], RC["retailer_request"])
    complete(w, rng, o, np.arange(n), done)
    background(w, rng, o, np.arange(n), done, max_inbound=1)
    w.expect("double_booking", o.idx, "order_ref", o.idx, NULL)


# --- traps --------------------------------------------------------------------------------------
def _rebook_and_deliver(w, rng, o, s, t2):
    """A new booking at t2 for 1-2 local days later, delivered in its window, order completed."""
    n = len(o)
    b2 = bookings_for(w, s, t2)
    ws2, we2 = window(w, rng, o.real, w.clock.local_day(o.real, t2) + rng.integers(1, 3, n), o.big)
    b2.created(w, t2, ws2, we2)
    done = deliver(w, rng, b2, ws2, we2)
    complete(w, rng, o, np.arange(n), done)
    background(w, rng, o, np.arange(n), done, max_inbound=1)


def trap_cancel_rebooked_in_time(w, rng, n):
    """The customer cancels and a new booking_created follows 1-23 h later (every third exactly
    24 h: the interval is closed): rebooked in time, not orphaned."""
    o, s, b, bt, ws, we = _booked(w, rng, n)
    x = _cancel_time(rng, bt, ws)
    b.cancelled(w, x, INIT["customer"], RC["customer_request"])
    t2 = np.where(third(n), x + 24 * HOUR, x + hours(rng, 1, 23, n))
    _rebook_and_deliver(w, rng, o, s, t2)


def trap_retailer_cancel(w, rng, n):
    """The retailer cancels the booking and only rebooks 30-60 h later: retailer cancels never
    count as orphaned."""
    o, s, b, bt, ws, we = _booked(w, rng, n)
    x = _cancel_time(rng, bt, ws)
    b.cancelled(w, x, INIT["retailer"], RC["retailer_request"])
    t2 = x + hours(rng, 30, 60, n)
    _rebook_and_deliver(w, rng, o, s, t2)


def trap_cancelled_order(w, rng, n):
    """Orders cancelled by the customer a few hours after checkout, before dispatch (some with a
    cancel contact). Placed anywhere up to a day before T: never at risk, never anything."""
    o = new_orders(w, rng, n, lo=w.clock.start_s + HOUR, hi=w.T - 26 * HOUR, lead=(4, 7))
    t = o.placed + hours(rng, 1, 10, n)
    o.rows(w, t, "cancelled")
    asked = np.flatnonzero(rng.random(n) < 0.5)
    add_contacts(w, o.cust[asked], o.idx[asked], "phone", "inbound",
                 o.placed[asked] + ((t[asked] - o.placed[asked]) // 2), handle=uniform(rng, 60, 400, len(asked)),
                 reason="cancel", outcome="resolved")


def trap_cancelled_after_booking(w, rng, n):
    """The customer cancels the order after it was booked: booking_cancelled by the customer and
    the OMS order cancelled 0.5-3 h later. At the 24 h deadline the order is not open: not orphaned."""
    o, s, b, bt, ws, we = _booked(w, rng, n)
    x = _cancel_time(rng, bt, ws)
    b.cancelled(w, x, INIT["customer"], RC["customer_request"])
    o.rows(w, x + hours(rng, 0.5, 3, n), "cancelled")
