"""Every DAG in dags/ imports cleanly, and the nightly DAG is wired the way the README says."""
from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap

import pytest

from fulfilment_monitor import airflow_local, settings
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
    writers = {name for name, task in tasks.items() if task["pool"] == settings.WRITER_POOL}
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


def test_the_dag_imports_nothing_of_the_local_launcher():
    """The production DAG runs where the launcher does not: it imports the package's settings and
    feeds at parse time, the steps inside its tasks, and never airflow_local."""
    tree = ast.parse((airflow_local.DAGS_FOLDER / "fulfilment_nightly.py").read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)} | \
        {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert {name for name in imported if name.startswith("fulfilment_monitor")} == {
        "fulfilment_monitor", "fulfilment_monitor.feeds", "fulfilment_monitor.errors"}
    assert "airflow_local" not in (airflow_local.DAGS_FOLDER / "fulfilment_nightly.py").read_text()


# A task's step failing with a bug whose message holds a customer's address and phone, run through
# the DAG's own wrapper, and the alert the DAG's notifier would send rendered from that failure.
FAILING_TASK = textwrap.dedent("""
    import importlib.util, json, sys
    from jinja2 import Template

    spec = importlib.util.spec_from_file_location("fulfilment_nightly", sys.argv[1])
    dag_file = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(dag_file)

    def step(*args, **kwargs):
        raise ZeroDivisionError("a bug of ours, with jane.doe@example.com and +44 7700 900123 in it\\nand a second line")

    try:
        dag_file._in_one_line(step, "oms")
    except Exception as exc:
        failed = exc
    alert = Template(dag_file.failure_alert.html_content).render(
        exception=failed, ds="2026-10-21", ti={"task_id": "ingest_oms", "dag_id": "fulfilment_nightly",
                                                "run_id": "r", "try_number": 1, "log_url": "http://log"})
    print(json.dumps({"message": str(failed), "chained": failed.__cause__ is not None
                      or (failed.__context__ is not None and not failed.__suppress_context__),
                      "alert": alert}))
""")


def test_a_failing_task_alerts_with_the_one_line_error_and_no_customer_data(tmp_path):
    env = airflow_local.environment(tmp_path / "airflow_home")
    done = subprocess.run([sys.executable, "-c", FAILING_TASK, str(airflow_local.DAGS_FOLDER / "fulfilment_nightly.py")],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    failed = json.loads(done.stdout.strip().splitlines()[-1])
    message = failed["message"]
    assert message.startswith("unexpected ZeroDivisionError: a bug of ours, with [email] and [phone]"), message
    assert "\n" not in message and not failed["chained"], "one line, nothing of the original chained"
    reason = failed["alert"].split("Reason: ")[1].split("</p>")[0]
    assert reason == message.replace("[", "&#91;").replace("]", "&#93;") or reason == message, failed["alert"]
    for secret in ("jane.doe", "example.com", "7700", "second line", "Traceback"):
        assert secret not in failed["alert"], secret


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
