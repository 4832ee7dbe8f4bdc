"""Null drift: a nullable field null (or absent) on every line of a file while the source's
recent loaded drops filled it - an upstream format change (a renamed or dropped field), not data.

A field may be legitimately empty in a small file (`responded` is set only on outbound
contacts), so "recent drops filled it" is judged by chance, conservatively: every one of the
recent drops (at least `volume_min_history` of them) filled it on some line, and with q the
largest share of null lines among them (each estimated as (null lines + 1) / (lines + 1), so a
field always filled so far is not taken as one that can never be null), a file of n lines all
null happens by chance q ** n at most. Below `null_drift_chance`, the drop is held for review,
naming the field and the numbers. The largest share, not the pooled one: how often a field is
filled varies from day to day (replacements come in bursts), and a pooled share would take a
rare field's quiet day for drift.

Not judged: a field set only when another has some value (`required_when`: `agreed_date` with a
reschedule, `replaces_shipment_id` with a replacement) - the gate's `__missing_share` measure
judges it where it is required - and a field some recent drop left empty throughout.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import duckdb

from fulfilment_monitor.feeds import FeedFile


def drift_columns(feed: FeedFile) -> list[str]:
    """The nullable columns judged: kept in `raw` (personal ones live in the private file) and not
    conditional on another column."""
    kept = set(feed.raw_columns)
    return [c.name for c in feed.columns if c.nullable and c.name in kept and not c.required_when]


@dataclass
class Filled:
    """Lines of one drop's file, and of them how many filled each nullable column."""
    lines: int
    filled: dict[str, int] = field(default_factory=dict)


def loaded_history(con: duckdb.DuckDBPyConnection, feed: FeedFile, source: str, before: dt.date,
                   drops: int) -> list[Filled]:
    """The latest `drops` loaded drops of `source` before `before`, oldest first, from `raw`
    (only loaded drops have rows there)."""
    columns = drift_columns(feed)
    if not columns:
        return []
    dates = [d for (d,) in con.execute(
        "SELECT extract_date FROM audit.drops WHERE source = ? AND status = 'loaded' AND extract_date < ? "
        "ORDER BY extract_date DESC LIMIT ?", [source, before, drops]).fetchall()]
    if not dates:
        return []
    counts = ", ".join(f"count({c})" for c in columns)
    found = {day: Filled(n, dict(zip(columns, rest))) for day, n, *rest in con.execute(
        f"SELECT _extract_date, count(*), {counts} FROM raw.{feed.table} "
        f"WHERE _source = ? AND _extract_date BETWEEN ? AND ? GROUP BY 1",
        [source, min(dates), max(dates)]).fetchall()}
    return [found.get(day, Filled(0)) for day in sorted(dates)]


def null_drift(feed: FeedFile, row: dict, history: list[Filled], chance: float, min_history: int) -> str | None:
    """What drifted in one file (a frame row of the gate's measures), in one line; None when nothing."""
    lines = int(row["rows_loaded"])
    if not lines or len(history) < min_history:
        return None
    found = []
    for column in drift_columns(feed):
        if row.get(f"{column}__null_share") != 1:
            continue
        filled = [h.filled.get(column, 0) for h in history]
        if not all(filled):
            continue
        null_share = max((h.lines - n + 1) / (h.lines + 1) for h, n in zip(history, filled))
        likely = null_share ** lines
        if likely < chance:
            found.append(f"{column} null on all {lines} lines, while each of the {len(history)} drops before "
                         f"filled it ({sum(filled)} of {sum(h.lines for h in history)} lines; by chance: "
                         f"{likely:.0e} at most)")
    return "; ".join(found) or None
