"""A page a person can open: what the gate checked, per run (marts) and per drop.

Written to `<database folder>/validation/index.html`; `render(con)` gives the HTML
for anyone (the nightly report) who wants to embed or attach it.
"""
from __future__ import annotations

import datetime as dt
from html import escape
from pathlib import Path

import duckdb

from fulfilment_monitor import db
from fulfilment_monitor.validation import store

RECENT_DROPS = 40  # drop checks shown, newest first

STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #1f2328; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; }
.meta { color: #59636e; margin-bottom: 16px; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #d1d9e0; vertical-align: top; }
th { background: #f6f8fa; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
code { font-size: 12.5px; }
.pill { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; }
.pass { background: #dafbe1; color: #116329; } .fail { background: #ffebe9; color: #a40e26; }
.warn { background: #fff8c5; color: #7d4e00; }
.finding { margin-bottom: 2px; } .finding.blocking { color: #a40e26; } .finding.note { color: #7d4e00; }
.run { padding: 8px 12px; border-radius: 6px; background: #f6f8fa; }
details > summary { cursor: pointer; color: #0969da; }
"""


def _pill(success: bool, critical: bool) -> str:
    if success:
        return '<span class="pill pass">passed</span>'
    return '<span class="pill fail">failed</span>' if critical else '<span class="pill warn">warning</span>'


def _outcome_rows(rows) -> str:
    """rows: (suite, expectation, success, critical, details), failures first."""
    ordered = sorted(rows, key=lambda r: (r[2], not r[3]))
    return "".join(
        f"<tr><td>{escape(suite)}</td><td><code>{escape(expectation)}</code></td>"
        f"<td>{_pill(success, critical)}</td><td>{escape(details or '')}</td></tr>"
        for suite, expectation, success, critical, details in ordered)


def _outcome_table(rows) -> str:
    return ("<table><tr><th>suite</th><th>expectation</th><th>result</th><th>details</th></tr>"
            f"{_outcome_rows(rows)}</table>")


def _counts(rows) -> tuple[int, int, int]:
    passed = sum(1 for r in rows if r[2])
    failed = sum(1 for r in rows if not r[2] and r[3])
    return passed, failed, len(rows) - passed - failed


def _mart_section(con) -> str:
    latest = db.query(con, f"""
        SELECT run_id, max(checked_at) FROM audit.validations WHERE scope = '{store.MART}'
        GROUP BY run_id ORDER BY 2 DESC LIMIT 1""")
    if not latest:
        return "<h2>Marts</h2><p>No mart has been validated yet.</p>"
    run_id, checked_at = latest[0]
    rows = db.query(con, """
        SELECT target, suite, expectation, success, critical, details FROM audit.validations
        WHERE scope = ? AND run_id = ? ORDER BY target""", [store.MART, run_id])
    passed, failed, warned = _counts([r[1:] for r in rows])
    verdict = ("publishing blocked" if failed else "marts may be published")
    return (f"<h2>Marts &mdash; latest validated run <code>{escape(run_id)}</code></h2>"
            f"<p class=meta>checked {checked_at:%Y-%m-%d %H:%M} UTC: {passed} passed, {failed} failed, "
            f"{warned} warnings &mdash; <strong>{verdict}</strong></p>"
            + _outcome_table([r[1:] for r in rows]))


def _drop_section(con) -> str:
    checks = db.query(con, f"""
        SELECT run_id, any_value(target), max(checked_at) FROM audit.validations
        WHERE scope = '{store.DROP}' GROUP BY run_id ORDER BY 3 DESC, 2 DESC LIMIT {RECENT_DROPS}""")
    if not checks:
        return "<h2>Drops</h2><p>No drop has been checked yet.</p>"
    outcomes: dict[str, list] = {}
    for run_id, *row in db.query(con, f"""
            SELECT run_id, suite, expectation, success, critical, details FROM audit.validations
            WHERE scope = '{store.DROP}' AND run_id IN (SELECT unnest(?))""", [[c[0] for c in checks]]):
        outcomes.setdefault(run_id, []).append(tuple(row))
    body = []
    for run_id, target, checked_at in checks:
        rows = outcomes[run_id]
        passed, failed, warned = _counts(rows)
        verdict = '<span class="pill fail">rejected</span>' if failed else '<span class="pill pass">accepted</span>'
        findings = "".join(
            f"<div class='finding {'blocking' if crit else 'note'}'>{'&#10006;' if crit else '&#9888;'} "
            f"{escape(s)}: <code>{escape(e)}</code> "
            f"{escape(d or '')}</div>" for s, e, ok, crit, d in sorted(rows, key=lambda r: not r[3]) if not ok)
        body.append(
            f"<tr><td><strong>{escape(target)}</strong><br><code>{escape(run_id)}</code></td>"
            f"<td>{checked_at:%Y-%m-%d %H:%M}</td><td>{verdict}</td>"
            f"<td class=num>{passed}</td><td class=num>{failed}</td><td class=num>{warned}</td>"
            f"<td>{findings}<details><summary>all {len(rows)} check{'s' if len(rows) != 1 else ''}</summary>"
            f"{_outcome_table(rows)}</details></td></tr>")
    return ("<h2>Drops</h2><p class=meta>The latest checks, newest first. A rejected drop loaded "
            "nothing; the fixed re-delivery is checked again on the next run.</p>"
            "<table><tr><th>drop / load id</th><th>checked (UTC)</th><th>verdict</th><th>passed</th>"
            "<th>failed</th><th>warnings</th><th>findings</th></tr>" + "".join(body) + "</table>")


def _run_section(con) -> str:
    """The latest run from audit.runs (the pipeline's ledger), when there is one."""
    if not db.query(con, "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'audit' "
                         "AND table_name = 'runs'")[0][0]:
        return ""
    latest = db.query(con, "SELECT run_id, status, as_of, message FROM audit.runs ORDER BY started_at DESC LIMIT 1")
    if not latest:
        return ""
    run_id, status, as_of, message = latest[0]
    pill = f'<span class="pill {"pass" if status == "published" else "fail"}">{escape(status)}</span>'
    return (f"<p class=run>Latest run <code>{escape(run_id)}</code> (T = {as_of:%Y-%m-%d %H:%M} UTC): {pill} "
            f"{escape(message or '')}</p>")


def render(con: duckdb.DuckDBPyConnection, title: str = "fulfilment_monitor") -> str:
    store.ensure_table(con)
    now = dt.datetime.now(dt.timezone.utc)
    return (f"<!doctype html><html lang=en><head><meta charset=utf-8>"
            f"<title>Data quality &mdash; {escape(title)}</title><style>{STYLE}</style></head><body>"
            f"<h1>Data-quality gate &mdash; {escape(title)}</h1>"
            f"<p class=meta>Generated {now:%Y-%m-%d %H:%M} UTC. Failed critical checks reject a drop "
            f"or block publishing; warnings are recorded only.</p>"
            f"{_run_section(con)}{_mart_section(con)}{_drop_section(con)}</body></html>")


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
    return out


def write_page(database: Path) -> Path | None:
    """Open `database` and render its page (for a run that stopped before mart validation)."""
    with db.connect(database) as con:
        return write_page_for(con)
