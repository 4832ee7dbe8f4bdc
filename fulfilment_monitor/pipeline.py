"""The nightly job, in the steps both the CLI and the DAG take: ingest, then build and publish.

- `ingest` loads the ready drops not loaded yet into the private work database (all of
  them, or one source's: the DAG ingests each source in its own task);
- `build_and_publish` builds the models at T, validates the marts and publishes the work
  database, recording the run in `audit.runs`;
- `run` (the CLI's `run`) is the two, in one process, recorded as one run.

Everything writes to the work database (and customers' personal data to the private file
beside it), owner-only; analysts only ever see the published copy, which changes in one atomic
rename and only after a run that loaded, built and validated cleanly.
"""
from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from fulfilment_monitor import access, tables, transform
from fulfilment_monitor import db as database
from fulfilment_monitor.errors import DropRejected, UserError, describe_os_error
from fulfilment_monitor.landing import Drop, Landing, scan
from fulfilment_monitor.load import DropResult, load_drops
from fulfilment_monitor.migrate import migrate
from fulfilment_monitor.publish import bootstrap_work, publish
from fulfilment_monitor.settings import end_of, iso, private_db_for, work_db_for
from fulfilment_monitor.validation.drop_gate import DropGate
from fulfilment_monitor.validation.mart_gate import validate_marts
from fulfilment_monitor.validation.page import write_page, write_page_for


@dataclass
class RunResult:
    run_id: str
    as_of: dt.datetime
    drops: list[DropResult] = field(default_factory=list)
    exceptions: dict[str, int] = field(default_factory=dict)
    rebuilt: str | None = None  # why the models were rebuilt in full (None: incremental)
    notes: list[str] = field(default_factory=list)  # drops waiting for files, entries ignored
    held: list[tuple[str, str]] = field(default_factory=list)  # (drop, why) held for review at publishing
    started: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))

    @property
    def rejected(self) -> list[DropResult]:
        """Drops standing between the run and publishing: rejected (now or before, unchanged
        since) or changed after they were loaded."""
        return [d for d in self.drops if d.status in ("rejected", "changed")]


def _refuse_folder(published: Path) -> None:
    if published.is_dir():
        raise UserError(f"--db {published} is a folder: name the database file to publish (e.g. {published}/fulfilment.duckdb)")


def work_for(published: Path) -> Path:
    """The work database behind `published`, rebuilt from it when lost, owner-only, and brought up
    to date when an older version made it (migrate.py)."""
    _refuse_folder(published)
    work = work_db_for(published)
    bootstrap_work(work, published)
    access.keep_private(work, private_db_for(work))
    migrate(work)
    return work


# --- step 1: ingest ------------------------------------------------------------------------------

# Drops read and checked together, up to about this many bytes of files: the readers and the
# gate pay their fixed costs once per batch, and a batch stays well within memory.
BATCH_BYTES = 1024 * 2**20


def _batches(drops: list[Drop]):
    batch, size = [], 0
    for drop in drops:
        batch.append(drop)
        size += drop.size()
        if size >= BATCH_BYTES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def load_new_drops(landing: Path, work: Path, until: dt.date | None = None,
                   sources: tuple[str, ...] | None = None, found: Landing | None = None) -> list[DropResult]:
    """Load every ready drop not loaded yet (optionally only up to a date / some sources),
    oldest first, in batches of whole drops (each batch one transaction)."""
    drops: list[Drop] = [d for d in (found or scan(landing)).drops
                         if (until is None or d.extract_date <= until)
                         and (sources is None or d.source in sources)]
    results = []
    gate = DropGate()
    with database.connect(work) as con, tqdm(total=len(drops), desc="loading drops", unit="drop",
                                             disable=None, leave=False) as progress:
        tables.ensure(con)
        for batch in _batches(drops):
            results.extend(load_drops(con, batch, gate))
            progress.update(len(batch))
    return results


def blocked(results: list[DropResult]) -> str | None:
    """One line naming every drop that stands between a run and publishing, and why; or None."""
    stopped = [r for r in results if r.status in ("rejected", "changed")]
    if not stopped:
        return None
    named = "; ".join(f"{r.drop.name} ({'; '.join(r.problems)})" for r in stopped)
    what = "drop rejected" if len(stopped) == 1 else f"{len(stopped)} drops rejected"
    return (f"{what}, nothing of it loaded and nothing published: {named}. Fix and re-deliver "
            f"(new content in the same folder is loaded by the next run)")


@access.owner_only()
def ingest(landing: Path, published: Path, until: dt.date | None = None, sources: tuple[str, ...] | None = None,
           found: Landing | None = None, results: list[DropResult] | None = None) -> list[DropResult]:
    """Load the new drops (up to `until`, of `sources`) into the work database behind `published`.

    Raises DropRejected while any of them stands rejected, including one rejected earlier and
    offered again unchanged, or changed after it was loaded: the rules would run on facts with
    a hole in them, and retrying cannot help. A corrected re-delivery (new content) is loaded
    and clears it. `results`, when given, receives what was found even when the step fails.
    """
    loaded = load_new_drops(landing, work_for(published), until, sources, found)
    if results is not None:
        results.extend(loaded)
    problem = blocked(loaded)
    if problem:
        raise DropRejected(problem)
    return loaded


# --- step 2: build, validate, publish ------------------------------------------------------------

def _record_run(work: Path, result: RunResult, status: str, message: str | None) -> None:
    loaded = [d for d in result.drops if d.status == "loaded"]
    with database.connect(work) as con:
        tables.ensure(con)
        con.execute(
            "INSERT OR REPLACE INTO audit.runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [result.run_id, result.as_of, result.started, dt.datetime.now(dt.timezone.utc), status,
             len(loaded), len(result.rejected), sum(d.read for d in result.drops),
             sum(d.loaded for d in loaded), sum(d.quarantined for d in loaded), message])


def _mark(database_path: Path, run_id: str, status: str, message: str | None = None) -> None:
    """Set a recorded run's status (and message) in one database file."""
    with database.connect(database_path) as con:
        con.execute("UPDATE audit.runs SET status = ?, message = ?, finished_at = ? WHERE run_id = ?",
                    [status, message, dt.datetime.now(dt.timezone.utc), run_id])


def _refuse_rejected(work: Path, as_of: dt.datetime) -> None:
    """A drop the ledger holds rejected, extracted before T, is a hole in the facts: no publishing.
    (The ingest step names it too; this guards a build run on its own, as a cleared DAG task is.)"""
    known_before = as_of.astimezone(dt.timezone.utc).date()  # a drop of D is known from the end of D
    with database.connect(work) as con:
        tables.ensure(con)
        stopped = database.query(con, """
            SELECT source || '/' || extract_date, problems FROM audit.drops
            WHERE status = 'rejected' AND extract_date < ? ORDER BY extract_date, source""", [known_before])
    if stopped:
        named = "; ".join(f"{name} ({problems})" for name, problems in stopped)
        raise DropRejected(f"{len(stopped)} drop(s) stand rejected, nothing published: {named}. "
                           f"Fix and re-deliver, then ingest again")


def held_drops(work: Path) -> list[tuple[str, dt.date, str]]:
    """(drop name, extract date, why) of every drop the ledger holds for review, oldest first."""
    with database.connect(work) as con:
        tables.ensure(con)
        return database.query(con, """
            SELECT source || '/' || extract_date, extract_date, coalesce(problems, 'held') FROM audit.drops
            WHERE status = 'held' ORDER BY extract_date, source""")


def held_line(held: list[tuple[str, str]]) -> str:
    """One line naming each held drop, why, and what to do."""
    named = "; ".join(f"{name} ({why})" for name, why in held)
    what = "drop held for review" if len(held) == 1 else f"{len(held)} drops held for review"
    first = held[0][0]
    return (f"{what}, not loaded (it failed only a statistical check): {named}. Published up to the day "
            f"before; its source's later drops wait for it. Look at it, then either accept it as it is with "
            f"`fulfilment-monitor release {first} --reason TEXT` or have it re-delivered; the next run loads it")


def _before_held(work: Path, result: RunResult) -> None:
    """T no later than the start of the first held drop's date: a held drop is not known until
    released, and what came after it cannot be evaluated around the hole."""
    held = held_drops(work)
    result.held = [(name, why) for name, _, why in held]
    if held and result.as_of > end_of(held[0][1] - dt.timedelta(days=1)):
        result.as_of = end_of(held[0][1] - dt.timedelta(days=1))
        result.notes.append(f"evaluated as of {iso(result.as_of)}, the start of {held[0][0]}'s day: "
                            f"it is held for review")


def _build_and_check(work: Path, result: RunResult, full_refresh: bool) -> None:
    """dbt build, then mart validation; raises UserError when the marts must not be published."""
    result.rebuilt = transform.build(work, result.as_of, full_refresh=full_refresh)
    with database.connect(work) as con:
        problems = validate_marts(con, result.run_id, result.as_of)
        write_page_for(con)  # what was checked, for a person to read
        result.exceptions = dict(database.query(
            con, "SELECT exception_type, count(*) FROM marts.fct_fulfilment_exceptions GROUP BY 1 ORDER BY 1"))
    if problems:
        raise UserError("mart validation failed, previous database kept: " + "; ".join(problems[:3]))


def _publish(work: Path, published: Path, result: RunResult, compacted: bool) -> None:
    # Recorded as published in the copy only, before it is renamed; here once it was.
    _record_run(work, result, "publishing", None)
    try:
        publish(work, published, seal=lambda copy: _mark(copy, result.run_id, "published"), compacted=compacted)
    except OSError as exc:
        reason = describe_os_error(exc)
        _mark(work, result.run_id, "failed", f"publishing failed: {reason}")
        raise UserError(f"publishing {published} failed ({reason}); the previous database is kept") from None
    _mark(work, result.run_id, "published")


def _failed(work: Path, result: RunResult, exc: UserError) -> None:
    _record_run(work, result, "failed", str(exc))
    write_page(work)  # what rejected the drop or blocked publishing, for a person to read


@access.owner_only()
def build_and_publish(published: Path, as_of: dt.datetime, full_refresh: bool = False,
                      result: RunResult | None = None, compacted: bool = False) -> RunResult:
    """Build the models at T, validate the marts, publish; the run recorded in `audit.runs`.
    T is moved back to the day before the first drop held for review, if any (result.held names them).
    Raises UserError (published database untouched) on failure. `full_refresh` rebuilds the
    incremental models from all the data known at T; `compacted` publishes a compacted copy
    whatever its free space (forget.py)."""
    work = work_for(published)
    result = result or RunResult(run_id=_new_run_id(), as_of=as_of)
    result.as_of = as_of
    try:
        _refuse_rejected(work, as_of)
        _before_held(work, result)
        _build_and_check(work, result, full_refresh)
    except UserError as exc:
        _failed(work, result, exc)
        raise
    _publish(work, published, result, compacted)
    return result


# --- the two steps as one run (the CLI) ---------------------------------------------------------

def _new_run_id() -> str:
    return uuid.uuid4().hex[:12]


def _no_drops(work: Path, landing: Path, notes: list[str]) -> None:
    """A landing zone with no drop ready, and none loaded before: say what was there instead."""
    with database.connect(work) as con:
        loaded = database.query(con, "SELECT count(*) FROM audit.drops WHERE status = 'loaded'")[0][0]
    if not loaded:
        raise UserError(f"no complete drop in {landing} to load" + (f" ({'; '.join(notes)})" if notes else ""))


def default_as_of(work: Path) -> dt.datetime:
    """The end of the latest complete extract date loaded so far."""
    with database.connect(work) as con:
        latest = database.query(con, "SELECT max(extract_date) FROM audit.drops WHERE status = 'loaded'")[0][0]
    if latest is None:
        raise UserError("no complete drop has been loaded yet: nothing to evaluate")
    return end_of(latest)


@access.owner_only()
def run(landing: Path, published: Path, as_of: dt.datetime | None = None, full_refresh: bool = False) -> RunResult:
    """The whole nightly job in one process: ingest every source, then build and publish at T
    (`as_of`, by default the end of the latest extract date loaded). Raises UserError
    (published database untouched) on failure."""
    _refuse_folder(published)
    found = scan(landing)  # a bad landing zone fails here, before any database is touched
    work = work_for(published)
    result = RunResult(run_id=_new_run_id(), as_of=as_of or dt.datetime.now(dt.timezone.utc), notes=found.notes())
    try:
        ingest(landing, published, found=found, results=result.drops)
        if not result.drops and not as_of:
            _no_drops(work, landing, result.notes)
        as_of = as_of or default_as_of(work)
    except UserError as exc:
        _failed(work, result, exc)
        raise
    return build_and_publish(published, as_of, full_refresh, result)
