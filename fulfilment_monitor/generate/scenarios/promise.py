"""Promises at T: orders at risk (promised today or tomorrow in the customer's zone, not booked
on or before that date, or not fully dispatched) and the traps around them; plus the OMS
late-correction trap for the promised date.

"Today" is the customer's OMS time zone at T (UTC when unknown). T is midnight UTC, so for
US customers today is the UTC date minus one, while Tokyo and Sydney share UTC's date there.
The at-risk orders are placed 4-6 local days before their promised date, so everything they
set up happens before T.
"""
from __future__ import annotations

import numpy as np

from fulfilment_monitor.generate.clock import HOUR
from fulfilment_monitor.generate.contacts import background
from fulfilment_monitor.generate.fulfil import book, complete, deliver, hand_over, happy_path
from fulfilment_monitor.generate.orders import draw_zones, hours, new_customers, new_orders, uniform
from fulfilment_monitor.generate.scenarios.base import inside, today_at_T


def _near_T(w, rng, n, day_offsets, zones=None, **kw):
    """Orders promised on (today at T, in the rule's zone) + one of day_offsets."""
    zone, real = draw_zones(rng, n, zones)
    today = today_at_T(w, zone)
    promised = today + np.asarray(day_offsets)[rng.integers(0, len(day_offsets), n)]
    lead = rng.integers(4, 7, n)
    placed = w.clock.at_local(real, promised - lead, uniform(rng, 9 * HOUR, 20 * HOUR, n))
    customers = new_customers(w, rng, n, placed, drawn=(zone, real))
    o = new_orders(w, rng, n, placed=placed, promised=promised, customers=customers, **kw)
    background(w, rng, o, np.arange(n), np.full(n, w.T), max_inbound=1)
    return o


US = ("America/New_York", "America/Chicago", "America/Denver", "America/Phoenix", "America/Los_Angeles")


def at_risk_not_booked(w, rng, n):
    """at_risk_promise for US customers: promised today or tomorrow locally (today is the day
    before T's UTC date), dispatched and received, no booking at all."""
    o = _near_T(w, rng, n, (0, 1), zones=US)
    hand_over(w, rng, o)
    w.expect("at_risk_promise", o.idx, "order", o.idx)


def at_risk_booked_too_late(w, rng, n):
    """at_risk_promise: promised today or tomorrow, but booked for 1-2 days after the promise."""
    o = _near_T(w, rng, n, (0, 1))
    s, r = hand_over(w, rng, o)
    book(w, rng, s, o, r, day=o.promised + rng.integers(1, 3, n))
    w.expect("at_risk_promise", o.idx, "order", o.idx)


def at_risk_partly_dispatched(w, rng, n):
    """at_risk_promise: promised tomorrow and booked for it, but line 2 was never dispatched."""
    o = _near_T(w, rng, n, (1,), n_lines=2)
    s, r = hand_over(w, rng, o, qty=np.where(o.l_no == 1, o.l_qty, 0))
    book(w, rng, s, o, r)
    w.expect("at_risk_promise", o.idx, "order", o.idx)


def at_risk_not_dispatched(w, rng, n):
    """at_risk_promise: promised today or tomorrow, still in the warehouse (nothing shipped)."""
    o = _near_T(w, rng, n, (0, 1))
    w.expect("at_risk_promise", o.idx, "order", o.idx)


def at_risk_east_of_utc(w, rng, n):
    """at_risk_promise for customers in Tokyo and Sydney, promised today or tomorrow there (the
    UTC date; a US reading of 'today' would be a day behind), not booked."""
    o = _near_T(w, rng, n, (0, 1), zones=("Asia/Tokyo", "Australia/Sydney"))
    hand_over(w, rng, o)
    w.expect("at_risk_promise", o.idx, "order", o.idx)


def at_risk_unknown_zone(w, rng, n):
    """at_risk_promise for customers without a time zone: today and tomorrow are UTC's."""
    o = _near_T(w, rng, n, (0, 1), zones=(None,))
    hand_over(w, rng, o)
    w.expect("at_risk_promise", o.idx, "order", o.idx)


# --- traps --------------------------------------------------------------------------------------
def trap_promised_in_two_days(w, rng, n):
    """US customers promised in 2 local days (that date is already 'tomorrow' in UTC), not booked."""
    o = _near_T(w, rng, n, (2,), zones=US)
    hand_over(w, rng, o)


def trap_promised_yesterday_locally(w, rng, n):
    """Promised yesterday in the rule's zone (Tokyo/Sydney, or UTC for unknown zones, whose US
    address is still on that date): the promise is past, no longer 'at risk'. Not booked."""
    o = _near_T(w, rng, n, (-1,), zones=("Asia/Tokyo", "Australia/Sydney", None))
    hand_over(w, rng, o)


def trap_booked_near_promise(w, rng, n):
    """Promised today or tomorrow, dispatched and booked on the promised date: on track."""
    o = _near_T(w, rng, n, (0, 1))
    happy_path(w, rng, o)


def trap_cancelled_near_promise(w, rng, n):
    """Promised today or tomorrow, but the order was cancelled: not open."""
    o = _near_T(w, rng, n, (0, 1))
    o.rows(w, o.placed + hours(rng, 2, 30, n), "cancelled")


def trap_late_correction(w, rng, n):
    """OMS defect: the promised date is moved 4 days later (row B); a correction row C with an
    earlier updated_at (and the old date) arrives in a later drop than B. The current promise is
    B's. The booking is 11-12 days after B's date (15-16 after the old one): not excessive."""
    lo, hi = inside(w)
    o = new_orders(w, rng, n, lo=lo, hi=hi, lead=(5, 6))
    pos = np.arange(n)
    old = o.promised.copy()
    moved = o.placed + hours(rng, 6, 12, n)
    o.rows(w, moved, "placed", promised=old + 4)
    corrected = o.placed + hours(rng, 1, 5, n)
    late_drop = w.clock.day_index(moved) + 1
    o.rows(w, corrected, "placed", promised=old, total=o.total - 500, drop=late_drop)
    o.promised = old + 4
    s, r = hand_over(w, rng, o, dispatch_after=(13, 20))
    b, bt, ws, we = book(w, rng, s, o, r, day=o.promised + rng.integers(11, 13, n))
    complete(w, rng, o, pos, deliver(w, rng, b, ws, we))
