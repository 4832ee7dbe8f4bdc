"""The nightly report on a real published database: rendered, emailed over real SMTP, once.

The bundled sample as `make run` publishes it (the session's `sample_run`, copied); the report
reads the published file read-only. Expected values come from the generator's truth
(truth/*.csv), from the landing zone's files (tests/landing_rows.py) or are written here, never
from the project's tables: the counts of each section against hand-written cases are in
tests/test_report_cases.py, the daily metrics' arithmetic in the dbt unit tests
(dbt_models/*/metrics/_unit_tests_metrics.yml). An aiosmtpd server on loopback receives the mail;
chromium renders the HTML to tests/artifacts/report.png.
"""
from __future__ import annotations

import csv
import datetime as dt
import email
import email.policy
import io
import re
import shutil
import smtplib
import struct
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from conftest import REPO, cli, copy_published, is_alert, loopback_smtp, refusing_port, report_sections
from fulfilment_monitor import db
from fulfilment_monitor.errors import UserError
from fulfilment_monitor.report import command
from fulfilment_monitor.report.outreach import CSV_COLUMNS
from fulfilment_monitor.transform import source_freshness
from landing_rows import rows as sent_rows

ARTIFACTS = REPO / "tests" / "artifacts"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PHONE = re.compile(r"\+\d[\d ()-]{6,}")


@pytest.fixture(scope="module")
def published(sample_run, tmp_path_factory) -> Path:
    return copy_published(sample_run[1], tmp_path_factory.mktemp("report") / "published")


@pytest.fixture(scope="module")
def as_of() -> dt.datetime:
    """The sample's T: midnight UTC after its last drop (2026-10-21)."""
    return dt.datetime(2026, 10, 22, tzinfo=dt.timezone.utc)


@pytest.fixture(scope="module")
def report_date(as_of) -> str:
    return (as_of.astimezone(dt.timezone.utc) - dt.timedelta(days=1)).date().isoformat()


@pytest.fixture(scope="module")
def rendered(published, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("rendered")
    command(db=published, as_of=None, out=out, send=False)
    return out


@pytest.fixture
def own_db(published, tmp_path) -> Path:
    """A private copy of the published database, so each test has its own outbox beside it."""
    return Path(shutil.copy(published, tmp_path / "fulfilment.duckdb"))


@pytest.fixture
def smtp_server():
    with loopback_smtp() as running:
        yield running


@pytest.fixture
def smtp_env(monkeypatch):
    """Point the report at a port; returns a function that sets it (FULFILMENT_SMTP_* environment)."""
    def point_at(port: int) -> None:
        monkeypatch.setenv("FULFILMENT_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("FULFILMENT_SMTP_PORT", str(port))
        monkeypatch.setenv("FULFILMENT_SMTP_STARTTLS", "false")
        monkeypatch.setenv("FULFILMENT_SMTP_TIMEOUT", "5")
        monkeypatch.setenv("FULFILMENT_REPORT_FROM", "fulfilment-monitor@example.test")
        monkeypatch.setenv("FULFILMENT_REPORT_TO", "ops@example.test, lead@example.test")
    return point_at


def select(path: Path, sql: str, params: list | None = None) -> list[tuple]:
    with db.connect(path, read_only=True) as con:
        return db.query(con, sql, params)


def parts(message) -> dict[str, list]:
    """The message's leaf parts by content type."""
    found: dict[str, list] = {}
    for part in message.walk():
        if not part.is_multipart():
            found.setdefault(part.get_content_type(), []).append(part)
    return found


def csv_rows(data: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(data)))


def truth(sample: Path, name: str) -> list[dict]:
    with open(sample / "truth" / name, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def type_lines(text: str) -> dict[str, list[str]]:
    """The text's table lines (two spaces in) by their first word: types, severities, names."""
    return {line.split()[0]: line.split() for line in text.splitlines() if line.startswith("  ") and line.split()}


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE, "not a PNG"
    return struct.unpack(">II", data[16:24])


# --- rendering --------------------------------------------------------------------------------

def test_out_writes_every_file(rendered):
    for name in ("report.html", "report.txt", "trend.png", "outreach_queue.csv", "report.eml"):
        assert (rendered / name).stat().st_size > 0, name
    width, height = png_size((rendered / "trend.png").read_bytes())
    assert width >= 600 and height >= 200
    assert 'src="trend.png"' in (rendered / "report.html").read_text()


def test_both_parts_show_the_exceptions_of_every_type_the_truth_expects(rendered, sample_run, report_date):
    """Every type of the sample's truth has its row in both parts; the counts of each row against
    hand-written exceptions: tests/test_report_cases.py."""
    text = (rendered / "report.txt").read_text()
    html = (rendered / "report.html").read_text()
    assert report_date in text.splitlines()[0] and report_date in html
    kinds = {r["exception_type"] for r in truth(sample_run[0], "exceptions.csv")}
    assert len(kinds) == 9
    lines = type_lines(text)
    for kind in kinds:
        assert len(lines[kind]) == 5, lines[kind]
        assert f"<td>{kind}</td>" in html
    for severity in ("critical", "high", "medium", "low"):
        assert len(lines[severity]) == 4, lines[severity]


def test_the_sample_breaks_promises_of_most_types_in_its_last_day_and_the_week_before(rendered):
    """What a newcomer sees after `make run`: exceptions spread over the period as a real month's."""
    _, *kinds = report_sections((rendered / "report.txt").read_text())["EXCEPTIONS BY TYPE"]
    assert len(kinds) == 9
    assert sum(int(words[1]) > 0 for words in kinds) >= 5, kinds
    assert sum(int(words[2]) > 0 for words in kinds) >= 7, kinds


def test_scorecards_list_every_contractor_and_warehouse(rendered, sample_run):
    text = (rendered / "report.txt").read_text()
    html = (rendered / "report.html").read_text()
    sample = sample_run[0]
    names = {r["contractor_id"] for r in sent_rows(sample, "contractor", "events.jsonl")} | \
        {r["warehouse_id"] for r in sent_rows(sample, "wms", "shipments.csv")}
    assert len(names) == 11, names  # 6 contractors, 5 warehouses
    for name in names:
        assert re.search(rf"^  {re.escape(name)} ", text, re.M), name
        assert f"<td>{name}</td>" in html


def test_data_quality_counts_quarantined_rows_and_failed_checks(rendered, sample_run, report_date):
    """Quarantined rows as the truth lists them; a drop check fails for each contractor drop that
    carries the event type the feed contract does not know yet (the generator's
    photo_proof_uploaded), and for nothing else."""
    text = (rendered / "report.txt").read_text()
    sample, day = sample_run[0], dt.date.fromisoformat(report_date)
    week = {(day - dt.timedelta(days=n)).isoformat() for n in range(1, 8)}
    quarantined = Counter(r["extract_date"] for r in truth(sample, "quarantine.csv"))
    unknown = {r["extract_date"] for r in sent_rows(sample, "contractor", "events.jsonl")
               if r["event_type"] == "photo_proof_uploaded"}
    assert unknown & week, "the sample's last week has a drop with an unknown event type"
    assert f"Rows quarantined {report_date}: {quarantined[report_date]}; " \
           f"previous 7 days: {sum(quarantined[d] for d in week)}" in text
    assert re.search(rf"^  Drop checks {report_date}: \d+ passed, {int(report_date in unknown)} failed; "
                     rf"previous 7 days: \d+ passed, {len(unknown & week)} failed$", text, re.M)
    for extract_date in sorted(unknown & week):
        assert f"Failed check: contractor/{extract_date} " in text
    assert "Drops late or missing: 0" in text


def test_a_missing_drop_is_reported(own_db, as_of, report_date, tmp_path):
    """From `dbt source freshness` at T, as the build runs it: the ledger without the drop."""
    with db.connect(own_db) as con:
        con.execute("DELETE FROM audit.drops WHERE source = 'wms' AND extract_date = ?", [report_date])
    # in a process of its own, as the build runs it: dbt keeps its connection to the file open
    subprocess.run([sys.executable, "-c", "import sys, datetime as dt; from pathlib import Path; "
                    "from fulfilment_monitor.transform import source_freshness; "
                    "source_freshness(Path(sys.argv[1]), dt.datetime.fromisoformat(sys.argv[2]))",
                    str(own_db), as_of.isoformat()], check=True, cwd=REPO, timeout=300)
    command(db=own_db, as_of=None, out=tmp_path / "out", send=False)
    text = (tmp_path / "out" / "report.txt").read_text()
    assert "Drops late or missing: 1" in text and f"wms/{report_date}" in text


@pytest.mark.slow  # a pipeline run
def test_a_drop_missing_between_two_loaded_dates_is_reported(generated, tmp_path):
    """One feed's drop deleted from the middle of the week: its later drops are on time, so
    freshness sees nothing; the report still names the gap (the generated 16 days end 2026-10-16)."""
    landing = Path(shutil.copytree(generated / "landing", tmp_path / "landing"))
    shutil.rmtree(landing / "wms" / "2026-10-12")
    published = tmp_path / "fulfilment.duckdb"
    ran = cli("run", "--landing", str(landing), "--db", str(published))
    assert ran.returncode == 0, ran.stderr
    command(db=published, as_of=None, out=tmp_path / "out", send=False)
    text = (tmp_path / "out" / "report.txt").read_text()
    assert text.startswith("Fulfilment report for 2026-10-16")
    assert "Drops late or missing: 1" in text and "wms/2026-10-12" in text, text


def test_drop_freshness_is_judged_at_t_not_at_the_wall_clock(own_db, as_of):
    """A backfill's T sees its own day's drops on time (later drops are not known yet); two days
    after the last drop every feed is two days late."""
    day = dt.timedelta(days=1)
    assert {(source, status, age) for source, _, _, age, status in source_freshness(own_db, as_of - 3 * day)} == \
        {(source, "pass", 0.0) for source in ("oms", "wms", "contractor", "contacts")}
    assert {(source, status, age) for source, _, _, age, status in source_freshness(own_db, as_of + 2 * day)} == \
        {(source, "warn", 2 * 86400.0) for source in ("oms", "wms", "contractor", "contacts")}


def test_the_csv_holds_the_whole_queue_without_contact_details(rendered, sample_run):
    """The queue's order and rows against hand-written cases: tests/test_report_cases.py."""
    data = (rendered / "outreach_queue.csv").read_text()
    rows = csv_rows(data)
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == int(re.search(r"^OUTREACH: (\d+) cases", (rendered / "report.txt").read_text(), re.M)[1])
    founding = {r["order_id"] for r in truth(sample_run[0], "stories.csv")}
    assert founding <= {r["order_id"] for r in rows}, "the founding story's customer is to be contacted"
    assert [int(r["priority"]) for r in rows] == sorted((int(r["priority"]) for r in rows), reverse=True)
    assert "@" not in data and not PHONE.search(data)


def test_an_unknown_database_is_a_one_line_error(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        command(db=tmp_path / "none.duckdb", as_of=None, out=None, send=False)


# --- sending ----------------------------------------------------------------------------------

def test_send_delivers_one_multipart_report_and_never_twice(own_db, smtp_server, smtp_env, report_date, capsys):
    inbox, port = smtp_server
    smtp_env(port)
    command(db=own_db, as_of=None, out=None, send=True)

    assert len(inbox.messages) == 1
    message = inbox.messages[0]
    assert report_date in message["Subject"] and not is_alert(message)
    assert message["To"] == "ops@example.test, lead@example.test"
    found = parts(message)
    text = found["text/plain"][0].get_content()
    html = found["text/html"][0].get_content()
    assert report_date in text and "CONTRACTOR SCORECARD" in text
    image = found["image/png"][0]
    cid = image["Content-ID"].strip("<>")
    assert f'src="cid:{cid}"' in html
    assert png_size(image.get_content())[0] >= 600
    attachment = found["text/csv"][0]
    assert attachment.get_filename() == f"outreach_queue_{report_date}.csv"
    data = attachment.get_content()
    assert csv_rows(data) and "@" not in data and not PHONE.search(data)

    outbox = own_db.parent / "outbox"
    assert (outbox / "sent" / f"{report_date}.eml").exists()
    assert not (outbox / f"{report_date}.eml").exists()

    capsys.readouterr()
    command(db=own_db, as_of=None, out=None, send=True)
    assert len(inbox.messages) == 1, "one report per date"
    assert "already sent" in capsys.readouterr().out


def test_an_smtp_outage_keeps_the_report_in_the_outbox_until_the_next_send(own_db, smtp_server, smtp_env,
                                                                          report_date):
    inbox, port = smtp_server
    with refusing_port() as nowhere:
        smtp_env(nowhere)
        failed = cli("report", "--db", str(own_db), "--send")
    assert failed.returncode != 0
    assert failed.stderr.startswith("error: ") and len(failed.stderr.strip().splitlines()) == 1, failed.stderr
    waiting = own_db.parent / "outbox" / f"{report_date}.eml"
    assert waiting.exists()
    assert email.message_from_bytes(waiting.read_bytes(), policy=email.policy.default)["Subject"]

    smtp_env(port)
    again = cli("report", "--db", str(own_db), "--send")
    assert again.returncode == 0, again.stderr
    assert len(inbox.messages) == 1 and report_date in inbox.messages[0]["Subject"]
    assert not waiting.exists() and (own_db.parent / "outbox" / "sent" / waiting.name).exists()


def test_a_goodbye_that_fails_after_the_server_took_the_report_does_not_send_it_again(
        own_db, smtp_server, smtp_env, report_date, monkeypatch):
    inbox, port = smtp_server
    smtp_env(port)

    talk = smtplib.SMTP.docmd

    def goodbye_fails(client, cmd, args=""):
        if cmd.lower() == "quit":
            raise smtplib.SMTPResponseException(421, b"closing, try later")
        return talk(client, cmd, args)

    monkeypatch.setattr(smtplib.SMTP, "docmd", goodbye_fails)
    command(db=own_db, as_of=None, out=None, send=True)
    assert len(inbox.messages) == 1
    assert (own_db.parent / "outbox" / "sent" / f"{report_date}.eml").exists()
    command(db=own_db, as_of=None, out=None, send=True)
    assert len(inbox.messages) == 1, "accepted once: never sent again"


def test_explicit_smtp_settings_as_the_dag_passes_them(own_db, smtp_server, monkeypatch):
    inbox, port = smtp_server
    monkeypatch.delenv("FULFILMENT_SMTP_HOST", raising=False)
    command(db=own_db, as_of=None, out=None, send=True,
            smtp={"host": "127.0.0.1", "port": port, "user": None, "password": None,
                  "sender": "airflow@example.test", "starttls": False, "ssl": False, "timeout": 5})
    assert [m["From"] for m in inbox.messages] == ["airflow@example.test"]


def test_send_without_an_smtp_host_names_the_variable(own_db, monkeypatch):
    monkeypatch.delenv("FULFILMENT_SMTP_HOST", raising=False)
    with pytest.raises(UserError, match="FULFILMENT_SMTP_HOST"):
        command(db=own_db, as_of=None, out=None, send=True)
    assert not (own_db.parent / "outbox").exists()


# --- the daily metrics count what the truth expects ---------------------------------------------
# (how a first attempt and a day's figures are counted: the dbt unit tests of the metrics models)

def test_windows_not_on_time_are_the_missed_windows_the_truth_expects(published, sample_run):
    due, on_time = select(published, "SELECT sum(windows_due), sum(windows_on_time) FROM marts.fct_daily_metrics")[0]
    missed = sum(r["exception_type"] == "missed_window" for r in truth(sample_run[0], "exceptions.csv"))
    assert missed == 17 and due > missed
    assert due - on_time == missed


def test_handoffs_not_in_time_are_the_stalled_handoffs_the_truth_expects(published, sample_run):
    stalled = sum(r["exception_type"] == "stalled_handoff" for r in truth(sample_run[0], "exceptions.csv"))
    due, on_time = select(published, "SELECT sum(handoffs_due), sum(handoffs_on_time) "
                                     "FROM marts.fct_warehouse_scorecard")[0]
    assert stalled == 4 and due - on_time == stalled


def test_daily_exceptions_by_type_are_the_exceptions_the_truth_expects(published, sample_run):
    """Every expected exception counted once, on the day it broke; an at-risk promise breaks at T,
    after the last metric day."""
    expected = Counter(r["exception_type"] for r in truth(sample_run[0], "exceptions.csv")
                       if r["exception_type"] != "at_risk_promise")
    by_day = select(published, "SELECT exceptions, map_keys(exceptions_by_type), map_values(exceptions_by_type) "
                               "FROM marts.fct_daily_metrics")
    counted = Counter()
    for total, kinds, ns in by_day:
        counted.update(dict(zip(kinds, ns)))
        assert total == sum(ns)
    assert len(expected) == 8 and counted == expected


# --- what a reader sees -----------------------------------------------------------------------

@pytest.mark.slow
def test_chromium_renders_the_html_report(rendered, tmp_path):
    import matplotlib.image

    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report.png"
    shot.unlink(missing_ok=True)
    subprocess.run(["/usr/bin/chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", f"--user-data-dir={tmp_path / 'chromium'}", f"--screenshot={shot}",
                    "--window-size=1200,2000", (rendered / "report.html").as_uri()],
                   capture_output=True, timeout=120, check=True)
    assert png_size(shot.read_bytes()) == (1200, 2000)
    pixels = matplotlib.image.imread(shot)[..., :3]
    inked = (pixels.min(axis=2) < 0.9).mean()
    assert inked > 0.02, f"the page is nearly blank ({inked:.1%} of pixels drawn)"
    coloured = ((pixels.max(axis=2) - pixels.min(axis=2)) > 0.2).mean()
    assert coloured > 0.005, "the trend chart (coloured lines and bars) did not render"
