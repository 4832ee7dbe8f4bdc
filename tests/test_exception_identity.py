"""An exception keeps its id and first detection over the nights; when late data shows it never
held, it leaves fct_fulfilment_exceptions but its history stays (the real CLI, a real file)."""
from __future__ import annotations

import json

import pytest

from conftest import cli, write_drop
from fulfilment_monitor import db

pytestmark = pytest.mark.slow  # three pipeline runs

SHIPMENTS = ("shipment_id,order_id,warehouse_id,dispatched_at,contractor_id,tracking_ref,"
             "shipment_reason,replaces_shipment_id\n"
             "S1,O1,W1,2026-11-01T08:00:00-05:00,K1,T1,initial,\n")
# The contractor took the goods two hours after dispatch; the event reaches us three days late.
RECEIVED = {"event_id": "E1", "event_type": "received_from_warehouse", "occurred_at": "2026-11-01T10:00:00-05:00",
            "contractor_id": "K1", "booking_id": None, "order_id": "O1", "tracking_ref": "T1",
            "window_start": None, "window_end": None, "initiated_by": None, "reason_code": None}


def run(landing, published, as_of: str) -> None:
    done = cli("run", "--landing", str(landing), "--db", str(published), "--as-of", as_of)
    assert done.returncode == 0, done.stderr


def found(published) -> list[tuple]:
    with db.connect(published, read_only=True) as con:
        return db.query(con, "SELECT exception_type, exception_id, CAST(first_detected_at AS VARCHAR) "
                             "FROM marts.fct_fulfilment_exceptions")


def history(published) -> list[tuple]:
    with db.connect(published, read_only=True) as con:
        return db.query(con, "SELECT exception_id, CAST(detected_at AS VARCHAR) FROM marts.exception_history "
                             "ORDER BY detected_at")


def test_one_identity_over_the_nights_and_a_disproved_exception_leaves_only_history(landing, tmp_path):
    published = tmp_path / "fulfilment.duckdb"
    write_drop(landing, "wms", "2026-11-01", {"shipments.csv": SHIPMENTS,
                                              "shipment_lines.csv": "shipment_id,line_no,quantity\nS1,1,1\n"})

    run(landing, published, "2026-11-04T00:00:00Z")  # 59 h after dispatch, no contractor event known
    (first,) = found(published)
    assert first[0] == "stalled_handoff" and first[2].startswith("2026-11-04 00:00:00")

    run(landing, published, "2026-11-05T00:00:00Z")  # the next night: the same exception, first seen then
    assert found(published) == [first]

    write_drop(landing, "contractor", "2026-11-05", {"events.jsonl": json.dumps(RECEIVED) + "\n"})
    run(landing, published, "2026-11-06T00:00:00Z")  # the late event shows the handoff was in time
    assert found(published) == []
    assert [h[0] for h in history(published)] == [first[1], first[1]]
