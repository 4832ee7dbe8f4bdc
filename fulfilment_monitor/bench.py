"""`bench`: how fast and how big, and where the time goes.

For each scale it generates a landing zone, runs every phase of the pipeline in a
fresh child process (so each phase's peak memory is its own), and prints a table.
It also measures the floor (DuckDB reading every input file once and counting rows)
and, on the largest scale, a nightly increment: one new day on top of the history.
Nothing here asserts a timing; the table is the result.
"""
from __future__ import annotations

import datetime as dt
import multiprocessing
import resource
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from fulfilment_monitor.errors import UserError

START = dt.date(2026, 10, 1)


@dataclass
class Measure:
    seconds: float
    peak_mb: float
    detail: str = ""


def _child(conn, fn, args):
    started = time.perf_counter()
    try:
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


class Stopwatch:
    """Adds up the seconds spent inside some functions (patched in a phase's own process)."""

    def __init__(self):
        self.seconds = 0.0

    def watch(self, owner, name: str) -> None:
        original = getattr(owner, name)

        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started
        setattr(owner, name, timed)


def phase_load(landing: Path, work: Path, until: dt.date | None) -> str:
    from fulfilment_monitor.pipeline import load_new_drops
    from fulfilment_monitor.validation import drop_gate
    gate = Stopwatch()  # the GX drop checks, batched (prepare) or alone (expectations_check)
    gate.watch(drop_gate.BatchedExpectations, "prepare")
    gate.watch(drop_gate, "expectations_check")
    results = load_new_drops(landing, work, until)
    return f"{sum(r.read for r in results)} rows; GX drop validation {gate.seconds:.1f} s of it"


def phase_build(work: Path, as_of: dt.datetime) -> str:
    from fulfilment_monitor import transform
    transform.build(work, as_of)
    return ""


def phase_validate_marts(work: Path, as_of: dt.datetime) -> str:
    from fulfilment_monitor import db, validate
    with db.connect(work) as con:
        problems = validate.validate_marts(con, "bench", as_of)
    return f"{len(problems)} problems"


def phase_publish(work: Path, published: Path) -> str:
    from fulfilment_monitor.publish import publish
    publish(work, published)
    return f"{published.stat().st_size / 2**20:.0f} MB"


def phase_report(published: Path, as_of: dt.datetime, out: Path) -> str:
    from fulfilment_monitor.report import command
    command(db=published, as_of=as_of, out=out, send=False)
    return ""


def phase_floor(landing: Path, until: dt.date | None) -> str:
    """DuckDB reads every input file once and counts its rows: the cost of touching the data."""
    import duckdb
    con = duckdb.connect()
    total = 0
    for path in sorted(landing.glob("*/*/*")):
        if until and dt.date.fromisoformat(path.parent.name) > until or path.name == "_SUCCESS":
            continue
        reader = (f"read_csv('{path}', all_varchar=true, ignore_errors=true)" if path.suffix == ".csv"
                  else f"read_csv('{path}', columns={{'line': 'VARCHAR'}}, header=false, delim=E'\\x01', "
                       f"quote='', escape='', ignore_errors=true)")
        total += con.sql(f"SELECT count(*) FROM {reader}").fetchall()[0][0]
    return f"{total} rows"


def _end_of(day: dt.date) -> dt.datetime:
    from fulfilment_monitor.settings import end_of
    return end_of(day)


def bench_scale(root: Path, orders: int, days: int, increment: bool) -> list[tuple[str, Measure]]:
    """All phases at one scale; with `increment`, the last day is loaded as a nightly run."""
    folder = root / f"orders_{orders}"
    shutil.rmtree(folder, ignore_errors=True)
    landing, published = folder / "landing", folder / "fulfilment.duckdb"
    work = published.with_name("fulfilment.work.duckdb")
    last = START + dt.timedelta(days=days - 1)
    history_end = last - dt.timedelta(days=1) if increment else last
    rows = [("generate", measure(phase_generate, folder, orders, days))]
    rows.append(("floor (read every file)", measure(phase_floor, landing, history_end)))
    rows.append(("validate + load", measure(phase_load, landing, work, history_end)))
    rows.append(("dbt build", measure(phase_build, work, _end_of(history_end))))
    rows.append(("validate marts", measure(phase_validate_marts, work, _end_of(history_end))))
    rows.append(("publish", measure(phase_publish, work, published)))
    rows.append(("report", measure(phase_report, published, _end_of(history_end), folder / "report")))
    if increment:
        rows.append(("nightly: validate + load", measure(phase_load, landing, work, last)))
        rows.append(("nightly: dbt build", measure(phase_build, work, _end_of(last))))
        rows.append(("nightly: validate marts", measure(phase_validate_marts, work, _end_of(last))))
        rows.append(("nightly: publish", measure(phase_publish, work, published)))
    return rows


FULL = ("validate + load", "dbt build", "validate marts", "publish", "report")
NIGHTLY = ("nightly: validate + load", "nightly: dbt build", "nightly: validate marts", "nightly: publish")


def summarise(rows: list[tuple[str, Measure]]) -> dict[str, float]:
    phases = dict(rows)
    pipeline = sum(phases[name].seconds for name in FULL)
    summary = {"pipeline": pipeline, "floor": phases["floor (read every file)"].seconds,
               "peak_mb": max(m.peak_mb for name, m in rows if name != "generate")}
    if NIGHTLY[0] in phases:
        summary["nightly"] = sum(phases[name].seconds for name in NIGHTLY)
    return summary


def render(orders: int, rows: list[tuple[str, Measure]]) -> str:
    summary = summarise(rows)
    lines = [f"## {orders:,} orders", "", f"| phase | seconds | peak MB | detail |", "|---|---:|---:|---|"]
    lines += [f"| {name} | {m.seconds:.1f} | {m.peak_mb:.0f} | {m.detail} |" for name, m in rows]
    lines.append(f"| **pipeline total** (load → report) | **{summary['pipeline']:.1f}** | "
                 f"**{summary['peak_mb']:.0f}** | {summary['pipeline'] / summary['floor']:.1f}× the floor |")
    if "nightly" in summary:
        lines.append(f"| **nightly increment** (one new day) | **{summary['nightly']:.1f}** | | "
                     f"{100 * summary['nightly'] / summary['pipeline']:.0f}% of the full build |")
    return "\n".join(lines)


def command(scales: list[int], out: Path, days: int) -> None:
    from fulfilment_monitor.generate.scenarios import MIN_DAYS, minimum_orders
    if days < MIN_DAYS or min(scales) < minimum_orders():
        raise UserError(f"bench needs --days >= {MIN_DAYS} and every scale >= {minimum_orders()} orders")
    out.mkdir(parents=True, exist_ok=True)
    results = {}
    for orders in sorted(scales):
        rows = bench_scale(out, orders, days, increment=orders == max(scales))
        results[orders] = rows
        print(render(orders, rows), flush=True)
        print(flush=True)
    if len(results) > 1:
        print("| orders | pipeline s | s per 1k orders | peak MB |\n|---:|---:|---:|---:|")
        for orders, rows in results.items():
            summary = summarise(rows)
            print(f"| {orders:,} | {summary['pipeline']:.1f} | {1000 * summary['pipeline'] / orders:.2f} | "
                  f"{summary['peak_mb']:.0f} |")
