"""The data-quality gate piece by piece, on a real DuckDB file: drop checks, mart checks, the page."""
from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from conftest import write_drop
from fulfilment_monitor import db, load
from fulfilment_monitor.errors import UserError
from fulfilment_monitor.landing import complete_drops
from fulfilment_monitor.validation import gx, page
from fulfilment_monitor.validation.drop_gate import DropGate
from fulfilment_monitor.validation.mart_gate import validate_marts
from fulfilment_monitor.settings import GateSettings, gate
from test_broken_drops import contacts, csv_text, day, events, jsonl_text, shipments, wms_files

T = dt.datetime(2026, 11, 10, tzinfo=dt.timezone.utc)


def load_one(con, landing, source, on, files, settings=GateSettings()):
    write_drop(landing, source, on, files)
    drop = next(d for d in complete_drops(landing) if d.source == source and d.extract_date.isoformat() == on)
    (result,) = load.load_drops(con, [drop], DropGate(settings))
    return result


def failed(result) -> list[str]:
    return [o.expectation for o in result.validations if o.blocks]


def recorded(con, target: str, expectation_like: str) -> list[tuple]:
    return db.query(con, "SELECT success, critical, details FROM audit.validations WHERE target = ? "
                         "AND expectation LIKE ?", [target, expectation_like])


# --- drop checks -------------------------------------------------------------------------------

def test_settings_come_from_the_environment():
    settings = gate({"FULFILMENT_GATE_MAX_BAD_ROW_SHARE": "0.1",
                                      "FULFILMENT_GATE_VOLUME_MIN_HISTORY": "5"})
    assert (settings.max_bad_row_share, settings.volume_min_history) == (0.1, 5)
    with pytest.raises(UserError, match="FULFILMENT_GATE_BAD_ROWS_TOLERATED"):
        gate({"FULFILMENT_GATE_BAD_ROWS_TOLERATED": "a few"})


@pytest.mark.parametrize("rows, bad, status", [
    (10, 1, "loaded"),     # one bad line in a tiny file is a row defect, not a broken drop
    (10, 3, "rejected"),   # 30%
    (100, 3, "loaded"),    # 3% is under the 5% default
    (100, 6, "rejected"),
])
def test_share_of_quarantined_rows(con, landing, rows, bad, status):
    lines = jsonl_text(contacts(day(1), rows)).splitlines(keepends=True)
    body = "".join("{broken\n" if i < bad else line for i, line in enumerate(lines))
    result = load_one(con, landing, "contacts", day(1), {"contacts.jsonl": body})
    assert (result.status, result.quarantined) == (status, bad)
    assert ("expect_column_values_to_be_between(quarantined_share)" in failed(result)) == (status == "rejected")


def test_the_bad_row_share_is_a_setting(con, landing):
    lines = jsonl_text(contacts(day(1), 100)).splitlines(keepends=True)
    body = "{broken\n" * 3 + "".join(lines[3:])
    strict = GateSettings(max_bad_row_share=0.01)
    result = load_one(con, landing, "contacts", day(1), {"contacts.jsonl": body}, strict)
    assert result.status == "rejected"
    assert "contacts.jsonl: 3 of 100 rows quarantined (the first on line 1): 3 x not valid JSON (truncated or malformed line)" in result.problems[0]


def history(con, landing, counts):
    for n, count in enumerate(counts, start=1):
        assert load_one(con, landing, "contacts", day(n), {"contacts.jsonl": jsonl_text(contacts(day(n), count))}
                        ).status == "loaded"
    return len(counts) + 1


def held(result) -> list[str]:
    return [o.expectation for o in result.validations if o.holds]


@pytest.mark.parametrize("past, today, status", [
    ([3, 4, 3], 1, "loaded"),          # a tiny test landing zone: a small day is a normal day
    ([60, 60], 2, "loaded"),           # too little history to judge
    ([60, 55, 70, 60], 10, "held"),    # collapse: under a fifth of the smallest recent drop (55)
    ([60, 55, 70, 60], 13, "loaded"),  # quiet, but not collapsed (0.24x the smallest)
    ([60, 55, 70, 60], 351, "held"),   # flood: over five times the largest recent drop (70)
    ([60, 55, 70, 60], 340, "loaded"),
    ([100, 30, 100, 100], 15, "loaded"),  # a quiet day that recurs: half the smallest, not a collapse
    ([100, 100, 100, 100], 75, "loaded"),  # 25 rows under the range: too few to tell from a quiet day
    ([100, 100, 100, 100], 15, "held"),
])
def test_volume_against_recent_drops(con, landing, past, today, status):
    n = history(con, landing, past)
    result = load_one(con, landing, "contacts", day(n), {"contacts.jsonl": jsonl_text(contacts(day(n), today))})
    assert result.status == status, result.problems
    assert not failed(result)  # a statistical failure never rejects
    assert ("expect_column_values_to_be_between(volume_ratio)" in held(result)) == (status == "held")


def test_a_backlog_judges_each_drop_against_the_drops_before_it(con, landing):
    """Drops of one batch are history for the later ones, except those the gate rejects
    (here day 4: half its lines broken; counted, its 10 lines would make the range 10 to 60)."""
    for n, count in enumerate([60, 60, 60, 10, 60], start=1):
        lines = jsonl_text(contacts(day(n), count)).splitlines(keepends=True)
        body = "".join("{broken\n" if n == 4 and i % 2 else line for i, line in enumerate(lines))
        write_drop(landing, "contacts", day(n), {"contacts.jsonl": body})
    results = load.load_drops(con, complete_drops(landing), DropGate())
    assert [r.status for r in results] == ["loaded", "loaded", "loaded", "rejected", "loaded"]
    assert recorded(con, f"contacts/{day(5)}", "%volume_ratio%") == [
        (True, True, "contacts.jsonl: 60 rows, within the recent loaded drops 60 to 60 rows, median 60")]


def test_a_held_drop_is_no_history_and_its_sources_later_drops_wait_for_it(con, landing):
    for n, count in enumerate([60, 60, 60, 5, 60], start=1):
        write_drop(landing, "contacts", day(n), {"contacts.jsonl": jsonl_text(contacts(day(n), count))})
    results = load.load_drops(con, complete_drops(landing), DropGate())
    assert [r.status for r in results] == ["loaded", "loaded", "loaded", "held", "waiting"]
    assert recorded(con, f"contacts/{day(4)}", "%volume_ratio%") == [
        (False, True, "contacts.jsonl: 5 rows, 0.08x the smallest of the recent loaded drops 60 to 60 rows, median 60")]
    assert recorded(con, f"contacts/{day(5)}", "%volume_ratio%") == []  # not judged: it waits
    assert db.query(con, "SELECT extract_date, status, rows_loaded FROM audit.drops ORDER BY 1")[3:] == [
        (dt.date.fromisoformat(day(4)), "held", 0)]


def test_great_expectations_runs_once_per_suite_per_batch_whatever_the_drops(con, landing, monkeypatch):
    for n in range(1, 13):
        write_drop(landing, "contacts", day(n), {"contacts.jsonl": jsonl_text(contacts(day(n)))})
    runs = []
    real_run = gx._run
    monkeypatch.setattr(gx, "_run", lambda *args: runs.append(args[0].name) or real_run(*args))
    results = load.load_drops(con, complete_drops(landing), DropGate())
    assert all(r.status == "loaded" for r in results)
    assert sorted(runs) == ["contacts_contacts", "every_file"]


def test_an_unknown_event_type_is_a_warning_not_a_rejection(con, landing):
    new_feature = [dict(e, event_type="parcel_locker_dropoff") for e in events(day(1))]
    result = load_one(con, landing, "contractor", day(1), {"events.jsonl": jsonl_text(new_feature)})
    assert result.status == "loaded"
    assert db.query(con, "SELECT expectation, critical, details FROM audit.validations WHERE NOT success") == [
        ("expect_column_values_to_be_null(event_type__unknown_values)", False,
         "events.jsonl: event_type__unknown_values = parcel_locker_dropoff"),
        ("expect_column_values_to_be_between(event_type__unknown_share)", False,
         "events.jsonl: event_type__unknown_share = 1")]


def test_a_format_warning_is_recorded_and_the_drop_loads(con, landing):
    write_baseline_customers = csv_text("oms_customers", [
        {"customer_id": "CU1", "full_name": "A", "email": "a@example.com", "phone": "07700 900123",
         "timezone": "Europe/London", "consent_email": "true", "consent_sms": "false", "consent_phone": "false",
         "consent_whatsapp": "false", "marketing_opt_in": "false", "updated_at": f"{day(1)}T09:00:00+00:00"}])
    result = load_one(con, landing, "oms", day(1), {"customers.csv": write_baseline_customers,
                                                    "orders.csv": csv_text("oms_orders", []),
                                                    "order_lines.csv": csv_text("oms_order_lines", [])})
    assert result.status == "loaded"
    assert recorded(con, f"oms/{day(1)}", "%phone__pattern_miss_share%") == [
        (False, False, "customers.csv: phone__pattern_miss_share = 1")]


def test_shipment_lines_must_point_at_shipments_of_the_same_drop(con, landing):
    files = wms_files(day(1))
    files["shipment_lines.csv"] = csv_text("wms_shipment_lines", [
        {"shipment_id": f"ELSEWHERE-{i}", "line_no": 1, "quantity": 1} for i in range(4)])
    result = load_one(con, landing, "wms", day(1), files)
    assert result.status == "rejected"
    assert failed(result) == ["expect_column_values_to_be_between(shipment_id__orphan_share)"]


def test_lines_of_a_quarantined_shipment_are_not_orphans(con, landing):
    rows = shipments(day(1), 20)
    rows[0]["dispatched_at"] = "yesterday"  # quarantined, but it is in the drop
    result = load_one(con, landing, "wms", day(1), wms_files(day(1), rows))
    assert (result.status, result.quarantined) == ("loaded", 1)
    assert recorded(con, f"wms/{day(1)}", "%orphan_share%") == [(True, True, "shipment_lines.csv: shipment_id__orphan_share = 0")]


def test_a_rejected_drop_keeps_its_failed_expectations(con, landing):
    files = wms_files(day(1))
    files["shipments.csv"] = files["shipments.csv"].replace("shipment_reason", "reason", 1)
    result = load_one(con, landing, "wms", day(1), files)
    assert db.query(con, "SELECT status, problems FROM audit.drops") == [("rejected", result.problems[0])]
    assert db.query(con, "SELECT suite, expectation, success, critical FROM audit.validations "
                         "WHERE NOT success") == [("wms_shipments", "file_readable_with_declared_format", False, True)]


# --- mart checks -------------------------------------------------------------------------------

def build_marts(con, exceptions=(), orders=(("O1", "placed"), ("O2", "cancelled")), outreach=None):
    """Mart tables as dbt would leave them, with the given exception rows (dicts over a clean one)."""
    con.sql("CREATE SCHEMA IF NOT EXISTS marts; CREATE SCHEMA IF NOT EXISTS intermediate")
    con.sql("CREATE OR REPLACE TABLE intermediate.int_orders (order_id VARCHAR, order_status VARCHAR)")
    con.executemany("INSERT INTO intermediate.int_orders VALUES (?, ?)", [list(o) for o in orders])
    clean = {"exception_id": "e1", "exception_type": "stalled_handoff", "exception_subtype": None,
             "exception_key": "S1", "severity": "medium", "order_id": "O1", "customer_id": "CU1",
             "booking_id": None, "shipment_id": "S1", "contact_id": None, "event_id": None,
             "contractor_id": "K1", "warehouse_id": "W1", "occurred_at": T - dt.timedelta(days=1),
             "first_detected_at": T, "status": "open", "evidence": "no contractor event within 48h"}
    rows = [dict(clean, **change) for change in (exceptions or [{}])]
    con.register("rows", pa.Table.from_pylist(rows))
    con.sql("CREATE OR REPLACE TABLE marts.fct_fulfilment_exceptions AS "
            "SELECT * REPLACE (occurred_at::TIMESTAMPTZ AS occurred_at, "
            "first_detected_at::TIMESTAMPTZ AS first_detected_at) FROM rows")
    con.sql("CREATE OR REPLACE TABLE marts.exception_history AS SELECT exception_id, exception_type, "
            "exception_subtype, exception_key, order_id, severity, status, first_detected_at AS detected_at "
            "FROM marts.fct_fulfilment_exceptions")
    con.unregister("rows")
    if outreach is not None:
        con.register("rows", pa.Table.from_pylist(outreach))
        con.sql("CREATE OR REPLACE TABLE marts.fct_outreach_queue AS SELECT * FROM rows")
        con.unregister("rows")


def test_clean_marts_pass_and_are_recorded_with_the_run(con):
    build_marts(con, [{}, {"exception_id": "e2", "exception_key": "S2", "order_id": "O2", "status": "resolved"}])
    assert validate_marts(con, "run-1", T) == []
    targets = db.query(con, "SELECT DISTINCT run_id, scope, target FROM audit.validations ORDER BY target")
    assert targets == [("run-1", "mart", "marts.fct_fulfilment_exceptions")]  # no outreach mart yet: skipped


@pytest.mark.parametrize("rows, expectation", [
    ([{}, {"exception_id": "e2"}], "expect_compound_columns_to_be_unique(exception_type, exception_key)"),
    ([{"order_id": "O2"}], "expect_column_values_to_not_be_in_set(order_status_at_t) where status == open"),
    ([{"exception_type": "missed_window", "exception_subtype": "abducted"}],
     "expect_column_values_to_be_in_set(exception_subtype) where exception_type == missed_window"),
    ([{"first_detected_at": T + dt.timedelta(hours=1)}], "expect_column_values_to_be_between(first_detected_at)"),
], ids=["exception_key", "open_on_cancelled", "subtype", "detected_after_T"])
def test_each_broken_mart_rule_blocks_publishing(con, rows, expectation):
    build_marts(con, rows)
    problems = validate_marts(con, "run-1", T)
    assert any(p.startswith(f"fct_fulfilment_exceptions: {expectation}:") for p in problems), problems


def test_a_resolved_exception_on_a_cancelled_order_is_fine(con):
    build_marts(con, [{"order_id": "O2", "status": "resolved"}])
    assert validate_marts(con, "run-1", T) == []


def test_the_outreach_queue_is_checked_once_it_exists(con):
    case = {"case_id": "c1", "order_id": "O1", "customer_id": "CU1", "exception_types": "stalled_handoff",
            "priority": 50, "channel": "sms", "fallback_channels": "email", "send_after": T, "escalate": False,
            "suppressed_reason": None, "message": "Your sofa ... reply YES"}
    build_marts(con, outreach=[case, dict(case, order_id="O2")])
    assert validate_marts(con, "run-1", T) == []
    build_marts(con, outreach=[case, dict(case, case_id="c2", order_id="O2", channel="carrier_pigeon")])
    assert validate_marts(con, "run-1", T) == [
        "fct_outreach_queue: expect_column_values_to_be_in_set(channel): "
        "1 of 2 rows unexpected (50.0%), e.g. carrier_pigeon"]


def test_a_required_mart_that_was_not_built_blocks_publishing(con):
    build_marts(con)
    con.sql("DROP TABLE marts.fct_fulfilment_exceptions")
    assert validate_marts(con, "run-1", T) == [
        "fct_fulfilment_exceptions: table_exists: marts.fct_fulfilment_exceptions was not built"]


# --- the page ----------------------------------------------------------------------------------

def test_the_page_shows_rejected_drops_and_mart_results(con, landing, tmp_path):
    files = wms_files(day(1))
    files["shipments.csv"] = ""
    load_one(con, landing, "wms", day(1), files)
    load_one(con, landing, "contacts", day(1), {"contacts.jsonl": jsonl_text(contacts(day(1), 5))})
    build_marts(con, [{"exception_type": "missed_window", "exception_subtype": "abducted"}])
    validate_marts(con, "run-7", T)
    page.write_page_for(con)  # beside the database

    html = page.page_path(tmp_path / "work.duckdb").read_text()
    assert "run <code>run-7</code>" in html and "publishing blocked" in html
    assert f"wms/{day(1)}" in html and "rejected" in html and "empty file, no header row" in html
    assert f"contacts/{day(1)}" in html and "accepted" in html
    assert "expect_column_values_to_be_in_set(exception_subtype)" in html


def drop_row(page_html: str, target: str) -> str:
    """The data-quality page's row of one drop (`source/date`): its verdict, counts and findings."""
    return page_html.split(f"<strong>{target}</strong>")[1].split("</tr>\n")[0]


def test_the_page_shows_a_held_drop_as_held_not_rejected(con, landing, tmp_path):
    """A drop that failed only a statistical check waits for ops (release): the page says so, and
    counts its check neither as a rejection's failure nor as a warning recorded only."""
    for n, count in enumerate([60, 60, 60, 5], start=1):
        write_drop(landing, "contacts", day(n), {"contacts.jsonl": jsonl_text(contacts(day(n), count))})
    assert [r.status for r in load.load_drops(con, complete_drops(landing), DropGate())][-1] == "held"
    page.write_page_for(con)

    html = page.page_path(tmp_path / "work.duckdb").read_text()
    held_row = drop_row(html, f"contacts/{day(4)}")
    assert "held for review" in held_row and "rejected" not in held_row
    assert "0.08x the smallest of the recent loaded drops" in held_row
    loaded_row = drop_row(html, f"contacts/{day(3)}")
    assert "accepted" in loaded_row and "held" not in loaded_row
