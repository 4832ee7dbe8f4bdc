"""Contacts that matter: high-effort orders, reschedules agreed by an agent but never booked,
and the traps (agreements booked in time, two short contacts, three spread over more than 7
days, unlinked contacts of a customer with two open orders)."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from fulfilment_monitor.generate import catalog as cat
from fulfilment_monitor.generate.clock import DAY, HOUR, MINUTE
from fulfilment_monitor.generate.contacts import add_contacts, inbound
from fulfilment_monitor.generate.fulfil import book, complete, deliver, hand_over, happy_path, window
from fulfilment_monitor.generate.orders import new_orders, uniform
from fulfilment_monitor.generate.scenarios.base import INIT, RC, inside, order_placement, pick, third
from fulfilment_monitor.generate.world import NULL


def _delivered_orders(w, rng, n, lead=(6, 9), **kw):
    o = new_orders(w, rng, n, **order_placement(w, lead), **kw)
    return o, happy_path(w, rng, o)


def _sorted_times(rng, lo, hi, k):
    """k sorted instants per row in [lo, hi] (shape n x k)."""
    lo, hi = np.asarray(lo)[:, None], np.asarray(hi)[:, None]
    return np.sort(lo + np.floor(rng.random((len(lo), k)) * (hi - lo)).astype(np.int64), axis=1)


def _three_within_a_week(w, rng, o, hp, linked: bool, handle=(60, 400)):
    n = len(o)
    lo = o.placed + HOUR
    hi = np.minimum(hp["delivered"] - HOUR, lo + 6 * DAY)
    times = _sorted_times(rng, lo, hi, 3)
    rows = np.repeat(np.arange(n), 3)
    order = o.idx[rows] if linked else np.full(3 * n, NULL)
    inbound(w, rng, o.cust[rows], order, times.ravel(), handle=handle)


def high_effort_three_contacts(w, rng, n):
    """high_effort_contact: three short inbound contacts about the order within 6 days, while open."""
    o, hp = _delivered_orders(w, rng, n)
    _three_within_a_week(w, rng, o, hp, linked=True)
    w.expect("high_effort_contact", o.idx, "order", o.idx)


def high_effort_unlinked(w, rng, n):
    """high_effort_contact via attribution: three inbound contacts without order_id from a
    customer whose single order is open: they belong to it."""
    o, hp = _delivered_orders(w, rng, n)
    _three_within_a_week(w, rng, o, hp, linked=False)
    w.expect("high_effort_contact", o.idx, "order", o.idx)


def high_effort_transferred(w, rng, n):
    """high_effort_contact: one contact transferred between teams, while the order is open."""
    o, hp = _delivered_orders(w, rng, n)
    t = uniform(rng, o.placed + HOUR, hp["delivered"] - HOUR)
    channel = pick(rng, ("phone", "chat", "social"), n, table=cat.CH)
    add_contacts(w, o.cust, o.idx, channel, "inbound", t, handle=uniform(rng, 100, 600, n),
                 reason="complaint", outcome="transferred")
    w.expect("high_effort_contact", o.idx, "order", o.idx)


def high_effort_long_handling(w, rng, n):
    """high_effort_contact: two inbound contacts of 1400-1800 s each (>= 2700 s in total)."""
    o, hp = _delivered_orders(w, rng, n)
    times = _sorted_times(rng, o.placed + HOUR, hp["delivered"] - HOUR, 2)
    rows = np.repeat(np.arange(n), 2)
    inbound(w, rng, o.cust[rows], o.idx[rows], times.ravel(), handle=(1400, 1800), reason="complaint")
    w.expect("high_effort_contact", o.idx, "order", o.idx)


def _agreement(w, rng, o, bt, ws, linked=True):
    """An agent agrees a new date 1-3 days after the promise, at least 48 h before the window."""
    n = len(o)
    c = uniform(rng, bt + HOUR, ws - 48 * HOUR)
    agreed = o.promised + rng.integers(1, 4, n)
    contact = add_contacts(w, o.cust, o.idx if linked else NULL, "phone", "inbound", c, team="delivery_desk",
                           handle=uniform(rng, 120, 600, n), reason="reschedule", outcome="reschedule_agreed",
                           agreed=agreed)
    return c, agreed, contact


def _booked(w, rng, n, **kw):
    o = new_orders(w, rng, n, **order_placement(w, (6, 8)), **kw)
    s, r = hand_over(w, rng, o)
    b, bt, ws, we = book(w, rng, s, o, r)
    return o, s, b, bt, ws, we


def orphaned_agreement_never_booked(w, rng, n, linked=True):
    """orphaned_reschedule (b), key contact_id: an agent agreed a date; the booking was never moved
    and the contractor delivered in the original window anyway."""
    o, s, b, bt, ws, we = _booked(w, rng, n)
    _, _, contact = _agreement(w, rng, o, bt, ws, linked)
    complete(w, rng, o, np.arange(n), deliver(w, rng, b, ws, we))
    w.expect("orphaned_reschedule", o.idx, "contact", contact)


def orphaned_agreement_unlinked(w, rng, n):
    """orphaned_reschedule (b) on a contact without order_id: attributed to the customer's one
    open order."""
    orphaned_agreement_never_booked(w, rng, n, linked=False)


def orphaned_agreement_booked_late(w, rng, n):
    """orphaned_reschedule (b): the booking is moved to the agreed date, but 26-40 h after the
    contact (so at the 24 h deadline no booking was on that date)."""
    o, s, b, bt, ws, we = _booked(w, rng, n)
    c, agreed, contact = _agreement(w, rng, o, bt, ws)
    ws2, we2 = window(w, rng, o.real, agreed, o.big)
    b.rescheduled(w, c + uniform(rng, 26 * HOUR, 40 * HOUR, n), ws2, we2, INIT["customer"], RC["customer_request"])
    complete(w, rng, o, np.arange(n), deliver(w, rng, b, ws2, we2))
    w.expect("orphaned_reschedule", o.idx, "contact", contact)


# --- traps -------------------------------------------------------------------------------------
def trap_agreement_booked(w, rng, n, linked=True):
    """An agreed date booked in time: the booking is moved to it 1-23 h after the contact (every
    third exactly at 24 h: the new version counts from its start)."""
    o, s, b, bt, ws, we = _booked(w, rng, n)
    c, agreed, _ = _agreement(w, rng, o, bt, ws, linked)
    ws2, we2 = window(w, rng, o.real, agreed, o.big)
    t = np.where(third(n), c + 24 * HOUR, c + uniform(rng, HOUR, 23 * HOUR, n))
    b.rescheduled(w, t, ws2, we2, INIT["customer"], RC["customer_request"])
    complete(w, rng, o, np.arange(n), deliver(w, rng, b, ws2, we2))


def trap_agreement_booked_unlinked(w, rng, n):
    """The same, with a contact that has no order_id (attributed to the single open order)."""
    trap_agreement_booked(w, rng, n, linked=False)


def trap_two_short_contacts(w, rng, n):
    """Two short inbound contacts within a week (some unlinked): under every threshold."""
    o, hp = _delivered_orders(w, rng, n)
    times = _sorted_times(rng, o.placed + HOUR, hp["delivered"] - HOUR, 2)
    rows = np.repeat(np.arange(n), 2)
    order = np.where(rng.random(2 * n) < 0.3, NULL, o.idx[rows])
    inbound(w, rng, o.cust[rows], order, times.ravel(), handle=(60, 600))


def trap_three_contacts_over_a_week(w, rng, n):
    """Three short inbound contacts, the first and third 7 days + 3-20 h apart: never 3 in 7 days."""
    o, hp = _delivered_orders(w, rng, n, lead=(10, 11), kind="big")
    c1 = o.placed + uniform(rng, HOUR, 6 * HOUR, n)
    c2 = c1 + uniform(rng, 2 * DAY, 4 * DAY, n)
    c3 = c1 + 7 * DAY + uniform(rng, 3 * HOUR, 20 * HOUR, n)
    times = np.stack([c1, c2, c3], axis=1)
    rows = np.repeat(np.arange(n), 3)
    inbound(w, rng, o.cust[rows], o.idx[rows], times.ravel(), handle=(60, 600))


def trap_unlinked_two_open_orders(w, rng, n):
    """A customer with two open orders calls three times without an order_id (long calls): the
    contacts belong to neither order, so neither is high effort. Uses 2 orders per instance."""
    lo, hi = inside(w)
    o1 = new_orders(w, rng, n, lo=lo, hi=hi - DAY, lead=(6, 8))
    second = o1.placed + uniform(rng, 2 * HOUR, 20 * HOUR, n)
    o2 = new_orders(w, rng, n, placed=second, lead=(6, 8), customers=_customers_of(w, o1))
    h1, h2 = happy_path(w, rng, o1), happy_path(w, rng, o2)
    hi_t = np.minimum(h1["delivered"], h2["delivered"]) - 2 * HOUR
    times = _sorted_times(rng, second + 30 * MINUTE, np.minimum(hi_t, second + 5 * DAY), 3)
    rows = np.repeat(np.arange(n), 3)
    inbound(w, rng, o1.cust[rows], NULL, times.ravel(), handle=(900, 1200))


def _customers_of(w, o):
    """A Customers-like view of an order batch's customers (only what new_orders reads)."""
    return SimpleNamespace(cust=o.cust, zone=o.zone, real=o.real)
