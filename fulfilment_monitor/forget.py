"""`forget CUSTOMER_ID --reason TEXT`: erase a customer's personal data everywhere the pipeline keeps it, for good.

1. One transaction of the work database records the erasure in `audit.erasures` (the id, the
   time and the reason, its emails and phones masked: never the erased data) and takes the
   customer's first name out of `raw`. From then on every load masks them again (load.py: no
   first name, no private row), and a rebuild, reading raw, has no name to copy.
2. Their rows are deleted from the private file, which is then compacted (DuckDB does not zero
   what it deletes).
3. The models are rebuilt in full at the published run's T and published at once, the work
   database compacted first: no table and no free block of the work or the published file
   keeps their first name (the outreach context, the story). Their orders, exceptions and
   outreach cases stay, under their pseudonymous id.

Quarantined records never hold a name, an email or a phone (redact.py). Running forget again
finishes what a crash interrupted. Reports already written or sent keep what they said (a
first name at most).
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from fulfilment_monitor import access, db, pipeline, private, tables
from fulfilment_monitor.errors import UserError
from fulfilment_monitor.report.period import published_as_of
from fulfilment_monitor.settings import iso, private_db_for
from fulfilment_monitor.text import fragment

REASON_CHARS = 200


def _record(work: Path, customer_id: str, reason: str) -> int:
    """Step 1; how many raw rows the customer has."""
    with db.connect(work) as con:
        tables.ensure(con)
        con.begin()
        try:
            con.execute("INSERT INTO audit.erasures VALUES (?, ?, ?)",
                        [customer_id, dt.datetime.now(dt.timezone.utc), fragment(reason, REASON_CHARS)])
            rows = 0
            for feed in tables.PRIVATE_FEEDS:
                derived = ", ".join(f"{name} = NULL" for name, _ in feed.derived)
                rows += len(db.query(con, f"UPDATE raw.{feed.table} SET {derived} WHERE {feed.person} = ? "
                                          f"RETURNING 1", [customer_id]))
            con.commit()
        except BaseException:
            con.rollback()
            raise
    return rows


def _published_as_of(published: Path) -> dt.datetime | None:
    if not published.exists():
        return None
    with db.connect(published, read_only=True) as con:
        try:
            return published_as_of(con)
        except UserError:  # nothing published yet
            return None


@access.owner_only()
def forget(published: Path, customer_id: str, reason: str) -> list[str]:
    """Erase `customer_id`'s personal data from the work database behind `published`, its
    private file and the published file; what was done, a line each."""
    if not customer_id.strip():
        raise UserError("name the customer to forget (their customer_id)")
    if not reason.strip():
        raise UserError("--reason must say why (the request's reference, say): it is kept in audit.erasures")
    work = pipeline.work_for(published)
    rows = _record(work, customer_id, reason)
    erased = private.erase(private_db_for(work), customer_id)
    done = [f"erasure of customer {customer_id!r} recorded in audit.erasures; later loads and rebuilds mask them",
            f"{erased} private row(s) deleted, {rows} first name(s) taken out of raw"
            + ("" if rows or erased else " (not in the database yet: they will be masked when they arrive)")]
    as_of = _published_as_of(published)
    if as_of is None:
        return done + ["nothing published yet: the next run publishes without them"]
    pipeline.build_and_publish(published, as_of, full_refresh=True, compacted=True)
    return done + [f"models rebuilt in full at T {iso(as_of)} and published, compacted: {published}"]
