"""Delivery windows: missed windows (every subtype), late contractor cancellations, excessive
rebook delays, and the traps around them (grace, customer reschedules, early reschedules,
rebooks of 14 days or less).

Each function takes (w, rng, n): n orders, each with one new customer, placed well inside
the period, and records in w.expect exactly the exceptions its story creates.
"""
from __future__ import annotations

import numpy as np

from fulfilment_monitor.generate.clock import HOUR, MINUTE
from fulfilment_monitor.generate.contacts import background
from fulfilment_monitor.generate.fulfil import book, bookings_for, complete, deliver, hand_over, window
from fulfilment_monitor.generate.fulfil import inside as in_window
from fulfilment_monitor.generate.orders import hours, new_orders, uniform
from fulfilment_monitor.generate.scenarios.base import INIT, RC, order_placement, pick, third


def _booked(w, rng, n, lead=(5, 7), kind="mixed", **kw):
    """Orders dispatched, received and booked on their promised date (the common start)."""
    o = new_orders(w, rng, n, **order_placement(w, lead), kind=kind, **kw)
    s, r = hand_over(w, rng, o)
    b, bt, ws, we = book(w, rng, s, o, r)
    return o, s, b, bt, ws, we


def _finish(w, rng, o, delivered, max_inbound=1):
    pos = np.arange(len(o))
    complete(w, rng, o, pos, delivered)
    background(w, rng, o, pos, delivered, max_inbound=max_inbound)


def missed_failed_attempt(w, rng, n):
    """missed_window/failed_attempt on v1: delivery_failed inside the window (not_home/access),
    the contractor rebooks the same booking 1-3 days later (v2) and delivers."""
    o, s, b, bt, ws, we = _booked(w, rng, n, kind="mixed")
    b.out_for_delivery(w, ws - hours(rng, 0.5, 2, n))
    reason = pick(rng, ("not_home", "access"), n, table=RC)
    b.failed(w, in_window(rng, ws, we), reason)
    ws2, we2 = window(w, rng, o.real, o.promised + rng.integers(1, 4, n), o.big)
    b.rescheduled(w, we + hours(rng, 1, 4, n), ws2, we2, INIT["contractor"], reason)
    _finish(w, rng, o, deliver(w, rng, b, ws2, we2))
    w.expect("missed_window", o.idx, "version", b.idx, 1, subtype="failed_attempt")


def missed_late_delivery(w, rng, n):
    """missed_window/late_delivery on v1: delivered 35 min to 4 h after the window end."""
    o, s, b, bt, ws, we = _booked(w, rng, n, kind="mixed")
    b.out_for_delivery(w, ws - hours(rng, 0.5, 2, n))
    t = we + uniform(rng, 35 * MINUTE, 4 * HOUR, n)
    b.delivered(w, t)
    _finish(w, rng, o, t)
    w.expect("missed_window", o.idx, "version", b.idx, 1, subtype="late_delivery")


def missed_then_redelivered(w, rng, n):
    """missed_window/late_delivery on v1: nobody came; after the window the contractor
    reschedules (vehicle/capacity) and delivers v2 - the booking was delivered later."""
    o, s, b, bt, ws, we = _booked(w, rng, n, kind="big")
    ws2, we2 = window(w, rng, o.real, o.promised + rng.integers(1, 3, n), o.big)
    b.rescheduled(w, we + hours(rng, 1, 10, n), ws2, we2, INIT["contractor"],
                  pick(rng, ("vehicle", "capacity"), n, table=RC))
    _finish(w, rng, o, deliver(w, rng, b, ws2, we2))
    w.expect("missed_window", o.idx, "version", b.idx, 1, subtype="late_delivery")


def missed_no_show_rebooked(w, rng, n):
    """missed_window/no_show on BK1/v1: nobody came, the contractor cancels BK1 after the window
    and books BK2 (same tracking_ref) within 24 h, which is delivered. BK1 is never delivered."""
    o, s, b, bt, ws, we = _booked(w, rng, n, kind="big")
    cancel = we + hours(rng, 1, 6, n)
    b.cancelled(w, cancel, INIT["contractor"], RC["capacity"])
    t2 = cancel + hours(rng, 1, 12, n)
    b2 = bookings_for(w, s, t2)
    ws2, we2 = window(w, rng, o.real, o.promised + rng.integers(2, 4, n), o.big)
    b2.created(w, t2, ws2, we2)
    _finish(w, rng, o, deliver(w, rng, b2, ws2, we2))
    w.expect("missed_window", o.idx, "version", b.idx, 1, subtype="no_show")


def missed_no_show_stuck(w, rng, n):
    """missed_window/no_show on v1: nobody came and nothing happened since (order still open,
    its promised date long past, so not at risk)."""
    o, s, b, bt, ws, we = _booked(w, rng, n, kind="mixed")
    background(w, rng, o, np.arange(len(o)), np.full(len(o), w.T), max_inbound=1, allow_unlinked=False)
    w.expect("missed_window", o.idx, "version", b.idx, 1, subtype="no_show")


def late_contractor_reschedule(w, rng, n):
    """late_cancellation (the reschedule event): the contractor moves v1 2-20 h before its
    window start; v2 1-2 days later is delivered. v1 never started live: no missed window."""
    o, s, b, bt, ws, we = _booked(w, rng, n)
    ws2, we2 = window(w, rng, o.real, o.promised + rng.integers(1, 3, n), o.big)
    ev = b.rescheduled(w, ws - hours(rng, 2, 20, n), ws2, we2, INIT["contractor"],
                       pick(rng, ("capacity", "vehicle", "weather"), n, table=RC))
    _finish(w, rng, o, deliver(w, rng, b, ws2, we2))
    w.expect("late_cancellation", o.idx, "event", ev)


def late_contractor_cancel(w, rng, n):
    """late_cancellation (the cancel event): the contractor cancels BK1 2-20 h before its window
    and books BK2 within 10 h (so not orphaned), delivered."""
    o, s, b, bt, ws, we = _booked(w, rng, n)
    cancel = ws - hours(rng, 2, 20, n)
    ev = b.cancelled(w, cancel, INIT["contractor"], pick(rng, ("capacity", "vehicle"), n, table=RC))
    t2 = cancel + hours(rng, 1, 10, n)
    b2 = bookings_for(w, s, t2)
    ws2, we2 = window(w, rng, o.real, o.promised + rng.integers(1, 3, n), o.big)
    b2.created(w, t2, ws2, we2)
    _finish(w, rng, o, deliver(w, rng, b2, ws2, we2))
    w.expect("late_cancellation", o.idx, "event", ev)


def excessive_customer_rebook(w, rng, n):
    """excessive_rebook_delay: the customer moves the booking (well before v1) to 15-20 days
    after the promised date. v2 is delivered in its window (or is still ahead at T)."""
    o, s, b, bt, ws, we = _booked(w, rng, n)
    t = bt + uniform(rng, 2 * HOUR, ws - bt - 26 * HOUR)
    ws2, we2 = window(w, rng, o.real, o.promised + rng.integers(15, 21, n), o.big)
    b.rescheduled(w, t, ws2, we2, INIT["customer"], RC["customer_request"])
    _finish(w, rng, o, deliver(w, rng, b, ws2, we2))
    w.expect("excessive_rebook_delay", o.idx, "booking", b.idx)


def excessive_after_no_show(w, rng, n):
    """excessive_rebook_delay AND missed_window on v1: nobody came, the contractor reschedules
    after the window to 15-20 days after the promise. v1's subtype is late_delivery when v2 was
    delivered before T, else no_show."""
    o, s, b, bt, ws, we = _booked(w, rng, n, kind="big")
    ws2, we2 = window(w, rng, o.real, o.promised + rng.integers(15, 21, n), o.big)
    b.rescheduled(w, we + hours(rng, 2, 8, n), ws2, we2, INIT["contractor"], RC["capacity"])
    t = deliver(w, rng, b, ws2, we2)
    _finish(w, rng, o, t)
    w.expect("excessive_rebook_delay", o.idx, "booking", b.idx)
    w.expect("missed_window", o.idx, "version", b.idx, 1,
             subtype=np.where(t < w.T, "late_delivery", "no_show").astype(object))


# --- traps: nothing of these may fire --------------------------------------------------------
def trap_grace_delivery(w, rng, n):
    """Delivered 1-29 min after the window end, every third exactly at +30 min: inside the grace."""
    o, s, b, bt, ws, we = _booked(w, rng, n)
    b.out_for_delivery(w, ws - hours(rng, 0.5, 2, n))
    t = np.where(third(n), we + 30 * MINUTE, we + uniform(rng, MINUTE, 29 * MINUTE, n))
    b.delivered(w, t)
    _finish(w, rng, o, t)


def trap_customer_reschedules_in_window(w, rng, n):
    """The customer reschedules during v1's window: v1 was ended by the customer (not missed)."""
    o, s, b, bt, ws, we = _booked(w, rng, n)
    b.out_for_delivery(w, ws - hours(rng, 0.5, 2, n))
    ws2, we2 = window(w, rng, o.real, o.promised + rng.integers(1, 4, n), o.big)
    b.rescheduled(w, in_window(rng, ws, we), ws2, we2, INIT["customer"], RC["customer_request"])
    _finish(w, rng, o, deliver(w, rng, b, ws2, we2))


def trap_superseded_before_start(w, rng, n):
    """The customer reschedules 2-20 h before v1 starts: v1 never went live."""
    o, s, b, bt, ws, we = _booked(w, rng, n)
    ws2, we2 = window(w, rng, o.real, o.promised + rng.integers(1, 4, n), o.big)
    b.rescheduled(w, ws - hours(rng, 2, 20, n), ws2, we2, INIT["customer"], RC["customer_request"])
    _finish(w, rng, o, deliver(w, rng, b, ws2, we2))


def trap_contractor_reschedules_early(w, rng, n):
    """The contractor reschedules 25-60 h before the window (every third exactly 24 h): not late."""
    o, s, b, bt, ws, we = _booked(w, rng, n)
    t = np.where(third(n), ws - 24 * HOUR, ws - hours(rng, 25, 60, n))
    ws2, we2 = window(w, rng, o.real, o.promised + rng.integers(1, 3, n), o.big)
    b.rescheduled(w, t, ws2, we2, INIT["contractor"], RC["capacity"])
    _finish(w, rng, o, deliver(w, rng, b, ws2, we2))


def trap_rebook_within_14_days(w, rng, n):
    """The customer moves the booking to 10-14 days after the promise (every third exactly 14)."""
    o, s, b, bt, ws, we = _booked(w, rng, n)
    t = bt + uniform(rng, 2 * HOUR, ws - bt - 26 * HOUR)
    days = np.where(third(n), 14, rng.integers(10, 15, n))
    ws2, we2 = window(w, rng, o.real, o.promised + days, o.big)
    b.rescheduled(w, t, ws2, we2, INIT["customer"], RC["customer_request"])
    _finish(w, rng, o, deliver(w, rng, b, ws2, we2))


