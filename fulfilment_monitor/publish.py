"""Publish the work database for analysts: a copy swapped in atomically, no bigger than it must be.

Analysts keep their read-only handle on the old file (the rename leaves its inode
alive) and the next open sees the new one; a failed run never reaches this step.

The published file is a copy of the work database, so its size is the work file's. DuckDB
reuses the blocks of a dropped or rewritten table but never gives them back to the file
system, and only a full copy (COPY FROM DATABASE) makes a file compact again. So the work
database is kept from accumulating free space: the big models are incremental (a night
rewrites little), dbt checkpoints at every commit (profiles.yml) so a replaced table's blocks
are reused by the next model, and when more than MAX_FREE of the file is still free (an
older version's database, a full rebuild, or the slow drift of incremental rewrites)
publishing first compacts it.
"""
from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

from fulfilment_monitor import access, db
from fulfilment_monitor.text import quote_identifier

# Share of the work database's blocks that may be free before publishing compacts it: a file
# with a share f free is 1 / (1 - f) times its used blocks, 1.1x at an eleventh. (Used blocks
# are not all full: incremental writes leave some part filled, which only a compaction packs.)
MAX_FREE = 1 / 11


def _checkpoint(work: Path) -> float:
    """Fold the write-ahead log into the file; the share of its blocks that are free."""
    # A run's last connection may have left changes only in the write-ahead log.
    with db.connect(work) as con:
        con.sql("CHECKPOINT")
        total, free = db.query(con, "SELECT total_blocks, free_blocks FROM pragma_database_size() "
                                    "WHERE database_name = current_database()")[0]
    wal = work.with_name(work.name + ".wal")
    if wal.exists() and wal.stat().st_size:
        raise RuntimeError(f"{wal} still holds changes after a checkpoint; not publishing a partial copy")
    return free / total if total else 0.0


def _fsync(path: Path) -> None:
    handle = os.open(path, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def compact(path: Path) -> None:
    """Rewrite a database into a fresh file holding only its data (COPY FROM DATABASE): the
    blocks of what was dropped, deleted or rewritten, free but never zeroed, are gone with the
    old file."""
    fresh = path.with_name(f".{path.name}.compacting")
    fresh.unlink(missing_ok=True)
    try:
        # No instance of the old file may outlive the rename (transform.py closes dbt's): it would
        # take later writes into the replaced file. The fresh file's path is bound.
        with db.connect(path) as con:
            source = db.query(con, "SELECT current_database()")[0][0]
            db.attach(con, fresh, "compacted")
            con.sql(f"COPY FROM DATABASE {quote_identifier(source)} TO compacted")
            con.sql("DETACH compacted")
        _fsync(fresh)
        os.replace(fresh, path)
    except BaseException:
        fresh.unlink(missing_ok=True)  # a full disk or a kill leaves the database as it was
        raise


def publish(work: Path, published: Path, seal: Callable[[Path], None] | None = None, compacted: bool = False) -> None:
    """Copy `work` to `published` in one rename, after folding its write-ahead log into it, and
    compacting it first when too much of it is free space, or always when `compacted` (erased
    data must not survive in a free block).

    `seal(copy)` may finish the copy before it is renamed (the run records itself published
    there). A copy that fails (a full disk, a kill) is removed: only a whole one is renamed.
    """
    if _checkpoint(work) > MAX_FREE or compacted:
        compact(work)
    published.parent.mkdir(parents=True, exist_ok=True)
    staging = published.with_name(f".{published.name}.publishing")
    try:
        shutil.copyfile(work, staging)
        access.share(staging)  # analysts' and ops' group, never everyone's: before it is in place
        if seal is not None:
            seal(staging)
        _fsync(staging)
        os.replace(staging, published)
    except BaseException:
        staging.unlink(missing_ok=True)
        raise
    _fsync(published.parent)  # the rename itself survives a crash


def bootstrap_work(work: Path, published: Path) -> None:
    """A lost work database is rebuilt from the last published one, history included."""
    if not work.exists() and published.exists():
        shutil.copyfile(published, work)
