"""Reference data of the simulated retailer: zones, warehouses, contractors, products, names,
and integer codes for every enum (the values themselves come from feeds.py)."""
from __future__ import annotations

import numpy as np

from fulfilment_monitor.feeds import EVENT_TYPES, INITIATORS, feed
from fulfilment_monitor.generate.clock import Z


def _values(table: str, column: str) -> tuple[str, ...]:
    return next(c.values for c in feed(table).columns if c.name == column)


def codes(values) -> dict[str, int]:
    return {v: i for i, v in enumerate(values)}


# --- enums: code i means values[i]; -1 is null -------------------------------------
UNKNOWN_EVENT_TYPE = "photo_proof_uploaded"  # a contractor feature we do not know yet
EVENT_TYPE_NAMES = EVENT_TYPES + (UNKNOWN_EVENT_TYPE,)
ET = codes(EVENT_TYPE_NAMES)
INIT = codes(INITIATORS)
REASON_CODE_NAMES = ("capacity", "vehicle", "customer_request", "not_home", "access", "damaged", "lost",
                     "retailer_request", "weather")
RC = codes(REASON_CODE_NAMES)

SALES_CHANNELS = _values("oms_orders", "sales_channel")
ORDER_STATUSES = _values("oms_orders", "order_status")
STATUS = codes(ORDER_STATUSES)
FULFILMENT_TYPES = _values("oms_order_lines", "fulfilment_type")
FT = codes(FULFILMENT_TYPES)
SHIPMENT_REASONS = _values("wms_shipments", "shipment_reason")
SR = codes(SHIPMENT_REASONS)

CONTACT_CHANNELS = _values("contacts_contacts", "channel")
CH = codes(CONTACT_CHANNELS)
DIRECTIONS = _values("contacts_contacts", "direction")
DIR = codes(DIRECTIONS)
TEAMS = _values("contacts_contacts", "team")
TEAM = codes(TEAMS)
CONTACT_REASONS = _values("contacts_contacts", "reason")
CR = codes(CONTACT_REASONS)
OUTCOMES = _values("contacts_contacts", "outcome")
OUT = codes(OUTCOMES)

# --- geography ------------------------------------------------------------------------
# Share of customers per OMS time zone; None = unknown (their real address is in the US).
CUSTOMER_ZONES = (
    ("America/New_York", 0.24), ("America/Chicago", 0.17), ("America/Denver", 0.07),
    ("America/Phoenix", 0.04), ("America/Los_Angeles", 0.17), ("Europe/Berlin", 0.06),
    ("Asia/Tokyo", 0.04), ("Australia/Sydney", 0.04), (None, 0.17),
)
# Real (delivery) zone of customers whose OMS time zone is unknown.
HIDDEN_ZONES = (("America/New_York", 0.4), ("America/Chicago", 0.3), ("America/Los_Angeles", 0.3))

WAREHOUSES = (  # id, zone it writes dispatched_at in
    ("WH-NJ1", "America/New_York"),
    ("WH-TX2", "America/Chicago"),
    ("WH-CA3", "America/Los_Angeles"),
    ("WH-DE1", "Europe/Berlin"),
    ("WH-AU1", "Australia/Sydney"),
)
WAREHOUSE_ZONE = np.array([Z[z] for _, z in WAREHOUSES])

# Contractors: id, writes occurred_at/windows in UTC (+00:00) rather than the local offset.
CONTRACTORS = (
    ("K-SWIFT", False),      # US parcels, local offsets
    ("K-PARCELNOW", True),   # US parcels, UTC
    ("K-BIGMOVE", False),    # US two-person and install, local offsets
    ("K-HAUL", True),        # US two-person and install, UTC
    ("K-EUROFRET", False),   # Germany, local offsets
    ("K-APACLINK", False),   # Japan and Australia, local offsets
)
CONTRACTOR_UTC = np.array([utc for _, utc in CONTRACTORS])
K = codes(c for c, _ in CONTRACTORS)

# Per real zone: warehouse, currency, phone country code, parcel and big-item contractors.
_ZONE_INFO = {
    "America/New_York": ("WH-NJ1", "USD", "1", ("K-SWIFT", "K-PARCELNOW"), ("K-BIGMOVE", "K-HAUL")),
    "America/Chicago": ("WH-TX2", "USD", "1", ("K-SWIFT", "K-PARCELNOW"), ("K-BIGMOVE", "K-HAUL")),
    "America/Denver": ("WH-TX2", "USD", "1", ("K-SWIFT", "K-PARCELNOW"), ("K-BIGMOVE", "K-HAUL")),
    "America/Phoenix": ("WH-CA3", "USD", "1", ("K-SWIFT", "K-PARCELNOW"), ("K-BIGMOVE", "K-HAUL")),
    "America/Los_Angeles": ("WH-CA3", "USD", "1", ("K-SWIFT", "K-PARCELNOW"), ("K-BIGMOVE", "K-HAUL")),
    "Europe/Berlin": ("WH-DE1", "EUR", "49", ("K-EUROFRET",) * 2, ("K-EUROFRET",) * 2),
    "Asia/Tokyo": ("WH-AU1", "JPY", "81", ("K-APACLINK",) * 2, ("K-APACLINK",) * 2),
    "Australia/Sydney": ("WH-AU1", "AUD", "61", ("K-APACLINK",) * 2, ("K-APACLINK",) * 2),
}
CURRENCIES = ("USD", "EUR", "JPY", "AUD")
_W = codes(w for w, _ in WAREHOUSES)
_C = codes(CURRENCIES)
_n = max(Z.values()) + 1
ZONE_WAREHOUSE = np.zeros(_n, np.int64)
ZONE_CURRENCY = np.zeros(_n, np.int64)
ZONE_PHONE = np.array(["1"] * _n, dtype="U2")
ZONE_PARCEL_K = np.zeros((_n, 2), np.int64)
ZONE_BIG_K = np.zeros((_n, 2), np.int64)
for _zone, (_wh, _cur, _cc, _parcel, _big) in _ZONE_INFO.items():
    ZONE_WAREHOUSE[Z[_zone]] = _W[_wh]
    ZONE_CURRENCY[Z[_zone]] = _C[_cur]
    ZONE_PHONE[Z[_zone]] = _cc
    ZONE_PARCEL_K[Z[_zone]] = [K[k] for k in _parcel]
    ZONE_BIG_K[Z[_zone]] = [K[k] for k in _big]

STORES = tuple(f"ST{i:03d}" for i in range(1, 41))

# --- products: sku, description, fulfilment type, unit price in cents ----------------------
PRODUCTS = (
    ("LMP-2201", "Table lamp, brass", "parcel", 4900),
    ("TWL-1004", "Bath towel set (4)", "parcel", 3450),
    ("CSH-4545", "Cushion cover 45x45", "parcel", 1299),
    ("KTL-1700", "Kettle 1.7 l", "parcel", 3999),
    ("FRM-0810", 'Picture frame 8"x10"', "parcel", 1850),
    ("BOX-0032", "Storage box, set of 3", "parcel", 2499),
    ("SPK-0300", "Bluetooth speaker", "parcel", 7900),
    ("COK-0005", "Cookware set, 5 pc", "parcel", 11900),
    ("DUV-K240", "Duvet, king size", "parcel", 8900),
    ("CAF-0060", "Café table, round", "parcel", 12900),
    # A description as product catalogues write them: a comma, quotes, a line break (CSV quotes it).
    ("SOF-3GRY", 'Sofa "Oslo", 3 seater\ngrey', "two_person", 89900),
    ("WRD-2DR1", "Wardrobe 2-door", "two_person", 45900),
    ("FRG-6060", "Fridge-freezer 60 cm", "two_person", 69900),
    ("DTB-OAK6", "Dining table, oak", "two_person", 54900),
    ("MAT-1620", "Mattress 160x200", "two_person", 39900),
    ("BKC-TALL", "Bookcase, tall", "two_person", 19900),
    ("WSH-8KG1", "Washing machine 8 kg", "install", 59900),
    ("DSW-INT6", "Dishwasher, integrated", "install", 64900),
    ("OVN-6001", "Oven 60 cm", "install", 49900),
    ("TVM-0055", 'Wall TV mount 55"', "install", 14900),
    ("DRY-HP08", "Tumble dryer, heat pump", "install", 74900),
)
SKUS = np.array([p[0] for p in PRODUCTS])
DESCRIPTIONS = np.array([p[1] for p in PRODUCTS])
PRODUCT_FT = np.array([FT[p[2]] for p in PRODUCTS])
PRODUCT_PRICE = np.array([p[3] for p in PRODUCTS], dtype=np.int64)
PRODUCTS_OF = {ft: np.flatnonzero(PRODUCT_FT == FT[ft]) for ft in FULFILMENT_TYPES}

# --- people ------------------------------------------------------------------------------
FIRST_NAMES = ("Olivia", "Liam", "Zoë", "José", "Mei", "Hiroshi", "Jürgen", "Ava", "Noah", "Sofia",
               "Mateo", "Chloé", "Aarav", "Fatima", "Lukas", "Emma", "Kenji", "Isla", "Grace", "Ethan",
               "Amara", "Björn", "Priya", "Diego")
LAST_NAMES = ("Smith", "García", "Müller", "Tanaka", "Nguyen", "O'Brien", "Johnson", "Kowalski", "Rossi",
              "Kim", "Brown", "Schmidt", "Sato", "Wilson", "Smith, Jr.", 'Lee "Lefty"', "Okafor",
              "Dubois", "Andersson", "Patel")
_ASCII = str.maketrans({"ë": "e", "é": "e", "ü": "u", "í": "i", "ö": "o", "á": "a"})


def _mailbox(name: str) -> str:
    return "".join(ch for ch in name.lower().translate(_ASCII) if ch.isalnum())


FIRST_ASCII = np.array([_mailbox(n) for n in FIRST_NAMES])
LAST_ASCII = np.array([_mailbox(n) for n in LAST_NAMES])
FIRST = np.array(FIRST_NAMES)
LAST = np.array(LAST_NAMES)
MAIL_DOMAINS = np.array(["example.com", "example.net", "example.org", "mail.example"])
