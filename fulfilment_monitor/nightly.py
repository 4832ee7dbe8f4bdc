"""The nightly job in the steps a scheduler runs: ingest one source, transform, report.

Every step takes the run's logical date and derives its window from it, never from
the wall clock: the run for extract date D loads the complete drops extracted on or
before D and evaluates the rules at T = the end of D (midnight UTC after it). So a
rerun, a cleared task or a backfill of D gives what the nightly run for D gave.

Airflow's DAG (dags/fulfilment_nightly.py) only schedules and wires these functions;
each also runs without Airflow:

    python -m fulfilment_monitor.nightly ingest oms 2026-10-21
    python -m fulfilment_monitor.nightly transform 2026-10-21
    python -m fulfilment_monitor.nightly report 2026-10-21 --out data/reports
"""
from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
from dataclasses import dataclass
from pathlib import Path

from fulfilment_monitor.errors import UserError, in_one_line
from fulfilment_monitor.feeds import SOURCES
from fulfilment_monitor import settings
from fulfilment_monitor.settings import end_of, iso

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class Window:
    """What a run for one logical date may see."""
    extract_date: dt.date  # D: drops extracted on or before it are loaded
    as_of: dt.datetime  # T: the rules' reference time, the end of D


def window(logical_date: dt.datetime | dt.date) -> Window:
    """The run's window from its logical date (an aware datetime is read in UTC)."""
    if isinstance(logical_date, dt.datetime):
        if logical_date.tzinfo is None:
            raise UserError(f"logical date {logical_date} has no time zone")
        day = logical_date.astimezone(dt.timezone.utc).date()
    else:
        day = logical_date
    return Window(day, end_of(day))


def reports_path(db: Path) -> Path:
    """Rendered reports live beside the published database."""
    return db.parent / "reports"


def ingest(source: str, logical_date: dt.datetime | dt.date, landing: Path, db: Path) -> dict:
    """Load the complete drops of one source extracted up to D into the work database
    (pipeline.ingest: a drop standing rejected raises DropRejected)."""
    from fulfilment_monitor import pipeline

    if source not in SOURCES:
        raise UserError(f"unknown source {source!r} (expected one of: {', '.join(SOURCES)})")
    span = window(logical_date)
    results = pipeline.ingest(landing, db, until=span.extract_date, sources=(source,))
    loaded = [r for r in results if r.status == "loaded"]
    summary = {
        "source": source,
        "extract_date": span.extract_date.isoformat(),
        "loaded": [r.drop.name for r in loaded],
        "already_loaded": sum(r.status == "skipped" for r in results),
        "rows_loaded": sum(r.loaded for r in loaded),
        "rows_quarantined": sum(r.quarantined for r in loaded),
        "held_for_review": [r.drop.name for r in results if r.status == "held"],
        "waiting_behind_held": [r.drop.name for r in results if r.status == "waiting"],
    }
    log.info("ingest %s up to %s: %s", source, span.extract_date, summary)
    return summary


def transform(logical_date: dt.datetime | dt.date, db: Path) -> dict:
    """dbt build at T, validate the marts, publish the database (pipeline.build_and_publish):
    what the ingest steps loaded up to D, evaluated at T (the day before a drop held for review,
    if any: the task succeeds, and the report's data-quality section names the drop for ops)."""
    from fulfilment_monitor import pipeline

    span = window(logical_date)
    result = pipeline.build_and_publish(db, span.as_of)
    summary = {"as_of": iso(result.as_of), "run_id": result.run_id, "exceptions": result.exceptions,
               "rebuilt_in_full": result.rebuilt, "held_for_review": [name for name, _ in result.held]}
    log.info("published %s as of %s: %s", db, summary["as_of"], result.exceptions)
    if result.held:  # published up to the day before; the report lists it, for ops to release
        log.warning(pipeline.held_line(result.held))
    return summary


def report(logical_date: dt.datetime | dt.date, db: Path, out: Path | None, send: bool = False,
           smtp: dict | None = None) -> dict:
    """Render (and send) the nightly report of the published database as of T.

    `smtp`: explicit SMTP settings (the DAG passes its `smtp_default` connection's);
    None lets the report read them from the environment, as the CLI does.
    """
    from fulfilment_monitor import report as nightly_report

    span = window(logical_date)
    explicit = {"smtp": smtp} if smtp is not None else {}
    nightly_report.command(db=db, as_of=span.as_of, out=out, send=send, **explicit)
    return {"as_of": iso(span.as_of), "out": str(out) if out else None, "send": send}


def _parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m fulfilment_monitor.nightly",
                                  description="One step of the nightly job for one extract date.")
    steps = top.add_subparsers(dest="step", required=True)
    for name in ("ingest", "transform", "report"):
        step = steps.add_parser(name)
        if name == "ingest":
            step.add_argument("source", choices=SOURCES)
        step.add_argument("date", type=dt.date.fromisoformat, help="the logical date D (YYYY-MM-DD)")
        step.add_argument("--db", type=Path, default=None, help=f"default: ${settings.DB.env} or data/fulfilment.duckdb")
        if name == "report":
            step.add_argument("--out", type=Path, default=None)
            step.add_argument("--send", action="store_true", help="email it (SMTP settings from the environment)")
        elif name == "ingest":
            step.add_argument("--landing", type=Path, default=None, help=f"default: ${settings.LANDING.env} or the sample")
    return top


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    logging.raiseExceptions = False  # a log that cannot be written (a full disk) must not add a traceback
    db = settings.database(args.db)
    try:
        with in_one_line():  # every failure is one line, as the DAG's tasks fail; FULFILMENT_DEBUG=1 for the traceback
            if args.step == "ingest":
                print(ingest(args.source, args.date, settings.landing(args.landing), db))
            elif args.step == "transform":
                print(transform(args.date, db))
            else:
                print(report(args.date, db, args.out, args.send))
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
