"""One configuration module: every setting read there, at call time, and listed in the README."""
from __future__ import annotations

import ast
import os
import datetime as dt
import re
import tomllib
from pathlib import Path

import pytest

from conftest import REPO
from fulfilment_monitor import db, settings
from fulfilment_monitor.errors import UserError
from fulfilment_monitor.report import smtp
from fulfilment_monitor.settings import GateSettings


def readme_settings() -> dict[str, str]:
    """The README's table of settings: variable -> default."""
    text = (REPO / "README.md").read_text()
    table = text.split("| variable | default | meaning |", 1)[1].split("\n\n", 1)[0]
    return dict(re.findall(r"^\| `(\w+)` \| (.*?) \| .* \|$", table, flags=re.M))


def test_the_readme_lists_every_setting_with_its_default():
    assert readme_settings() == {s.env: s.default for s in settings.SETTINGS}


def environment_reads(path) -> list[str]:
    """Where a Python file reads the environment (writes for a child process or a library are fine)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    found = []
    for node in ast.walk(tree):
        imported = isinstance(node, ast.ImportFrom) and node.module == "os" and \
            {a.name for a in node.names} & {"environ", "getenv"}
        used = isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "os" \
            and node.attr in ("environ", "getenv", "environb")
        if not (imported or used):
            continue
        parent = parents.get(node)
        writes = (isinstance(parent, ast.Subscript) and isinstance(parent.ctx, ast.Store)) or \
            (isinstance(parent, ast.Attribute) and parent.attr == "setdefault")
        if not writes:
            found.append(f"{path.relative_to(REPO)}:{node.lineno}")
    return found


def test_nothing_but_the_settings_module_reads_the_environment():
    files = [*(REPO / "fulfilment_monitor").rglob("*.py"), *(REPO / "dags").rglob("*.py")]
    assert len(files) > 40
    reads = [where for path in files if path.name != "settings.py" or path.parent.name != "fulfilment_monitor"
             for where in environment_reads(path)]
    assert reads == []
    assert environment_reads(REPO / "fulfilment_monitor" / "settings.py"), "the scan finds reads"


def test_settings_are_read_when_asked_with_their_defaults():
    env = {"FULFILMENT_ROOT": "/srv/fm", "FULFILMENT_DB": "/data/f.duckdb"}
    assert settings.landing(environ=env) == Path("/srv/fm/data/sample/landing")
    assert settings.database(environ=env) == Path("/data/f.duckdb")
    assert settings.database("given.duckdb", environ=env) == Path("given.duckdb")
    assert settings.retry_delay({}) == dt.timedelta(seconds=60)
    assert settings.retry_delay({"FULFILMENT_RETRY_DELAY_SECONDS": "1.5"}) == dt.timedelta(seconds=1.5)
    assert settings.dbt_threads({}) == 2
    assert (settings.engine({}), settings.spark_master({})) == ("duckdb", "local[2]")
    assert settings.engine({"FULFILMENT_ENGINE": "Spark"}) == "spark"
    with pytest.raises(UserError, match="FULFILMENT_ENGINE='flink' is not one of duckdb, spark"):
        settings.engine({"FULFILMENT_ENGINE": "flink"})
    assert settings.gate({"FULFILMENT_GATE_VOLUME_LOW_RATIO": "0.5"}) == GateSettings(volume_low_ratio=0.5)
    with pytest.raises(UserError, match="FULFILMENT_GATE_BAD_ROWS_TOLERATED='many' is not a whole number"):
        settings.gate({"FULFILMENT_GATE_BAD_ROWS_TOLERATED": "many"})


def test_duckdb_gets_a_memory_limit_threads_and_a_spill_folder(tmp_path):
    work = tmp_path / "it's a dir" / "f.work.duckdb"
    assert settings.duckdb_config(work, {"FULFILMENT_DUCKDB_THREADS": "3"}) == {
        "memory_limit": "60%", "threads": "3", "temp_directory": f"{work}.tmp"}
    given = {"FULFILMENT_DUCKDB_MEMORY_LIMIT": "800MB", "FULFILMENT_DUCKDB_TEMP_DIR": "/scratch/spill"}
    assert settings.duckdb_config(work, given) == {
        "memory_limit": "800MB", "threads": str(len(os.sched_getaffinity(0))), "temp_directory": "/scratch/spill"}
    with pytest.raises(UserError, match="FULFILMENT_DUCKDB_MEMORY_LIMIT='lots' is not a size"):
        settings.duckdb_config(work, {"FULFILMENT_DUCKDB_MEMORY_LIMIT": "lots"})
    with pytest.raises(UserError, match="FULFILMENT_DUCKDB_THREADS=0 must be at least 1"):
        settings.duckdb_config(work, {"FULFILMENT_DUCKDB_THREADS": "0"})


def test_every_connection_and_the_dbt_build_run_within_those_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("FULFILMENT_DUCKDB_MEMORY_LIMIT", "700MB")
    monkeypatch.setenv("FULFILMENT_DUCKDB_THREADS", "1")
    path = tmp_path / "it's" / "f.duckdb"
    with db.connect(path) as con:
        assert db.query(con, "SELECT current_setting('memory_limit'), current_setting('threads'), "
                             "current_setting('temp_directory')") == [("667.5 MiB", 1, f"{path}.tmp")]
    profile = (REPO / "dbt_project" / "profiles.yml").read_text()
    for name in ("memory_limit", "threads", "temp_directory"):  # what transform.py hands to dbt
        assert f"{name}: \"{{{{ env_var('FULFILMENT_DB_{name.upper()}'" in profile


def test_smtp_and_addresses_from_the_environment():
    assert smtp.from_env({"FULFILMENT_SMTP_HOST": "mail.test", "FULFILMENT_SMTP_SSL": "true"}) == smtp.Settings(
        host="mail.test", port=465, ssl=True, timeout=30)
    assert smtp.from_env({"FULFILMENT_SMTP_HOST": "mail.test"}).port == 25
    with pytest.raises(UserError, match="FULFILMENT_SMTP_PORT='x' is not a whole number"):
        smtp.from_env({"FULFILMENT_SMTP_HOST": "mail.test", "FULFILMENT_SMTP_PORT": "x"})
    # The report goes where alerts go unless told otherwise; the connection's sender wins.
    alerts = {"FULFILMENT_ALERT_FROM": "fm@shop.test", "FULFILMENT_ALERT_TO": "ops@shop.test, lead@shop.test"}
    assert smtp.addresses(None, alerts) == ("fm@shop.test", ["ops@shop.test", "lead@shop.test"])
    assert smtp.addresses({"sender": "airflow@shop.test"}, {**alerts, "FULFILMENT_REPORT_TO": "a@shop.test"}) == (
        "airflow@shop.test", ["a@shop.test"])
    assert smtp.addresses(None, {}) == ("fulfilment-monitor@localhost", ["fulfilment-ops@localhost"])
    with pytest.raises(UserError, match="FULFILMENT_REPORT_TO names no recipient"):
        smtp.addresses(None, {"FULFILMENT_REPORT_TO": " , "})


def test_dependencies_are_pinned_exactly_and_locked():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    locked = {}
    for path in (REPO / "requirements.txt", REPO / "requirements" / "dev.txt", REPO / "requirements" / "spark.txt"):
        for line in path.read_text().splitlines():
            if line and not line.startswith("#"):
                package, version = line.split("==")
                locked[re.sub(r"[-_.]+", "-", package).lower()] = version
    direct = [*project["dependencies"], *project["optional-dependencies"]["dev"],
              *project["optional-dependencies"]["spark"]]
    for requirement in direct:
        package, version = requirement.split("==")
        package = package.split("[")[0]  # dbt-spark[session]: the package, whatever its extras
        assert locked[re.sub(r"[-_.]+", "-", package).lower()] == version, requirement
    assert project["scripts"] == {"fulfilment-monitor": "fulfilment_monitor.cli:main"}
