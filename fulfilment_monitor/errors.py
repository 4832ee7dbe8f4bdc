"""The one error type a user sees: a clear, one-line reason and a non-zero exit."""
from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager
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
    if isinstance(exc, UserError):  # a message from below (dbt's, DuckDB's) may span lines
        return " ".join(line.strip() for line in str(exc).splitlines() if line.strip())
    if isinstance(exc, OSError):
        return describe_os_error(exc)
    text = str(exc)
    if "No space left on device" in text:
        return "the disk is full: free some space and run again"
    first = text.splitlines()[0] if text else ""
    return (f"unexpected {type(exc).__name__}: {fragment(first)} "
            f"(run again with FULFILMENT_DEBUG=1 to see where)")


@contextmanager
def in_one_line(let_through: tuple[type[Exception], ...] = ()) -> Iterator[None]:
    """Every failure inside as a UserError of one line (`one_line`): the command line prints it,
    a DAG task fails with it and its alert shows it. Nothing chained, so no traceback of the
    original (whose message may hold customer data) reaches a log or an email;
    FULFILMENT_DEBUG=1 lets the original through, traceback and all. `let_through`: outcomes
    that are no failure (the CLI's Held), raised as they are."""
    try:
        yield
    except let_through:
        raise
    except UserError as exc:
        exc.args = (one_line(exc),)  # its type kept: it decides the exit status
        raise exc from None
    except Exception as exc:
        if _debug():
            raise
        raise UserError(one_line(exc)) from None


def _debug() -> bool:
    from fulfilment_monitor import settings  # settings imports this module

    return settings.debug()
