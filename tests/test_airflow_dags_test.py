"""Airflow's own `airflow dags test` runs the nightly DAG end to end on generated data.

A temporary AIRFLOW_HOME with a SQLite metadata database (`airflow db migrate`) and the
writer pool, prepared as `airflow_local` prepares airflow_home/; a real SMTP server on
loopback behind the `smtp_default` connection.
"""
from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
import sqlite3
from pathlib import Path
from typing import NamedTuple

import pytest

from conftest import Inbox, is_alert, loopback_smtp
from fulfilment_monitor import airflow_local, db, nightly, settings
from fulfilment_monitor.feeds import SOURCES
from test_airflow_nightly import LAST, break_header, marts

pytestmark = pytest.mark.slow

DAG_ID = "fulfilment_nightly"
T = nightly.window(LAST).as_of  # the generator's truth holds at the end of its last date


@pytest.fixture(scope="module")
def inbox():
    with loopback_smtp() as running:
        yield running


@pytest.fixture(scope="module")
def airflow_env(tmp_path_factory, inbox) -> dict[str, str]:
    _, port = inbox
    env = airflow_local.environment(tmp_path_factory.mktemp("airflow_home"))
    env["FULFILMENT_RETRY_DELAY_SECONDS"] = "1"  # a retry, if any, shows in try_number without the wait
    env["AIRFLOW_CONN_SMTP_DEFAULT"] = json.dumps({
        "conn_type": "smtp", "host": "127.0.0.1", "port": port,
        "extra": {"disable_tls": True, "disable_ssl": True, "retry_limit": 0, "timeout": 10}})
    airflow_local.prepare(env)
    return env


class DagsTest(NamedTuple):
    code: int
    output: str
    states: dict[str, tuple[str, int]]  # task -> (state, try number)


def dags_test(env: dict[str, str], landing: Path, published: Path, day: dt.date) -> DagsTest:
    """`airflow dags test` for one logical date, and the states its task instances ended in."""
    run_env = {**env, "FULFILMENT_LANDING": str(landing), "FULFILMENT_DB": str(published)}
    done = airflow_local.airflow(["dags", "test", DAG_ID, day.isoformat()], run_env, cwd=published.parent,
                                 capture_output=True, text=True, timeout=900)
    with sqlite3.connect(Path(env["AIRFLOW_HOME"]) / "airflow.db") as metadata:
        rows = metadata.execute("""
            SELECT task_id, state, try_number FROM task_instance
            WHERE dag_id = ? AND run_id = (SELECT run_id FROM dag_run WHERE dag_id = ? ORDER BY id DESC LIMIT 1)
        """, [DAG_ID, DAG_ID]).fetchall()
    return DagsTest(done.returncode, (done.stdout + done.stderr)[-3000:],
                    {task: (state, tries) for task, state, tries in rows})


def reports_sent(handler: Inbox) -> list:
    return [m for m in handler.messages if not is_alert(m)]


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("published") / "fulfilment.duckdb"


@pytest.fixture(scope="module")
def nightly_run(airflow_env, generated, published) -> DagsTest:
    return dags_test(airflow_env, generated / "landing", published, LAST)


def test_dags_test_publishes_the_exceptions_of_the_ground_truth(nightly_run, generated, published):
    for task in [*(f"ingest_{source}" for source in SOURCES), "transform"]:
        assert nightly_run.states[task] == ("success", 1), f"{task}\n{nightly_run.output}"
    with open(generated / "truth" / "exceptions.csv", newline="") as handle:
        expected = {(r["exception_type"], r["order_id"], r["key"]) for r in csv.DictReader(handle)}
    with db.connect(published, read_only=True) as con:
        found = set(db.query(con, "SELECT exception_type, coalesce(order_id, ''), exception_key "
                                  "FROM marts.fct_fulfilment_exceptions"))
    assert {kind for kind, *_ in expected} == {kind for kind, *_ in found}
    assert sorted(expected - found) == [] and sorted(found - expected) == []


def test_the_report_of_the_date_is_emailed_through_smtp_default(nightly_run, inbox):
    assert nightly_run.states["report"] == ("success", 1), nightly_run.output
    assert nightly_run.code == 0
    reports = reports_sent(inbox[0])
    assert len(reports) == 1, [m["Subject"] for m in inbox[0].messages]
    assert LAST.isoformat() in reports[0]["Subject"]


def test_running_the_same_logical_date_again_publishes_the_same_marts(nightly_run, airflow_env, generated,
                                                                       published, inbox):
    first = marts(published, T)
    reports_before = len(reports_sent(inbox[0]))
    again = dags_test(airflow_env, generated / "landing", published, LAST)
    assert again.states["transform"] == ("success", 1), again.output
    assert first["fct_fulfilment_exceptions"]
    assert marts(published, T) == first
    assert again.states["report"] == ("success", 1), again.output
    assert len(reports_sent(inbox[0])) == reports_before, "one report per date: not sent twice"


def test_a_rejected_drop_fails_its_task_once_and_alerts_by_email(airflow_env, generated, inbox, tmp_path):
    handler, _ = inbox
    landing = Path(shutil.copytree(generated / "landing", tmp_path / "landing"))
    break_header(landing, LAST)
    published = tmp_path / "fulfilment.duckdb"
    already = len(handler.messages)

    run = dags_test(airflow_env, landing, published, LAST)

    assert run.code != 0
    assert run.states["ingest_wms"] == ("failed", 1), "failed on the first try, never retried"
    assert run.states["ingest_oms"] == ("success", 1)
    assert run.states["transform"][0] == run.states["report"][0] == "upstream_failed"
    assert not published.exists(), "nothing was published"
    alerts = handler.messages[already:]
    assert len(alerts) == 1 and is_alert(alerts[0]), [m["Subject"] for m in alerts]
    assert "ingest_wms" in alerts[0]["Subject"] and LAST.isoformat() in alerts[0]["Subject"]
    body = alerts[0].get_body(("html", "plain")).get_content()
    assert f"wms/{LAST}" in body and "tracking_ref" in body
    reason = body.split("Reason: ")[1].split("</p>")[0]
    assert "\n" not in reason and "Traceback" not in body, "the reason is the one line the command line prints"


def test_prepare_creates_the_one_slot_writer_pool(airflow_env):
    with sqlite3.connect(Path(airflow_env["AIRFLOW_HOME"]) / "airflow.db") as metadata:
        slots = metadata.execute("SELECT slots FROM slot_pool WHERE pool = ?", [settings.WRITER_POOL]).fetchall()
    assert slots == [(1,)]
