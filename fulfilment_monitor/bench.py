"""`bench`: how fast and how big, and where the time goes.

For each scale it generates a landing zone, runs every phase of the pipeline in a
fresh child process (so each phase's peak memory is its own), and prints a table.
It also measures the floor (DuckDB reading every input file once and counting its
records, one reader per feed file type: the least any pipeline must pay to touch the
data) and, on the largest scale, a nightly increment: one new day on top of the
history. A backlog of many small daily drops (a retailer starting with years of
history) measures what each drop costs beyond its rows. Nothing here asserts a
timing; the tables are the result (`--json` prints them for other tools).
"""
from __future__ import annotations

import contextlib
import datetime as dt
import json
import multiprocessing
import os
import resource
import shutil
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from fulfilment_monitor.errors import UserError
from fulfilment_monitor.settings import end_of

START = dt.date(2026, 10, 1)
FULL = ("validate + load", "dbt build", "validate marts", "publish", "report")
NIGHTLY = ("nightly: validate + load", "nightly: dbt build", "nightly: validate marts", "nightly: publish")
FLOOR = "floor (read every file)"
ONE_PASS = "(one read per feed file type)"


@dataclass
class Measure:
    seconds: float
    peak_mb: float
    detail: str = ""


def _child(conn, fn, args):
    started = time.perf_counter()
    try:
        with contextlib.redirect_stdout(sys.stderr):  # a phase's own output is not the bench's
            detail = fn(*args)
    except Exception as exc:  # the parent names the phase and the reason
        conn.send(exc)
        return
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    conn.send((time.perf_counter() - started, peak_kb / 1024, detail or ""))
    conn.close()


def measure(fn, *args) -> Measure:
    """Run fn(*args) in a fresh process; its wall time and peak resident memory."""
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(send, fn, args))
    process.start()
    send.close()
    try:
        result = receive.recv()
    except EOFError:
        process.join()
        raise RuntimeError(f"benchmark phase {fn.__name__} died (exit code {process.exitcode})") from None
    process.join()
    if isinstance(result, Exception):
        raise UserError(f"benchmark phase {fn.__name__} failed: {result}") from None
    return Measure(*result)


# Phases: module-level functions so a spawned child can import them.

def phase_generate(out: Path, orders: int, days: int) -> str:
    from fulfilment_monitor.generate import generate
    generate(out, orders=orders, days=days, start=START, seed=1)
    return ""


def _engine(name: str) -> None:
    """This (child) process builds with the named engine, as FULFILMENT_ENGINE would say."""
    os.environ["FULFILMENT_ENGINE"] = name


def phase_load(landing: Path, work: Path, until: dt.date | None, engine: str = "duckdb") -> str:
    _engine(engine)
    from fulfilment_monitor.pipeline import load_new_drops
    from fulfilment_monitor.validation import drop_gate
    gate_seconds = [0.0]
    judge = drop_gate.DropGate.__call__

    def timed(self, *args):
        started = time.perf_counter()
        try:
            return judge(self, *args)
        finally:
            gate_seconds[0] += time.perf_counter() - started

    drop_gate.DropGate.__call__ = timed
    results = load_new_drops(landing, work, until)
    return (f"{sum(r.read for r in results)} rows, {len(results)} drops; "
            f"the gate (GX) {gate_seconds[0]:.1f} s of it")


def phase_build(work: Path, as_of: dt.datetime, engine: str = "duckdb") -> str:
    _engine(engine)
    from fulfilment_monitor import transform
    detail = ""
    if engine == "spark":
        from fulfilment_monitor import spark
        from fulfilment_monitor.settings import lake_for
        started = time.perf_counter()
        spark.session(lake_for(work))
        detail = f"starting Spark {time.perf_counter() - started:.1f} s of it"
    transform.build(work, as_of)
    return detail


def phase_validate_marts(work: Path, as_of: dt.datetime) -> str:
    from fulfilment_monitor import db
    from fulfilment_monitor.validation.mart_gate import validate_marts
    with db.connect(work) as con:
        problems = validate_marts(con, "bench", as_of)
    return f"{len(problems)} problems"


def phase_publish(work: Path, published: Path) -> str:
    from fulfilment_monitor.publish import publish
    publish(work, published)
    return f"{published.stat().st_size / 2**20:.0f} MB"


def phase_report(published: Path, as_of: dt.datetime, out: Path) -> str:
    from fulfilment_monitor.report import command
    command(db=published, as_of=as_of, out=out, send=False)
    return ""


def _count_records(con, paths: list[str], csv: bool) -> int:
    """Records DuckDB reads from `paths`, those it rejects included (a blank JSON line is none)."""
    reader = ("read_csv($paths, all_varchar=true, header=true, store_rejects=true)" if csv
              else "read_csv($paths, columns={'line': 'VARCHAR'}, header=false, delim=E'\\x1f', "
                   "quote='', escape='', store_rejects=true)")
    records = "true" if csv else "trim(line) <> ''"
    total = con.execute(f"SELECT count(*) FROM {reader} WHERE {records}", {"paths": paths}).fetchall()[0][0]
    total += con.sql("SELECT count(DISTINCT (scan_id, file_id, line)) FROM reject_errors").fetchall()[0][0]
    con.sql("DELETE FROM reject_errors; DELETE FROM reject_scans")
    return total


def _feed_files(landing: Path, until: dt.date | None):
    """(feed, paths of its files in the complete drops up to `until`), per feed file type."""
    from fulfilment_monitor.feeds import FEEDS
    from fulfilment_monitor.landing import complete_drops

    drops = [d for d in complete_drops(landing) if until is None or d.extract_date <= until]
    for feed in FEEDS:
        paths = [str(d.path / feed.file) for d in drops if d.source == feed.source and (d.path / feed.file).exists()]
        if paths:
            yield feed, paths


def phase_floor(landing: Path, until: dt.date | None) -> str:
    """The floor, as this benchmark has measured it from the start: DuckDB reads every input
    file once, one file at a time (its dialect sniffed), and counts its records."""
    import duckdb
    con = duckdb.connect()
    total = sum(_count_records(con, [path], feed.is_csv) for feed, paths in _feed_files(landing, until)
                for path in paths)
    return f"{total} rows"


def phase_one_pass(landing: Path, until: dt.date | None) -> str:
    """For comparison: the same files read in one pass per feed file type, as the loader reads them."""
    import duckdb
    con = duckdb.connect()
    return f"{sum(_count_records(con, paths, feed.is_csv) for feed, paths in _feed_files(landing, until))} rows"


def bench_scale(root: Path, orders: int, days: int, increment: bool) -> list[tuple[str, Measure]]:
    """All phases at one scale; with `increment`, the last day is loaded as a nightly run."""
    folder = root / f"orders_{orders}"
    shutil.rmtree(folder, ignore_errors=True)
    landing, published = folder / "landing", folder / "fulfilment.duckdb"
    work = published.with_name("fulfilment.work.duckdb")
    last = START + dt.timedelta(days=days - 1)
    history_end = last - dt.timedelta(days=1) if increment else last
    rows = [("generate", measure(phase_generate, folder, orders, days))]
    rows.append((FLOOR, measure(phase_floor, landing, history_end)))
    rows.append((ONE_PASS, measure(phase_one_pass, landing, history_end)))
    rows.append(("validate + load", measure(phase_load, landing, work, history_end)))
    rows.append(("dbt build", measure(phase_build, work, end_of(history_end))))
    rows.append(("validate marts", measure(phase_validate_marts, work, end_of(history_end))))
    rows.append(("publish", measure(phase_publish, work, published)))
    rows.append(("report", measure(phase_report, published, end_of(history_end), folder / "report")))
    if increment:
        rows.append(("nightly: validate + load", measure(phase_load, landing, work, last)))
        rows.append(("nightly: dbt build", measure(phase_build, work, end_of(last))))
        rows.append(("nightly: validate marts", measure(phase_validate_marts, work, end_of(last))))
        rows.append(("nightly: publish", measure(phase_publish, work, published)))
    return rows


SPARK_BUILD, DUCKDB_BUILD = "dbt build on Spark", "dbt build on DuckDB"


def bench_engines(root: Path, orders: int, days: int) -> list[tuple[str, Measure]]:
    """The dbt build at one scale on both engines, from the same loaded drops: the loader writes
    the lake (engine spark), a copy of its work database builds on DuckDB, the original on Spark."""
    folder = root / f"engines_{orders}"
    shutil.rmtree(folder, ignore_errors=True)
    landing, work, copy = folder / "landing", folder / "spark.work.duckdb", folder / "duckdb.work.duckdb"
    as_of = end_of(START + dt.timedelta(days=days - 1))
    rows = [("generate", measure(phase_generate, folder, orders, days))]
    rows.append(("validate + load, and the lake", measure(phase_load, landing, work, None, "spark")))
    shutil.copyfile(work, copy)
    rows.append((DUCKDB_BUILD, measure(phase_build, copy, as_of, "duckdb")))
    rows.append((SPARK_BUILD, measure(phase_build, work, as_of, "spark")))
    return rows


def render_engines(title: str, rows: list[tuple[str, Measure]]) -> str:
    phases = dict(rows)
    ratio = phases[SPARK_BUILD].seconds / phases[DUCKDB_BUILD].seconds
    lines = [f"## {title}", "", "| phase | seconds | peak MB | detail |", "|---|---:|---:|---|"]
    lines += [f"| {name} | {m.seconds:.1f} | {m.peak_mb:.0f} | {m.detail} |" for name, m in rows]
    lines.append(f"| **Spark / DuckDB** | **{ratio:.1f}×** | | |")
    return "\n".join(lines)


def bench_backlog(root: Path, drops: int) -> list[tuple[str, Measure]]:
    """A backlog of `drops` small daily drops (about 12 rows each), loaded in one run."""
    from fulfilment_monitor.feeds import SOURCES
    from fulfilment_monitor.generate.scenarios import minimum_orders
    folder = root / f"backlog_{drops}"
    shutil.rmtree(folder, ignore_errors=True)
    days = max(drops // len(SOURCES), 16)
    rows = [("generate", measure(phase_generate, folder, max(drops, minimum_orders()), days))]
    rows.append((FLOOR, measure(phase_floor, folder / "landing", None)))
    rows.append(("validate + load", measure(phase_load, folder / "landing", folder / "work.duckdb", None)))
    return rows


def summarise(rows: list[tuple[str, Measure]]) -> dict[str, float]:
    phases = dict(rows)
    floor = phases[FLOOR].seconds
    summary = {"floor": floor, "peak_mb": max(m.peak_mb for name, m in rows if name not in ("generate", ONE_PASS)),
               "load": phases["validate + load"].seconds}
    summary["load_x_floor"] = summary["load"] / floor
    if "dbt build" in phases:
        summary["dbt"] = phases["dbt build"].seconds
        summary["dbt_x_floor"] = summary["dbt"] / floor
        summary["pipeline"] = sum(phases[name].seconds for name in FULL)
        summary["pipeline_x_floor"] = summary["pipeline"] / floor
    if NIGHTLY[0] in phases:
        summary["nightly"] = sum(phases[name].seconds for name in NIGHTLY)
        summary["nightly_share"] = summary["nightly"] / summary["pipeline"]
    return summary


def render(title: str, rows: list[tuple[str, Measure]]) -> str:
    summary = summarise(rows)
    lines = [f"## {title}", "", "| phase | seconds | peak MB | detail |", "|---|---:|---:|---|"]
    lines += [f"| {name} | {m.seconds:.1f} | {m.peak_mb:.0f} | {m.detail} |" for name, m in rows]
    lines.append(f"| **load / floor** | **{summary['load_x_floor']:.1f}×** | | |")
    if "pipeline" in summary:
        lines.append(f"| **dbt build / floor** | **{summary['dbt_x_floor']:.1f}×** | | |")
        lines.append(f"| **pipeline total** (load → report) | **{summary['pipeline']:.1f}** | "
                     f"**{summary['peak_mb']:.0f}** | {summary['pipeline_x_floor']:.1f}× the floor |")
    if "nightly" in summary:
        lines.append(f"| **nightly increment** (one new day) | **{summary['nightly']:.1f}** | | "
                     f"{100 * summary['nightly_share']:.0f}% of the full build |")
    return "\n".join(lines)


def command(scales: list[int], out: Path, days: int, backlog: int = 3000, as_json: bool = False,
            engine: str = "duckdb") -> None:
    from fulfilment_monitor.generate.scenarios import MIN_DAYS, minimum_orders
    if days < MIN_DAYS or min(scales) < minimum_orders():
        raise UserError(f"bench needs --days >= {MIN_DAYS} and every scale >= {minimum_orders()} orders")
    out.mkdir(parents=True, exist_ok=True)
    if engine == "spark":
        return command_engines(scales, out, days, as_json)
    results: dict[str, list[tuple[str, Measure]]] = {}
    for orders in sorted(scales):
        results[f"{orders:,} orders"] = rows = bench_scale(out, orders, days, increment=orders == max(scales))
        if not as_json:
            print(render(f"{orders:,} orders ({days} days)", rows), flush=True)
            print(flush=True)
    if backlog:
        results[f"backlog of {backlog:,} drops"] = rows = bench_backlog(out, backlog)
        if not as_json:
            print(render(f"a backlog of {backlog:,} small daily drops", rows), flush=True)
            print(flush=True)
    if as_json:
        print(json.dumps({title: {"phases": {name: asdict(m) for name, m in rows}, "summary": summarise(rows)}
                          for title, rows in results.items()}, indent=1))
        return
    print("| scale | floor s | load s (× floor) | dbt build s (× floor) | pipeline s (× floor) | peak MB |\n"
          "|---|---:|---:|---:|---:|---:|")
    for title, rows in results.items():
        s = summarise(rows)
        dbt = f"{s['dbt']:.1f} ({s['dbt_x_floor']:.1f}×)" if "dbt" in s else "-"
        pipeline = f"{s['pipeline']:.1f} ({s['pipeline_x_floor']:.1f}×)" if "pipeline" in s else "-"
        print(f"| {title} | {s['floor']:.1f} | {s['load']:.1f} ({s['load_x_floor']:.1f}×) | {dbt} | {pipeline} | "
              f"{s['peak_mb']:.0f} |")


def command_engines(scales: list[int], out: Path, days: int, as_json: bool) -> None:
    """`bench --engine spark`: the dbt build on Spark beside DuckDB's, at each scale."""
    results = {}
    for orders in sorted(scales):
        results[f"{orders:,} orders"] = rows = bench_engines(out, orders, days)
        if not as_json:
            print(render_engines(f"{orders:,} orders ({days} days): the dbt build on both engines", rows), flush=True)
            print(flush=True)
    if as_json:
        print(json.dumps({title: {"phases": {name: asdict(m) for name, m in rows},
                                  "spark_x_duckdb": dict(rows)[SPARK_BUILD].seconds / dict(rows)[DUCKDB_BUILD].seconds}
                          for title, rows in results.items()}, indent=1))
