"""Clean orders: the bulk of the data, none of which may fire anything at T.

Placed uniformly over the whole period (up to an hour before T), promised 4-7 days out
(two-person and install 5-10), dispatched 3-20 h after checkout, received by the contractor
1-18 h later, booked right after on the promised date, delivered inside the window and
completed in the OMS. Because the lead is at least 4 days, any order promised today or
tomorrow at T was booked and fully dispatched well before T; and anything still running at T
(dispatched < 48 h before T, windows ending after T - 30 min) simply has not happened yet.

About 7% are a repeat customer's second order; 5% of customers change their contact
preferences later; a few late-evening orders have their header one drop after their lines;
about 1% of completed orders get a stale OMS correction row that arrives after the
completion (compare updated_at, never load order); 3% of deliveries get an event of the
unknown type `photo_proof_uploaded`.
"""
from __future__ import annotations

import numpy as np

from fulfilment_monitor.generate.clock import DAY, HOUR
from fulfilment_monitor.generate.contacts import background
from fulfilment_monitor.generate.fulfil import happy_path
from fulfilment_monitor.generate.orders import new_customers, new_orders, uniform
from fulfilment_monitor.generate.world import NULL


def clean_orders(w, rng, n):
    clock = w.clock
    n_repeat = int(round(n * 0.07))
    n_first = n - n_repeat
    lo, hi = clock.start_s + HOUR, w.T - HOUR
    placed = rng.integers(lo, hi, n_first)
    # a late-evening order's header can reach the OMS extract a day after its lines
    day = clock.day_index(placed)
    late_evening = (placed - (clock.start_s + day * DAY)) >= 21 * HOUR
    delayed = late_evening & (day <= w.clock.days - 3) & (rng.random(n_first) < 0.3)
    header_drop = np.where(delayed, day + 1, NULL)
    customers = new_customers(w, rng, n_first, placed)
    o1 = new_orders(w, rng, n_first, placed=placed, lead=(4, 7), lead_big=(5, 10), customers=customers,
                    header_drop=header_drop)
    # repeat customers: a second order 1-10 days after the first
    room = np.flatnonzero(o1.placed < w.T - 3 * DAY)
    who = np.sort(rng.choice(room, min(n_repeat, len(room)), replace=False))
    gap = np.minimum(uniform(rng, DAY, 10 * DAY, len(who)), w.T - HOUR - o1.placed[who])
    o2 = new_orders(w, rng, len(who), placed=o1.placed[who] + gap, lead=(4, 7), lead_big=(5, 10),
                    customers=customers.take(who))
    single = np.ones(n_first, bool)
    single[who] = False
    for o, alone in ((o1, single), (o2, np.zeros(len(o2), bool))):
        hp = happy_path(w, rng, o, photo_share=0.03)
        pos = np.arange(len(o))
        background(w, rng, o, pos[alone], hp["delivered"][alone], max_inbound=2)
        background(w, rng, o, pos[~alone], hp["delivered"][~alone], max_inbound=2, allow_unlinked=False)
        _stale_corrections(w, rng, o, hp["completed"])
    # customers changing their contact preferences
    change = np.flatnonzero((rng.random(n_first) < 0.05) & (placed < w.T - 2 * DAY))
    t = placed[change] + uniform(rng, HOUR, np.minimum(6 * DAY, w.T - HOUR - placed[change]))
    customers.write(w, t, pos=change, pref=rng.integers(0, 4, len(change)),
                    c_sms=np.ones(len(change), np.int64), mkt=rng.integers(0, 2, len(change)))
    return n_first + len(who)


def _stale_corrections(w, rng, o, completed):
    """A price correction row with an updated_at between checkout and completion that arrives in
    the drop after the completion row: it must not reopen the order."""
    done_day = w.clock.day_index(completed)
    pick = np.flatnonzero((rng.random(len(o)) < 0.01) & (completed < w.T) & (done_day + 1 <= w.clock.days - 1))
    if len(pick) == 0:
        return
    t = o.placed[pick] + ((completed[pick] - o.placed[pick]) * rng.uniform(0.2, 0.8, len(pick))).astype(np.int64)
    o.rows(w, t, "placed", pos=pick, total=o.total[pick] - 100, drop=done_day[pick] + 1)
