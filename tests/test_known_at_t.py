"""When a drop is known (source-feeds.md): a drop of D is known from the end of D, and in it
only the facts stamped by T. So a fresh database that already holds later drops, built at
the nightly run's T, gives exactly what that nightly run gave.

Hand-made drops: the facts that tell the nightly run for 2026-11-03 it was wrong arrive in
the drop of 2026-11-04 (a delivery after the window, a transferred call, both stamped on
the 3rd). The nightly run cannot have seen them; a backfill at the same T must not either.
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import test_airflow_nightly as airflow_nightly
from conftest import cli, write_drop
from fulfilment_monitor import db, nightly

D1, D2 = dt.date(2026, 11, 3), dt.date(2026, 11, 4)
T1 = nightly.window(D1).as_of  # 2026-11-04T00:00:00Z


def event(event_id: str, event_type: str, occurred_at: str, **fields) -> str:
    row = {"event_id": event_id, "event_type": event_type, "occurred_at": occurred_at, "contractor_id": "K1",
           "booking_id": "B1", "order_id": "O1", "tracking_ref": None, "window_start": None,
           "window_end": None, "initiated_by": None, "reason_code": None, **fields}
    return json.dumps(row) + "\n"


def contact(contact_id: str, started_at: str, outcome: str) -> str:
    return json.dumps({"contact_id": contact_id, "customer_id": "C1", "order_id": "O1", "channel": "phone",
                       "direction": "inbound", "team": "contact_centre", "started_at": started_at,
                       "handle_seconds": 300, "reason": "wismo", "outcome": outcome, "agreed_date": None,
                       "responded": None}) + "\n"


def write_landing(landing: Path) -> None:
    write_drop(landing, "oms", "2026-11-01", {
        "customers.csv": "customer_id,full_name,email,phone,timezone,preferred_channel,consent_email,consent_sms,"
                         "consent_phone,consent_whatsapp,marketing_opt_in,updated_at\n"
                         "C1,Ada Lovelace,ada@example.com,+15550100,America/Chicago,email,true,false,false,false,"
                         "false,2026-11-01T09:00:00Z\n",
        "orders.csv": "order_id,customer_id,sales_channel,store_id,placed_at,promised_date,order_status,"
                      "order_total,currency,updated_at\n"
                      "O1,C1,web,,2026-11-01T09:00:00Z,2026-11-10,placed,899.00,USD,2026-11-01T09:00:00Z\n",
        "order_lines.csv": "order_id,line_no,sku,description,quantity,unit_price,fulfilment_type,updated_at\n"
                           "O1,1,W-1,Washer,1,899.00,two_person,2026-11-01T09:00:00Z\n"})
    write_drop(landing, "contractor", "2026-11-01", {"events.jsonl": event(
        "E1", "booking_created", "2026-11-01T10:00:00Z",
        window_start="2026-11-03T08:00:00-06:00", window_end="2026-11-03T12:00:00-06:00")})
    write_drop(landing, "contacts", "2026-11-02", {"contacts.jsonl": contact("K0", "2026-11-02T15:00:00Z", "resolved")})
    # Stamped on the 3rd, delivered in the drop of the 4th.
    write_drop(landing, "contractor", "2026-11-04", {"events.jsonl": event(
        "E2", "delivered", "2026-11-03T21:00:00Z")})
    write_drop(landing, "contacts", "2026-11-04", {"contacts.jsonl": contact("K1", "2026-11-03T22:00:00Z", "transferred")})


EXCEPTION_COLUMNS = "exception_id, exception_type, exception_subtype, status, evidence"


def published(path: Path) -> dict[str, list[tuple]]:
    with db.connect(path, read_only=True) as con:
        return {"exceptions": db.query(con, f"SELECT {EXCEPTION_COLUMNS} FROM marts.fct_fulfilment_exceptions "
                                            "ORDER BY exception_id"),
                "outreach": db.query(con, "SELECT * FROM marts.fct_outreach_queue ORDER BY case_id")}


def run_nightly(day: dt.date, landing: Path, path: Path) -> dict[str, list[tuple]]:
    """The DAG's tasks for one date (as test_airflow_nightly runs them); what was published."""
    airflow_nightly.run_nightly(day, landing, path)
    return published(path)


def test_a_fresh_database_holding_later_drops_gives_what_the_nightly_run_gave(landing, tmp_path):
    write_landing(landing)
    nightly_db = tmp_path / "nightly" / "f.duckdb"
    at_t1 = run_nightly(D1, landing, nightly_db)
    at_t2 = run_nightly(D2, landing, nightly_db)

    # What the night of the 3rd knew: a window missed with no sign of a delivery.
    assert [(kind, subtype, status) for _, kind, subtype, status, _ in at_t1["exceptions"]] == [
        ("missed_window", "no_show", "open")]
    assert len(at_t1["outreach"]) == 1
    # The drop of the 4th shows the delivery came late, and a third contact was transferred.
    assert sorted((kind, subtype, status) for _, kind, subtype, status, _ in at_t2["exceptions"]) == [
        ("high_effort_contact", None, "open"), ("missed_window", "late_delivery", "resolved")]

    fresh_db = tmp_path / "fresh" / "f.duckdb"  # every drop loaded, built at the nightly run's T
    done = cli("run", "--landing", str(landing), "--db", str(fresh_db), "--as-of", "2026-11-04T00:00:00Z")
    assert done.returncode == 0, done.stderr
    assert published(fresh_db) == at_t1
