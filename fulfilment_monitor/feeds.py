"""The four upstream feeds, declared once: every file, column, type and rule.

The loader builds its row checks from these declarations (a value breaking them is
quarantined), the data-quality gate the measures its expectations judge (a value breaking
a `pattern`, `min_value`, `known` or `required_when` is loaded and counted), and the
generator its file layouts, so a feed's format lives in one place
(``shared/spec/source-feeds.md``). A `personal` column (a name, an email address, a phone
number) says where a value may go: what `raw` keeps, what the private file keeps and what
quarantine masks all follow from it.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass

from fulfilment_monitor.settings import DBT_PROJECT

# Column kinds. Timestamps stay text in `raw` (as delivered, offset included)
# so both the instant and the local wall clock survive; staging parses them.
TEXT, INT, DECIMAL, DATE, TIMESTAMP, BOOL = "text", "int", "decimal", "date", "timestamp", "bool"

SQL_TYPES = {
    TEXT: "VARCHAR",
    INT: "BIGINT",
    DECIMAL: "DECIMAL(18,2)",
    DATE: "DATE",
    TIMESTAMP: "VARCHAR",
    BOOL: "BOOLEAN",
}


@dataclass(frozen=True)
class Column:
    name: str
    kind: str = TEXT
    nullable: bool = False
    values: tuple[str, ...] = ()  # allowed values of an enum, empty for free text
    positive: bool = False  # numbers that must be > 0
    # Measured by the gate, never quarantined:
    pattern: str = ""  # a regular expression a value should match (E.164, ISO 4217, ...)
    min_value: float | None = None  # a number should not be below it
    known: tuple[str, ...] = ()  # values known today; others are kept and flagged
    required_when: tuple[str, tuple[str, ...]] | None = None  # (column, values): set on those rows
    # A name, email address or phone number: kept only in the owner-only private file
    # (private.py), never in `raw`, masked in quarantine (redact.py).
    personal: bool = False


@dataclass(frozen=True)
class FeedFile:
    source: str
    file: str
    table: str  # name of the raw and quarantine table
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    key_unique_in_drop: bool = True  # contractor event ids repeat by design
    # (column, raw table): rows should point at a row of that file in the same drop
    same_drop_reference: tuple[str, str] | None = None
    # A file with personal columns: the column naming whose data a record holds (what `forget`
    # is given), and what `raw` keeps of the personal columns, made at load: (column, SQL).
    person: str | None = None
    derived: tuple[tuple[str, str], ...] = ()

    @property
    def is_csv(self) -> bool:
        return self.file.endswith(".csv")

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def personal_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.personal]

    @property
    def raw_columns(self) -> list[str]:
        """The columns of `raw.<table>`: the declared ones but the personal, then the derived."""
        return [c.name for c in self.columns if not c.personal] + [name for name, _ in self.derived]

    @property
    def private_columns(self) -> list[str]:
        """The columns of the private file's table: the key and the personal columns."""
        return [c.name for c in self.columns if c.personal or c.name in self.key]


def _c(name, kind=TEXT, nullable=False, values=(), positive=False, **measured) -> Column:
    return Column(name, kind, nullable, tuple(values), positive, **measured)


def reference(seed: str) -> list[dict[str, str]]:
    """The rows of a dbt seed (dbt_project/seeds/<seed>.csv): the one home of a list that the
    feeds' checks and the dbt models both use; dbt loads it as reference.<seed>."""
    with open(DBT_PROJECT / "seeds" / f"{seed}.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


# The outreach channels (fixed order: the outreach queue's last tie-break) and the known
# contractor event types, with those that carry a window (a booking version's start).
CHANNELS = tuple(r["channel"] for r in sorted(reference("outreach_channels"), key=lambda r: int(r["fixed_rank"])))
_EVENT_TYPES = reference("contractor_event_types")
EVENT_TYPES = tuple(r["event_type"] for r in _EVENT_TYPES)
BOOKING_VERSIONS = tuple(r["event_type"] for r in _EVENT_TYPES if r["carries_window"] == "true")
# Worst first, from the severities seed (dbt loads the same file as reference.severities).
SEVERITIES = tuple(r["severity"] for r in sorted(reference("severities"), key=lambda r: int(r["severity_rank"])))
CONTACT_CHANNELS = ("phone", "email", "sms", "whatsapp", "chat", "social", "store")
INITIATORS = ("customer", "contractor", "retailer")

# What `raw` keeps of a customer's full name: its first word, the name the outreach context and
# the story greet them by (the only part of a name the analysts' database holds).
FIRST_NAME = ("first_name", r"nullif(regexp_extract(full_name, '^\s*(\S+)', 1), '')")

FEEDS: tuple[FeedFile, ...] = (
    FeedFile("oms", "customers.csv", "oms_customers", (
        _c("customer_id"),
        _c("full_name", personal=True),
        _c("email", nullable=True, pattern=r"[^@\s]+@[^@\s]+", personal=True),
        _c("phone", nullable=True, pattern=r"\+[1-9][0-9]{1,14}", personal=True),  # E.164
        _c("timezone", nullable=True),
        _c("preferred_channel", nullable=True, values=CHANNELS),
        _c("consent_email", BOOL),
        _c("consent_sms", BOOL),
        _c("consent_phone", BOOL),
        _c("consent_whatsapp", BOOL),
        _c("marketing_opt_in", BOOL),
        _c("updated_at", TIMESTAMP),
    ), key=("customer_id", "updated_at"), person="customer_id", derived=(FIRST_NAME,)),
    FeedFile("oms", "orders.csv", "oms_orders", (
        _c("order_id"),
        _c("customer_id"),
        _c("sales_channel", values=("web", "app", "store", "phone")),
        _c("store_id", nullable=True),
        _c("placed_at", TIMESTAMP),
        _c("promised_date", DATE),
        _c("order_status", values=("placed", "cancelled", "completed")),
        _c("order_total", DECIMAL, min_value=0),
        _c("currency", pattern="[A-Z]{3}"),  # ISO 4217
        _c("updated_at", TIMESTAMP),
    ), key=("order_id", "updated_at")),
    FeedFile("oms", "order_lines.csv", "oms_order_lines", (
        _c("order_id"),
        _c("line_no", INT, positive=True),
        _c("sku"),
        _c("description"),
        _c("quantity", INT, positive=True),
        _c("unit_price", DECIMAL, min_value=0),
        _c("fulfilment_type", values=("parcel", "two_person", "install")),
        _c("updated_at", TIMESTAMP),
    ), key=("order_id", "line_no", "updated_at")),
    FeedFile("wms", "shipments.csv", "wms_shipments", (
        _c("shipment_id"),
        _c("order_id"),
        _c("warehouse_id"),
        _c("dispatched_at", TIMESTAMP),
        _c("contractor_id"),
        _c("tracking_ref"),
        _c("shipment_reason", values=("initial", "split", "replacement")),
        _c("replaces_shipment_id", nullable=True, required_when=("shipment_reason", ("replacement",))),
    ), key=("shipment_id",)),
    FeedFile("wms", "shipment_lines.csv", "wms_shipment_lines", (
        _c("shipment_id"),
        _c("line_no", INT, positive=True),
        _c("quantity", INT, positive=True),
    ), key=("shipment_id", "line_no"), same_drop_reference=("shipment_id", "wms_shipments")),
    FeedFile("contractor", "events.jsonl", "contractor_events", (
        _c("event_id"),
        # Unknown types are kept and flagged, never rejected: the contractor shipped a new feature.
        _c("event_type", known=EVENT_TYPES),
        _c("occurred_at", TIMESTAMP),
        _c("contractor_id"),
        _c("booking_id", nullable=True),
        _c("order_id"),
        _c("tracking_ref", nullable=True),
        _c("window_start", TIMESTAMP, nullable=True, required_when=("event_type", BOOKING_VERSIONS)),
        _c("window_end", TIMESTAMP, nullable=True, required_when=("event_type", BOOKING_VERSIONS)),
        _c("initiated_by", nullable=True, values=INITIATORS),
        _c("reason_code", nullable=True),
    ), key=("event_id",), key_unique_in_drop=False),
    FeedFile("contacts", "contacts.jsonl", "contacts_contacts", (
        _c("contact_id"),
        _c("customer_id"),
        _c("order_id", nullable=True),
        _c("channel", values=CONTACT_CHANNELS),
        _c("direction", values=("inbound", "outbound")),
        _c("team", values=("store", "contact_centre", "social", "delivery_desk", "marketing")),
        _c("started_at", TIMESTAMP),
        _c("handle_seconds", INT, nullable=True),
        _c("reason", values=("wismo", "reschedule", "complaint", "cancel", "upsell", "survey",
                             "notification", "other")),
        _c("outcome", values=("resolved", "unresolved", "transferred", "reschedule_agreed",
                              "callback_promised", "no_answer", "sent")),
        _c("agreed_date", DATE, nullable=True, required_when=("outcome", ("reschedule_agreed",))),
        _c("responded", BOOL, nullable=True),
    ), key=("contact_id",)),
)

SOURCES = ("oms", "wms", "contractor", "contacts")


def files_of(source: str) -> list[FeedFile]:
    return [f for f in FEEDS if f.source == source]


def feed(table: str) -> FeedFile:
    return next(f for f in FEEDS if f.table == table)
