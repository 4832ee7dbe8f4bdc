"""The loader: every valid file read exactly, every record loaded or quarantined, all or nothing per drop."""
from __future__ import annotations

import json
import shutil

import pytest

from conftest import write_drop
from fulfilment_monitor import db, load
from fulfilment_monitor.landing import complete_drops

SHIPMENTS_HEADER = ("shipment_id,order_id,warehouse_id,dispatched_at,contractor_id,tracking_ref,"
                    "shipment_reason,replaces_shipment_id\n")
GOOD_SHIPMENT = "S1,O1,W1,2026-11-01T08:00:00-05:00,K1,T1,initial,\n"
LINES_HEADER = "shipment_id,line_no,quantity\n"
LINES_COLUMNS = "order_id,line_no,sku,description,quantity,unit_price,fulfilment_type,updated_at"
STAMP = "2026-11-01T09:00:00+00:00"

# (line as written, the reason it must be quarantined for)
BAD_SHIPMENT_ROWS = [
    (",O1,W1,2026-11-01T08:00:00-05:00,K1,T2,initial,\n", "missing shipment_id"),
    ("S3,O1,W1,2026-11-01 08:00,K1,T3,initial,\n", "bad timestamp"),
    ("S4,O1,W1,2026-11-01T08:00:00-05:00,K1,T4,teleported,\n", "unknown value in shipment_reason: teleported"),
    ("S5,O1,W1\n", "wrong column count"),
    ("S1,O9,W1,2026-11-01T09:00:00-05:00,K1,T7,initial,\n", "duplicate key within drop"),
    (b"S8,O1,W\xff1,2026-11-01T08:00:00-05:00,K1,T8,initial,\n", "not valid UTF-8"),
    ("S9,O1,W1,2026-11-01T08:00:00-05:00,K1,\"T9,initial,\n", "malformed CSV record (unterminated quote)"),
]


def load_one(con, landing, source="wms", gate=None):
    (drop,) = [d for d in complete_drops(landing) if d.source == source]
    (result,) = load.load_drops(con, [drop], gate)
    return result


def rows(con, sql, params=None):
    return db.query(con, sql, params)


def counts(con, table):
    return rows(con, f"SELECT count(*) FROM {table}")[0][0]


def wms_drop(landing, day="2026-11-01", complete=True):
    body = SHIPMENTS_HEADER.encode() + GOOD_SHIPMENT.encode() + b"".join(
        r if isinstance(r, bytes) else r.encode() for r, _ in BAD_SHIPMENT_ROWS)
    return write_drop(landing, "wms", day, {
        "shipments.csv": body, "shipment_lines.csv": LINES_HEADER + "S1,1,2\nS1,2,-1\n"}, complete)


def test_every_record_is_loaded_or_quarantined_with_its_reason_and_line(landing, con):
    wms_drop(landing)
    result = load_one(con, landing)

    assert result.status == "loaded"
    assert result.read == 1 + len(BAD_SHIPMENT_ROWS) + 2  # records, not lines
    assert result.read == result.loaded + result.quarantined
    assert counts(con, "raw.wms_shipments") + counts(con, "raw.wms_shipment_lines") == result.loaded
    reasons = dict(rows(con, "SELECT line_no, reason FROM quarantine.rows WHERE file = 'shipments.csv'"))
    for line_no, (_, expected) in enumerate(BAD_SHIPMENT_ROWS, start=3):
        assert reasons[line_no].startswith(expected), (line_no, reasons[line_no])
    assert rows(con, "SELECT reason FROM quarantine.rows WHERE file = 'shipment_lines.csv'") == [
        ("non-positive number in quantity: -1",)]
    assert rows(con, "SELECT raw_text FROM quarantine.rows WHERE line_no = 4") == [
        ("S3,O1,W1,2026-11-01 08:00,K1,T3,initial,",)]


# Each real-world shape of one valid customers file: (name, bytes); each holds the same three records.
CUSTOMER_COLUMNS = ["customer_id", "full_name", "email", "phone", "timezone", "preferred_channel", "consent_email",
                    "consent_sms", "consent_phone", "consent_whatsapp", "marketing_opt_in", "updated_at"]
RECORDS = [
    ["CU1", "Ada Lovelace", "ada@example.com", "+441234567890", "Europe/London", "email",
     "true", "false", "true", "false", "false", STAMP],
    ["CU2", 'Smith, "Jo"', "", "", "", "", "false", "false", "false", "false", "false", STAMP],
    ["CU3", "Line\nbreak", "c@example.com", "", "America/Chicago", "sms", "true", "true", "false", "false",
     "true", STAMP],
]


def csv_bytes(records, *, quote_all=False, newline="\n", bom=False, quoted_header=False) -> bytes:
    def field(value: str, force: bool) -> str:
        needs = force or any(ch in value for ch in ',"\r\n')
        return '"' + value.replace('"', '""') + '"' if needs else value
    header = ",".join(field(c, quoted_header or quote_all) for c in CUSTOMER_COLUMNS)
    lines = [header] + [",".join(field(v.replace("\n", newline), quote_all) for v in r) for r in records]
    return ("\ufeff" if bom else "").encode() + (newline.join(lines) + newline).encode()


SHAPES = {
    "plain": csv_bytes(RECORDS),
    "quoted_header": csv_bytes(RECORDS, quoted_header=True),
    "byte_order_mark": csv_bytes(RECORDS, bom=True),
    "crlf": csv_bytes(RECORDS, newline="\r\n"),
    "cr_only": csv_bytes(RECORDS, newline="\r"),
    "fully_quoted": csv_bytes(RECORDS, quote_all=True),
    "everything_at_once": csv_bytes(RECORDS, quote_all=True, newline="\r\n", bom=True),
}


ORDERS_HEADER = ("order_id,customer_id,sales_channel,store_id,placed_at,promised_date,order_status,order_total,"
                 "currency,updated_at")


def oms_drop(landing, customers=None, order_lines=None):
    """An oms drop; files not given hold their header only."""
    write_drop(landing, "oms", "2026-11-01", {
        "customers.csv": customers or ",".join(CUSTOMER_COLUMNS) + "\n", "orders.csv": ORDERS_HEADER + "\n",
        "order_lines.csv": order_lines or LINES_COLUMNS + "\n"})


@pytest.mark.parametrize("shape", SHAPES, ids=list(SHAPES))
def test_every_valid_csv_shape_loads_exactly(landing, con, shape):
    oms_drop(landing, customers=SHAPES[shape])
    result = load_one(con, landing, "oms")
    assert (result.status, result.read, result.quarantined) == ("loaded", 3, 0)
    newline = "\r" if shape == "cr_only" else "\r\n" if shape in ("crlf", "everything_at_once") else "\n"
    # raw keeps the first name; the full name and the email are in the private file (test_privacy.py)
    assert rows(con, "SELECT r._line_no, r.customer_id, r.first_name, p.full_name, p.email, r.preferred_channel, "
                     "r.consent_sms, r.marketing_opt_in FROM raw.oms_customers AS r "
                     "JOIN personal.oms_customers AS p USING (_load_id, _line_no) ORDER BY r._line_no") == [
        (2, "CU1", "Ada", "Ada Lovelace", "ada@example.com", "email", False, False),
        (3, "CU2", "Smith,", 'Smith, "Jo"', None, None, False, False),
        (4, "CU3", "Line", f"Line{newline}break", "c@example.com", "sms", True, True)]


def test_a_record_after_line_breaks_in_quotes_keeps_the_line_it_starts_on(landing, con):
    oms_drop(landing, order_lines=(
        LINES_COLUMNS + "\n"
        + f'O1,1,SKU1,"Sofa, 3 seater ""Oslo""\ngrey",1,899.00,two_person,{STAMP}\n'  # lines 2-3
        + f"O1,2,SKU2,Lamp,-1,10.00,parcel,{STAMP}\n"                                      # line 4: bad
        + f'O1,3,SKU3,"three\r\nline\ndescription",1,5.00,parcel,{STAMP}\n'             # lines 5-7
        + "O1,4,SKU4,too few\n"                                                            # line 8: bad
        + f"O1,5,SKU5,Kettle,1,39.99,parcel,{STAMP}\n"))                                 # line 9
    result = load_one(con, landing, "oms")
    assert result.status == "loaded", result.problems
    assert rows(con, "SELECT _line_no, line_no, description FROM raw.oms_order_lines ORDER BY 1") == [
        (2, 1, 'Sofa, 3 seater "Oslo"\ngrey'), (5, 3, "three\r\nline\ndescription"), (9, 5, "Kettle")]
    assert rows(con, "SELECT line_no, split_part(reason, ':', 1) FROM quarantine.rows ORDER BY 1") == [
        (4, "non-positive number in quantity"), (8, "wrong column count")]


def test_blank_lines_are_quarantined_each_on_its_line(landing, con):
    """A blank line is a line of the file like any other: never skipped without a trace."""
    write_drop(landing, "wms", "2026-11-01", {
        "shipments.csv": SHIPMENTS_HEADER + "\n" + GOOD_SHIPMENT + "\n\nS5,O1,W1\n"
                         + GOOD_SHIPMENT.replace("S1", "S2").replace("T1", "T2") + "\n",
        "shipment_lines.csv": LINES_HEADER + "S1,1,1\n\nS2,1,1\n"})
    result = load_one(con, landing)
    assert (result.read, result.quarantined) == (10, 6)
    assert rows(con, "SELECT shipment_id, _line_no FROM raw.wms_shipments ORDER BY 1") == [("S1", 3), ("S2", 7)]
    assert rows(con, "SELECT file, line_no, last_line_no, reason FROM quarantine.rows ORDER BY 1, 2") == [
        ("shipment_lines.csv", 3, 3, "blank line"),
        ("shipments.csv", 2, 2, "blank line"), ("shipments.csv", 4, 4, "blank line"),
        ("shipments.csv", 5, 5, "blank line"), ("shipments.csv", 6, 6, "wrong column count"),
        ("shipments.csv", 8, 8, "blank line")]
    assert rows(con, "SELECT shipment_id, _line_no FROM raw.wms_shipment_lines ORDER BY 1") == [("S1", 2), ("S2", 4)]


@pytest.mark.parametrize("column, value, reason", [
    ("quantity", "2.5", "not an integer in quantity: 2.5"),
    ("quantity", "1e3", "not an integer in quantity: 1e3"),
    ("quantity", " 2", "not an integer in quantity:  2"),
    ("unit_price", "19.999", "not a decimal with at most 2 places in unit_price: 19.999"),
    ("unit_price", "12,50", "wrong column count"),
    ("updated_at", "2026-11-01T09:00:00", "bad timestamp (ISO 8601 with offset expected) in updated_at"),
    ("fulfilment_type", "Parcel", "unknown value in fulfilment_type: Parcel"),
], ids=["fraction", "exponent", "padded", "three_places", "comma_decimal", "no_offset", "case"])
def test_values_that_do_not_fit_exactly_are_quarantined_never_coerced(landing, con, column, value, reason):
    good = {"order_id": "O1", "line_no": "1", "sku": "S", "description": "D", "quantity": "2",
            "unit_price": "19.90", "fulfilment_type": "parcel", "updated_at": STAMP}
    bad = dict(good, line_no="2", **{column: value})
    body = LINES_COLUMNS + "\n" + "\n".join(",".join(r.values()) for r in (good, bad)) + "\n"
    oms_drop(landing, order_lines=body)
    load_one(con, landing, "oms")
    assert rows(con, "SELECT quantity, unit_price::VARCHAR FROM raw.oms_order_lines") == [(2, "19.90")]
    assert rows(con, "SELECT line_no, reason FROM quarantine.rows")[0][1].startswith(reason)


EVENT = {"event_id": "E1", "event_type": "delivered", "occurred_at": "2026-11-01T10:00:00+09:00",
         "contractor_id": "K1", "booking_id": "B1", "order_id": "O1", "tracking_ref": None, "window_start": None,
         "window_end": None, "initiated_by": None, "reason_code": None}


def events_file(*events, end="\n") -> str:
    return "".join(json.dumps(e) + end for e in events)


def test_json_lines_defects_are_quarantined(landing, con):
    write_drop(landing, "contractor", "2026-11-01", {"events.jsonl": (
        events_file(EVENT, EVENT)  # the same event twice in a drop is legal: delivery is at-least-once
        + events_file(dict(EVENT, event_id="E2", occurred_at="yesterday"))
        + '["not", "an", "object"]\n'
        + events_file(dict(EVENT, event_id="E4", order_id={"id": "O1"}))
        + events_file(dict(EVENT, event_id="E5", booking_id=7))
        + '{"event_id":"E3","event_type":"deliv')})
    result = load_one(con, landing, "contractor")
    assert (result.read, result.loaded, result.quarantined) == (7, 2, 5)
    assert [r for (r,) in rows(con, "SELECT reason FROM quarantine.rows ORDER BY line_no")] == [
        "bad timestamp (ISO 8601 with offset expected) in occurred_at: yesterday",
        "JSON line is not an object",
        'not a string in order_id: {"id":"O1"}',
        "not a string in booking_id: 7",
        "not valid JSON (truncated or malformed line)",
    ]
    assert rows(con, "SELECT occurred_at FROM raw.contractor_events LIMIT 1") == [("2026-11-01T10:00:00+09:00",)]


@pytest.mark.parametrize("value, reason", [
    (2.5, "not an integer in handle_seconds: 2.5"),
    (1e3, "not an integer in handle_seconds"),
    ("120", 'not an integer in handle_seconds: "120"'),
])
def test_json_numbers_that_are_not_integers_are_quarantined(landing, con, value, reason):
    contact = {"contact_id": "C1", "customer_id": "U1", "order_id": None, "channel": "phone",
               "direction": "inbound", "team": "store", "started_at": STAMP, "handle_seconds": 60,
               "reason": "wismo", "outcome": "resolved", "agreed_date": None, "responded": None}
    write_drop(landing, "contacts", "2026-11-01", {"contacts.jsonl": events_file(
        contact, dict(contact, contact_id="C2", handle_seconds=value))})
    load_one(con, landing, "contacts")
    assert rows(con, "SELECT contact_id, handle_seconds FROM raw.contacts_contacts") == [("C1", 60)]
    assert rows(con, "SELECT reason FROM quarantine.rows")[0][0].startswith(reason)


def test_json_lines_with_mixed_line_ends_keep_their_lines_and_blank_ones_are_quarantined(landing, con):
    body = (events_file(EVENT, end="\r\n") + "\n" + events_file(dict(EVENT, event_id="E2"))
            + "   \n" + events_file(dict(EVENT, event_id="E3"), end="\r\n"))
    write_drop(landing, "contractor", "2026-11-01", {"events.jsonl": body})
    result = load_one(con, landing, "contractor")
    assert (result.read, result.quarantined) == (5, 2)
    assert rows(con, "SELECT event_id, _line_no FROM raw.contractor_events ORDER BY 1") == [
        ("E1", 1), ("E2", 3), ("E3", 5)]
    assert rows(con, "SELECT line_no, reason FROM quarantine.rows ORDER BY 1") == [(2, "blank line"), (4, "blank line")]


def test_an_undeclared_json_field_rejects_the_drop(landing, con):
    """A renamed field shows up as one the feed does not declare."""
    renamed = [{("trackingRef" if k == "tracking_ref" else k): v for k, v in e.items()}
               for e in (EVENT, dict(EVENT, event_id="E2"))]
    write_drop(landing, "contractor", "2026-11-01", {"events.jsonl": events_file(*renamed)})
    result = load_one(con, landing, "contractor")
    assert result.status == "rejected"
    assert "its JSON fields changed (not declared: trackingRef; declared but absent: tracking_ref)" in \
        result.problems[0]
    assert counts(con, "raw.contractor_events") == 0


def test_a_declared_field_left_out_of_every_line_loads_as_null_and_is_reported(landing, con):
    """A producer may leave a null field out; the warning (and its null share) tell if it stopped."""
    left_out = [{k: v for k, v in e.items() if k != "reason_code"} for e in (EVENT, dict(EVENT, event_id="E2"))]
    write_drop(landing, "contractor", "2026-11-01", {"events.jsonl": events_file(*left_out)})
    result = load_one(con, landing, "contractor")
    assert result.status == "loaded"
    assert rows(con, "SELECT count(*), count(reason_code) FROM raw.contractor_events") == [(2, 0)]
    assert [(o.critical, o.details) for o in result.validations if not o.success] == [
        (False, "events.jsonl: declared field(s) absent from every line, loaded as null: reason_code")]


def test_lineage_is_kept(landing, con):
    wms_drop(landing)
    load_one(con, landing)
    row = rows(con, "SELECT _source, CAST(_extract_date AS VARCHAR), _file, _line_no, _load_id "
                    "FROM raw.wms_shipments")[0]
    assert row[:4] == ("wms", "2026-11-01", "shipments.csv", 2)
    assert row[4].startswith("wms/2026-11-01/")


def test_a_feed_column_named_line_no_keeps_its_own_value(landing, con):
    """The feed's `line_no` (the order line) is data; the file's line number is lineage."""
    write_drop(landing, "wms", "2026-11-01", {
        "shipments.csv": SHIPMENTS_HEADER + GOOD_SHIPMENT,
        "shipment_lines.csv": LINES_HEADER + "S1,7,2\nS1,9,1\n",
    })
    load_one(con, landing)
    assert rows(con, "SELECT line_no, _line_no FROM raw.wms_shipment_lines ORDER BY 1") == [(7, 2), (9, 3)]


def test_loading_a_drop_twice_changes_nothing(landing, con, tmp_path):
    wms_drop(landing)
    load_one(con, landing)
    before = [counts(con, t) for t in ("raw.wms_shipments", "quarantine.rows", "audit.drops")]

    assert load_one(con, landing).status == "skipped"
    redelivered = tmp_path / "again"
    shutil.copytree(landing, redelivered)
    assert load_one(con, redelivered).status == "skipped"
    assert [counts(con, t) for t in ("raw.wms_shipments", "quarantine.rows", "audit.drops")] == before


def test_incomplete_drops_are_skipped(landing):
    wms_drop(landing, "2026-11-01")
    wms_drop(landing, "2026-11-02", complete=False)
    assert [d.extract_date.isoformat() for d in complete_drops(landing)] == ["2026-11-01"]


@pytest.mark.parametrize("header, problem", [
    (SHIPMENTS_HEADER.replace("tracking_ref", "tracking_no"), "missing: tracking_ref; unexpected: tracking_no"),
    (SHIPMENTS_HEADER.replace("order_id,warehouse_id", "warehouse_id,order_id"),
     "header has the feed's columns in another order"),
])
def test_a_header_that_does_not_match_rejects_the_whole_drop(landing, con, header, problem):
    write_drop(landing, "wms", "2026-11-01", {"shipments.csv": header + GOOD_SHIPMENT,
                                              "shipment_lines.csv": LINES_HEADER + "S1,1,2\n"})
    result = load_one(con, landing)
    assert result.status == "rejected"
    assert problem in result.problems[0]
    assert counts(con, "raw.wms_shipment_lines") == 0  # not even the good file of the drop
    assert rows(con, "SELECT status, rows_loaded, rows_quarantined FROM audit.drops") == [("rejected", 0, 0)]


def test_in_one_batch_each_drop_is_all_or_nothing(landing, con):
    wms_drop(landing, "2026-11-01")
    write_drop(landing, "wms", "2026-11-02", {"shipments.csv": "", "shipment_lines.csv": LINES_HEADER})
    wms_drop(landing, "2026-11-03")
    results = load.load_drops(con, complete_drops(landing))
    assert [r.status for r in results] == ["loaded", "rejected", "loaded"]
    assert rows(con, "SELECT DISTINCT CAST(_extract_date AS VARCHAR) FROM raw.wms_shipments ORDER BY 1") == [
        ("2026-11-01",), ("2026-11-03",)]


def test_a_batch_dying_mid_write_leaves_nothing(landing, con, monkeypatch):
    wms_drop(landing, "2026-11-01")
    wms_drop(landing, "2026-11-02")

    def die(*args):
        raise RuntimeError("killed after the rows were written, before the ledger")

    monkeypatch.setattr(load, "_write_ledger", die)
    with pytest.raises(RuntimeError):
        load.load_drops(con, complete_drops(landing))
    assert [counts(con, t) for t in ("raw.wms_shipments", "quarantine.rows", "audit.drops",
                                     "audit.validations")] == [0, 0, 0, 0]
    monkeypatch.undo()
    assert [r.status for r in load.load_drops(con, complete_drops(landing))] == ["loaded", "loaded"]
