"""Shared test helpers: run the CLI as a user would, write landing-zone drops by hand."""
from __future__ import annotations

import email
import email.policy
import os
import socket
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

from fulfilment_monitor import db, load
REPO = Path(__file__).resolve().parent.parent  # the repository: tests run from its checkout

os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")


def cli(*args: str) -> subprocess.CompletedProcess:
    """Run `python -m fulfilment_monitor` as a user would."""
    return subprocess.run([sys.executable, "-m", "fulfilment_monitor", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=300)


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


@pytest.fixture
def con(tmp_path: Path):
    """A fresh work database with the loader's schema."""
    connection = db.connect(tmp_path / "work.duckdb")
    load.ensure_schema(connection)
    yield connection
    connection.close()


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    path = tmp_path / "landing"
    path.mkdir()
    return path
