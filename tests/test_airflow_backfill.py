"""Airflow's own `airflow backfill create` over a range of dates gives the database the nightly
runs gave.

`airflow standalone` (scheduler, DAG processor, API server) as airflow_local starts it, with the
cron schedule switched off so that only the backfill's runs exist; the same dates run without
Airflow (fulfilment_monitor.nightly) on another database are the reference. The backfill runs
after a later date was already built, so its first date also takes the full-rebuild path.
"""
from __future__ import annotations

import datetime as dt
import json
import sqlite3
import subprocess
from pathlib import Path

import pytest

from conftest import free_port, loopback_smtp
from fulfilment_monitor import airflow_local, nightly
from test_airflow_nightly import LAST, marts, run_nightly
from test_airflow_ui import STARTUP_SECONDS, Launcher, healthy, wait_until

pytestmark = pytest.mark.slow

DAG_ID = "fulfilment_nightly"
DATES = [LAST - dt.timedelta(days=2), LAST - dt.timedelta(days=1), LAST]


@pytest.fixture(scope="module")
def reference(generated, tmp_path_factory) -> Path:
    """The dates run one after the other without Airflow."""
    published = tmp_path_factory.mktemp("reference") / "fulfilment.duckdb"
    for day in DATES:
        run_nightly(day, generated / "landing", published)
    return published


@pytest.fixture(scope="module")
def backfilled(generated, tmp_path_factory):
    """`airflow backfill create` over DATES on a database that already holds the last date's build."""
    landing = generated / "landing"
    published = tmp_path_factory.mktemp("airflow") / "fulfilment.duckdb"
    run_nightly(LAST, landing, published)  # deployed late: the latest date first

    home = tmp_path_factory.mktemp("airflow_home")
    with loopback_smtp() as (_, smtp_port):
        env = airflow_local.environment(home, free_port())
        env.update({
            "FULFILMENT_LANDING": str(landing), "FULFILMENT_DB": str(published),
            "FULFILMENT_RETRY_DELAY_SECONDS": "1",
            "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",  # no cron runs, only the backfill's
            "AIRFLOW_CONN_SMTP_DEFAULT": json.dumps({
                "conn_type": "smtp", "host": "127.0.0.1", "port": smtp_port,
                "extra": {"disable_tls": True, "disable_ssl": True, "retry_limit": 0, "timeout": 10}}),
        })
        airflow_local.prepare(env)
        log = home / "standalone.log"
        with open(log, "w") as output:
            process = subprocess.Popen([str(airflow_local.BIN / "airflow"), "standalone"], env=env, cwd=home,
                                       stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
        metadata = home / "airflow.db"
        running = Launcher(env["AIRFLOW__API__BASE_URL"], "", process, log, home)
        try:
            wait_until(lambda: healthy(running.base), STARTUP_SECONDS, "a healthy Airflow", running)
            wait_until(lambda: query(metadata, "SELECT count(*) FROM dag WHERE dag_id = ?", DAG_ID)[0][0],
                       180, "the DAG to be parsed", running)
            for args in (["dags", "unpause", DAG_ID],
                         ["backfill", "create", "--dag-id", DAG_ID, "--from-date", f"{DATES[0]}T00:00:00+00:00",
                          "--to-date", f"{DATES[-1]}T03:00:00+00:00"]):
                done = airflow_cli(args, env)
                assert done.returncode == 0, done.stdout + done.stderr

            def finished():
                runs = query(metadata, "SELECT logical_date, state FROM dag_run WHERE dag_id = ? "
                                       "AND run_type = 'backfill' ORDER BY logical_date", DAG_ID)
                done = len(runs) == len(DATES) and all(state in ("success", "failed") for _, state in runs)
                return runs if done else None

            runs = wait_until(finished, 1500, "the backfill's runs to finish", running)
        finally:
            airflow_local.stop(process)
    return published, runs, log


def airflow_cli(args: list[str], env: dict, attempts: int = 3) -> subprocess.CompletedProcess:
    """One `airflow` command beside the running standalone. Its SQLite metadata database takes
    one writer at a time, so a command that meets the scheduler mid-write fails with "database
    is locked" having changed nothing (its transaction rolls back); it is tried again then."""
    for _ in range(attempts):
        done = airflow_local.airflow(args, env, capture_output=True, text=True, timeout=300)
        if done.returncode == 0 or "database is locked" not in done.stdout + done.stderr:
            break
    return done


def query(metadata: Path, sql: str, *params) -> list[tuple]:
    if not metadata.exists():
        return [(0,)]
    with sqlite3.connect(metadata) as con:
        try:
            return con.execute(sql, params).fetchall()
        except sqlite3.OperationalError:  # the tables are not there yet
            return [(0,)]


def test_a_backfill_over_a_range_publishes_what_the_nightly_runs_published(backfilled, reference):
    published, runs, log = backfilled
    assert [dt.datetime.fromisoformat(str(when)).date() for when, _ in runs] == DATES, runs
    assert all(state == "success" for _, state in runs), f"{runs}\n{log.read_text()[-3000:]}"
    as_of = nightly.window(DATES[-1]).as_of
    expected = marts(reference, as_of)
    assert expected["fct_fulfilment_exceptions"], "the dates have exceptions"
    assert marts(published, as_of) == expected
