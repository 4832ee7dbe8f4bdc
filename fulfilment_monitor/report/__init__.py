"""The nightly ops report: render it from the published database, write it out, email it once.

    python -m fulfilment_monitor report [--db FILE] [--as-of TS] [--out DIR] [--send]

Modules, one job each: period (T and the report date), headline / exceptions / scorecards /
outreach / quality / chart (the sections' queries), content (all of them), render + templates/
(HTML and text), message (the email), smtp (settings and delivery), outbox + sending (one
report per date).
"""
from __future__ import annotations

import datetime as dt
from email.policy import SMTP as WIRE_FORMAT
from pathlib import Path

from fulfilment_monitor import access
from fulfilment_monitor import db as database
from fulfilment_monitor.report import message, period, render
from fulfilment_monitor.report import smtp as mail  # `smtp` is command()'s parameter
from fulfilment_monitor.report.content import Content, gather
from fulfilment_monitor.report.outbox import Outbox
from fulfilment_monitor.report.sending import send_once


def write(out: Path, content: Content, raw: bytes) -> None:
    """report.html (chart beside it), report.txt, trend.png, outreach_queue.csv, report.eml:
    0640, in the shared group (access.py), and so the folder when it is made here."""
    made = [] if out.exists() else [out]
    out.mkdir(parents=True, exist_ok=True)
    files = {"report.html": render.html(content.context, image_src="trend.png").encode(),
             "report.txt": render.text(content.context).encode(), "trend.png": content.png,
             "outreach_queue.csv": content.queue_csv, "report.eml": raw}
    for name, data in files.items():
        (out / name).write_bytes(data)
    access.share(*made, *(out / name for name in files))


@access.shared_files()
def command(db: Path, as_of: dt.datetime | None, out: Path | None, send: bool, smtp: dict | None = None) -> None:
    """Render the report of the published database `db` as of T (default: its latest published run's)."""
    settings_ = mail.settings(smtp) if send else None  # bad settings fail before any work
    sender, recipients = mail.addresses(smtp)
    with database.connect(Path(db), read_only=True) as con:
        span = period.resolve(con, as_of)
        content = gather(con, span)
    # CRLF line ends: the bytes go to the server as they are (smtplib fixes line ends of str only)
    raw = message.build(content.context, content.png, content.queue_csv, sender, recipients).as_bytes(
        policy=WIRE_FORMAT)
    if out is not None:
        write(Path(out), content, raw)
        print(f"wrote the report for {span.report_date} to {out}")
    if send:
        print(send_once(Outbox(Path(db)), span.report_date, raw, settings_, sender, recipients))
    if out is None and not send:
        print(render.text(content.context))

