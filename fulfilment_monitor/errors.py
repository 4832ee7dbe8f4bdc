"""The one error type a user sees: a clear, one-line reason and a non-zero exit."""
from __future__ import annotations

import errno
from pathlib import Path

from fulfilment_monitor.text import fragment


class UserError(Exception):
    """Bad use or bad input that stops a command; its message is the whole story."""


class DropRejected(UserError):
    """A drop failed a drop-level check; nothing of it was loaded."""


def describe_os_error(exc: OSError) -> str:
    """An operating system's refusal in a few words, and what to do when it is a full disk."""
    if exc.errno == errno.ENOSPC:
        return f"the disk is full{f' under {Path(exc.filename).parent}' if exc.filename else ''}: free some space and run again"
    where = f" ({exc.filename})" if exc.filename else ""
    return f"{exc.strerror or type(exc).__name__}{where}"


def one_line(exc: BaseException) -> str:
    """What a command prints when it fails: the reason in one line, no traceback, no data."""
    if isinstance(exc, UserError):
        return str(exc)
    if isinstance(exc, OSError):
        return describe_os_error(exc)
    text = str(exc)
    if "No space left on device" in text:
        return "the disk is full: free some space and run again"
    first = text.splitlines()[0] if text else ""
    return (f"unexpected {type(exc).__name__}: {fragment(first)} "
            f"(run again with FULFILMENT_DEBUG=1 to see where)")
