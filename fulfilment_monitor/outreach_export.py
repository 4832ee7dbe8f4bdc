"""`export-outreach`: what an outreach system needs to contact the queue's sendable cases, the one
reader of the private file.

A CSV row per sendable case of the published queue (marts.fct_outreach_queue, no
suppressed_reason) whose customer has an address for the case's channel: `case_id`, `channel`,
`address` (the email address for email, the phone number for sms, phone and whatsapp:
reference.outreach_channels), `first_name`, `send_after` and `message`. The address is the
customer's latest as known at the queue's T (staging's rule: from a drop extracted before T and
loaded, stamped by T). A case without one (a forgotten customer, none on file) is counted, never
exported. Nothing else: no other column, no other customer. Written to stdout, or to a file
created owner-only (it holds personal data).
"""
from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

from fulfilment_monitor import access, db, private
from fulfilment_monitor.feeds import FIRST_NAME
from fulfilment_monitor.report.period import published_as_of
from fulfilment_monitor.settings import iso, private_db_for, work_db_for

COLUMNS = ("case_id", "channel", "address", "first_name", "send_after", "message")

EXPORT = f"""
    WITH known AS (
        SELECT customer_id, {FIRST_NAME[1]} AS first_name, email, phone FROM {private.CATALOG}.main.oms_customers
        WHERE _load_id IN (SELECT load_id FROM audit.drops WHERE status = 'loaded')
          AND _extract_date < CAST(timezone('UTC', $as_of) AS DATE) AND CAST(updated_at AS TIMESTAMPTZ) <= $as_of
        QUALIFY row_number() OVER (PARTITION BY customer_id
                                   ORDER BY CAST(updated_at AS TIMESTAMPTZ) DESC, _extract_date DESC, _line_no DESC) = 1
    )
    SELECT q.case_id, q.channel,
           CASE c.address WHEN 'email' THEN k.email WHEN 'phone' THEN k.phone END AS address,
           k.first_name, q.send_after, q.message
    FROM marts.fct_outreach_queue AS q
    JOIN reference.outreach_channels AS c USING (channel)
    LEFT JOIN known AS k USING (customer_id)
    WHERE q.suppressed_reason IS NULL
    ORDER BY q.priority DESC, q.case_id"""


def rows(published: Path) -> list[tuple]:
    """Every sendable case of the published queue with its address (None when there is none)."""
    with db.connect(published, read_only=True) as con:
        private.attach(con, read_only=True, path=private_db_for(work_db_for(published)))
        return db.query(con, EXPORT, {"as_of": published_as_of(con)})


def command(published: Path, out: Path | None) -> str:
    """Write the export (to `out`, else stdout); a line saying what it holds."""
    found = rows(published)
    addressed = [r for r in found if r[2]]
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows([iso(v) if i == 4 else v for i, v in enumerate(r)] for r in addressed)
    if out is None:
        sys.stdout.write(text.getvalue())
    else:
        with access.owner_only():
            out.write_text(text.getvalue(), encoding="utf-8")
        access.keep_private(out)
    return (f"{len(addressed)} sendable case(s) exported"
            + (f"; {len(found) - len(addressed)} without an address for their channel (forgotten, or none on file)"
               if len(found) > len(addressed) else ""))
