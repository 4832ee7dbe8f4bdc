"""The founding story (README, docs/analysts.md): a customer buys a washer and a dryer in a store;
the delivery misses its 8-12 window; the contractor moves it, then cancels the night before and
rebooks 45 days out; the customer phones, emails, writes on social media and walks back into the
store, where an associate books an expedited delivery on top of the old one while the warehouse
sends a second set; both sets are delivered. Every system holds one piece of it.

Times are fixed on the customer's wall clock (day D = checkout, P = D + 6 = the promised date), so
the story, its exceptions and the customer's effort are known exactly:

| when (local) | system | fact |
|---|---|---|
| D 11:00 | oms | order placed in a store: 1 washing machine + 1 tumble dryer (install), promised P |
| D+1 07:00, 13:00, 14:00 | wms, contractor | S1 dispatched; received; BK1 booked for P 08:00-12:00 |
| D+1 14:10 | contacts | SMS delivery update (outbound, answered) |
| P 12:00 | - | the window ends: nobody came (missed_window BK1/v1, no_show) |
| P 14:00 | contacts | customer phones (wismo, 25 min, unresolved) |
| P 16:00 | contractor | contractor moves BK1 to P+2 08:00-12:00 (after the window: no late cancellation) |
| P+1 18:00 | contractor | contractor cancels BK1, 14 h before P+2 08:00 (late_cancellation) |
| P+1 19:30 | contractor | BK2 (same tracking ref) for P+45 08:00-12:00 (excessive_rebook_delay; rebooked within 24 h: not orphaned) |
| P+1 20:30 | contacts | customer emails (complaint, 12 min, callback promised) |
| P+2 09:00 | contacts | customer writes on social media, naming no order (8 min, transferred): third inbound contact in 7 days, a transfer, 2,700 s of agent time (high_effort_contact) |
| P+3 12:00 | contacts | customer walks into the store (35 min): the associate agrees P+5 |
| P+3 12:40 | contractor | BK3 (same tracking ref as BK2, both active) for P+5 08:00-12:00 (double_booking) |
| P+3 14:00, 22:00 | wms, contractor | S2: both items dispatched again (duplicate_shipment); received |
| P+4 09:00 | contractor | BK4 (S2's tracking ref) for P+6 08:00-12:00 |
| P+5 07:00, 09:30 | contractor | BK3 out for delivery, delivered: the order is delivered in full, which puts right the missed window, late cancellation, rebook delay and double booking |
| P+6 07:00, 10:15 | contractor | BK4 out for delivery, delivered: the second set arrives |

At T the order is still open (the second set is to be collected): duplicate_shipment and
high_effort_contact are open, so the outreach queue holds the case. Effort at T: 4 inbound
contacts on 4 channels, 3 of them within 7 days of the one before, 1 transfer, 80 minutes of
agent time. truth/stories.csv lists every fact of the story in order (scenarios record it with
World.tell).
"""
from __future__ import annotations

import numpy as np

from fulfilment_monitor.generate import catalog as cat
from fulfilment_monitor.generate.clock import DAY, HOUR, MINUTE
from fulfilment_monitor.generate.contacts import add_contacts
from fulfilment_monitor.generate.fulfil import bookings_for, dispatch
from fulfilment_monitor.generate.orders import Orders, draw_zones, new_customers
from fulfilment_monitor.generate.scenarios.base import INIT, RC, inside
from fulfilment_monitor.generate.world import NULL

SKUS = ("WSH-8KG1", "DRY-HP08")  # washing machine, tumble dryer: both delivered and installed
ZONES = ("America/New_York", "America/Chicago", "America/Los_Angeles")
PROMISE_DAYS = 6  # P = checkout day + 6
SPAN_DAYS = PROMISE_DAYS + 6  # the second set arrives on P + 6
REBOOK_DAYS = 45  # the date the contractor offers: 45 days after the promise
INSTALL_FEE = 4900  # cents, as for every big-item order


def _order(w, rng, n):
    """n store orders of one washing machine and one tumble dryer, placed at 11:00 local."""
    lo, hi = inside(w, SPAN_DAYS)
    zone, real = draw_zones(rng, n, ZONES)
    first = w.clock.local_day(real, lo) + 1
    day = first + rng.integers(0, max(1, (hi - lo) // DAY - 1), n)
    placed = w.clock.at_local(real, day, 11 * HOUR)
    customers = new_customers(w, rng, n, placed, drawn=(zone, real))
    products = np.array([np.flatnonzero(cat.SKUS == sku)[0] for sku in SKUS])
    l_pos = np.repeat(np.arange(n), len(products))
    l_product = np.tile(products, n)
    price = cat.PRODUCT_PRICE[l_product]  # US dollars: no conversion
    o = Orders(idx=w.ids("order", n, born=placed), cust=customers.cust, zone=zone, real=real, placed=placed,
               promised=day + PROMISE_DAYS, channel=np.full(n, cat.SALES_CHANNELS.index("store")),
               store=rng.integers(0, len(cat.STORES), n), currency=cat.ZONE_CURRENCY[real],
               total=np.bincount(l_pos, weights=price, minlength=n).astype(np.int64) + INSTALL_FEE,
               big=np.ones(n, bool), contractor=cat.ZONE_BIG_K[real, rng.integers(0, 2, n)],
               wh=cat.ZONE_WAREHOUSE[real], l_pos=l_pos, l_no=np.tile(np.arange(1, len(products) + 1), n),
               l_qty=np.ones(len(l_pos), np.int64), l_product=l_product)
    o.rows(w, placed, "placed")
    w.lines.add(order=o.idx[l_pos], line_no=o.l_no, product=l_product, qty=o.l_qty, price=price,
                updated=placed[l_pos])
    return o, day


def founding_story(w, rng, n):
    o, day = _order(w, rng, n)
    pos = np.arange(n)
    P = PROMISE_DAYS

    def at(days, hour, minute=0):
        """The instant of a wall-clock time `days` after checkout day, in each customer's zone."""
        return w.clock.at_local(o.real, day + days, hour * HOUR + minute * MINUTE)

    def window(days):
        return at(days, 8), at(days, 12)

    def contact(channel, direction, t, team, handle, reason, outcome, linked=True, **kw):
        ids = add_contacts(w, o.cust, o.idx if linked else NULL, channel, direction, t, team=team,
                           handle=np.full(n, handle) if handle is not None else NULL, reason=reason,
                           outcome=outcome, **kw)
        w.tell(o.idx, t, "contacts", "contact", "contact", ids)

    w.tell(o.idx, o.placed, "oms", "order_version", "order_version", o.idx)
    for line_no in (1, 2):
        w.tell(o.idx, o.placed, "oms", "order_line", "order_line", o.idx, np.full(n, line_no))

    s1 = dispatch(w, o, pos, at(1, 7))
    w.tell(o.idx, s1.dispatched, "wms", "shipment", "shipment", s1.idx)
    received = at(1, 13)
    s1.received(w, received)
    w.tell(o.idx, received, "contractor", "contractor_event", "event", _last_events(w, n))
    bk1 = _book(w, s1, at(1, 14), window(P))
    contact("sms", "outbound", at(1, 14, 10), "delivery_desk", None, "notification", "sent",
            responded=np.ones(n, np.int64))
    w.tell(o.idx, window(P)[1], "monitor", "exception_opened", "exception", "missed_window")

    contact("phone", "inbound", at(P, 14), "contact_centre", 1500, "wismo", "unresolved")
    bk1_moved = at(P, 16)
    moved = bk1.rescheduled(w, bk1_moved, *window(P + 2), INIT["contractor"], RC["capacity"])
    w.tell(o.idx, bk1_moved, "contractor", "booking_version", "event", moved)
    cancelled = at(P + 1, 18)
    cancel = bk1.cancelled(w, cancelled, INIT["contractor"], RC["vehicle"])
    w.tell(o.idx, cancelled, "contractor", "contractor_event", "event", cancel)
    w.tell(o.idx, cancelled, "monitor", "exception_opened", "exception", "late_cancellation")
    bk2 = _book(w, s1, at(P + 1, 19, 30), window(P + REBOOK_DAYS))
    w.tell(o.idx, at(P + 1, 19, 30), "monitor", "exception_opened", "exception", "excessive_rebook_delay")

    contact("email", "inbound", at(P + 1, 20, 30), "contact_centre", 720, "complaint", "callback_promised")
    contact("social", "inbound", at(P + 2, 9), "social", 480, "complaint", "transferred", linked=False)
    w.tell(o.idx, at(P + 2, 9), "monitor", "exception_opened", "exception", "high_effort_contact")
    contact("store", "inbound", at(P + 3, 12), "store", 2100, "reschedule", "reschedule_agreed",
            agreed=day + P + 5)
    bk3 = _book(w, s1, at(P + 3, 12, 40), window(P + 5))
    w.tell(o.idx, at(P + 3, 12, 40), "monitor", "exception_opened", "exception", "double_booking")

    s2 = dispatch(w, o, pos, at(P + 3, 14))
    w.tell(o.idx, s2.dispatched, "wms", "shipment", "shipment", s2.idx)
    w.tell(o.idx, s2.dispatched, "monitor", "exception_opened", "exception", "duplicate_shipment")
    s2.received(w, at(P + 3, 22))
    w.tell(o.idx, at(P + 3, 22), "contractor", "contractor_event", "event", _last_events(w, n))
    bk4 = _book(w, s2, at(P + 4, 9), window(P + 6))

    first_set = _deliver(w, o, bk3, at(P + 5, 7), at(P + 5, 9, 30))
    for kind in ("missed_window", "late_cancellation", "excessive_rebook_delay", "double_booking"):
        w.tell(o.idx, first_set, "monitor", "exception_resolved", "exception", kind)  # delivered in full
    _deliver(w, o, bk4, at(P + 6, 7), at(P + 6, 10, 15))
    w.tell(o.idx, np.full(n, w.T), "monitor", "outreach_queued", "case", o.idx)

    w.expect("missed_window", o.idx, "version", bk1.idx, 1, subtype="no_show")
    w.expect("late_cancellation", o.idx, "event", cancel)
    w.expect("excessive_rebook_delay", o.idx, "booking", bk2.idx)
    w.expect("high_effort_contact", o.idx, "order", o.idx)
    w.expect("double_booking", o.idx, "order_ref", o.idx, s1.idx)
    w.expect("duplicate_shipment", o.idx, "order", o.idx)


def _book(w, s, t, window):
    """A booking of shipment s's goods (its tracking ref) made at t for `window`, told."""
    b = bookings_for(w, s, t)
    w.tell(s.order, t, "contractor", "booking_version", "event", b.created(w, t, *window))
    return b


def _deliver(w, o, b, out_at, delivered_at):
    w.tell(o.idx, out_at, "contractor", "contractor_event", "event", b.out_for_delivery(w, out_at))
    w.tell(o.idx, delivered_at, "contractor", "contractor_event", "event", b.delivered(w, delivered_at))
    return delivered_at


def _last_events(w, n):
    """The n contractor events added last (Shipments.received returns none): one per story."""
    return np.arange(w.count("event") - n, w.count("event"))
