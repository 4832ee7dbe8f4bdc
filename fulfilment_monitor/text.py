"""Text that leaves the pipeline in errors, logs, the ledger and pages: short and safe.

Input may hold customer data (names, emails, phones). Anything quoted from it is cut to a
short fragment with control characters escaped, so a message stays one line and can never
carry a whole record, let alone a whole file; and every email address and phone number in it
is masked. A name cannot be told from other words: input is quoted only from fields that
hold none (names live in declared personal fields, feeds.py, which are never quoted).
"""
from __future__ import annotations

import re

FRAGMENT_CHARS = 80

# What an email address and a phone number look like in free text. An address: text without
# spaces or delimiters, an @, a domain ending in a dot and letters (an order version's key,
# O1@2026-11-01T09:00:00Z, is none). A phone: a + and 7 to 19 digits and separators (E.164 and
# its written forms), or a national number written with a trunk 0 or the North American 3-3-4
# grouping; dates, times, amounts and ids (C0000001) are neither.
# An address starts where its run of such text starts (the look-behind): the same matches, found
# in one pass, where trying from every position of a long run would take its length squared.
EMAIL = r"(?<![^\s@,;:<>()\[\]{}\"'`])[^\s@,;:<>()\[\]{}\"'`]+@[^\s@,;:<>()\[\]{}\"'`]+\.[A-Za-z]{2,}"
PHONE = (r"\+[0-9][0-9 ().-]{5,17}[0-9]"
         r"|\b0[0-9]{2,4}[ .-]?[0-9]{3,4}[ .-]?[0-9]{3,4}\b"
         r"|\(?\b[0-9]{3}\)?[ .-][0-9]{3}[ .-][0-9]{4}\b")
SHAPES = ((re.compile(EMAIL), "[email]"), (re.compile(PHONE, re.ASCII), "[phone]"))


def mask(text: str) -> str:
    """`text` with every email address and phone number in it replaced by [email] / [phone]."""
    for shape, replacement in SHAPES:
        text = shape.sub(replacement, text)
    return text


def printable(text: str) -> str:
    """`text` on one line: every character that does not print (a NUL, a line break, an escape)
    written as its Python escape (`\\x00`, `\\n`, `\\x1b`)."""
    return text if text.isprintable() else "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def safe(text: str) -> str:
    """A reason as it is stored and shown: one line, emails and phones masked (a reason quotes
    at most 40 characters of a value: row_checks.py)."""
    return mask(printable(text))


def fragment(text: object, width: int = FRAGMENT_CHARS) -> str:
    """At most `width` characters of `text`, one line, control characters escaped, emails and
    phones masked (before it is cut: a cut address would no longer look like one)."""
    shown = safe(str(text))
    return shown if len(shown) <= width else shown[: width - 1] + "…"


def quote_sql(text: str) -> str:
    """A SQL string literal, for the pipeline's own constants; a value from outside (a path, an
    id, a reason) is bound as a parameter instead."""
    return "'" + text.replace("'", "''") + "'"


def quote_identifier(name: str) -> str:
    """A SQL identifier, for a name DuckDB takes no parameter for (an attached database's, made
    from its file's name: `COPY FROM DATABASE`)."""
    return '"' + name.replace('"', '""') + '"'
