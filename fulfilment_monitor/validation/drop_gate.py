"""The drop gate: checks run on every parsed drop before any of it reaches `raw`.

Each check is `check(con, drop, files) -> list[Outcome]`; the loader records every
outcome with the drop and rejects the drop whole when a critical one failed.
- expectations: the file's GX suite (`expectations/drops/`) on its good rows;
- bad rows: a file with more than `max_bad_row_share` of its rows quarantined;
- volume: a file far outside its recent history (`audit.drops`, raw, quarantine).
Shares and volumes are plain counts, computed here rather than in GX.
"""
from __future__ import annotations

import statistics
from typing import TYPE_CHECKING, Callable

import duckdb

from fulfilment_monitor.landing import Drop
from fulfilment_monitor.validation import gx
from fulfilment_monitor.validation.drop_frames import drop_frames
from fulfilment_monitor.validation.outcome import Outcome
from fulfilment_monitor.validation.settings import GateSettings
from fulfilment_monitor.validation.suites import drop_suite_path, load_suite

if TYPE_CHECKING:  # the loader imports this package: no import cycle at run time
    from fulfilment_monitor.load import FileResult

Check = Callable[[duckdb.DuckDBPyConnection, Drop, "list[FileResult]"], list[Outcome]]


def expectations_check(con: duckdb.DuckDBPyConnection, drop: Drop, files: list[FileResult]) -> list[Outcome]:
    return [outcome for result, frame in drop_frames(con, files)
            for outcome in gx.validate(load_suite(drop_suite_path(result.feed)), frame)]


class BatchedExpectations:
    """expectations_check, with a backlog of drops checked in one GX run per feed file.

    `prepare` validates every file of a batch of parsed drops together (gx.validate_many);
    each drop then takes its own outcomes. A drop not prepared is checked alone.
    """

    def __init__(self):
        self._outcomes: dict[str, list[Outcome]] = {}

    def prepare(self, con: duckdb.DuckDBPyConnection, drops: list) -> None:
        frames: dict = {}  # feed -> [(drop name, frame)], files in their drop's order
        for parsed in drops:
            if not parsed.checkable:
                continue
            for result, frame in drop_frames(con, parsed.files):
                frames.setdefault(result.feed, []).append((parsed.drop.name, frame))
        for feed, items in frames.items():
            checked = gx.validate_many(load_suite(drop_suite_path(feed)), [frame for _, frame in items])
            for (name, _), outcomes in zip(items, checked):
                self._outcomes.setdefault(name, []).extend(outcomes)

    def __call__(self, con, drop: Drop, files: list[FileResult]) -> list[Outcome]:
        prepared = self._outcomes.pop(drop.name, None)
        return prepared if prepared is not None else expectations_check(con, drop, files)


def _top_reasons(con: duckdb.DuckDBPyConnection, result: FileResult, limit: int = 3) -> str:
    con.register("file_rows", result.rows)
    try:
        rows = con.sql(f"""
            SELECT split_part(reject_reason, ':', 1) AS reason, count(*) AS n FROM file_rows
            WHERE reject_reason IS NOT NULL GROUP BY 1 ORDER BY n DESC, reason LIMIT {limit}""").fetchall()
    finally:
        con.unregister("file_rows")
    return "; ".join(f"{n} x {reason}" for reason, n in rows)


def bad_row_share_check(settings: GateSettings) -> Check:
    limit = settings.max_bad_row_share

    def check(con, drop, files):
        outcomes = []
        for result in files:
            if result.rows is None or result.read == 0:
                continue
            share = result.rejected / result.read
            failed = share > limit and result.rejected > settings.bad_rows_tolerated
            text = f"{result.rejected} of {result.read} rows quarantined ({share:.1%})"
            if result.rejected:
                text += ": " + _top_reasons(con, result)
            outcomes.append(Outcome(result.feed.table, f"quarantined_row_share_at_most({limit:.0%})",
                                    success=not failed, details=text))
        return outcomes
    return check


def recent_volumes(con: duckdb.DuckDBPyConnection, drop: Drop, result: FileResult, drops: int) -> list[int]:
    """Rows read of the same file in the latest loaded drops of the source, before this one."""
    rows = con.execute(f"""
        WITH recent AS (
            SELECT load_id FROM audit.drops
            WHERE source = ? AND status = 'loaded' AND extract_date < ?
            ORDER BY extract_date DESC LIMIT {int(drops)}
        ), loaded AS (
            SELECT _load_id AS load_id, count(*) AS n FROM raw.{result.feed.table}
            WHERE _load_id IN (SELECT load_id FROM recent) GROUP BY 1
        ), quarantined AS (
            SELECT load_id, count(*) AS n FROM quarantine.rows
            WHERE file = ? AND load_id IN (SELECT load_id FROM recent) GROUP BY 1
        )
        SELECT coalesce(l.n, 0) + coalesce(q.n, 0)
        FROM recent LEFT JOIN loaded AS l USING (load_id) LEFT JOIN quarantined AS q USING (load_id)
        """, [drop.source, drop.extract_date, result.feed.file]).fetchall()
    return [n for (n,) in rows]


def volume_check(settings: GateSettings) -> Check:
    s = settings

    def check(con, drop, files):
        outcomes = []
        for result in files:
            if result.rows is None:
                continue
            history = recent_volumes(con, drop, result, s.volume_history_drops)
            name = "row_count_within_recent_history"
            if len(history) < s.volume_min_history:
                outcomes.append(Outcome(result.feed.table, name, True, details=(
                    f"{result.read} rows; only {len(history)} earlier loaded drop(s): not judged")))
                continue
            usual = statistics.median(history)
            low, high = usual * s.volume_low_ratio, usual * s.volume_high_ratio
            judged = usual >= s.volume_min_median_rows
            failed = judged and not low <= result.read <= high
            text = (f"{result.read} rows; median of the last {len(history)} loaded drops {usual:g}, "
                    f"allowed {low:g}..{high:g}")
            if not judged:
                text += f" (usual volume under {s.volume_min_median_rows} rows: not judged)"
            outcomes.append(Outcome(result.feed.table, name, success=not failed, details=text))
        return outcomes
    return check


def drop_checks(settings: GateSettings | None = None) -> list[Check]:
    """The gate's checks, with thresholds from `settings` (default: GateSettings.from_env())."""
    settings = settings or GateSettings.from_env()
    return [bad_row_share_check(settings), volume_check(settings), BatchedExpectations()]
