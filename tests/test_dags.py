"""Every DAG in dags/ imports cleanly, and the nightly DAG is wired the way the README says."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from fulfilment_monitor import airflow_local
from fulfilment_monitor.feeds import SOURCES

# Parsed in a fresh interpreter with its own AIRFLOW_HOME, as the DAG processor would.
DESCRIBE_DAGS = textwrap.dedent("""
    import json
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=%r)
    print(json.dumps({
        "import_errors": {str(k): str(v) for k, v in bag.import_errors.items()},
        "dags": {
            dag_id: {
                "timetable": type(dag.timetable).__name__,
                "max_active_runs": dag.max_active_runs,
                "catchup": dag.catchup,
                "tasks": {t.task_id: {
                    "pool": t.pool,
                    "retries": t.retries,
                    "backoff": t.retry_exponential_backoff,
                    "upstream": sorted(t.upstream_task_ids),
                    "alerts": [type(c).__name__ + ":" + str(getattr(c, "smtp_conn_id", ""))
                               for c in (t.on_failure_callback or [])],
                } for t in dag.tasks},
            } for dag_id, dag in bag.dags.items()
        },
    }))
""")


@pytest.fixture(scope="module")
def dagbag(tmp_path_factory) -> dict:
    env = airflow_local.environment(tmp_path_factory.mktemp("airflow_home"))
    done = subprocess.run([sys.executable, "-c", DESCRIBE_DAGS % str(airflow_local.DAGS_FOLDER)],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_every_dag_imports_without_errors(dagbag):
    assert dagbag["import_errors"] == {}
    assert set(dagbag["dags"]) == {"fulfilment_nightly"}


def test_one_ingest_per_source_then_transform_then_report(dagbag):
    tasks = dagbag["dags"]["fulfilment_nightly"]["tasks"]
    ingests = {f"ingest_{source}" for source in SOURCES}
    assert set(tasks) == ingests | {"transform", "report"}
    assert all(tasks[name]["upstream"] == [] for name in ingests)
    assert tasks["transform"]["upstream"] == sorted(ingests)
    assert tasks["report"]["upstream"] == ["transform"]


def test_duckdb_writers_take_turns_through_the_one_slot_pool(dagbag):
    tasks = dagbag["dags"]["fulfilment_nightly"]["tasks"]
    writers = {name for name, task in tasks.items() if task["pool"] == airflow_local.POOL}
    assert writers == {f"ingest_{source}" for source in SOURCES} | {"transform"}


def test_failures_retry_with_backoff_then_alert_over_smtp_default(dagbag):
    for name, task in dagbag["dags"]["fulfilment_nightly"]["tasks"].items():
        assert task["retries"] >= 2 and task["backoff"] > 1, name
        assert task["alerts"] == ["SmtpNotifier:smtp_default"], name


def test_one_run_per_extract_date_in_date_order(dagbag):
    dag = dagbag["dags"]["fulfilment_nightly"]
    # A data-interval timetable: the run for D has D as its logical date and starts after D.
    assert dag["timetable"] == "CronDataIntervalTimetable"
    assert dag["max_active_runs"] == 1
    assert dag["catchup"] is False


def plain_airflow(home, dags_folder, *args: str, code: int = 0) -> list[dict]:
    """The venv's `airflow ARGS -o json` with only AIRFLOW_HOME and the DAG folder set: a deployment
    of the DAG folder next to the installed package, no PYTHONPATH, no launcher."""
    env = {"AIRFLOW_HOME": str(home), "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder)}
    done = subprocess.run([str(airflow_local.BIN / "airflow"), *args, "-o", "json"], env=env, cwd=home,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == code, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow  # Airflow's CLI, three times
def test_the_dag_imports_under_a_plain_airflow(tmp_path):
    home = tmp_path / "airflow_home"
    home.mkdir()
    env = {"AIRFLOW_HOME": str(home)}
    assert subprocess.run([str(airflow_local.BIN / "airflow"), "db", "migrate"], env=env, cwd=home,
                          capture_output=True, timeout=300).returncode == 0
    assert plain_airflow(home, airflow_local.DAGS_FOLDER, "dags", "list-import-errors", "--local") == []
    listed = plain_airflow(home, airflow_local.DAGS_FOLDER, "dags", "list", "--local")
    assert [d["dag_id"] for d in listed] == ["fulfilment_nightly"]

    # The same command reports a DAG file that cannot import its package.
    broken = tmp_path / "dags"
    broken.mkdir()
    (broken / "broken.py").write_text("from airflow.sdk import dag\nimport fulfilment_monitor_missing\n")
    errors = plain_airflow(home, broken, "dags", "list-import-errors", "--local", code=1)
    assert len(errors) == 1 and "No module named 'fulfilment_monitor_missing'" in errors[0]["error"]
