"""The data-quality gate piece by piece, on a real DuckDB file: drop checks, mart checks, the page."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pyarrow as pa
import pytest

from conftest import write_drop
from fulfilment_monitor import db, load, validate
from fulfilment_monitor.errors import UserError
from fulfilment_monitor.feeds import feed
from fulfilment_monitor.landing import Drop, complete_drops
from fulfilment_monitor.validation import drop_gate, gx, page
from fulfilment_monitor.validation.settings import GateSettings
from test_broken_drops import contacts, csv_text, day, events, jsonl_text, shipments, wms_files

T = dt.datetime(2026, 11, 10, tzinfo=dt.timezone.utc)


def load_one(con, landing, source, on, files, settings=GateSettings()):
    write_drop(landing, source, on, files)
    drop = next(d for d in complete_drops(landing) if d.source == source and d.extract_date.isoformat() == on)
    return load.load_drop(con, drop, validate.drop_checks(settings))


def failed(result) -> list[str]:
    return [o.expectation for o in result.validations if o.blocks]


# --- drop checks -------------------------------------------------------------------------------

def test_settings_come_from_the_environment():
    settings = GateSettings.from_env({"FULFILMENT_GATE_MAX_BAD_ROW_SHARE": "0.1",
                                      "FULFILMENT_GATE_VOLUME_MIN_HISTORY": "5"})
    assert (settings.max_bad_row_share, settings.volume_min_history) == (0.1, 5)
    with pytest.raises(UserError, match="FULFILMENT_GATE_BAD_ROWS_TOLERATED"):
        GateSettings.from_env({"FULFILMENT_GATE_BAD_ROWS_TOLERATED": "a few"})


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


def test_the_bad_row_share_is_a_setting(con, landing):
    lines = jsonl_text(contacts(day(1), 100)).splitlines(keepends=True)
    body = "{broken\n" * 3 + "".join(lines[3:])
    strict = GateSettings(max_bad_row_share=0.01)
    assert load_one(con, landing, "contacts", day(1), {"contacts.jsonl": body}, strict).status == "rejected"


def history(con, landing, counts):
    for n, count in enumerate(counts, start=1):
        assert load_one(con, landing, "contacts", day(n), {"contacts.jsonl": jsonl_text(contacts(day(n), count))}
                        ).status == "loaded"
    return len(counts) + 1


@pytest.mark.parametrize("past, today, status", [
    ([3, 4, 3], 1, "loaded"),          # a tiny test landing zone: a small day is a normal day
    ([60, 60], 2, "loaded"),           # too little history to judge
    ([60, 55, 70, 60], 11, "rejected"),  # collapse: under a fifth of the usual 60
    ([60, 55, 70, 60], 13, "loaded"),  # quiet, but not collapsed
    ([60, 55, 70, 60], 601, "rejected"),  # flood: over ten times the usual
])
def test_volume_against_recent_drops(con, landing, past, today, status):
    n = history(con, landing, past)
    result = load_one(con, landing, "contacts", day(n), {"contacts.jsonl": jsonl_text(contacts(day(n), today))})
    assert result.status == status, result.problems
    assert ("row_count_within_recent_history" in failed(result)) == (status == "rejected")


def test_volume_history_counts_quarantined_rows_and_skips_rejected_drops(con, landing):
    history(con, landing, [60, 60])
    two_bad = "{broken\n" * 2 + jsonl_text(contacts(day(3), 58))
    assert load_one(con, landing, "contacts", day(3), {"contacts.jsonl": two_bad}).quarantined == 2
    collapsed = load_one(con, landing, "contacts", day(4), {"contacts.jsonl": jsonl_text(contacts(day(4), 5))})
    assert collapsed.status == "rejected"
    assert drop_gate.recent_volumes(con, Drop("contacts", dt.date.fromisoformat(day(5)), landing),
                                    load.FileResult(feed("contacts_contacts")), 7) == [60, 60, 60]


def test_a_check_may_still_return_bare_problem_strings(con, landing):
    write_drop(landing, "wms", day(1), wms_files(day(1)))
    result = load.load_drop(con, complete_drops(landing)[0], [lambda con_, drop, files: ["looks odd"]])
    assert (result.status, result.problems) == ("rejected", ["drop: check: looks odd"])
    assert db.query(con, "SELECT suite, expectation, details FROM audit.validations") == [
        ("drop", "check", "looks odd")]


def test_an_unknown_event_type_is_a_warning_not_a_rejection(con, landing):
    new_feature = [dict(e, event_type="parcel_locker_dropoff") for e in events(day(1))]
    result = load_one(con, landing, "contractor", day(1), {"events.jsonl": jsonl_text(new_feature)})
    assert result.status == "loaded"
    assert db.query(con, "SELECT expectation, success, critical, details FROM audit.validations "
                         "WHERE NOT success") == [
        ("expect_column_values_to_be_in_set(event_type)", False, False,
         "1 of 1 rows unexpected (100.0%), e.g. parcel_locker_dropoff")]


def test_shipment_lines_must_point_at_shipments_of_the_same_drop(con, landing):
    files = wms_files(day(1))
    files["shipment_lines.csv"] = csv_text("wms_shipment_lines", [
        {"shipment_id": f"ELSEWHERE-{i}", "line_no": 1, "quantity": 1} for i in range(4)])
    result = load_one(con, landing, "wms", day(1), files)
    assert result.status == "rejected"
    assert failed(result) == ["expect_column_values_to_be_in_set(shipment_in_drop) for at least 90% of rows"]


def test_lines_of_a_quarantined_shipment_are_not_orphans(con, landing):
    rows = shipments(day(1), 20)
    rows[0]["dispatched_at"] = "yesterday"  # quarantined, but it is in the drop
    result = load_one(con, landing, "wms", day(1), wms_files(day(1), rows))
    assert (result.status, result.quarantined) == ("loaded", 1)
    assert db.query(con, "SELECT details FROM audit.validations "
                         "WHERE expectation LIKE '%shipment_in_drop%'") == [("0 of 20 rows unexpected",)]


def test_great_expectations_catches_what_the_parser_let_through(con, landing):
    """Defence in depth: rows marked good that break the feed's rules fail the suite."""
    drop = Drop("wms", dt.date(2026, 11, 2), landing)
    good = {"dispatched_at": "2026-11-02T08:00:00-05:00", "warehouse_id": "W1", "contractor_id": "K1",
            "order_id": "O1", "tracking_ref": "T", "replaces_shipment_id": None}
    rows = pa.Table.from_pylist([
        dict(good, shipment_id="S1", shipment_reason="initial", _line_no=2),
        dict(good, shipment_id="S1", shipment_reason="teleported", _line_no=3),
        dict(good, shipment_id="S2", shipment_reason="split", dispatched_at="2026-11-02 08:00", _line_no=4),
    ])
    lines = pa.Table.from_pylist([{"shipment_id": "S1", "line_no": 1, "quantity": "2", "_line_no": 2},  # text
                                  {"shipment_id": "S2", "line_no": 1, "quantity": "0", "_line_no": 3}])
    files = [load.FileResult(feed(table), rows=parsed.append_column("raw_text", pa.array([""] * parsed.num_rows))
                             .append_column("reject_reason", pa.array([None] * parsed.num_rows, pa.string())))
             for table, parsed in (("wms_shipments", rows), ("wms_shipment_lines", lines))]
    blocking = {(o.suite, o.expectation) for o in drop_gate.expectations_check(con, drop, files) if o.blocks}
    assert {("wms_shipments", "expect_column_values_to_be_in_set(shipment_reason)"),
            ("wms_shipments", "expect_column_values_to_be_unique(shipment_id)"),
            ("wms_shipments", "expect_column_values_to_match_regex(dispatched_at)"),
            ("wms_shipment_lines", "expect_column_values_to_be_of_type(quantity)")} <= blocking
    assert not {e for s, e in blocking if "shipment_in_drop" in e or "replaces" in e}


def test_validations_are_written_in_the_drops_transaction(con, landing, monkeypatch):
    write_drop(landing, "wms", day(1), wms_files(day(1)))
    (drop,) = complete_drops(landing)

    def die(*args):
        raise RuntimeError("killed mid-load")

    monkeypatch.setattr(load, "_write_file", die)
    with pytest.raises(RuntimeError):
        load.load_drop(con, drop, validate.drop_checks())
    assert db.query(con, "SELECT count(*) FROM audit.validations") == [(0,)]
    monkeypatch.undo()

    result = load.load_drop(con, drop, validate.drop_checks())
    (load_id,) = db.query(con, "SELECT load_id FROM audit.drops")[0]
    recorded = db.query(con, "SELECT DISTINCT run_id, scope, target FROM audit.validations")
    assert recorded == [(load_id, "drop", f"wms/{day(1)}")]
    assert db.query(con, "SELECT count(*) FROM audit.validations")[0][0] == len(result.validations)


def test_a_rejected_drop_keeps_its_failed_expectations(con, landing):
    files = wms_files(day(1))
    files["shipments.csv"] = files["shipments.csv"].replace("shipment_reason", "reason", 1)
    result = load_one(con, landing, "wms", day(1), files)
    assert db.query(con, "SELECT status, problems FROM audit.drops") == [("rejected", result.problems[0])]
    assert db.query(con, "SELECT suite, expectation, success, critical FROM audit.validations") == [
        ("wms_shipments", "file_readable_with_declared_header", False, True)]


# --- mart checks -------------------------------------------------------------------------------

def build_marts(con, exceptions=(), orders=(("O1", "placed"), ("O2", "cancelled")), outreach=None):
    """Mart tables as dbt would leave them, with the given exception rows (dicts over a clean one)."""
    con.sql("CREATE SCHEMA IF NOT EXISTS marts; CREATE SCHEMA IF NOT EXISTS staging")
    con.sql("CREATE OR REPLACE TABLE staging.stg_oms__orders (order_id VARCHAR, order_status VARCHAR)")
    con.executemany("INSERT INTO staging.stg_oms__orders VALUES (?, ?)", [list(o) for o in orders])
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
    assert validate.validate_marts(con, "run-1", T) == []
    targets = db.query(con, "SELECT DISTINCT run_id, scope, target FROM audit.validations ORDER BY target")
    assert targets == [("run-1", "mart", "marts.exception_history"),
                       ("run-1", "mart", "marts.fct_fulfilment_exceptions")]  # no outreach mart yet: skipped


@pytest.mark.parametrize("rows, expectation", [
    ([{}, {"exception_key": "S2"}], "expect_column_values_to_be_unique(exception_id)"),
    ([{}, {"exception_id": "e2"}], "expect_compound_columns_to_be_unique(exception_type, exception_key)"),
    ([{"exception_type": "lost_in_space"}], "expect_column_values_to_be_in_set(exception_type)"),
    ([{"severity": "urgent"}], "expect_column_values_to_be_in_set(severity)"),
    ([{"status": "closed"}], "expect_column_values_to_be_in_set(status)"),
    ([{"order_id": "O2"}], "expect_column_values_to_not_be_in_set(order_status_at_t) where status == open"),
    ([{"exception_type": "missed_window", "exception_subtype": "abducted"}],
     "expect_column_values_to_be_in_set(exception_subtype) where exception_type == missed_window"),
    ([{"first_detected_at": T + dt.timedelta(hours=1)}], "expect_column_values_to_be_between(first_detected_at)"),
], ids=["exception_id", "exception_key", "type", "severity", "status", "open_on_cancelled", "subtype",
        "detected_after_T"])
def test_each_broken_mart_rule_blocks_publishing(con, rows, expectation):
    build_marts(con, rows)
    problems = validate.validate_marts(con, "run-1", T)
    assert any(p.startswith(f"fct_fulfilment_exceptions: {expectation}:") for p in problems), problems


def test_a_resolved_exception_on_a_cancelled_order_is_fine(con):
    build_marts(con, [{"order_id": "O2", "status": "resolved"}])
    assert validate.validate_marts(con, "run-1", T) == []


def test_the_outreach_queue_is_checked_once_it_exists(con):
    case = {"case_id": "c1", "order_id": "O1", "customer_id": "CU1", "exception_types": "stalled_handoff",
            "priority": 50, "channel": "sms", "fallback_channels": "email", "send_after": T, "escalate": False,
            "suppressed_reason": None, "message": "Your sofa ... reply YES"}
    build_marts(con, outreach=[case, dict(case, order_id="O2")])
    assert validate.validate_marts(con, "run-1", T) == [
        "fct_outreach_queue: expect_column_values_to_be_unique(case_id): "
        "2 of 2 rows unexpected (100.0%), e.g. c1, c1"]


def test_a_required_mart_that_was_not_built_blocks_publishing(con):
    build_marts(con)
    con.sql("DROP TABLE marts.exception_history")
    assert validate.validate_marts(con, "run-1", T) == [
        "exception_history: table_exists: marts.exception_history was not built"]


# --- the page ----------------------------------------------------------------------------------

def test_the_page_shows_rejected_drops_and_mart_results(con, landing, tmp_path):
    files = wms_files(day(1))
    files["shipments.csv"] = ""
    load_one(con, landing, "wms", day(1), files)
    load_one(con, landing, "contacts", day(1), {"contacts.jsonl": jsonl_text(contacts(day(1), 5))})
    build_marts(con, [{"severity": "urgent"}])
    validate.validate_marts(con, "run-7", T)  # writes the page beside the database

    html = page.page_path(tmp_path / "work.duckdb").read_text()
    assert "run <code>run-7</code>" in html and "publishing blocked" in html
    assert f"wms/{day(1)}" in html and "rejected" in html and "empty file, no header row" in html
    assert f"contacts/{day(1)}" in html and "accepted" in html
    assert "expect_column_values_to_be_in_set(severity)" in html


# --- a backlog checked in one go ----------------------------------------------------------------

BACKLOG_SUITE = {"name": "backlog", "expectations": [
    {"type": "expect_table_columns_to_match_ordered_list", "kwargs": {"column_list": ["k", "v", "e"]}},
    {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "k"}},
    {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "v", "value_set": ["x", "y"],
                                                             "mostly": 0.5}, "severity": "warning"},
    {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "e", "row_condition": {
        "type": "comparison", "column": {"name": "v"}, "operator": "==", "parameter": "x"}}},
]}


def test_a_backlog_gets_what_each_drop_would_get_alone():
    """One drop clean, one over its `mostly` share, one with a key repeated within it, one with a
    conditional null: the same verdicts and, where a row was unexpected, the same details."""
    frames = [pd.DataFrame({"k": k, "v": v, "e": e}) for k, v, e in [
        (["1", "2", "3"], ["x", "y", "y"], ["a", None, None]),   # clean (keys repeat across drops)
        (["1", "2", "3"], ["z", "z", "x"], [None, None, "b"]),   # 2 of 3 v unexpected: below its mostly
        (["4", "4", "5"], ["y", "y", "y"], [None, None, None]),  # a key twice within the drop
        (["6", "7", "8"], ["x", "x", "y"], ["c", None, None]),   # e null where v is x
    ]]
    suite = gx.suite_from_dict(BACKLOG_SUITE)
    together, alone = gx.validate_many(suite, frames), [gx.validate(suite, f) for f in frames]
    verdicts = [[(o.expectation, o.success, o.critical) for o in outcomes] for outcomes in together]
    assert verdicts == [[(o.expectation, o.success, o.critical) for o in outcomes] for outcomes in alone]
    assert [o.success for o in together[1]] == [True, True, False, True]
    assert [o.success for o in together[2]] == [True, False, True, True]
    assert [o.success for o in together[3]] == [True, True, True, False]
    for mine, own in zip(sum(together, []), sum(alone, [])):
        if "unexpected" in own.details and not own.details.startswith("0 of"):
            assert mine.details == own.details
        else:
            assert mine.details.startswith("held (one GX run over") or mine.details == own.details


def test_a_whole_frame_check_is_judged_on_each_drop_of_a_backlog():
    """A row count or a column's max over the backlog says nothing of one drop: each is judged alone."""
    suite = gx.suite_from_dict({"name": "whole", "expectations": [
        {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1}},
        {"type": "expect_column_max_to_be_between", "kwargs": {"column": "n", "min_value": 5}},
    ]})
    frames = [pd.DataFrame({"n": pd.array(n, dtype="Int64")}) for n in ([9, 1], [1], [])]
    together, alone = gx.validate_many(suite, frames), [gx.validate(suite, f) for f in frames]
    assert [[o.success for o in outcomes] for outcomes in together] == [[True, True], [True, False], [False, False]]
    assert [[(o.success, o.details) for o in outcomes] for outcomes in together] == \
           [[(o.success, o.details) for o in outcomes] for outcomes in alone]
