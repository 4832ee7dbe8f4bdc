"""Shared test helpers: run the CLI as a user would, write landing-zone drops by hand."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from fulfilment_monitor.settings import REPO

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


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    path = tmp_path / "landing"
    path.mkdir()
    return path
