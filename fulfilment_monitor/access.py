"""Who may read the files the pipeline writes: personal data its owner only, the rest one shared group.

- The work database, the private file, their write-ahead logs and temporary files, and dbt's
  artefacts are written under the umask 077 (`owner_only()`, around every command that writes
  them): files 0600, folders 0700. A file made by an older version is narrowed when the
  pipeline next opens it (`keep_private`).
- The published database, the reports, the outbox's messages and the data-quality page are what
  analysts and ops read: written under the umask 027 (`shared_files()`) and each made 0640 (a
  folder 0750) in the group FULFILMENT_SHARED_GROUP, when set, as it is created and before it
  is renamed into place (`share`). Nothing is ever readable by every user of the machine.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

from fulfilment_monitor import settings
from fulfilment_monitor.errors import UserError


@contextmanager
def _umask(mask: int):
    previous = os.umask(mask)
    try:
        yield
    finally:
        os.umask(previous)


def owner_only():
    """Files created inside are 0600, folders 0700 (a context manager, or a decorator)."""
    return _umask(0o077)


def shared_files():
    """Files created inside are 0640, folders 0750 (a context manager, or a decorator)."""
    return _umask(0o027)


def keep_private(*paths: Path) -> None:
    """Narrow existing files to their owner (0600): those made before files were created so."""
    for path in paths:
        if path.exists():
            os.chmod(path, 0o600)


def share(*paths: Path) -> None:
    """Make each path readable by its owner's shared group: 0640 (a folder 0750), in the group
    FULFILMENT_SHARED_GROUP when it is set."""
    group = settings.shared_group()
    for path in paths:
        os.chmod(path, 0o750 if path.is_dir() else 0o640)
        if group is not None and path.stat().st_gid != group:
            try:
                os.chown(path, -1, group)
            except PermissionError:
                raise UserError(f"cannot give {path} to group {group}: {settings.SHARED_GROUP.env} must name "
                                f"a group this user belongs to") from None
