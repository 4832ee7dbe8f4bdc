"""Text that leaves the pipeline in errors, logs, the ledger and pages: short and safe.

Input may hold customer data (names, emails, phones). Anything quoted from it is cut to a
short fragment with control characters escaped, so a message stays one line and can never
carry a whole record, let alone a whole file.
"""
from __future__ import annotations

FRAGMENT_CHARS = 80


def fragment(text: object, width: int = FRAGMENT_CHARS) -> str:
    """At most `width` characters of `text`, one line, control characters escaped."""
    shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))
    return shown if len(shown) <= width else shown[: width - 1] + "…"


def quote_sql(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"
