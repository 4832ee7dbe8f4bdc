"""The drop gate: Great Expectations judges every file of every drop of a batch, as a whole.

The loader has already checked each record once (types, required values, enums, keys:
a bad record is quarantined) and each file's structure (readable, declared header or JSON
fields). What is left is what only a look at the whole file can tell: too many bad rows,
a volume far outside the recent history, null shares, formats, unknown values, rows that
point at nothing in the same drop. validation/measures.py measures them, one row per
file; the suites in `expectations/drops/` (`every_file.json` for all files, one per feed
file for its own) state what is expected of them, with a severity: a failed critical
expectation rejects the drop, a warning is recorded.

GX runs once per feed file per batch, whatever the number of drops: each drop is one row
of the frame, so each expectation's unexpected rows name the drops it failed for.
"""
from __future__ import annotations

import threading

import duckdb
import pandas as pd
import pyarrow as pa

from fulfilment_monitor.feeds import FEEDS, FeedFile
from fulfilment_monitor.settings import GateSettings, gate
from fulfilment_monitor.validation import drift, gx
from fulfilment_monitor.validation.measures import measure, volume
from fulfilment_monitor.validation.outcome import Outcome
from fulfilment_monitor.validation.suites import EVERY_FILE, drop_suite_path, load_suite

# The column naming a frame's row (a drop) in GX's unexpected rows.
DROP = "drop"


def _history(con: duckdb.DuckDBPyConnection, source: str, file: str, before, drops: int) -> list[int]:
    """Rows read of `file` in the latest loaded drops of `source` extracted before `before`."""
    rows = con.execute("""SELECT f.rows_read FROM audit.drop_files AS f JOIN audit.drops AS d USING (source, extract_date)
                          WHERE f.source = ? AND f.file = ? AND f.extract_date < ? AND d.status = 'loaded'
                          ORDER BY f.extract_date DESC LIMIT ?""", [source, file, before, drops]).fetchall()
    return [n for (n,) in rows]


def _frame(con, feed: FeedFile, batch, measured: pd.DataFrame, rejected: set[str], settings: GateSettings):
    """The measures with the drop's name, its volume against history and its null drift: against
    the latest loaded drops of the source before it, those of this batch included unless
    rejected or held."""
    frame = measured.copy()
    owners = [batch.files[int(i)] for i in frame["_file_id"]]
    rows = frame.to_dict("records")
    columns = drift.drift_columns(feed)
    first_day = min((r.drop.extract_date for r, _ in owners), default=None)
    loaded_before: dict[str, list[drift.Filled]] = {}  # per source: drift history before the batch
    earlier: list[tuple] = []  # (extract date, rows read, Filled) of the batch's drops, by date
    volumes, drifts = {}, {}
    for (result, _), row in sorted(zip(owners, rows), key=lambda o: o[0][0].drop.extract_date):
        day, wanted, source = result.drop.extract_date, settings.volume_history_drops, result.drop.source
        history = [n for _, n, _ in reversed(earlier[-wanted:])]
        if len(history) < wanted:
            history += _history(con, source, feed.file, earlier[0][0] if earlier else day,
                                wanted - len(history))
        volumes[result.drop.name] = volume(history, int(row["rows_read"]), settings)
        if source not in loaded_before:
            loaded_before[source] = drift.loaded_history(con, feed, source, first_day,
                                                         settings.null_drift_history_drops)
        filled_history = (loaded_before[source] + [f for _, _, f in earlier])[-settings.null_drift_history_drops:]
        drifts[result.drop.name] = drift.null_drift(feed, row, filled_history, settings.null_drift_chance,
                                                    settings.volume_min_history)
        if result.drop.name not in rejected:
            lines = int(row["rows_loaded"])
            filled = {c: round(lines * (1 - row[f"{c}__null_share"])) for c in columns
                      if not pd.isna(row.get(f"{c}__null_share"))}
            earlier.append((day, int(row["rows_read"]), drift.Filled(lines, filled)))
    names = [r.drop.name for r, _ in owners]
    frame.insert(0, DROP, names)
    frame.insert(1, "file", feed.file)
    frame["volume_median"] = [volumes[n].median for n in names]
    frame["volume_smallest"] = [volumes[n].smallest for n in names]
    frame["volume_largest"] = [volumes[n].largest for n in names]
    frame["volume_ratio"] = [volumes[n].ratio for n in names]
    frame["null_drift"] = pd.array([drifts[n] for n in names], dtype=pd.StringDtype())
    tolerated = frame["rows_quarantined"] <= settings.bad_rows_tolerated
    frame["quarantined_share"] = (frame["rows_quarantined"] / frame["rows_read"]).where(~tolerated)
    return frame


def _details(config, row: dict) -> str:
    """What the expectation looked at for one drop, in one line (the file comes first)."""
    return f"{row['file']}: {_measured(config, row)}"


def _measured(config, row: dict) -> str:
    column = config.kwargs.get("column")
    value = row.get(column) if column else None
    if column == "quarantined_share":
        text = f"{row['rows_quarantined']} of {row['rows_read']} rows quarantined"
        if row["rows_quarantined"]:
            text += f" (the first on line {int(row['first_quarantined_line'])}): {row['top_reasons']}"
        return text
    if column == "volume_ratio":
        if pd.isna(row["volume_median"]):
            return f"{row['rows_read']} rows; too little loaded history to judge"
        recent = (f"recent loaded drops {row['volume_smallest']:g} to {row['volume_largest']:g} rows, "
                  f"median {row['volume_median']:g}")
        if pd.isna(value):
            return f"{row['rows_read']} rows; {recent}: too few rows to judge"
        if value == 1:
            return f"{row['rows_read']} rows, within the {recent}"
        edge = "smallest" if row["rows_read"] < row["volume_smallest"] else "largest"
        return f"{row['rows_read']} rows, {value:.2f}x the {edge} of the {recent}"
    if column == "null_drift":
        return value if isinstance(value, str) else "no field newly empty"
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return f"{column}: nothing to measure"
    return f"{column} = {value:.4g}" if isinstance(value, float) else f"{column} = {gx.short(value, 80)}"


def judge_feed(con, feed: FeedFile, batch, rejected: set[str], settings: GateSettings) -> dict[str, list[Outcome]]:
    """{drop name: outcomes} for every drop of the batch holding `feed`'s file. A statistical
    expectation (meta `on_failure: hold`) that fails holds its drop for review; once ops released
    the drop, the same failure is recorded as a warning."""
    frame = _frame(con, feed, batch, measure(con, feed, batch), rejected, settings)
    outcomes: dict[str, list[Outcome]] = {name: [] for name in frame[DROP]}
    parameters = {"max_bad_row_share": settings.max_bad_row_share,
                  "volume_low_ratio": settings.volume_low_ratio, "volume_high_ratio": settings.volume_high_ratio}
    rows = frame.to_dict("records")
    released = {r.drop.name for r in batch.drops if r.released}
    for path in (EVERY_FILE, drop_suite_path(feed)):
        for config, failed_for in gx.judge_rows(load_suite(path), frame, DROP, parameters):
            expectation, critical, review = gx.label(config), gx.is_critical(config), gx.holds_for_review(config)
            for row in rows:
                failed = failed_for is None or row[DROP] in failed_for
                details = _details(config, row)
                if failed and review and row[DROP] in released:
                    outcomes[row[DROP]].append(Outcome(feed.table, expectation, False, False,
                                                       details=f"{details} (released)"))
                    continue
                outcomes[row[DROP]].append(Outcome(feed.table, expectation, not failed, critical,
                                                   details=details, review=review))
    return outcomes


class DropGate:
    """The gate the loader calls with a read and checked batch (load.Gate)."""

    def __init__(self, settings: GateSettings | None = None):
        self.settings = settings or gate()
        # GX takes seconds to import: let it while DuckDB reads the drops (the reader leaves
        # the interpreter free); the first judgement waits for it if need be.
        threading.Thread(target=gx.prepare, daemon=True).start()

    def __call__(self, con: duckdb.DuckDBPyConnection, batch) -> None:
        checkable = [r for r in batch.drops if r.checkable]
        numbers = {id(r): n for n, r in enumerate(batch.drops)}
        con.register("batch_files", pa.table({
            "_file_id": pa.array(list(batch.files), pa.int32()),
            "drop_no": [numbers[id(r)] for r, _ in batch.files.values()]}))
        try:
            unreadable = {r.drop.name for r in batch.drops if not r.checkable}
            rejected = unreadable
            for _ in batch.drops:  # a drop rejected or held here is no history for later ones: judge again
                found: dict[str, list[Outcome]] = {}
                for feed in (f for f in FEEDS if f.table in batch.records):
                    for name, outs in judge_feed(con, feed, batch, rejected, self.settings).items():
                        found.setdefault(name, []).extend(outs)
                blocked = unreadable | {name for name, outs in found.items() if any(o.blocks or o.holds for o in outs)}
                if blocked == rejected:
                    break
                rejected = blocked
        finally:
            con.unregister("batch_files")
        for result in checkable:
            result.validations.extend(found.get(result.drop.name, []))
