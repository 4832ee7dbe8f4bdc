"""Shared test helpers: run the CLI as a user would, write landing-zone drops by hand; and the
data sets every module shares (session fixtures: made once, read-only, copy before changing).

- `generated`: the generator's 240-order, 16-day landing zone and truth (seed 7);
- `sample_run`: the bundled sample (data/sample, = `make sample`) published by the real CLI.
"""
from __future__ import annotations

import csv
import datetime as dt
import email
import email.policy
import fcntl
import os
import shutil
import signal
import socket
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from fulfilment_monitor import db, tables
REPO = Path(__file__).resolve().parent.parent  # the repository: tests run from its checkout

os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")

# Hypothesis (tests/test_reader_properties.py): `default`, a fixed seed and a bounded number of
# examples, for every run; `long` (HYPOTHESIS_PROFILE=long), thousands of fresh ones, before a
# change to the reader is done. Each example loads a drop: seconds, not a deadline's business.
settings.register_profile("default", derandomize=True, max_examples=15, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("long", max_examples=1000, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


# The modules that take longest, longest first (`make test --durations=30`, and per module from
# `--junitxml`): xdist's loadfile hands whole modules to the two workers in collection order, so
# the long ones start at once, side by side, and the short ones fill in at the end, instead of
# one worker running the slow modules one after another while the other idles.
SLOWEST_FIRST = (  # 2026-12-07: module totals of a loaded run; Spark parity (README: 28 min) and the backfill put by cost
    "test_spark_parity.py", "test_reliability.py", "test_incremental.py", "test_airflow_backfill.py",
    "test_privacy.py", "test_airflow_dags_test.py", "test_incremental_traps.py", "test_airflow_nightly.py",
    "test_end_to_end.py", "test_airflow_ui.py", "test_generate_bytes.py", "test_broken_drops.py", "test_bench.py",
)


def pytest_collection_modifyitems(session, config, items):
    rank = {name: n for n, name in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: each module's tests as written


def cli(*args: str) -> subprocess.CompletedProcess:
    """Run `python -m fulfilment_monitor` as a user would."""
    return subprocess.run([sys.executable, "-m", "fulfilment_monitor", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=300)


def kill_when(script: str, *args: str, marker: str) -> None:
    """Run `python -c script args…` and kill it with SIGKILL, as a crash would, once it prints
    `marker` (the script stalls there, at the point the test wants it killed)."""
    task = subprocess.Popen([sys.executable, "-c", script, *args], cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        assert task.stdout.readline().strip() == marker
    finally:
        task.send_signal(signal.SIGKILL)
        task.wait(timeout=30)
    assert task.returncode == -signal.SIGKILL


def write_drop(landing: Path, source: str, day: str, files: dict[str, str | bytes],
               complete: bool = True) -> Path:
    """Write one drop folder; `complete` adds the `_SUCCESS` marker."""
    folder = landing / source / day
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        data = content.encode() if isinstance(content, str) else content
        (folder / name).write_bytes(data)
    if complete:
        (folder / "_SUCCESS").touch()
    return folder


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def refusing_port():
    """A loopback port held bound and never listening: a connection to it is refused, and no
    other test (another xdist worker's SMTP server) can take it while this one counts on that."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield held.getsockname()[1]


class Inbox:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


@contextmanager
def loopback_smtp():
    """A real SMTP server on a free loopback port: yields (inbox, port)."""
    from aiosmtpd.controller import Controller

    handler = Inbox()
    server = Controller(handler, hostname="127.0.0.1", port=free_port())
    server.start()
    try:
        yield handler, server.port
    finally:
        server.stop()


def is_alert(message) -> bool:
    """A failure alert of the DAG (not a report)."""
    return message["Subject"].startswith("[fulfilment_monitor]") and " failed for " in message["Subject"]


def report_sections(text: str) -> dict[str, list[list[str]]]:
    """The report's text by section title (an upper-case line), each line split into words."""
    found: dict[str, list[list[str]]] = {}
    current = None
    for line in text.splitlines():
        if line and not line.startswith(" ") and line.split()[0].isupper():
            current = found.setdefault(line.split(" (")[0], [])
        elif current is not None and line.strip():
            current.append(line.split())
    return found


def landing_customers(landing: Path) -> list[dict[str, str]]:
    """Every record of every customers.csv in a landing zone, as Python's csv module reads it
    (bytes that are not UTF-8 replaced): the names, emails and phones the pipeline was given."""
    found = []
    for path in sorted(landing.glob("oms/*/customers.csv")):
        with open(path, newline="", encoding="utf-8", errors="replace") as handle:
            found += list(csv.DictReader(handle))
    return found


@pytest.fixture
def con(tmp_path: Path):
    """A fresh work database with the loader's schema."""
    connection = db.connect(tmp_path / "work.duckdb")
    tables.ensure(connection)
    yield connection
    connection.close()


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    path = tmp_path / "landing"
    path.mkdir()
    return path


GENERATED_START, GENERATED_DAYS = dt.date(2026, 10, 1), 16  # 16 days: the generator's minimum
SAMPLE = REPO / "data" / "sample"


@pytest.fixture(scope="session")
def generated(tmp_path_factory) -> Path:
    """`out/landing` and `out/truth` of 240 orders over 16 days, seed 7. Read-only: copy to damage."""
    from fulfilment_monitor.generate import generate

    out = tmp_path_factory.mktemp("generated")
    generate(out, orders=240, days=GENERATED_DAYS, start=GENERATED_START, seed=7)
    return out


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory) -> tuple[Path, Path, str]:
    """(sample folder, published database, the CLI's output): `run` on the bundled sample, once
    per test run, even with several xdist workers (the first makes it, under a lock, in the
    folder they share). Read-only: a test that runs again or writes copies it first
    (`copy_published`)."""
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # the run's folder, above each worker's own
    folder = shared / "sample_run"
    published, output = folder / "fulfilment.duckdb", folder / "run_output.txt"
    with open(shared / "sample_run.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not output.exists():
            folder.mkdir(exist_ok=True)
            ran = cli("run", "--landing", str(SAMPLE / "landing"), "--db", str(published))
            assert ran.returncode == 0, ran.stderr
            output.write_text(ran.stdout)
    return SAMPLE, published, output.read_text()


def copy_published(published: Path, folder: Path) -> Path:
    """A private copy of a published database, its work database and private file, free to run again on."""
    from fulfilment_monitor.settings import private_db_for, work_db_for

    folder.mkdir(parents=True, exist_ok=True)
    for path in (published, work_db_for(published), private_db_for(work_db_for(published))):
        if path.exists():
            shutil.copyfile(path, folder / path.name)
    return folder / published.name
