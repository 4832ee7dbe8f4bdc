"""World codes -> feed values as text, one formatter per feed file, columns in the order
feeds.py declares. A column is (values, null mask or None, free_text)."""
from __future__ import annotations

import numpy as np

from fulfilment_monitor.feeds import CHANNELS, FeedFile
from fulfilment_monitor.generate import catalog as cat
from fulfilment_monitor.generate.clock import UTC, ZONES, Z, Clock
from fulfilment_monitor.generate.ids import Ids, PublicIds
from fulfilment_monitor.generate.world import NULL

OMS_ZONE = Z["America/Chicago"]  # the OMS writes its timestamps at head office
CONTACTS_ZONE = UTC  # the contact platform logs in UTC


def _lookup(table, codes):
    codes = np.asarray(codes)
    null = codes == NULL
    table = table if isinstance(table, PublicIds) else np.asarray(table)
    return table[np.where(null, 0, codes)], (null if null.any() else None)


def _bool(v):
    return np.where(np.asarray(v) == 1, "true", "false")


def _money(cents):
    cents = np.asarray(cents, np.int64)
    if not cents.size:  # a quiet day of a long, small landing zone (numpy's zfill needs a value)
        return cents.astype(str)
    return np.strings.add(np.strings.add((cents // 100).astype(str), "."),
                          np.strings.zfill((cents % 100).astype(str), 2))


def _nullable_int(v):
    v = np.asarray(v)
    null = v == NULL
    return v.astype(str), (null if null.any() else None)


def customers(f, ids: Ids, clock: Clock):
    first, last = f["first"], f["last"]
    mailbox = np.strings.add(np.strings.add(cat.FIRST_ASCII[first], "."), cat.LAST_ASCII[last])
    mailbox = np.strings.add(np.strings.add(mailbox, "."), np.strings.lower(ids.customer[f["cust"]]))
    email = np.strings.add(np.strings.add(mailbox, "@"), cat.MAIL_DOMAINS[f["email_domain"]])
    phone_cc = cat.ZONE_PHONE[np.where(f["zone"] == NULL, Z["America/New_York"], f["zone"])]
    phone = np.strings.add(np.strings.add("+", phone_cc), f["phone"].astype(str))
    tz, tz_null = _lookup(ZONES, f["zone"])
    pref, pref_null = _lookup(CHANNELS, f["pref"])
    return [
        (ids.customer[f["cust"]], None, False),
        (np.strings.add(np.strings.add(cat.FIRST[first], " "), cat.LAST[last]), None, True),
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
    store, store_null = _lookup(cat.STORES, f["store"])
    return [
        (ids.order[f["order"]], None, False),
        (ids.customer[f["cust"]], None, False),
        (np.asarray(cat.SALES_CHANNELS)[f["channel"]], None, False),
        (store, store_null, False),
        (clock.fmt_ts(f["placed"], OMS_ZONE), None, False),
        (clock.fmt_date(f["promised"]), None, False),
        (np.asarray(cat.ORDER_STATUSES)[f["status"]], None, False),
        (_money(f["total"]), None, False),
        (np.asarray(cat.CURRENCIES)[f["currency"]], None, False),
        (clock.fmt_ts(f["updated"], OMS_ZONE), None, False),
    ]


def order_lines(f, ids: Ids, clock: Clock):
    return [
        (ids.order[f["order"]], None, False),
        (f["line_no"].astype(str), None, False),
        (cat.SKUS[f["product"]], None, False),
        (cat.DESCRIPTIONS[f["product"]], None, True),
        (f["qty"].astype(str), None, False),
        (_money(f["price"]), None, False),
        (np.asarray(cat.FULFILMENT_TYPES)[cat.PRODUCT_FT[f["product"]]], None, False),
        (clock.fmt_ts(f["updated"], OMS_ZONE), None, False),
    ]


def shipments(f, ids: Ids, clock: Clock):
    replaces, replaces_null = _lookup(ids.shipment, f["replaces"])
    return [
        (ids.shipment[f["ship"]], None, False),
        (ids.order[f["order"]], None, False),
        (np.array([w for w, _ in cat.WAREHOUSES])[f["wh"]], None, False),
        (clock.fmt_ts(f["dispatched"], cat.WAREHOUSE_ZONE[f["wh"]]), None, False),
        (np.array([c for c, _ in cat.CONTRACTORS])[f["contractor"]], None, False),
        (ids.tracking[f["ship"]], None, False),
        (np.asarray(cat.SHIPMENT_REASONS)[f["reason"]], None, False),
        (replaces, replaces_null, False),
    ]


def shipment_lines(f, ids: Ids, clock: Clock):
    return [
        (ids.shipment[f["ship"]], None, False),
        (f["line_no"].astype(str), None, False),
        (f["qty"].astype(str), None, False),
    ]


def events(f, ids: Ids, clock: Clock):
    booking, booking_null = _lookup(ids.booking, f["booking"])
    tracking, tracking_null = _lookup(ids.tracking, f["tracking"])
    window_null = f["ws"] == NULL
    ws = clock.fmt_ts(np.where(window_null, f["occurred"], f["ws"]), f["wzone"])
    we = clock.fmt_ts(np.where(window_null, f["occurred"], f["we"]), f["wzone"])
    init, init_null = _lookup(cat.INITIATORS, f["init"])
    reason, reason_null = _lookup(cat.REASON_CODE_NAMES, f["reason"])
    wn = window_null if window_null.any() else None
    return [
        (ids.event[f["event"]], None, False),
        (np.asarray(cat.EVENT_TYPE_NAMES)[f["etype"]], None, False),
        (clock.fmt_ts(f["occurred"], f["wzone"]), None, False),
        (np.array([c for c, _ in cat.CONTRACTORS])[f["contractor"]], None, False),
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
    agreed = clock.fmt_date(np.where(agreed_null, 0, f["agreed"]))
    responded_null = f["responded"] == NULL
    return [
        (ids.contact[f["contact"]], None, False),
        (ids.customer[f["cust"]], None, False),
        (order, order_null, False),
        (np.asarray(cat.CONTACT_CHANNELS)[f["channel"]], None, False),
        (np.asarray(cat.DIRECTIONS)[f["direction"]], None, False),
        (np.asarray(cat.TEAMS)[f["team"]], None, False),
        (clock.fmt_ts(f["started"], CONTACTS_ZONE), None, False),
        (handle, handle_null, False),
        (np.asarray(cat.CONTACT_REASONS)[f["reason"]], None, False),
        (np.asarray(cat.OUTCOMES)[f["outcome"]], None, False),
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
