"""The reader: every physical line of a file loaded or quarantined, whatever one bad line does.

Each test writes a file by hand (or damages a line of the bundled sample) and reads its expected
records with Python's own csv/json modules, never with the pipeline's.
"""
from __future__ import annotations

import csv
import io
import json
import shutil

from conftest import REPO, write_drop
from fulfilment_monitor import db, load
from fulfilment_monitor.landing import complete_drops

SAMPLE_OMS = REPO / "data" / "sample" / "landing" / "oms" / "2026-10-21"
SHIPMENTS_HEADER = ("shipment_id,order_id,warehouse_id,dispatched_at,contractor_id,tracking_ref,"
                    "shipment_reason,replaces_shipment_id")
LINES_HEADER = "shipment_id,line_no,quantity"


def shipment(n: int, tracking: str | None = None) -> str:
    return f"S{n},O{n},W1,2026-11-01T08:00:00-05:00,K1,{tracking or f'T{n}'},initial,"


def load_only(con, landing):
    (drop,) = complete_drops(landing)
    (result,) = load.load_drops(con, [drop])
    return result


def rows(con, sql, params=None):
    return db.query(con, sql, params)


def breaks(text: str) -> int:
    return len(text.replace("\r\n", "\n").replace("\r", "\n").split("\n")) - 1


def coverage(con, file: str) -> list[int]:
    """Every line a file's loaded and quarantined records cover, each as often as it is covered
    (a loaded record from the line it starts on, over the line breaks in its values)."""
    table = {"orders.csv": "oms_orders", "shipments.csv": "wms_shipments"}[file]
    texts = [c for (c,) in rows(con, "SELECT column_name FROM information_schema.columns WHERE table_schema = 'raw' "
                                     "AND table_name = ? AND data_type = 'VARCHAR'", [table])]
    loaded = [n for first, values in rows(con, f"SELECT _line_no, concat({', '.join(texts)}) FROM raw.{table}")
              for n in range(first, first + breaks(values) + 1)]
    quarantined = [n for first, last in rows(con, "SELECT line_no, last_line_no FROM quarantine.rows WHERE file = ?",
                                               [file]) for n in range(first, last + 1)]
    return sorted(loaded + quarantined)


def test_an_unterminated_quote_costs_its_line_alone(landing, con):
    """The issue's case: the sample's last oms drop, one order's store opened with a quote never
    closed. Before, 26 of its 29 orders vanished and the ledger still balanced."""
    drop = shutil.copytree(SAMPLE_OMS, landing / "oms" / SAMPLE_OMS.name)
    lines = (drop / "orders.csv").read_text().splitlines(keepends=True)
    expected = [r["order_id"] for i, r in enumerate(csv.DictReader(io.StringIO("".join(lines))), start=2) if i != 4]
    fields = lines[3].split(",")
    fields[3] = '"store'  # line 4: `…,phone,"store,2026-…`
    lines[3] = ",".join(fields)
    (drop / "orders.csv").write_text("".join(lines))

    result = load_only(con, landing)

    assert result.status == "loaded"
    assert sorted(i for (i,) in rows(con, "SELECT order_id FROM raw.oms_orders")) == sorted(expected)
    assert rows(con, "SELECT line_no, last_line_no, reason FROM quarantine.rows WHERE file = 'orders.csv'") == [
        (4, 4, "malformed CSV record (unterminated quote)")]
    orders = next(f for f in result.files if f.feed.file == "orders.csv")
    assert (orders.read, orders.loaded, orders.rejected) == (len(lines) - 1, len(lines) - 2, 1)
    assert rows(con, "SELECT rows_read, rows_loaded + rows_quarantined FROM audit.drop_files "
                     "WHERE file = 'orders.csv'") == [(len(lines) - 1, len(lines) - 1)]
    assert coverage(con, "orders.csv") == list(range(2, len(lines) + 1))


def test_a_quote_left_open_at_the_end_of_a_file_costs_its_line_alone(landing, con):
    body = "\n".join([SHIPMENTS_HEADER, shipment(1), shipment(2, '"T2'), shipment(3), shipment(4)]) + "\n"
    write_drop(landing, "wms", "2026-11-01", {"shipments.csv": body, "shipment_lines.csv": LINES_HEADER + "\n"})
    load_only(con, landing)
    assert rows(con, "SELECT shipment_id, _line_no FROM raw.wms_shipments ORDER BY 2") == [
        ("S1", 2), ("S3", 4), ("S4", 5)]
    assert rows(con, "SELECT line_no, reason FROM quarantine.rows") == [(3, "malformed CSV record (unterminated quote)")]


def test_no_line_is_neither_loaded_nor_quarantined(landing, con):
    """Every kind of broken line in one file: lines 2.. are covered once each, and the counts add up."""
    body = [SHIPMENTS_HEADER,
            shipment(1),                                      # 2
            "",                                               # 3 blank
            shipment(2, '"T2'),                               # 4 unterminated (swallows to line 6's quote)
            shipment(3, 'T"3'),                               # 5 a quote inside an unquoted field: data
            shipment(4, '"T4\nsecond line"'),                 # 6-7 a line break in quotes: one record
            "S5,O5,W1",                                       # 8 wrong column count
            shipment(6, '"T6"x'),                             # 9 text after a closing quote
            shipment(7, "T\x007"),                            # 10 NUL
            shipment(8)]                                      # 11
    write_drop(landing, "wms", "2026-11-01", {"shipments.csv": "\r\n".join(body) + "\r\n",
                                               "shipment_lines.csv": LINES_HEADER + "\n"})
    result = load_only(con, landing)
    assert rows(con, "SELECT shipment_id, _line_no FROM raw.wms_shipments ORDER BY 2") == [
        ("S1", 2), ("S3", 5), ("S4", 6), ("S8", 11)]
    assert rows(con, "SELECT tracking_ref FROM raw.wms_shipments WHERE shipment_id IN ('S3', 'S4') ORDER BY 1") == [
        ('T"3',), ("T4\nsecond line",)]
    assert rows(con, "SELECT line_no, last_line_no, reason FROM quarantine.rows ORDER BY 1") == [
        (3, 3, "blank line"), (4, 4, "malformed CSV record (unterminated quote)"), (8, 8, "wrong column count"),
        (9, 9, "malformed CSV record (stray quote)"), (10, 10, "control character (\\x00)")]
    assert coverage(con, "shipments.csv") == list(range(2, 12))
    assert (result.read, result.loaded, result.quarantined) == (9, 4, 5)


def test_lf_crlf_and_cr_mixed_in_one_file_all_load(landing, con):
    """A CRLF file with a row appended by an LF tool, a CR line, and a CR inside quotes kept."""
    body = (SHIPMENTS_HEADER + "\r\n" + shipment(1) + "\r\n" + shipment(2, '"T2\rstill T2"') + "\r"
            + shipment(3) + "\n" + shipment(4))
    write_drop(landing, "wms", "2026-11-01", {"shipments.csv": body,
                                               "shipment_lines.csv": LINES_HEADER + "\r\nS1,1,1\nS2,1,1\r\n"})
    result = load_only(con, landing)
    assert (result.status, result.read, result.quarantined) == ("loaded", 6, 0)
    assert rows(con, "SELECT shipment_id, tracking_ref, _line_no FROM raw.wms_shipments ORDER BY 3") == [
        ("S1", "T1", 2), ("S2", "T2\rstill T2", 3), ("S3", "T3", 5), ("S4", "T4", 6)]
    assert rows(con, "SELECT shipment_id, _line_no FROM raw.wms_shipment_lines ORDER BY 2") == [("S1", 2), ("S2", 3)]


def test_an_unterminated_quote_before_a_bad_byte_still_costs_its_line_alone(landing, con):
    """The lines a quote swallows are no record, whatever they hold: each is read again."""
    body = "\n".join([SHIPMENTS_HEADER, shipment(1, '"T1'), shipment(2, "T\x002"),
                      shipment(3, 'T3",x'),  # the quote of line 2 closes here: lines 2-4 make 9 fields
                      shipment(4)]) + "\n"
    write_drop(landing, "wms", "2026-11-01", {"shipments.csv": body, "shipment_lines.csv": LINES_HEADER + "\n"})
    load_only(con, landing)
    assert rows(con, "SELECT shipment_id, _line_no FROM raw.wms_shipments ORDER BY 2") == [("S4", 5)]
    assert rows(con, "SELECT line_no, last_line_no, reason FROM quarantine.rows ORDER BY 1") == [
        (2, 2, "malformed CSV record (unterminated quote)"), (3, 3, "control character (\\x00)"),
        (4, 4, "wrong column count")]


def test_a_record_over_the_line_limit_is_quarantined_and_its_neighbours_load(landing, con):
    huge = "x" * 3_000_000  # over DuckDB's 2 MiB line limit
    body = "\n".join([SHIPMENTS_HEADER, shipment(1), shipment(2, huge), shipment(3)]) + "\n"
    write_drop(landing, "wms", "2026-11-01", {"shipments.csv": body, "shipment_lines.csv": LINES_HEADER + "\n"})
    result = load_only(con, landing)
    assert rows(con, "SELECT shipment_id, _line_no FROM raw.wms_shipments ORDER BY 2") == [("S1", 2), ("S3", 4)]
    assert rows(con, "SELECT line_no, reason FROM quarantine.rows") == [
        (3, "record longer than the reader's maximum line size")]
    assert (result.read, result.quarantined) == (3, 1)
    assert rows(con, "SELECT length(raw_text) < 5000 FROM quarantine.rows") == [(True,)]


def test_control_characters_never_reach_a_reason_raw(landing, con):
    event = {"event_id": "E1", "event_type": "delivered", "occurred_at": "2026-11-01T10:00:00+09:00",
             "contractor_id": "K1", "booking_id": "B1", "order_id": "O1", "tracking_ref": None,
             "window_start": None, "window_end": None, "initiated_by": None, "reason_code": None}
    bad_stamp = dict(event, event_id="E2", occurred_at="2026-11-01\x00\x1b[31m")  # escaped in JSON: valid JSON
    raw_nul = json.dumps(dict(event, event_id="E3")).replace("K1", "K\x001")  # a raw NUL: no JSON
    write_drop(landing, "contractor", "2026-11-01", {
        "events.jsonl": "\n".join([json.dumps(event), json.dumps(bad_stamp), raw_nul]) + "\n"})
    load_only(con, landing)
    reasons = [r for (r,) in rows(con, "SELECT reason FROM quarantine.rows ORDER BY line_no")]
    assert reasons == ["bad timestamp (ISO 8601 with offset expected) in occurred_at: 2026-11-01\\x00\\x1b[31m",
                       "control character (\\x00)"]
    assert all(ch.isprintable() for (text,) in rows(con, "SELECT raw_text || reason FROM quarantine.rows")
               for ch in text)


def test_a_landing_path_with_quotes_is_read(tmp_path, con):
    landing = tmp_path / "it's a \"landing\", zone"
    body = "\n".join([SHIPMENTS_HEADER, shipment(1), "S2,O2"]) + "\n"
    write_drop(landing, "wms", "2026-11-01", {"shipments.csv": body, "shipment_lines.csv": LINES_HEADER + "\n"})
    result = load_only(con, landing)
    assert (result.status, result.read, result.quarantined) == ("loaded", 2, 1)
    assert rows(con, "SELECT shipment_id FROM raw.wms_shipments") == [("S1",)]


CONTACT = {"contact_id": "C1", "customer_id": "U1", "order_id": "O1", "channel": "phone", "direction": "inbound",
           "team": "store", "started_at": "2026-11-01T09:00:00+00:00", "handle_seconds": 60, "reason": "wismo",
           "outcome": "resolved", "agreed_date": None, "responded": True}


def test_an_absent_nullable_json_field_reads_as_null_and_an_absent_required_one_quarantines_its_line(landing, con):
    without = {k: v for k, v in CONTACT.items() if k not in ("order_id", "responded")}
    no_channel = {k: v for k, v in dict(CONTACT, contact_id="C3").items() if k != "channel"}
    write_drop(landing, "contacts", "2026-11-01", {"contacts.jsonl": "\n".join(
        json.dumps(c) for c in (CONTACT, dict(without, contact_id="C2"), no_channel)) + "\n"})
    result = load_only(con, landing)
    assert result.status == "loaded"
    assert rows(con, "SELECT contact_id, order_id, responded FROM raw.contacts_contacts ORDER BY 1") == [
        ("C1", "O1", True), ("C2", None, None)]
    assert rows(con, "SELECT line_no, reason FROM quarantine.rows") == [(3, "missing channel")]
