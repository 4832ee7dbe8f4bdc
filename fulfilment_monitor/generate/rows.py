"""World codes -> feed values as text (Arrow strings), one formatter per feed file, columns in
the order feeds.py declares. A column is (values, null mask or None, free_text)."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fulfilment_monitor.feeds import CHANNELS, FeedFile
from fulfilment_monitor.generate import catalog as cat
from fulfilment_monitor.generate.clock import UTC, ZONES, Z, Clock
from fulfilment_monitor.generate.encode import join
from fulfilment_monitor.generate.ids import Ids
from fulfilment_monitor.generate.world import NULL

OMS_ZONE = Z["America/Chicago"]  # the OMS writes its timestamps at head office
CONTACTS_ZONE = UTC  # the contact platform logs in UTC


class Texts:
    """`texts[codes]`: the text of each code (code i means values[i])."""

    def __init__(self, values):
        self.values = pa.array([str(v) for v in values], pa.string())

    def __getitem__(self, codes) -> pa.Array:
        return self.values.take(pa.array(np.asarray(codes, np.int64)))


_ZONES, _CHANNELS, _STORES = Texts(ZONES), Texts(CHANNELS), Texts(cat.STORES)
_SALES_CHANNELS, _STATUSES, _CURRENCIES = Texts(cat.SALES_CHANNELS), Texts(cat.ORDER_STATUSES), Texts(cat.CURRENCIES)
_SKUS, _DESCRIPTIONS, _FULFILMENT_TYPES = Texts(cat.SKUS), Texts(cat.DESCRIPTIONS), Texts(cat.FULFILMENT_TYPES)
_WAREHOUSES, _CONTRACTORS = Texts(w for w, _ in cat.WAREHOUSES), Texts(c for c, _ in cat.CONTRACTORS)
_SHIPMENT_REASONS, _EVENT_TYPES = Texts(cat.SHIPMENT_REASONS), Texts(cat.EVENT_TYPE_NAMES)
_INITIATORS, _REASON_CODES = Texts(cat.INITIATORS), Texts(cat.REASON_CODE_NAMES)
_CONTACT_CHANNELS, _DIRECTIONS, _TEAMS = Texts(cat.CONTACT_CHANNELS), Texts(cat.DIRECTIONS), Texts(cat.TEAMS)
_CONTACT_REASONS, _OUTCOMES = Texts(cat.CONTACT_REASONS), Texts(cat.OUTCOMES)
_FIRST, _LAST = Texts(cat.FIRST), Texts(cat.LAST)
_FIRST_ASCII, _LAST_ASCII = Texts(cat.FIRST_ASCII), Texts(cat.LAST_ASCII)
_MAIL_DOMAINS, _ZONE_PHONE, _BOOL = Texts(cat.MAIL_DOMAINS), Texts(cat.ZONE_PHONE), Texts(("false", "true"))


def _lookup(table, codes):
    codes = np.asarray(codes)
    null = codes == NULL
    return table[np.where(null, 0, codes)], (null if null.any() else None)


def _int(v) -> pa.Array:
    return pc.cast(pa.array(np.asarray(v, np.int64)), pa.string())


def _bool(v) -> pa.Array:
    return _BOOL[np.asarray(v) == 1]


def _money(cents) -> pa.Array:
    cents = np.asarray(cents, np.int64)
    return join(_int(cents // 100), ".", pc.utf8_lpad(_int(cents % 100), 2, "0"))


def _nullable_int(v):
    v = np.asarray(v)
    null = v == NULL
    return _int(v), (null if null.any() else None)


def customers(f, ids: Ids, clock: Clock):
    first, last = f["first"], f["last"]
    customer = ids.customer[f["cust"]]
    email = join(_FIRST_ASCII[first], ".", _LAST_ASCII[last], ".", pc.utf8_lower(customer), "@",
                 _MAIL_DOMAINS[f["email_domain"]])
    phone = join("+", _ZONE_PHONE[np.where(f["zone"] == NULL, Z["America/New_York"], f["zone"])], _int(f["phone"]))
    tz, tz_null = _lookup(_ZONES, f["zone"])
    pref, pref_null = _lookup(_CHANNELS, f["pref"])
    return [
        (customer, None, False),
        (join(_FIRST[first], " ", _LAST[last]), None, True),
        (email, f["email"] == 0, False),
        (phone, f["phone"] == NULL, False),
        (tz, tz_null, False),
        (pref, pref_null, False),
        (_bool(f["c_email"]), None, False),
        (_bool(f["c_sms"]), None, False),
        (_bool(f["c_phone"]), None, False),
        (_bool(f["c_whatsapp"]), None, False),
        (_bool(f["mkt"]), None, False),
        (clock.fmt_ts(f["updated"], OMS_ZONE), None, False),
    ]


def orders(f, ids: Ids, clock: Clock):
    store, store_null = _lookup(_STORES, f["store"])
    return [
        (ids.order[f["order"]], None, False),
        (ids.customer[f["cust"]], None, False),
        (_SALES_CHANNELS[f["channel"]], None, False),
        (store, store_null, False),
        (clock.fmt_ts(f["placed"], OMS_ZONE), None, False),
        (clock.fmt_date(f["promised"]), None, False),
        (_STATUSES[f["status"]], None, False),
        (_money(f["total"]), None, False),
        (_CURRENCIES[f["currency"]], None, False),
        (clock.fmt_ts(f["updated"], OMS_ZONE), None, False),
    ]


def order_lines(f, ids: Ids, clock: Clock):
    return [
        (ids.order[f["order"]], None, False),
        (_int(f["line_no"]), None, False),
        (_SKUS[f["product"]], None, False),
        (_DESCRIPTIONS[f["product"]], None, True),
        (_int(f["qty"]), None, False),
        (_money(f["price"]), None, False),
        (_FULFILMENT_TYPES[cat.PRODUCT_FT[f["product"]]], None, False),
        (clock.fmt_ts(f["updated"], OMS_ZONE), None, False),
    ]


def shipments(f, ids: Ids, clock: Clock):
    replaces, replaces_null = _lookup(ids.shipment, f["replaces"])
    return [
        (ids.shipment[f["ship"]], None, False),
        (ids.order[f["order"]], None, False),
        (_WAREHOUSES[f["wh"]], None, False),
        (clock.fmt_ts(f["dispatched"], cat.WAREHOUSE_ZONE[f["wh"]]), None, False),
        (_CONTRACTORS[f["contractor"]], None, False),
        (ids.tracking[f["ship"]], None, False),
        (_SHIPMENT_REASONS[f["reason"]], None, False),
        (replaces, replaces_null, False),
    ]


def shipment_lines(f, ids: Ids, clock: Clock):
    return [
        (ids.shipment[f["ship"]], None, False),
        (_int(f["line_no"]), None, False),
        (_int(f["qty"]), None, False),
    ]


def events(f, ids: Ids, clock: Clock):
    booking, booking_null = _lookup(ids.booking, f["booking"])
    tracking, tracking_null = _lookup(ids.tracking, f["tracking"])
    window_null = f["ws"] == NULL
    ws = clock.fmt_ts(np.where(window_null, f["occurred"], f["ws"]), f["wzone"])
    we = clock.fmt_ts(np.where(window_null, f["occurred"], f["we"]), f["wzone"])
    init, init_null = _lookup(_INITIATORS, f["init"])
    reason, reason_null = _lookup(_REASON_CODES, f["reason"])
    wn = window_null if window_null.any() else None
    return [
        (ids.event[f["event"]], None, False),
        (_EVENT_TYPES[f["etype"]], None, False),
        (clock.fmt_ts(f["occurred"], f["wzone"]), None, False),
        (_CONTRACTORS[f["contractor"]], None, False),
        (booking, booking_null, False),
        (ids.order[f["order"]], None, False),
        (tracking, tracking_null, False),
        (ws, wn, False),
        (we, wn, False),
        (init, init_null, False),
        (reason, reason_null, False),
    ]


def contacts(f, ids: Ids, clock: Clock):
    order, order_null = _lookup(ids.order, f["order"])
    handle, handle_null = _nullable_int(f["handle"])
    agreed_null = f["agreed"] == NULL
    agreed = clock.fmt_date(np.where(agreed_null, clock.start_day, f["agreed"]))
    responded_null = f["responded"] == NULL
    return [
        (ids.contact[f["contact"]], None, False),
        (ids.customer[f["cust"]], None, False),
        (order, order_null, False),
        (_CONTACT_CHANNELS[f["channel"]], None, False),
        (_DIRECTIONS[f["direction"]], None, False),
        (_TEAMS[f["team"]], None, False),
        (clock.fmt_ts(f["started"], CONTACTS_ZONE), None, False),
        (handle, handle_null, False),
        (_CONTACT_REASONS[f["reason"]], None, False),
        (_OUTCOMES[f["outcome"]], None, False),
        (agreed, agreed_null if agreed_null.any() else None, False),
        (_bool(f["responded"]), responded_null if responded_null.any() else None, False),
    ]


FORMATTERS = {
    "oms_customers": customers,
    "oms_orders": orders,
    "oms_order_lines": order_lines,
    "wms_shipments": shipments,
    "wms_shipment_lines": shipment_lines,
    "contractor_events": events,
    "contacts_contacts": contacts,
}


def format_rows(feed: FeedFile, frame: dict[str, np.ndarray], ids: Ids, clock: Clock):
    columns = FORMATTERS[feed.table](frame, ids, clock)
    if len(columns) != len(feed.columns):
        raise AssertionError(f"{feed.table}: {len(columns)} formatted columns, {len(feed.columns)} declared")
    return columns
