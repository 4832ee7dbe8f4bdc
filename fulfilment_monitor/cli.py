"""`fulfilment-monitor` (or `python -m fulfilment_monitor`): generate, run, release, report, story,
forget, export-outreach, bench.

Exit status 0 on success; 1 with a one-line reason on stderr on failure (nothing published);
`run` exits HELD (3) when it published but a drop stands held for review: the database is
sound up to the day before it, and a person must release or have it re-delivered (a 0 would let
it sit unseen while its source stops advancing; a 1 would say nothing was published).
"""
from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
from pathlib import Path

from fulfilment_monitor import settings
from fulfilment_monitor.errors import UserError, in_one_line
from fulfilment_monitor.settings import iso, parse_as_of


HELD = 3  # `run` published, but a drop stands held for review (see the module's docstring)


class Held(Exception):
    """`run` published, but drops stand held for review: exit HELD with their line on stderr."""


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return int(text)


def cmd_generate(args) -> None:
    from fulfilment_monitor.generate import generate

    summary = generate(args.out, orders=args.orders, days=args.days, start=args.start,
                       seed=args.seed, progress=True)
    for name, value in summary.items():
        print(f"{name:>24}  {value}")


def print_run(result) -> None:
    rows = [d for d in result.drops if d.status != "skipped"]
    loaded = [d for d in rows if d.status == "loaded"]
    print(f"{'drop':<26}{'status':<10}{'read':>10}{'loaded':>10}{'quarantined':>13}")
    for d in rows:
        done = d.status == "loaded"  # a drop not loaded loaded and quarantined nothing
        print(f"{d.drop.name:<26}{d.status:<10}{d.read:>10}{d.loaded if done else 0:>10}{d.quarantined if done else 0:>13}")
    for note in result.notes:
        print(note)
    skipped = len(result.drops) - len(rows)
    print(f"{len(rows)} drop(s) processed, {skipped} already loaded; "
          f"rows read {sum(d.read for d in loaded)} = loaded {sum(d.loaded for d in loaded)}"
          f" + quarantined {sum(d.quarantined for d in loaded)}"
          + (f" (and {len(rows) - len(loaded)} drop(s) not loaded)" if len(rows) > len(loaded) else ""))
    if result.rebuilt:
        print(f"models rebuilt in full: {result.rebuilt}")
    print(f"exceptions as of {iso(result.as_of)}:")
    for kind, count in result.exceptions.items():
        print(f"  {kind:<24}{count:>8}")


def cmd_run(args) -> None:
    from fulfilment_monitor import pipeline

    as_of = parse_as_of(args.as_of) if args.as_of else None
    published = settings.database(args.db)
    result = pipeline.run(settings.landing(args.landing), published, as_of,
                          full_refresh=args.full_refresh)
    print_run(result)
    print(f"published {published}")
    if result.held:
        raise Held(pipeline.held_line(result.held))


def cmd_release(args) -> None:
    from fulfilment_monitor.release import release

    print(release(settings.database(args.db), args.drop, args.reason))


def cmd_report(args) -> None:
    from fulfilment_monitor.report import command

    command(db=settings.database(args.db), as_of=parse_as_of(args.as_of) if args.as_of else None,
            out=args.out, send=args.send)


def cmd_story(args) -> None:
    from fulfilment_monitor.story import command

    command(order_id=args.order_id, db=settings.database(args.db), as_of=parse_as_of(args.as_of) if args.as_of else None,
            as_json_output=args.json)


def cmd_forget(args) -> None:
    from fulfilment_monitor.forget import forget

    for line in forget(settings.database(args.db), args.customer_id, args.reason):
        print(line)


def cmd_export_outreach(args) -> None:
    from fulfilment_monitor.outreach_export import command

    print(command(settings.database(args.db), args.out), file=sys.stderr if args.out is None else sys.stdout)


def cmd_bench(args) -> None:
    from fulfilment_monitor.bench import command

    spark = args.engine == "spark"
    command(scales=args.scales or ([10_000, 100_000] if spark else [10_000, 100_000, 1_000_000]), out=args.out,
            days=args.days, backlog=args.backlog, as_json=args.json, engine=args.engine)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="fulfilment-monitor",
                                  description="Catch broken delivery promises before the customer has to chase them.")
    commands = top.add_subparsers(dest="command", required=True)

    gen = commands.add_parser("generate", help="write a realistic landing zone and its ground truth")
    gen.add_argument("--out", type=Path, required=True, help="folder to write landing/ and truth/ into")
    gen.add_argument("--orders", type=_positive, default=300)
    gen.add_argument("--days", type=_positive, default=21)
    gen.add_argument("--start", type=_date, default=dt.date(2026, 10, 1))
    gen.add_argument("--seed", type=int, default=7)
    gen.set_defaults(func=cmd_generate)

    run = commands.add_parser("run", help="load new drops, build, validate and publish")
    run.add_argument("--landing", type=Path, help="default: $FULFILMENT_LANDING, else data/sample/landing")
    run.add_argument("--db", type=Path, help="the analysts' database to publish "
                                             "(default: $FULFILMENT_DB, else data/fulfilment.duckdb)")
    run.add_argument("--as-of", help="reference time T (default: end of the latest complete extract date)")
    run.add_argument("--full-refresh", action="store_true",
                     help="rebuild the incremental models from all data known at T (e.g. after changing them)")
    run.set_defaults(func=cmd_run)

    release = commands.add_parser("release", help="accept a drop held for review (it failed only a statistical check)")
    release.add_argument("drop", help="SOURCE/YYYY-MM-DD, as the run named it")
    release.add_argument("--reason", required=True, help="why it is right as it is: kept in audit.releases")
    release.add_argument("--db", type=Path, help="default: $FULFILMENT_DB, else data/fulfilment.duckdb")
    release.set_defaults(func=cmd_release)

    report = commands.add_parser("report", help="render (and --send) the nightly ops report")
    report.add_argument("--db", type=Path, help="default: $FULFILMENT_DB, else data/fulfilment.duckdb")
    report.add_argument("--as-of", help="report date's reference time (default: the published run's T)")
    report.add_argument("--out", type=Path, default=None, help="folder for the rendered report")
    report.add_argument("--send", action="store_true", help="email it over SMTP (settings from the environment)")
    report.set_defaults(func=cmd_report)

    story = commands.add_parser("story", help="an order's story at a glance: what was promised, what is open, what happened")
    story.add_argument("order_id", help="the order id (as the OMS writes it)")
    story.add_argument("--db", type=Path, help="default: $FULFILMENT_DB, else data/fulfilment.duckdb")
    story.add_argument("--as-of", help="tell the story up to this time (default: the published run's T)")
    story.add_argument("--json", action="store_true", help="the story as JSON, for other tools")
    story.set_defaults(func=cmd_story)

    forget = commands.add_parser("forget", help="erase a customer's name, email and phone everywhere, for good")
    forget.add_argument("customer_id", help="the customer's id (as the OMS writes it)")
    forget.add_argument("--reason", required=True, help="why (the request's reference): kept in audit.erasures")
    forget.add_argument("--db", type=Path, help="default: $FULFILMENT_DB, else data/fulfilment.duckdb")
    forget.set_defaults(func=cmd_forget)

    export = commands.add_parser("export-outreach",
                                 help="the queue's sendable cases with each customer's address, for an outreach system")
    export.add_argument("--db", type=Path, help="default: $FULFILMENT_DB, else data/fulfilment.duckdb")
    export.add_argument("--out", type=Path, help="a CSV file, created owner-only (default: stdout)")
    export.set_defaults(func=cmd_export_outreach)

    bench = commands.add_parser("bench", help="measure the pipeline at several scales and print a table")
    bench.add_argument("--scales", type=_positive, nargs="+",
                       help="orders per scale (default 10000 100000 1000000; with --engine spark 10000 100000)")
    bench.add_argument("--engine", choices=["duckdb", "spark"], default="duckdb",
                       help="spark: the dbt build on Spark beside DuckDB's at each scale, and their ratio")
    bench.add_argument("--days", type=_positive, default=30)
    bench.add_argument("--backlog", type=int, default=3000,
                       help="also load a backlog of this many small daily drops (0: no backlog)")
    bench.add_argument("--out", type=Path, default=Path("/tmp/fulfilment_bench"))
    bench.add_argument("--json", action="store_true", help="print the measures as JSON instead of tables")
    bench.set_defaults(func=cmd_bench)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    logging.raiseExceptions = False  # a log that cannot be written (a full disk) must not add a traceback
    try:
        with in_one_line(let_through=(Held,)):  # every failure is one line; FULFILMENT_DEBUG=1 for the traceback
            args.func(args)
    except Held as held:
        print(f"held: {held}", file=sys.stderr)
        return HELD
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0
