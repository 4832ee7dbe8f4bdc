"""Send a date's report at most once, through the outbox ledger."""
from __future__ import annotations

import datetime as dt

from fulfilment_monitor.errors import UserError
from fulfilment_monitor.report import smtp
from fulfilment_monitor.report.outbox import Outbox


def send_once(outbox: Outbox, day: dt.date, data: bytes, config: smtp.Settings,
              sender: str, recipients: list[str]) -> str:
    """Send unless already sent; on an SMTP failure the message stays in the outbox for the next try."""
    if outbox.sent(day).exists():
        return f"report for {day} was already sent ({outbox.sent(day)}): nothing sent"
    pending = outbox.put(day, data)
    try:
        refused = smtp.deliver(config, sender, recipients, data)
    except smtp.DeliveryFailed as exc:
        raise UserError(f"could not send the report for {day} via {config.address} ({exc}); "
                        f"it waits in {pending}: `report --send` for that date sends it") from None
    outbox.mark_sent(day)
    got = [r for r in recipients if r not in refused]
    return (f"sent the report for {day} to {', '.join(got)} via {config.address}"
            + (f"; the server refused {', '.join(refused)}" if refused else ""))
