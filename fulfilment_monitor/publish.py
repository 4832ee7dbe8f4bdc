"""Publish the work database for analysts: a full copy swapped in atomically.

Analysts keep their read-only handle on the old file (the rename leaves its inode
alive) and the next open sees the new one; a failed run never reaches this step.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path


def publish(work: Path, published: Path) -> None:
    """Copy `work` (closed, so fully checkpointed) to `published` in one rename."""
    published.parent.mkdir(parents=True, exist_ok=True)
    staging = published.with_name(f".{published.name}.publishing")
    shutil.copyfile(work, staging)
    with open(staging, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(staging, published)


def bootstrap_work(work: Path, published: Path) -> None:
    """A lost work database is rebuilt from the last published one, history included."""
    if not work.exists() and published.exists():
        shutil.copyfile(published, work)
