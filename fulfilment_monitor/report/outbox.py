"""One report per date: a rendered report waits in <db dir>/outbox/<date>.eml until it is sent,
then moves to outbox/sent/<date>.eml, which is what says 'already sent'."""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from fulfilment_monitor import access


class Outbox:
    def __init__(self, db: Path):
        self.root = db.resolve().parent / "outbox"

    def pending(self, day: dt.date) -> Path:
        return self.root / f"{day.isoformat()}.eml"

    def sent(self, day: dt.date) -> Path:
        return self.root / "sent" / f"{day.isoformat()}.eml"

    def put(self, day: dt.date, data: bytes) -> Path:
        """Write (or replace) the date's pending message atomically."""
        path = self.pending(day)
        path.parent.mkdir(parents=True, exist_ok=True)
        scratch = path.with_suffix(".eml.tmp")
        scratch.write_bytes(data)
        access.share(path.parent, scratch)  # 0640 in the shared group before it is in place
        os.replace(scratch, path)
        return path

    def mark_sent(self, day: dt.date) -> Path:
        done = self.sent(day)
        done.parent.mkdir(parents=True, exist_ok=True)
        access.share(done.parent)
        os.replace(self.pending(day), done)
        return done
