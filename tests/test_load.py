"""The loader: idempotent, all-or-nothing per drop, every row loaded or quarantined."""
from __future__ import annotations

import shutil

import pytest

from conftest import write_drop
from fulfilment_monitor import db, load
from fulfilment_monitor.landing import complete_drops

SHIPMENTS_HEADER = ("shipment_id,order_id,warehouse_id,dispatched_at,contractor_id,tracking_ref,"
                    "shipment_reason,replaces_shipment_id\n")
GOOD_SHIPMENT = "S1,O1,W1,2026-11-01T08:00:00-05:00,K1,T1,initial,\n"
LINES_HEADER = "shipment_id,line_no,quantity\n"

# (line as written, the reason it must be quarantined for)
BAD_SHIPMENT_ROWS = [
    (",O1,W1,2026-11-01T08:00:00-05:00,K1,T2,initial,\n", "missing shipment_id"),
    ("S3,O1,W1,2026-11-01 08:00,K1,T3,initial,\n", "bad timestamp"),
    ("S4,O1,W1,2026-11-01T08:00:00-05:00,K1,T4,teleported,\n", "unknown value in shipment_reason"),
    ("S5,O1,W1\n", "wrong column count"),
    ("S6,O1,W1,2026-11-01T08:00:00-05:00,K1,\"T6,initial,\n", "malformed CSV line"),
    ("S1,O9,W1,2026-11-01T09:00:00-05:00,K1,T7,initial,\n", "duplicate key within drop"),
]


def wms_drop(landing, day="2026-11-01", extra_lines="", complete=True):
    body = SHIPMENTS_HEADER + GOOD_SHIPMENT + "".join(r for r, _ in BAD_SHIPMENT_ROWS)
    return write_drop(landing, "wms", day, {
        "shipments.csv": body.encode() + b"\xffS8,O1,W1,2026-11-01T08:00:00-05:00,K1,T8,initial,\n",
        "shipment_lines.csv": LINES_HEADER + "S1,1,2\nS1,2,-1\n" + extra_lines,
    }, complete)


def counts(con, table):
    return db.query(con, f"SELECT count(*) FROM {table}")[0][0]


def test_every_row_is_loaded_or_quarantined_with_its_reason(landing, con):
    wms_drop(landing)
    (drop,) = complete_drops(landing)
    result = load.load_drop(con, drop)

    assert result.status == "loaded"
    assert result.read == 1 + len(BAD_SHIPMENT_ROWS) + 1 + 2
    assert result.read == result.loaded + result.quarantined
    assert counts(con, "raw.wms_shipments") + counts(con, "raw.wms_shipment_lines") == result.loaded
    reasons = dict(db.query(con, "SELECT line_no, reason FROM quarantine.rows WHERE file = 'shipments.csv'"))
    for line_no, (_, expected) in enumerate(BAD_SHIPMENT_ROWS, start=3):
        assert reasons[line_no].startswith(expected), (line_no, reasons[line_no])
    assert reasons[3 + len(BAD_SHIPMENT_ROWS)] == "not valid UTF-8"
    assert db.query(con, "SELECT reason FROM quarantine.rows WHERE file = 'shipment_lines.csv'") == [
        ("non-positive number in quantity: -1",)]


def test_lineage_is_kept(landing, con):
    wms_drop(landing)
    load.load_drop(con, complete_drops(landing)[0])
    row = db.query(con, "SELECT _source, CAST(_extract_date AS VARCHAR), _file, _line_no, _load_id "
                        "FROM raw.wms_shipments")[0]
    assert row[:4] == ("wms", "2026-11-01", "shipments.csv", 2)
    assert row[4].startswith("wms/2026-11-01/")


def test_a_feed_column_named_line_no_keeps_its_own_value(landing, con):
    """The feed's `line_no` (the order line) is data; the file's line number is lineage."""
    write_drop(landing, "wms", "2026-11-01", {
        "shipments.csv": SHIPMENTS_HEADER + GOOD_SHIPMENT,
        "shipment_lines.csv": LINES_HEADER + "S1,7,2\nS1,9,1\n",
    })
    load.load_drop(con, complete_drops(landing)[0])
    assert db.query(con, "SELECT line_no, _line_no FROM raw.wms_shipment_lines ORDER BY 1") == [(7, 2), (9, 3)]


def test_loading_a_drop_twice_changes_nothing(landing, con, tmp_path):
    wms_drop(landing)
    (drop,) = complete_drops(landing)
    load.load_drop(con, drop)
    before = [counts(con, t) for t in ("raw.wms_shipments", "quarantine.rows", "audit.drops")]

    assert load.load_drop(con, drop).status == "skipped"
    redelivered = tmp_path / "again"
    shutil.copytree(landing, redelivered)
    assert load.load_drop(con, complete_drops(redelivered)[0]).status == "skipped"
    assert [counts(con, t) for t in ("raw.wms_shipments", "quarantine.rows", "audit.drops")] == before


def test_incomplete_drops_are_skipped(landing):
    wms_drop(landing, "2026-11-01")
    wms_drop(landing, "2026-11-02", complete=False)
    assert [d.extract_date.isoformat() for d in complete_drops(landing)] == ["2026-11-01"]


def test_a_header_that_does_not_match_rejects_the_whole_drop(landing, con):
    write_drop(landing, "wms", "2026-11-01", {
        "shipments.csv": SHIPMENTS_HEADER.replace("tracking_ref", "tracking_no") + GOOD_SHIPMENT,
        "shipment_lines.csv": LINES_HEADER + "S1,1,2\n",
    })
    result = load.load_drop(con, complete_drops(landing)[0])
    assert result.status == "rejected"
    assert "missing: tracking_ref" in result.problems[0]
    assert counts(con, "raw.wms_shipment_lines") == 0  # not even the good file of the drop
    assert db.query(con, "SELECT status FROM audit.drops") == [("rejected",)]


def test_a_drop_dying_mid_load_leaves_nothing(landing, con, monkeypatch):
    wms_drop(landing)
    written = []

    def fail_after_first(con_, load_id, drop, file_result, now):
        if written:
            raise RuntimeError("killed")
        written.append(file_result)
        original(con_, load_id, drop, file_result, now)

    original = load._write_file
    monkeypatch.setattr(load, "_write_file", fail_after_first)
    with pytest.raises(RuntimeError):
        load.load_drop(con, complete_drops(landing)[0])
    assert written, "the first file was written before the failure"
    assert [counts(con, t) for t in ("raw.wms_shipments", "quarantine.rows", "audit.drops")] == [0, 0, 0]
    monkeypatch.undo()
    assert load.load_drop(con, complete_drops(landing)[0]).status == "loaded"


def test_json_lines_defects_are_quarantined(landing, con):
    good = ('{"event_id":"E1","event_type":"delivered","occurred_at":"2026-11-01T10:00:00+09:00",'
            '"contractor_id":"K1","booking_id":"B1","order_id":"O1","tracking_ref":null}\n')
    write_drop(landing, "contractor", "2026-11-01", {"events.jsonl": (
        good + good  # the same event twice in a drop is legal: delivery is at-least-once
        + '{"event_id":"E2","event_type":"delivered","occurred_at":"yesterday","contractor_id":"K1","order_id":"O1"}\n'
        + '["not", "an", "object"]\n'
        + '{"event_id":"E3","event_type":"deliv')})
    result = load.load_drop(con, complete_drops(landing)[0])
    assert (result.read, result.loaded, result.quarantined) == (5, 2, 3)
    assert [r for (r,) in db.query(con, "SELECT reason FROM quarantine.rows ORDER BY line_no")] == [
        "bad timestamp (ISO 8601 with offset expected) in occurred_at: yesterday",
        "JSON line is not an object",
        "not valid JSON (truncated or malformed line)",
    ]
    assert db.query(con, "SELECT occurred_at FROM raw.contractor_events LIMIT 1") == [
        ("2026-11-01T10:00:00+09:00",)]
