"""The nightly report on a real published database: rendered, emailed over real SMTP, once.

The bundled sample as `make run` publishes it (the session's `sample_run`, copied); the report
reads the published file read-only. Expected numbers come from the marts themselves, queried here, never
from literals: the report must say what the database says. The daily metrics are checked
against the exceptions the rules found. An aiosmtpd server on loopback receives the mail;
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

from conftest import REPO, cli, copy_published, free_port, is_alert, loopback_smtp
from fulfilment_monitor import db
from fulfilment_monitor.errors import UserError
from fulfilment_monitor.report import command
from fulfilment_monitor.report.outreach import CSV_COLUMNS
from fulfilment_monitor.transform import source_freshness

ARTIFACTS = REPO / "tests" / "artifacts"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PHONE = re.compile(r"\+\d[\d ()-]{6,}")


@pytest.fixture(scope="module")
def published(sample_run, tmp_path_factory) -> Path:
    return copy_published(sample_run[1], tmp_path_factory.mktemp("report") / "published")


@pytest.fixture(scope="module")
def as_of(published) -> dt.datetime:
    return select(published, "SELECT max(as_of) FROM audit.runs WHERE status = 'published'")[0][0]


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


def test_both_parts_show_the_open_exceptions_by_type_and_severity(rendered, published, report_date):
    text = (rendered / "report.txt").read_text()
    html = (rendered / "report.html").read_text()
    assert report_date in text.splitlines()[0] and report_date in html
    open_by_type = select(published, """
        SELECT exception_type, count(*), count(*) FILTER (WHERE severity = 'critical')
        FROM marts.fct_fulfilment_exceptions WHERE status = 'open' GROUP BY 1""")
    assert open_by_type, "the generated data leaves exceptions open"
    lines = {line.split()[0]: line.split() for line in text.splitlines() if line.startswith("  ") and line.split()}
    for kind, total, critical in open_by_type:
        assert int(lines[kind][3]) == total, lines[kind]
        assert lines[kind][4].split("/")[0] == str(critical), lines[kind]
        assert f"<td>{kind}</td>" in html
    for severity, total in select(published, "SELECT severity, count(*) FROM marts.fct_fulfilment_exceptions "
                                             "WHERE status = 'open' GROUP BY 1"):
        assert int(lines[severity][3]) == total


def test_exceptions_of_the_previous_week_are_counted_by_when_they_broke(rendered, published, as_of):
    text = (rendered / "report.txt").read_text()
    week = dict(select(published, """
        SELECT exception_type, count(*) FROM marts.fct_fulfilment_exceptions
        WHERE occurred_at >= ? - INTERVAL 8 DAYS AND occurred_at < ? - INTERVAL 1 DAY GROUP BY 1""", [as_of, as_of]))
    assert week, "the generated data has exceptions in the week before the report date"
    lines = {line.split()[0]: line.split() for line in text.splitlines() if line.startswith("  ") and line.split()}
    for kind, count in week.items():
        assert int(lines[kind][2]) == count, lines[kind]


def test_the_sample_breaks_promises_of_most_types_in_its_last_day_and_the_week_before(rendered, published,
                                                                                      as_of):
    """What a newcomer sees after `make run`: exceptions spread over the period as a real month's."""
    text = (rendered / "report.txt").read_text()
    lines = {line.split()[0]: line.split() for line in text.splitlines() if line.startswith("  ") and line.split()}
    rows = select(published, "SELECT exception_type, occurred_at FROM marts.fct_fulfilment_exceptions")
    last_day = Counter(kind for kind, at in rows if as_of - dt.timedelta(days=1) <= at < as_of)
    week = Counter(kind for kind, at in rows if as_of - dt.timedelta(days=8) <= at < as_of - dt.timedelta(days=1))
    kinds = {kind for kind, _ in rows}
    assert len(kinds) == 9
    assert len(last_day) >= 5, last_day
    assert len(week) >= 7, week
    for kind, count in last_day.items():
        assert int(lines[kind][1]) == count, lines[kind]
    days = {at.date() for _, at in rows if at < as_of}
    period = {(as_of - dt.timedelta(days=d)).date() for d in range(1, 22)}
    assert len(days & period) >= 16, sorted(period - days)  # most days of the period


def test_scorecards_list_every_contractor_and_warehouse(rendered, published):
    text = (rendered / "report.txt").read_text()
    html = (rendered / "report.html").read_text()
    for (name,) in select(published, "SELECT DISTINCT contractor_id FROM marts.fct_contractor_scorecard "
                                     "UNION SELECT DISTINCT warehouse_id FROM marts.fct_warehouse_scorecard"):
        assert re.search(rf"^  {re.escape(name)} ", text, re.M), name
        assert f"<td>{name}</td>" in html


def test_top_outreach_cases_are_the_highest_priorities(rendered, published):
    text = (rendered / "report.txt").read_text()
    top = select(published, "SELECT order_id, priority FROM marts.fct_outreach_queue "
                            "ORDER BY priority DESC, case_id LIMIT 10")
    assert top
    shown = re.findall(r"^  \[(\d+)\] (\S+)", text, re.M)
    assert shown == [(str(priority), order) for order, priority in top]


def test_data_quality_counts_quarantined_rows_and_failed_checks(rendered, published, report_date):
    text = (rendered / "report.txt").read_text()
    day = dt.date.fromisoformat(report_date)
    quarantined_week = select(published, "SELECT count(*) FROM quarantine.rows WHERE extract_date BETWEEN ? AND ?",
                              [day - dt.timedelta(days=7), day - dt.timedelta(days=1)])[0][0]
    failed_week = select(published, """
        SELECT count(*) FROM audit.validations WHERE scope = 'drop' AND NOT success
          AND CAST(split_part(target, '/', 2) AS DATE) BETWEEN ? AND ?""",
                         [day - dt.timedelta(days=7), day - dt.timedelta(days=1)])[0][0]
    assert f"previous 7 days: {quarantined_week}" in text
    assert re.search(rf"previous 7 days: \d+ passed, {failed_week} failed", text)
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


def test_drop_freshness_is_judged_at_t_not_at_the_wall_clock(own_db, as_of):
    """A backfill's T sees its own day's drops on time (later drops are not known yet); two days
    after the last drop every feed is two days late."""
    day = dt.timedelta(days=1)
    assert {(source, status, age) for source, _, _, age, status in source_freshness(own_db, as_of - 3 * day)} == \
        {(source, "pass", 0.0) for source in ("oms", "wms", "contractor", "contacts")}
    assert {(source, status, age) for source, _, _, age, status in source_freshness(own_db, as_of + 2 * day)} == \
        {(source, "warn", 2 * 86400.0) for source in ("oms", "wms", "contractor", "contacts")}


def test_the_csv_holds_the_whole_queue_without_contact_details(rendered, published):
    data = (rendered / "outreach_queue.csv").read_text()
    rows = csv_rows(data)
    assert tuple(rows[0]) == CSV_COLUMNS
    queue = select(published, "SELECT case_id, channel, suppressed_reason FROM marts.fct_outreach_queue")
    assert {(r["case_id"], r["channel"], r["suppressed_reason"]) for r in rows} == \
        {(case, channel or "", reason or "") for case, channel, reason in queue}
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
    smtp_env(free_port())  # nothing listens there
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


# --- the daily metrics agree with the exceptions ----------------------------------------------

def test_windows_not_on_time_are_the_missed_windows(published):
    due, on_time = select(published, "SELECT sum(windows_due), sum(windows_on_time) FROM marts.fct_daily_metrics")[0]
    missed = select(published, """
        SELECT count(*) FROM marts.fct_fulfilment_exceptions
        WHERE exception_type = 'missed_window'
          AND CAST(occurred_at AS DATE) >= (SELECT min(metric_date) FROM marts.fct_daily_metrics)""")[0][0]
    assert due > 0 and missed > 0
    assert due - on_time == missed


def test_scorecards_add_up_to_the_daily_metrics(published):
    daily = select(published, "SELECT sum(windows_due), sum(first_attempts), sum(first_attempts_delivered) "
                              "FROM marts.fct_daily_metrics")[0]
    contractors = select(published, "SELECT sum(windows_due), sum(first_attempts), sum(first_attempts_delivered) "
                                    "FROM marts.fct_contractor_scorecard")[0]
    assert daily == contractors
    stalled = select(published, "SELECT count(*) FROM marts.fct_fulfilment_exceptions "
                                "WHERE exception_type = 'stalled_handoff'")[0][0]
    due, on_time = select(published, "SELECT sum(handoffs_due), sum(handoffs_on_time) "
                                     "FROM marts.fct_warehouse_scorecard")[0]
    assert stalled > 0 and due - on_time == stalled


def test_first_attempt_failures_are_bookings_whose_first_outcome_failed(published):
    failed_first = select(published, """
        SELECT count(*) FROM (
            SELECT booking_id, arg_min(event_type, (occurred_at, event_id)) AS first_outcome
            FROM staging.stg_contractor__events
            WHERE booking_id IS NOT NULL AND event_type IN ('delivered', 'delivery_failed')
            GROUP BY booking_id)
        WHERE first_outcome = 'delivery_failed'""")[0][0]
    attempts, delivered = select(published, "SELECT sum(first_attempts), sum(first_attempts_delivered) "
                                            "FROM marts.fct_daily_metrics")[0]
    assert failed_first > 0 and attempts - delivered == failed_first


def test_daily_exceptions_by_type_match_the_exceptions(published):
    by_day = select(published, """
        SELECT metric_date, exceptions, map_keys(exceptions_by_type), map_values(exceptions_by_type)
        FROM marts.fct_daily_metrics""")
    counted = {(day, kind): n for day, _, kinds, ns in by_day for kind, n in zip(kinds, ns)}
    expected = dict(((day, kind), n) for day, kind, n in select(published, """
        SELECT CAST(occurred_at AS DATE), exception_type, count(*) FROM marts.fct_fulfilment_exceptions
        WHERE CAST(occurred_at AS DATE) <= (SELECT max(metric_date) FROM marts.fct_daily_metrics)
        GROUP BY ALL"""))
    assert counted == expected
    assert all(total == sum(ns) for _, total, _, ns in by_day)


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
