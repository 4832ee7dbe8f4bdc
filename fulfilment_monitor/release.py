"""`release SOURCE/DATE --reason TEXT`: ops accept a drop held for review, as it is.

A drop that failed only a statistical check (volume against its recent history, null drift) is
held, not rejected: it may be broken upstream, or simply unusual (a holiday, a closed store). A
person looks at it and either has it re-delivered (new content in its folder is judged afresh)
or releases it. The release is kept in `audit.releases` with the content it accepts (the held
checksum), the operating-system user who released it, when and why; the next run loads that
content, and its statistical failures are recorded as warnings. Content that changes after the
release is judged afresh.
"""
from __future__ import annotations

import datetime as dt
import os
import pwd
from pathlib import Path

from fulfilment_monitor import access, db, pipeline, tables
from fulfilment_monitor.errors import UserError
from fulfilment_monitor.feeds import SOURCES
from fulfilment_monitor.text import fragment

REASON_CHARS = 200


def os_user() -> str:
    """Who runs this process, as the operating system knows them (not $USER, which anyone sets)."""
    uid = os.geteuid()
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def parse(name: str) -> tuple[str, dt.date]:
    """`SOURCE/YYYY-MM-DD` as (source, extract date)."""
    source, _, day = name.strip().partition("/")
    try:
        extract_date = dt.date.fromisoformat(day)
    except ValueError:
        extract_date = None
    if source not in SOURCES or extract_date is None:
        raise UserError(f"{fragment(name)!r} is no drop: name it SOURCE/YYYY-MM-DD, SOURCE one of {', '.join(SOURCES)}")
    return source, extract_date


@access.owner_only()
def release(published: Path, name: str, reason: str) -> str:
    """Record the release of the held drop `name` in the ledger behind `published`; one line saying so."""
    source, day = parse(name)
    if not reason.strip():
        raise UserError("--reason must say why the drop is right as it is: it is kept in audit.releases")
    work = pipeline.work_for(published)
    drop = f"{source}/{day.isoformat()}"
    with db.connect(work) as con:
        tables.ensure(con)
        found = db.query(con, "SELECT status, checksum FROM audit.drops WHERE source = ? AND extract_date = ?",
                         [source, day])
        if not found:
            raise UserError(f"{drop} is not in the ledger of {published}: nothing to release")
        status, checksum = found[0]
        if status != "held":
            raise UserError(f"{drop} is {status}, not held for review: only a held drop can be released")
        user = os_user()
        con.execute("INSERT INTO audit.releases VALUES (?, ?, ?, ?, ?, ?)",
                    [source, day, checksum, user, dt.datetime.now(dt.timezone.utc), fragment(reason, REASON_CHARS)])
    return f"released {drop} (content {checksum[:12]}) by {user}: the next run loads it"
