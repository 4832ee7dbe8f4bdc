"""Customers, orders and order lines (the OMS side of the world), vectorised."""
from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from fulfilment_monitor.generate import catalog as cat
from fulfilment_monitor.generate.clock import HOUR, MINUTE, Z
from fulfilment_monitor.generate.world import NULL, World

_ZONE_CODES = np.array([NULL if z is None else Z[z] for z, _ in cat.CUSTOMER_ZONES])
_ZONE_P = np.array([p for _, p in cat.CUSTOMER_ZONES])
_HIDDEN = np.array([Z[z] for z, _ in cat.HIDDEN_ZONES])
_HIDDEN_P = np.array([p for _, p in cat.HIDDEN_ZONES])
_CURRENCY_FACTOR = np.array([1.0, 0.92, 150.0, 1.5])  # USD cents -> cents of USD, EUR, JPY, AUD


@dataclass
class Customers:
    cust: np.ndarray
    zone: np.ndarray  # OMS time zone, NULL when unknown
    real: np.ndarray  # where the delivery address really is
    first: np.ndarray
    last: np.ndarray
    email: np.ndarray  # 1 when the customer has an email
    email_domain: np.ndarray
    phone: np.ndarray  # national number, NULL when none
    pref: np.ndarray
    c_email: np.ndarray
    c_sms: np.ndarray
    c_phone: np.ndarray
    c_whatsapp: np.ndarray
    mkt: np.ndarray

    def __len__(self) -> int:
        return len(self.cust)

    def take(self, pos) -> "Customers":
        return Customers(**{f.name: getattr(self, f.name)[pos] for f in fields(self)})

    def write(self, w: World, updated, pos=None, **changes) -> None:
        """One OMS customers row per customer (at `pos`), with optional changed fields."""
        c = self if pos is None else self.take(pos)
        values = {f.name: getattr(c, f.name) for f in fields(c) if f.name != "real"}
        values.update(changes)
        w.customers.add(updated=updated, **values)


def draw_zones(rng: np.random.Generator, n: int, zones=None) -> tuple[np.ndarray, np.ndarray]:
    """(OMS zone, real zone) for n customers; `zones` (names, None = unknown) restricts the draw."""
    if zones is None:
        zone = _ZONE_CODES[rng.choice(len(_ZONE_P), n, p=_ZONE_P)]
    else:
        pool = np.array([NULL if z is None else Z[z] for z in zones])
        zone = pool[rng.integers(0, len(pool), n)]
    real = np.where(zone == NULL, _HIDDEN[rng.choice(len(_HIDDEN_P), n, p=_HIDDEN_P)], zone)
    return zone, real


def new_customers(w: World, rng: np.random.Generator, n: int, first_seen, zones=None,
                  drawn: tuple[np.ndarray, np.ndarray] | None = None) -> Customers:
    """n customers created shortly before `first_seen`, in zones drawn by draw_zones (or given)."""
    zone, real = draw_zones(rng, n, zones) if drawn is None else drawn
    updated = np.asarray(first_seen, np.int64) - rng.integers(MINUTE, 15 * MINUTE, n)
    cust = w.ids("customer", n, born=updated)
    has_phone = rng.random(n) < 0.88
    c = Customers(
        cust=cust, zone=zone, real=real,
        first=rng.integers(0, len(cat.FIRST), n), last=rng.integers(0, len(cat.LAST), n),
        email=(rng.random(n) < 0.94).astype(np.int64),
        email_domain=rng.integers(0, len(cat.MAIL_DOMAINS), n),
        phone=np.where(has_phone, rng.integers(2_000_000_000, 9_999_999_999, n), NULL),
        pref=np.where(rng.random(n) < 0.2, NULL, rng.choice(4, n, p=[0.4, 0.3, 0.15, 0.15])),
        c_email=(rng.random(n) < 0.85).astype(np.int64), c_sms=(rng.random(n) < 0.6).astype(np.int64),
        c_phone=(rng.random(n) < 0.7).astype(np.int64), c_whatsapp=(rng.random(n) < 0.3).astype(np.int64),
        mkt=(rng.random(n) < 0.35).astype(np.int64),
    )
    # the preferred channel is usually consented to (not always: outreach must cope)
    consents = np.stack([c.c_email, c.c_sms, c.c_phone, c.c_whatsapp], axis=1)
    keep = rng.random(n) < 0.9
    has_pref = c.pref != NULL
    consents[has_pref & keep, c.pref[has_pref & keep]] = 1
    c.c_email, c.c_sms, c.c_phone, c.c_whatsapp = (consents[:, i].copy() for i in range(4))
    c.write(w, updated)
    return c


@dataclass
class Orders:
    idx: np.ndarray
    cust: np.ndarray
    zone: np.ndarray
    real: np.ndarray
    placed: np.ndarray
    promised: np.ndarray  # epoch day, in the delivery address's zone
    channel: np.ndarray
    store: np.ndarray
    currency: np.ndarray
    total: np.ndarray
    big: np.ndarray  # has a two_person or install line
    contractor: np.ndarray
    wh: np.ndarray
    # lines, flattened; l_pos is the order's position in this batch
    l_pos: np.ndarray
    l_no: np.ndarray
    l_qty: np.ndarray
    l_product: np.ndarray

    def __len__(self) -> int:
        return len(self.idx)

    def rows(self, w: World, t, status: str, pos=None, promised=None, total=None, drop=NULL) -> None:
        """An OMS orders row (a new state) for the orders at `pos`, updated at t."""
        pos = np.arange(len(self)) if pos is None else np.asarray(pos)
        w.orders.add(order=self.idx[pos], cust=self.cust[pos], channel=self.channel[pos],
                     store=self.store[pos], placed=self.placed[pos],
                     promised=self.promised[pos] if promised is None else promised,
                     status=cat.STATUS[status], total=self.total[pos] if total is None else total,
                     currency=self.currency[pos], updated=t, drop=drop)


def new_orders(w: World, rng: np.random.Generator, n: int, *, lo=None, hi=None, placed=None,
               lead=(4, 7), lead_big=None, promised=None, kind: str = "mixed", n_lines=None,
               customers: Customers | None = None, zones=None, channel=None, header_drop=NULL) -> Orders:
    """n orders (and their customers unless given), with their OMS header and lines written.

    `placed` (instants) or a uniform draw in [lo, hi]; `promised` (epoch days) or placed's local
    day plus a lead in days. `kind`: mixed, parcel or big. `n_lines`: fixed count or 1-3.
    """
    clock = w.clock
    if placed is None:
        placed = rng.integers(lo, hi, n)
    placed = np.asarray(placed, np.int64)
    if customers is None:
        customers = new_customers(w, rng, n, placed, zones)
    # big items
    if kind == "mixed":
        big = rng.random(n) < 0.3
    else:
        big = np.full(n, kind == "big")
    if n_lines is None:
        count = rng.choice([1, 2, 3], n, p=[0.5, 0.35, 0.15])
    else:
        count = np.broadcast_to(np.asarray(n_lines, np.int64), (n,)).copy()
    l_pos = np.repeat(np.arange(n), count)
    starts = np.cumsum(count) - count
    l_no = np.arange(len(l_pos)) - starts[l_pos] + 1
    first = l_no == 1
    l_big = big[l_pos] & first
    parcel_p, two_p, inst_p = (cat.PRODUCTS_OF[f] for f in ("parcel", "two_person", "install"))
    big_pool = np.concatenate([two_p, inst_p])
    l_product = np.where(l_big, big_pool[rng.integers(0, len(big_pool), len(l_pos))],
                         parcel_p[rng.integers(0, len(parcel_p), len(l_pos))])
    l_qty = np.where(l_big, 1, rng.choice([1, 2, 3, 4], len(l_pos), p=[0.6, 0.25, 0.1, 0.05]))
    real, zone = customers.real, customers.zone
    currency = cat.ZONE_CURRENCY[real]
    l_price = _in_currency(cat.PRODUCT_PRICE[l_product], currency[l_pos])
    fee = np.where(big, 4900, np.where(rng.random(n) < 0.5, 0, 599))
    total = np.bincount(l_pos, weights=l_qty * l_price, minlength=n).astype(np.int64)
    total += _in_currency(fee, currency)
    if promised is None:
        lead_big = lead if lead_big is None else lead_big
        days = np.where(big, rng.integers(lead_big[0], lead_big[1] + 1, n), rng.integers(lead[0], lead[1] + 1, n))
        promised = clock.local_day(real, placed) + days
    promised = np.broadcast_to(np.asarray(promised, np.int64), (n,)).copy()
    if channel is None:
        ch = rng.choice(len(cat.SALES_CHANNELS), n, p=[0.5, 0.25, 0.15, 0.1])
    else:
        ch = np.full(n, cat.SALES_CHANNELS.index(channel))
    store = np.where(ch == cat.SALES_CHANNELS.index("store"), rng.integers(0, len(cat.STORES), n), NULL)
    k = rng.integers(0, 2, n)
    contractor = np.where(big, cat.ZONE_BIG_K[real, k], cat.ZONE_PARCEL_K[real, k])
    o = Orders(idx=w.ids("order", n, born=placed), cust=customers.cust, zone=zone, real=real, placed=placed,
               promised=promised, channel=ch, store=store, currency=currency, total=total, big=big,
               contractor=contractor, wh=cat.ZONE_WAREHOUSE[real], l_pos=l_pos, l_no=l_no, l_qty=l_qty,
               l_product=l_product)
    o.rows(w, placed, "placed", drop=header_drop)
    w.lines.add(order=o.idx[l_pos], line_no=l_no, product=l_product, qty=l_qty, price=l_price,
                updated=placed[l_pos])
    return o


def _in_currency(usd_cents, currency) -> np.ndarray:
    """A US-dollar price in cents of the order's currency (whole yen for JPY)."""
    cents = usd_cents * _CURRENCY_FACTOR[currency]
    step = np.where(currency == cat.CURRENCIES.index("JPY"), 100, 1)
    return (np.round(cents / step) * step).astype(np.int64)


def uniform(rng: np.random.Generator, lo, hi, n=None) -> np.ndarray:
    """Integer instants/durations uniformly in [lo, hi] (arrays broadcast)."""
    lo, hi = np.asarray(lo, np.int64), np.asarray(hi, np.int64)
    shape = np.broadcast_shapes(lo.shape, hi.shape) if n is None else (n,)
    return lo + np.floor(rng.random(shape) * (hi - lo + 1)).astype(np.int64)


def hours(rng: np.random.Generator, lo: float, hi: float, n: int) -> np.ndarray:
    """Durations in seconds, uniform between lo and hi hours."""
    return uniform(rng, int(lo * HOUR), int(hi * HOUR), n)


