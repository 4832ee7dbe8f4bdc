"""The email: plain text, HTML with the trend chart inline (cid), the outreach queue as CSV."""
from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from fulfilment_monitor.report import render

DOMAIN = "fulfilment-monitor"


def subject(report_date: dt.date, new: int, open_now: int) -> str:
    # Never "[fulfilment_monitor] … failed for …": that shape is the DAG's failure alert.
    return f"Fulfilment report {report_date.isoformat()}: {new} new, {open_now} open exceptions"


def build(context: dict, png: bytes, queue_csv: bytes, sender: str, recipients: list[str]) -> EmailMessage:
    report_date: dt.date = context["report_date"]
    message = EmailMessage()
    message["Subject"] = subject(report_date, context["new_exceptions"], context["open_exceptions"])
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = format_datetime(dt.datetime.now(dt.timezone.utc))
    message["Message-ID"] = make_msgid(f"report-{report_date.isoformat()}", domain=DOMAIN)
    message.set_content(render.text(context))
    cid = make_msgid("trend", domain=DOMAIN)
    message.add_alternative(render.html(context, image_src=f"cid:{cid[1:-1]}"), subtype="html")
    message.get_payload()[1].add_related(png, "image", "png", cid=cid, filename="trend.png")
    message.add_attachment(queue_csv, maintype="text", subtype="csv",
                           filename=f"outreach_queue_{report_date.isoformat()}.csv")
    return message
