"""What the gate measures of every file of a drop: one row per file, for its expectations.

Row checks (types, required values, enums, keys) quarantine single records in the loader;
the gate judges a file as a whole, on these measures:

- `rows_read`, `rows_loaded`, `rows_quarantined`, `quarantined_share` (null while the count
  is within `bad_rows_tolerated`: a couple of bad lines in a small file are row defects);
- `volume_ratio`: rows read against the range of the same file in the source's latest loaded
  drops: over the smallest when below it, over the largest when above it, 1 within (null while
  the history is too short or too small to judge, or the file only a few rows outside it);
- `null_drift`: the nullable fields null on every line while recent drops filled them (drift.py);
- from the feed declarations (feeds.py), over the good rows: `<column>__null_share` for a
  nullable column, `<column>__pattern_miss_share` (`pattern`), `<column>__below_min_share`
  (`min_value`), `<column>__unknown_values` and `__unknown_share` (`known`),
  `<column>__missing_share` (`required_when`), `<column>__orphan_share`
  (`same_drop_reference`: rows pointing at no row of that file in the same drop,
  quarantined ones included).

The expectations on them are the suites in `expectations/drops/`.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass

import duckdb
import pandas as pd

from fulfilment_monitor.feeds import FeedFile
from fulfilment_monitor.text import quote_sql


def _share(condition: str, among: str) -> str:
    return f"avg(CASE WHEN {condition} THEN 1.0 ELSE 0.0 END) FILTER (WHERE _reason IS NULL AND {among})"


def declared_measures(feed: FeedFile) -> dict[str, str]:
    """{measure: SQL aggregate over the file's checked records} from the feed's declarations."""
    out = {}
    for col in feed.columns:
        c = col.name
        if col.nullable:
            out[f"{c}__null_share"] = _share(f"{c} IS NULL", "true")
        if col.pattern:
            out[f"{c}__pattern_miss_share"] = _share(f"NOT regexp_full_match({c}, {quote_sql(col.pattern)})",
                                                     f"{c} IS NOT NULL")
        if col.min_value is not None:
            out[f"{c}__below_min_share"] = _share(f"{c} < {col.min_value}", f"{c} IS NOT NULL")
        if col.known:
            unknown = f"{c} NOT IN ({', '.join(map(quote_sql, col.known))})"
            out[f"{c}__unknown_values"] = (f"nullif(left(string_agg(DISTINCT {c}, ', ' ORDER BY {c}) "
                                           f"FILTER (WHERE _reason IS NULL AND {unknown}), 80), '')")
            out[f"{c}__unknown_share"] = _share(unknown, f"{c} IS NOT NULL")
        if col.required_when:
            other, values = col.required_when
            out[f"{c}__missing_share"] = _share(f"{c} IS NULL", f"{other} IN ({', '.join(map(quote_sql, values))})")
    if feed.same_drop_reference:
        column, _ = feed.same_drop_reference
        out[f"{column}__orphan_share"] = _share("NOT _referenced", "true")
    return out


def _good_records(feed: FeedFile, batch) -> str:
    """The batch's good records of `feed` with `_file_id`; with a same-drop reference,
    `_referenced` tells whether the row it points at is in the same drop (any record of that
    file the reader could split, good or quarantined)."""
    records = batch.records[feed.table]
    t = records.read.table
    good = f"SELECT t.* FROM {t} AS t WHERE NOT t._blank AND {records.good()}"
    if not feed.same_drop_reference:
        return f"({good})"
    column, table = feed.same_drop_reference
    if table not in batch.records:
        return f"(SELECT *, false AS _referenced FROM ({good}))"
    other = batch.records[table].read
    key = other.feed.columns[0].name
    return f"""(SELECT g.*, r._key IS NOT NULL AS _referenced
               FROM ({good}) AS g JOIN batch_files AS f USING (_file_id)
               LEFT JOIN (SELECT DISTINCT b.drop_no, coalesce(o.{key}, o._key) AS _key FROM {other.table} AS o
                          JOIN batch_files AS b USING (_file_id)) AS r
                   ON r.drop_no = f.drop_no AND r._key = g.{column})"""


def measure(con: duckdb.DuckDBPyConnection, feed: FeedFile, batch) -> pd.DataFrame:
    """The measures of every file of `feed` in the batch (one row per `_file_id`), with its three
    most frequent quarantine reasons and first quarantined line (`top_reasons`,
    `first_quarantined_line`: for people)."""
    measures = "".join(f", {sql} AS {name}" for name, sql in declared_measures(feed).items())
    t = batch.records[feed.table].read.table
    return con.sql(f"""
        WITH good AS (
            SELECT _file_id, count(*) AS rows_loaded{measures}
            FROM (SELECT *, NULL AS _reason FROM {_good_records(feed, batch)}) GROUP BY _file_id
        ), bad AS (SELECT * FROM ({batch.records[feed.table].bad()})
        ), reasons AS (  -- (names apart from the feeds' columns: contacts have a `reason`)
            SELECT _file_id, split_part(_reason, ':', 1) AS _why, count(*) AS _n FROM bad GROUP BY 1, 2
            QUALIFY row_number() OVER (PARTITION BY _file_id ORDER BY _n DESC, _why) <= 3
        ), top AS (
            SELECT _file_id, string_agg(_n || ' x ' || _why, '; ' ORDER BY _n DESC, _why) AS top_reasons,
                   sum(_n) AS rows_quarantined
            FROM reasons GROUP BY _file_id
        ), first_bad AS (SELECT _file_id, min(_line_no) AS first_quarantined_line FROM bad GROUP BY 1)
        SELECT f._file_id, coalesce(g.rows_loaded, 0) + coalesce(q.n, 0) AS rows_read,
               coalesce(g.rows_loaded, 0) AS rows_loaded, coalesce(q.n, 0) AS rows_quarantined,
               b.first_quarantined_line, g.* EXCLUDE (_file_id, rows_loaded), top.top_reasons
        FROM {t}_files AS f
        LEFT JOIN good AS g USING (_file_id)
        LEFT JOIN (SELECT _file_id, count(*) AS n FROM bad GROUP BY 1) AS q USING (_file_id)
        LEFT JOIN first_bad AS b USING (_file_id) LEFT JOIN top USING (_file_id)
        ORDER BY f._file_id""").df()


@dataclass(frozen=True)
class Volume:
    """A file's rows against the recent loaded drops of its file: their median and range, and the
    ratio the gate judges (null when the history cannot judge)."""
    median: float | None = None
    smallest: int | None = None
    largest: int | None = None
    ratio: float | None = None


def volume(history: list[int], rows_read: int, settings) -> Volume:
    """Rows read against the range of the history: rows / the smallest when below it, rows / the
    largest when above it, 1 within. Not judged (ratio null) with fewer than `volume_min_history`
    drops, a median under `volume_min_median_rows`, or fewer than `volume_min_rows_apart` rows
    outside the range: a quiet day in a small feed is no evidence of a broken export."""
    if len(history) < settings.volume_min_history:
        return Volume()
    usual, smallest, largest = statistics.median(history), min(history), max(history)
    found = Volume(usual, smallest, largest)
    if usual < settings.volume_min_median_rows:
        return found
    if smallest <= rows_read <= largest:
        return Volume(usual, smallest, largest, 1.0)
    edge = smallest if rows_read < smallest else largest
    if abs(rows_read - edge) < settings.volume_min_rows_apart:
        return found
    return Volume(usual, smallest, largest, rows_read / edge)
