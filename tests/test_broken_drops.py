"""Broken drops through the real pipeline: each is rejected whole (or its bad rows quarantined),
the run fails naming it, and the analysts' database stays exactly as it was published."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from pathlib import Path

import pytest

from conftest import cli, write_drop
from fulfilment_monitor import db, pipeline, transform
from fulfilment_monitor.errors import DropRejected, UserError
from fulfilment_monitor.feeds import feed
from fulfilment_monitor.settings import work_db_for
from fulfilment_monitor.validation import page

FIRST_DAY = dt.date(2026, 11, 2)
CONTACTS_PER_DAY = 60  # above the gate's smallest judged volume, so a collapse is caught


def day(n: int) -> str:
    return (FIRST_DAY + dt.timedelta(days=n - 1)).isoformat()


def csv_text(table: str, rows: list[dict]) -> str:
    columns = feed(table).column_names
    lines = [",".join(columns)] + [",".join(str(r.get(c, "")) for c in columns) for r in rows]
    return "\n".join(lines) + "\n"


def jsonl_text(rows: list[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def complete(table: str, row: dict) -> dict:
    """A JSON Lines record with every declared field, null where not given (as the feeds write them)."""
    return {c: row.get(c) for c in feed(table).column_names} | row


def contacts(on: str, n: int = CONTACTS_PER_DAY) -> list[dict]:
    return [complete("contacts_contacts", {
        "contact_id": f"C{on}-{i}", "customer_id": f"CU{i % 3}", "order_id": "O1", "channel": "phone",
        "direction": "inbound", "team": "contact_centre", "started_at": f"{on}T10:{i % 60:02d}:00+00:00",
        "handle_seconds": 30, "reason": "wismo", "outcome": "resolved"}) for i in range(n)]


def shipments(on: str, n: int = 4) -> list[dict]:
    return [{"shipment_id": f"S{on}-{i}", "order_id": "O1", "warehouse_id": "W1",
             "dispatched_at": f"{on}T08:00:00-05:00", "contractor_id": "K1", "tracking_ref": f"T{on}-{i}",
             "shipment_reason": "initial"} for i in range(n)]


def wms_files(on: str, shipment_rows: list[dict] | None = None) -> dict[str, str]:
    rows = shipments(on) if shipment_rows is None else shipment_rows
    lines = [{"shipment_id": r["shipment_id"], "line_no": 1, "quantity": 1} for r in rows]
    return {"shipments.csv": csv_text("wms_shipments", rows),
            "shipment_lines.csv": csv_text("wms_shipment_lines", lines)}


def events(on: str) -> list[dict]:
    return [complete("contractor_events", {
        "event_id": f"E{on}", "event_type": "received_from_warehouse", "occurred_at": f"{on}T12:00:00+01:00",
        "contractor_id": "K1", "order_id": "O1", "tracking_ref": f"T{on}-0"})]


def write_baseline(landing: Path) -> None:
    """One small drop of each source on day 1, and four 60-row contact drops (days 1-4)."""
    write_drop(landing, "oms", day(1), {
        "customers.csv": csv_text("oms_customers", [
            {"customer_id": f"CU{i}", "full_name": f"Customer {i}", "email": f"cu{i}@example.com",
             "timezone": "Europe/London", "preferred_channel": "email", "consent_email": "true",
             "consent_sms": "false", "consent_phone": "true", "consent_whatsapp": "false",
             "marketing_opt_in": "false", "updated_at": f"{day(1)}T09:00:00+00:00"} for i in range(3)]),
        "orders.csv": csv_text("oms_orders", [
            {"order_id": "O1", "customer_id": "CU0", "sales_channel": "web", "placed_at": f"{day(1)}T09:00:00+00:00",
             "promised_date": day(9), "order_status": "placed", "order_total": "99.50", "currency": "GBP",
             "updated_at": f"{day(1)}T09:00:00+00:00"}]),
        "order_lines.csv": csv_text("oms_order_lines", [
            {"order_id": "O1", "line_no": 1, "sku": "SOFA", "description": "Sofa", "quantity": 4,
             "unit_price": "24.88", "fulfilment_type": "parcel", "updated_at": f"{day(1)}T09:00:00+00:00"}]),
    })
    write_drop(landing, "wms", day(1), wms_files(day(1)))
    write_drop(landing, "contractor", day(1), {"events.jsonl": jsonl_text(events(day(1)))})
    for n in range(1, 5):
        write_drop(landing, "contacts", day(n), {"contacts.jsonl": jsonl_text(contacts(day(n)))})


@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> Path:
    """A landing zone loaded, built and published once; each test works on its own copy."""
    root = tmp_path_factory.mktemp("baseline")
    write_baseline(root / "landing")
    pipeline.run(root / "landing", root / "analysts.duckdb")
    return root


@pytest.fixture
def site(baseline, tmp_path) -> Path:
    for name in ("landing", "analysts.duckdb", "analysts.work.duckdb", "analysts.private.duckdb"):
        source = baseline / name
        (shutil.copytree if source.is_dir() else shutil.copy2)(source, tmp_path / name)
    return tmp_path


def fingerprint(path: Path) -> tuple[str, int]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns


def drop_record(work: Path, name: str) -> tuple:
    source, extract_date = name.split("/")
    with db.connect(work, read_only=True) as con:
        (row,) = db.query(con, "SELECT status, rows_read, problems, checksum FROM audit.drops "
                               "WHERE source = ? AND extract_date = ?", [source, extract_date])
        failed = db.query(con, "SELECT suite, expectation, details FROM audit.validations "
                               "WHERE scope = 'drop' AND target = ? AND run_id = ? AND NOT success AND critical",
                          [name, f"{name}/{row[3][:12]}"])
    return row, failed


def raw_rows_of(work: Path, table: str, extract_date: str) -> int:
    with db.connect(work, read_only=True) as con:
        return db.query(con, f"SELECT count(*) FROM raw.{table} WHERE _extract_date = ?", [extract_date])[0][0]


def assert_rejected(site: Path, source: str, on: str, files: dict, table: str, *reasons: str) -> None:
    """Deliver `files` as a drop: the run fails naming it, nothing of it loads, nothing is published."""
    published, name = site / "analysts.duckdb", f"{source}/{on}"
    before = fingerprint(published)
    write_drop(site / "landing", source, on, files)

    with pytest.raises(DropRejected) as raised:
        pipeline.run(site / "landing", published)

    assert name in str(raised.value)
    assert fingerprint(published) == before
    (status, _, problems, _), failed = drop_record(work_db_for(published), name)
    assert status == "rejected"
    assert failed, "the failed expectations are recorded with the drop"
    for reason in reasons:
        assert reason in problems, problems
        assert any(reason in " ".join(f) for f in failed), failed
    assert raw_rows_of(work_db_for(published), table, on) == 0
    shown = page.page_path(work_db_for(published)).read_text()
    assert name in shown and "rejected" in shown, "the data-quality page shows the rejected drop"


def test_a_renamed_csv_column_rejects_the_drop(site):
    files = wms_files(day(2))
    files["shipments.csv"] = files["shipments.csv"].replace("tracking_ref", "tracking_no", 1)
    assert_rejected(site, "wms", day(2), files, "wms_shipment_lines", "missing: tracking_ref")


def test_a_renamed_json_field_rejects_the_drop(site):
    renamed = [{("trackingRef" if k == "tracking_ref" else k): v for k, v in e.items()} for e in events(day(2))]
    assert_rejected(site, "contractor", day(2), {"events.jsonl": jsonl_text(renamed)}, "contractor_events",
                    "its JSON fields changed", "not declared: trackingRef", "declared but absent: tracking_ref")


def test_a_file_that_is_not_utf8_rejects_the_drop(site):
    rows = [dict(r, customer_id=f"Ç{r['customer_id']}") for r in contacts(day(5))]
    assert_rejected(site, "contacts", day(5), {"contacts.jsonl": jsonl_text(rows).encode("latin-1")},
                    "contacts_contacts", "quarantined_share", "not valid UTF-8")


def test_thirty_percent_malformed_rows_reject_the_drop(site):
    lines = jsonl_text(contacts(day(5))).splitlines(keepends=True)
    broken = [line[: len(line) // 2] + "\n" if i % 10 < 3 else line for i, line in enumerate(lines)]
    assert_rejected(site, "contacts", day(5), {"contacts.jsonl": "".join(broken)}, "contacts_contacts",
                    "18 of 60 rows quarantined", "not valid JSON")


def test_an_empty_csv_file_rejects_the_drop(site):
    files = wms_files(day(2))
    files["shipments.csv"] = ""
    assert_rejected(site, "wms", day(2), files, "wms_shipment_lines", "empty file")


def test_the_command_line_exits_non_zero_naming_the_rejected_drop(site):
    files = wms_files(day(2))
    files["shipments.csv"] = ""
    write_drop(site / "landing", "wms", day(2), files)
    before = fingerprint(site / "analysts.duckdb")
    ran = cli("run", "--landing", str(site / "landing"), "--db", str(site / "analysts.duckdb"))
    assert ran.returncode != 0
    assert len(ran.stderr.strip().splitlines()) == 1 and f"wms/{day(2)}" in ran.stderr
    assert fingerprint(site / "analysts.duckdb") == before


def test_a_duplicate_key_is_quarantined_and_the_rest_published(site):
    rows = contacts(day(5))
    rows[7]["contact_id"] = rows[3]["contact_id"]
    write_drop(site / "landing", "contacts", day(5), {"contacts.jsonl": jsonl_text(rows)})

    pipeline.run(site / "landing", site / "analysts.duckdb")

    with db.connect(site / "analysts.duckdb", read_only=True) as con:
        assert db.query(con, "SELECT line_no, reason FROM quarantine.rows WHERE extract_date = ?", [day(5)]) == [
            (8, "duplicate key within drop")]
        assert db.query(con, "SELECT count(*) FROM raw.contacts_contacts WHERE _extract_date = ?",
                        [day(5)]) == [(CONTACTS_PER_DAY - 1,)]


def test_a_fixed_redelivery_is_loaded_by_the_next_run(site):
    files = wms_files(day(2))
    files["shipments.csv"] = ""
    write_drop(site / "landing", "wms", day(2), files)
    with pytest.raises(DropRejected):
        pipeline.run(site / "landing", site / "analysts.duckdb")

    write_drop(site / "landing", "wms", day(2), wms_files(day(2)))
    pipeline.run(site / "landing", site / "analysts.duckdb")

    with db.connect(site / "analysts.duckdb", read_only=True) as con:
        assert db.query(con, "SELECT status FROM audit.drops WHERE source = 'wms' AND extract_date = ?",
                        [day(2)]) == [("loaded",)]
        assert db.query(con, "SELECT count(*) FROM raw.wms_shipments WHERE _extract_date = ?", [day(2)]) == [(4,)]


def test_a_mart_failing_validation_keeps_the_published_database(site, monkeypatch):
    published = site / "analysts.duckdb"
    write_drop(site / "landing", "contacts", day(5), {"contacts.jsonl": jsonl_text(contacts(day(5)))})
    real_build = transform.build

    def build_with_a_duplicate_exception(work, as_of, **options):
        real_build(work, as_of, **options)
        with db.connect(work) as con:
            for _ in range(2):
                con.execute("INSERT INTO marts.fct_fulfilment_exceptions BY NAME SELECT 'dup' AS exception_id, "
                            "'stalled_handoff' AS exception_type, 'S1' AS exception_key, 'medium' AS severity, "
                            "'O1' AS order_id, ?::TIMESTAMPTZ AS occurred_at, ?::TIMESTAMPTZ AS first_detected_at, "
                            "'open' AS status", [as_of, as_of])

    monkeypatch.setattr(transform, "build", build_with_a_duplicate_exception)
    before = fingerprint(published)

    with pytest.raises(UserError, match="mart validation failed.*exception_key"):
        pipeline.run(site / "landing", published)

    assert fingerprint(published) == before
    with db.connect(work_db_for(published)) as con:  # dbt (in-process) still holds it read-write
        failed = db.query(con, "SELECT expectation FROM audit.validations WHERE scope = 'mart' "
                               "AND NOT success AND critical ORDER BY 1")
    assert ("expect_compound_columns_to_be_unique(exception_type, exception_key)",) in failed


PII = ("jane.doe@example.com", "+15551234567", "Jane", "Doe")


def customers_with_pii(header: bool, broken: int, n: int = 20) -> str:
    """A customers file whose first `broken` records have an unquoted comma in the name."""
    rows = [{"customer_id": f"CU{i}", "full_name": "Doe, Jane" if i < broken else "Jane Doe",
             "email": "jane.doe@example.com", "phone": "+15551234567", "timezone": "Europe/London",
             "preferred_channel": "email", "consent_email": "true", "consent_sms": "false", "consent_phone": "true",
             "consent_whatsapp": "false", "marketing_opt_in": "false", "updated_at": f"{day(2)}T09:00:00+00:00"}
            for i in range(n)]
    text = csv_text("oms_customers", rows)
    return text if header else text.split("\n", 1)[1]


@pytest.mark.parametrize("header, broken", [(False, 0), (True, 8)], ids=["no_header", "forty_percent_broken"])
def test_a_rejected_customers_file_leaks_no_customer_data(site, header, broken):
    """The error, the run's output, the ledger, the recorded checks and the page name the drop, the
    file and the reason, and quote no name, email or phone of it (the alert email carries the error)."""
    published = site / "analysts.duckdb"
    write_drop(site / "landing", "oms", day(2), {"customers.csv": customers_with_pii(header, broken),
                                                 "orders.csv": csv_text("oms_orders", []),
                                                 "order_lines.csv": csv_text("oms_order_lines", [])})
    ran = cli("run", "--landing", str(site / "landing"), "--db", str(published))
    assert ran.returncode == 1 and f"oms/{day(2)}" in ran.stderr and "customers.csv" in ran.stderr
    work = work_db_for(published)
    with db.connect(work, read_only=True) as con:
        ledger = db.query(con, "SELECT * FROM audit.drops WHERE status = 'rejected'")
        checks = db.query(con, "SELECT * FROM audit.validations WHERE target = ?", [f"oms/{day(2)}"])
    reported = "\n".join([ran.stdout, ran.stderr, repr(ledger), repr(checks),
                          page.page_path(work).read_text()])
    assert ledger and checks
    for secret in PII:
        assert secret not in reported, secret
