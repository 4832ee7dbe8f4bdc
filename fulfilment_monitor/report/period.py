"""Which night a report is about: T, the report date D (T's UTC date minus one day) and its windows."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

from fulfilment_monitor.db import query
from fulfilment_monitor.errors import UserError

DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class Period:
    as_of: dt.datetime  # T, an aware instant

    @property
    def report_date(self) -> dt.date:
        """The extract date D whose end is T (UTC), the date the report is named after."""
        return (self.as_of.astimezone(dt.timezone.utc) - DAY).date()

    @property
    def last_day(self) -> tuple[dt.datetime, dt.datetime]:
        """The 24 hours before T: what broke 'in the last day'."""
        return self.as_of - DAY, self.as_of

    @property
    def previous_week(self) -> tuple[dt.datetime, dt.datetime]:
        """The 7 days before the last day: the comparison."""
        return self.as_of - 8 * DAY, self.as_of - DAY

    @property
    def first_date(self) -> dt.date:
        """The first UTC date of the previous week (dates D-7 .. D-1 compare with D)."""
        return self.report_date - 7 * DAY


def published_as_of(con: duckdb.DuckDBPyConnection) -> dt.datetime:
    """T of the latest published run (the last to finish: a backfill publishes an older T)."""
    try:
        rows = query(con, "SELECT as_of FROM audit.runs WHERE status = 'published' "
                          "ORDER BY finished_at DESC NULLS LAST LIMIT 1")
    except duckdb.CatalogException:
        rows = []
    if not rows:
        raise UserError("the database has no published run: run `run` first, or pass --as-of")
    return rows[0][0].astimezone(dt.timezone.utc)


def resolve(con: duckdb.DuckDBPyConnection, as_of: dt.datetime | None) -> Period:
    if as_of is not None and as_of.tzinfo is None:
        raise UserError(f"--as-of {as_of} has no time zone")
    return Period(as_of.astimezone(dt.timezone.utc) if as_of else published_as_of(con))
