"""Publish the work database for analysts: a full copy swapped in atomically.

Analysts keep their read-only handle on the old file (the rename leaves its inode
alive) and the next open sees the new one; a failed run never reaches this step.
"""
from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

from fulfilment_monitor import db


def publish(work: Path, published: Path, seal: Callable[[Path], None] | None = None) -> None:
    """Copy `work` to `published` in one rename, after folding its write-ahead log into it.

    `seal(copy)` may finish the copy before it is renamed (the run records itself published
    there). A copy that fails (a full disk, a kill) is removed: only a whole one is renamed.
    """
    # dbt's in-process adapter may still hold the database open with changes only in the WAL.
    with db.connect(work) as con:
        con.sql("CHECKPOINT")
    wal = work.with_name(work.name + ".wal")
    if wal.exists() and wal.stat().st_size:
        raise RuntimeError(f"{wal} still holds changes after a checkpoint; not publishing a partial copy")
    published.parent.mkdir(parents=True, exist_ok=True)
    staging = published.with_name(f".{published.name}.publishing")
    try:
        shutil.copyfile(work, staging)
        if seal is not None:
            seal(staging)
        with open(staging, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(staging, published)
    except BaseException:
        staging.unlink(missing_ok=True)
        raise


def bootstrap_work(work: Path, published: Path) -> None:
    """A lost work database is rebuilt from the last published one, history included."""
    if not work.exists() and published.exists():
        shutil.copyfile(published, work)
