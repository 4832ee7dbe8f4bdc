"""Where things live by default, and how a run's reference time T is read."""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from fulfilment_monitor.errors import UserError

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "data"
SAMPLE_LANDING = DATA / "sample" / "landing"
DEFAULT_DB = DATA / "fulfilment.duckdb"
DBT_PROJECT = REPO / "dbt_project"
EXPECTATIONS = REPO / "expectations"


def work_db_for(published: Path) -> Path:
    """The private database the pipeline writes; analysts only ever see the published copy."""
    return published.with_name(published.stem + ".work" + (published.suffix or ".duckdb"))


def parse_as_of(text: str) -> dt.datetime:
    """An ISO timestamp; one without an offset is read as UTC. Always returned in UTC."""
    try:
        value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UserError(f"--as-of {text!r} is not an ISO 8601 timestamp (e.g. 2026-11-21T00:00:00Z)") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc)


def end_of(day: dt.date) -> dt.datetime:
    """The end of an extract date: midnight UTC after it."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), dt.timezone.utc)


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def debug() -> bool:
    """FULFILMENT_DEBUG=1: a failing command shows its traceback, not only its one line."""
    return os.environ.get("FULFILMENT_DEBUG", "") not in ("", "0", "false")
