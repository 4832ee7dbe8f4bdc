"""A page a person can open: what the gate checked, per run (marts) and per drop.

Written to `<database folder>/validation/index.html` from the Jinja2 template
`validation/templates/page.html.j2`; `render(con)` gives the HTML for anyone who wants
to embed or attach it.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from fulfilment_monitor import access, db, tables
from fulfilment_monitor.validation import store
from fulfilment_monitor.validation.outcome import Outcome

RECENT_DROPS = 40  # drop checks shown, newest first
TEMPLATES = Path(__file__).parent / "templates"


def _counts(outcomes: list[Outcome]) -> dict[str, int]:
    passed = sum(1 for o in outcomes if o.success)
    failed = sum(1 for o in outcomes if o.blocks)
    held = sum(1 for o in outcomes if o.holds)
    return {"passed": passed, "failed": failed, "held": held, "warned": len(outcomes) - passed - failed - held}


def _marts(con) -> dict | None:
    """The latest validated run's mart checks."""
    latest = db.query(con, """
        SELECT run_id, max(checked_at) FROM audit.validations WHERE scope = ?
        GROUP BY run_id ORDER BY 2 DESC LIMIT 1""", [store.MART])
    if not latest:
        return None
    run_id, checked_at = latest[0]
    outcomes = [Outcome(*row) for row in db.query(con, """
        SELECT suite, expectation, success, critical, details, coalesce(review, false) FROM audit.validations
        WHERE scope = ? AND run_id = ? ORDER BY target, suite, expectation, details""", [store.MART, run_id])]
    return {"run_id": run_id, "checked_at": checked_at, "outcomes": outcomes, "counts": _counts(outcomes)}


def _drops(con) -> list[dict]:
    """The latest drops checked, newest first, each with its latest checks (a held drop that ops
    released is checked again under the same load id: that verdict stands)."""
    checks = db.query(con, """
        SELECT run_id, any_value(target), max(checked_at) FROM audit.validations
        WHERE scope = ? GROUP BY run_id ORDER BY 3 DESC, 2 DESC, 1 LIMIT ?""", [store.DROP, RECENT_DROPS])
    outcomes: dict[str, list[Outcome]] = {}
    for run_id, *row in db.query(con, """
            SELECT run_id, suite, expectation, success, critical, details, coalesce(review, false)
            FROM audit.validations WHERE scope = ? AND (run_id, checked_at) IN (SELECT unnest(?), unnest(?))
            ORDER BY run_id, suite, expectation, details""", [store.DROP, [c[0] for c in checks], [c[2] for c in checks]]):
        outcomes.setdefault(run_id, []).append(Outcome(*row))
    return [{"run_id": run_id, "target": target, "checked_at": checked_at, "outcomes": outcomes[run_id],
             "counts": _counts(outcomes[run_id])} for run_id, target, checked_at in checks]


def _run(con) -> dict | None:
    """The latest run from audit.runs (the pipeline's ledger), when there is one."""
    latest = db.query(con, "SELECT run_id, status, as_of, message FROM audit.runs ORDER BY started_at DESC LIMIT 1")
    return dict(zip(("run_id", "status", "as_of", "message"), latest[0])) if latest else None


def render(con: duckdb.DuckDBPyConnection, title: str = "fulfilment_monitor") -> str:
    tables.ensure(con)
    env = Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined, autoescape=True,
                      trim_blocks=True, lstrip_blocks=True)
    return env.get_template("page.html.j2").render(
        title=title, now=dt.datetime.now(dt.timezone.utc), run=_run(con), marts=_marts(con), drops=_drops(con))


def page_path(database: Path) -> Path:
    return database.parent / "validation" / "index.html"


def write_page_for(con: duckdb.DuckDBPyConnection) -> Path | None:
    """Render beside the database `con` is attached to (none for an in-memory database)."""
    (path,) = db.query(con, "SELECT path FROM duckdb_databases() WHERE database_name = current_database()")[0]
    if not path:
        return None
    database = Path(path)
    out = page_path(database)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(con, database.name.replace(".work", "")))
    access.share(out.parent, out)  # for ops to read, like the published database
    return out


def write_page(database: Path) -> Path | None:
    """Open `database` and render its page."""
    with db.connect(database) as con:
        return write_page_for(con)
