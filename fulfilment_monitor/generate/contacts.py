"""Contact-centre and store interactions: one writer for a batch of contacts, and the
background chatter of ordinary orders that must stay under every high-effort threshold."""
from __future__ import annotations

import numpy as np

from fulfilment_monitor.generate import catalog as cat
from fulfilment_monitor.generate.clock import DAY, HOUR, MINUTE
from fulfilment_monitor.generate.orders import Orders, uniform
from fulfilment_monitor.generate.world import NULL, World

# team that answers an inbound contact on each channel
_TEAM_OF_CHANNEL = np.array([cat.TEAM[{"social": "social", "store": "store"}.get(ch, "contact_centre")]
                             for ch in cat.CONTACT_CHANNELS])
_INBOUND_CHANNELS = np.array([cat.CH[c] for c in ("phone", "chat", "email", "whatsapp", "social", "store")])
_INBOUND_P = np.array([0.4, 0.2, 0.15, 0.1, 0.08, 0.07])
_NOTIFY_CHANNELS = np.array([cat.CH[c] for c in ("sms", "email", "whatsapp")])


def add_contacts(w: World, cust, order, channel, direction, started, *, team=None, handle=NULL,
                 reason="other", outcome="resolved", agreed=NULL, responded=NULL) -> np.ndarray:
    """A batch of contacts; enums by name (scalars) or code arrays. Returns contact indexes."""
    started = np.atleast_1d(np.asarray(started, np.int64))
    n = len(started)

    def code(v, table):
        return table[v] if isinstance(v, str) else np.asarray(v, np.int64)

    ch = code(channel, cat.CH)
    direction_code = code(direction, cat.DIR)
    team_code = _TEAM_OF_CHANNEL[np.broadcast_to(ch, (n,))] if team is None else code(team, cat.TEAM)
    idx = w.ids("contact", n, born=started)
    w.contacts.add(contact=idx, cust=cust, order=order, channel=ch, direction=direction_code, team=team_code,
                   started=started, handle=handle, reason=code(reason, cat.CR), outcome=code(outcome, cat.OUT),
                   agreed=agreed, responded=responded)
    return idx


def inbound(w: World, rng, cust, order, started, *, handle=(60, 900), reason=None, outcome=None, **kw):
    """Inbound contacts on a random channel with a short handle time."""
    started = np.atleast_1d(np.asarray(started, np.int64))
    n = len(started)
    ch = _INBOUND_CHANNELS[rng.choice(len(_INBOUND_P), n, p=_INBOUND_P)]
    if reason is None:
        reason = np.array([cat.CR[r] for r in ("wismo", "complaint", "other")])[rng.choice(3, n, p=[.7, .2, .1])]
    if outcome is None:
        outcome = np.array([cat.OUT[o] for o in ("resolved", "unresolved", "callback_promised")])[
            rng.choice(3, n, p=[.75, .15, .1])]
    hs = uniform(rng, handle[0], handle[1], n) if isinstance(handle, tuple) else handle
    return add_contacts(w, cust, order, ch, "inbound", started, handle=hs, reason=reason, outcome=outcome, **kw)


def background(w: World, rng, o: Orders, pos, open_until, *, max_inbound: int = 2,
               allow_unlinked: bool = True) -> None:
    """Ordinary contacts of orders at `pos`: service notifications, at most `max_inbound` short
    inbound contacts while the order is open (some without an order_id when `allow_unlinked`,
    only for customers with this one order), marketing upsells and surveys. Nothing here can
    reach a high-effort threshold or look like a reschedule. `open_until`: when the order stops
    being open (its delivery), or T (or later) when it is open at T."""
    pos = np.asarray(pos)
    n = len(pos)
    if n == 0:
        return
    T = w.T
    placed = o.placed[pos]
    # the order's natural close (an order still open at T: ten days after checkout); contacts
    # that would fall after T simply have not happened yet (the writer leaves them out)
    until = np.asarray(open_until, np.int64)
    until = np.maximum(np.where(until >= T, placed + 10 * DAY, until), placed + HOUR)
    soon = np.minimum(until, placed + 3 * DAY)
    cust, order = o.cust[pos], o.idx[pos]
    # outbound delivery notification in the first days
    m = rng.random(n) < 0.35
    add_contacts(w, cust[m], order[m], _NOTIFY_CHANNELS[rng.integers(0, 3, m.sum())], "outbound",
                 uniform(rng, placed[m] + HOUR, soon[m]), team="delivery_desk", reason="notification",
                 outcome="sent", responded=(rng.random(m.sum()) < 0.35).astype(np.int64))
    # inbound while open: 0..max_inbound, handle <= 900 s each (sum stays < 2700)
    if max_inbound > 0:
        k = np.minimum(rng.choice([0, 1, 2], n, p=[0.8, 0.15, 0.05]), max_inbound)
        which = np.repeat(np.arange(n), k)
        linked = order[which].copy()
        if allow_unlinked:
            linked[rng.random(len(which)) < 0.15] = NULL
        inbound(w, rng, cust[which], linked, uniform(rng, placed[which] + 30 * MINUTE, until[which]))
    # outbound phone call from the delivery desk
    m = rng.random(n) < 0.04
    add_contacts(w, cust[m], order[m], "phone", "outbound", uniform(rng, placed[m] + HOUR, soon[m]),
                 team="delivery_desk", handle=uniform(rng, 30, 300, m.sum()), reason="wismo",
                 outcome=np.where(rng.random(m.sum()) < 0.5, cat.OUT["no_answer"], cat.OUT["resolved"]),
                 responded=(rng.random(m.sum()) < 0.5).astype(np.int64))
    # marketing upsell (not about an order) days later, sometimes answered (rows after T never happen)
    m = rng.random(n) < 0.08
    add_contacts(w, cust[m], NULL, np.array([cat.CH["email"], cat.CH["sms"]])[rng.integers(0, 2, m.sum())],
                 "outbound", placed[m] + uniform(rng, DAY, 14 * DAY, m.sum()), team="marketing",
                 reason="upsell", outcome="sent", responded=(rng.random(m.sum()) < 0.1).astype(np.int64))
    # survey after the order is done
    m = rng.random(n) < 0.1
    add_contacts(w, cust[m], order[m], np.array([cat.CH["email"], cat.CH["sms"]])[rng.integers(0, 2, m.sum())],
                 "outbound", np.asarray(open_until, np.int64)[m] + uniform(rng, 2 * HOUR, 3 * DAY, m.sum()),
                 team="contact_centre", reason="survey",
                 outcome=np.where(rng.random(m.sum()) < 0.7, cat.OUT["sent"], cat.OUT["no_answer"]),
                 responded=(rng.random(m.sum()) < 0.25).astype(np.int64))
