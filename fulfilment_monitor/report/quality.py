"""Data quality of the report date against the previous 7 days: checks, quarantine, drops
(rejected, held for review or released, late or missing).

Drop checks and quarantined rows count by extract date; mart checks are those of the latest
mart validation (the one the published database passed). Drops late or missing come from
`dbt source freshness` at T (run by the build, kept in audit.source_freshness): late and
missing look the same at T; and from the ledger, for a date missing between two loaded ones.
"""
from __future__ import annotations

import duckdb

from fulfilment_monitor.report.period import Period
from fulfilment_monitor.report.queries import one, rows

FAILED_SHOWN = 10


def _dates(period: Period) -> dict:
    return {"day": period.report_date, "first": period.first_date}


def checks(con: duckdb.DuckDBPyConnection, period: Period) -> dict:
    """Passed/failed counts of drop checks (day, week) and of the latest mart validation."""
    return one(con, """
        WITH drop_checks AS (
            SELECT success, TRY_CAST(split_part(target, '/', 2) AS DATE) AS extract_date
            FROM audit.validations WHERE scope = 'drop'
        ), mart_checks AS (
            SELECT success FROM audit.validations
            WHERE scope = 'mart' AND checked_at = (SELECT max(checked_at) FROM audit.validations WHERE scope = 'mart')
        )
        SELECT
            (SELECT count(*) FILTER (WHERE success AND extract_date = $day) FROM drop_checks) AS drop_passed_day,
            (SELECT count(*) FILTER (WHERE NOT success AND extract_date = $day) FROM drop_checks) AS drop_failed_day,
            (SELECT count(*) FILTER (WHERE success AND extract_date BETWEEN $first AND $day - 1) FROM drop_checks)
                AS drop_passed_week,
            (SELECT count(*) FILTER (WHERE NOT success AND extract_date BETWEEN $first AND $day - 1) FROM drop_checks)
                AS drop_failed_week,
            (SELECT count(*) FILTER (WHERE success) FROM mart_checks) AS mart_passed,
            (SELECT count(*) FILTER (WHERE NOT success) FROM mart_checks) AS mart_failed""", _dates(period))


def failed_checks(con: duckdb.DuckDBPyConnection, period: Period) -> list[dict]:
    """The failed checks behind those counts, critical first."""
    return rows(con, f"""
        SELECT scope, target, expectation, critical, left(coalesce(details, ''), 160) AS details
        FROM audit.validations
        WHERE NOT success AND (
            (scope = 'drop' AND TRY_CAST(split_part(target, '/', 2) AS DATE) BETWEEN $first AND $day)
            OR (scope = 'mart' AND checked_at = (SELECT max(checked_at) FROM audit.validations WHERE scope = 'mart')))
        ORDER BY critical DESC, target DESC, expectation, details
        LIMIT {FAILED_SHOWN}""", _dates(period))


def quarantined(con: duckdb.DuckDBPyConnection, period: Period) -> list[dict]:
    """Rows quarantined per source and reason, for drops of the report date or the week before."""
    return rows(con, """
        SELECT source, reason,
               count(*) FILTER (WHERE extract_date = $day) AS day,
               count(*) FILTER (WHERE extract_date BETWEEN $first AND $day - 1) AS week
        FROM quarantine.rows
        WHERE extract_date BETWEEN $first AND $day
        GROUP BY ALL
        ORDER BY day DESC, week DESC, source, reason""", _dates(period))


def rejected_drops(con: duckdb.DuckDBPyConnection, period: Period) -> list[dict]:
    return rows(con, """
        SELECT source, extract_date, coalesce(problems, 'rejected') AS problems
        FROM audit.drops
        WHERE status = 'rejected' AND extract_date BETWEEN $first AND $day
        ORDER BY extract_date DESC, source""", _dates(period))


def reviewed_drops(con: duckdb.DuckDBPyConnection, period: Period) -> list[dict]:
    """Drops held for review now (whatever their date: each stops its source), and those of the
    report's 8 dates that ops released, with who released them, when and why."""
    return rows(con, """
        SELECT d.source, d.extract_date, d.status = 'held' AS held, coalesce(d.problems, '') AS problems,
               r.released_by, r.released_at, r.reason
        FROM audit.drops AS d
        LEFT JOIN (SELECT * FROM audit.releases
                   QUALIFY row_number() OVER (PARTITION BY source, extract_date, checksum
                                              ORDER BY released_at DESC, released_by, reason) = 1) AS r
            USING (source, extract_date, checksum)
        WHERE d.status = 'held'
           OR (d.status = 'loaded' AND r.released_at IS NOT NULL AND d.extract_date BETWEEN $first AND $day)
        ORDER BY held DESC, d.extract_date DESC, d.source""", _dates(period))


def missing_drops(con: duckdb.DuckDBPyConnection, period: Period) -> list[dict]:
    """(source, extract date) pairs of the report's 8 dates with no drop, late or missing:
    - after each feed's latest drop loaded by T, for the feeds `dbt source freshness` found late
      at T (audit.source_freshness, written by the run at T), not counting dates before the first
      drop of all;
    - between two dates a feed's drops were loaded for (by the report date), with no drop of its
      own in the ledger at all: a gap, which freshness cannot see (the latest drop is on time)."""
    return rows(con, """
        WITH late AS (
            SELECT source, CAST(timezone('UTC', latest_loaded_at) AS DATE) - 1 AS latest_date
            FROM audit.source_freshness
            WHERE as_of = $as_of AND status <> 'pass'
        ), dates AS (
            SELECT CAST(d AS DATE) AS extract_date
            FROM generate_series(CAST($first AS DATE), CAST($day AS DATE), INTERVAL 1 DAY) AS t(d)
        ), loaded AS (
            SELECT source, min(extract_date) AS first_date, max(extract_date) AS last_date
            FROM audit.drops
            WHERE status = 'loaded' AND extract_date <= $day
            GROUP BY source
        )
        SELECT l.source, d.extract_date
        FROM late AS l JOIN dates AS d ON d.extract_date > coalesce(l.latest_date, DATE '0001-01-01')
        WHERE d.extract_date >= (SELECT min(extract_date) FROM audit.drops)
        UNION
        SELECT l.source, d.extract_date
        FROM loaded AS l JOIN dates AS d ON d.extract_date > l.first_date AND d.extract_date < l.last_date
        WHERE NOT EXISTS (SELECT 1 FROM audit.drops AS a WHERE a.source = l.source AND a.extract_date = d.extract_date)
        ORDER BY extract_date DESC, source""", {**_dates(period), "as_of": period.as_of})


def section(con: duckdb.DuckDBPyConnection, period: Period) -> dict:
    quarantine = quarantined(con, period)
    return {
        "checks": checks(con, period),
        "failed": failed_checks(con, period),
        "quarantined": quarantine,
        "quarantined_day": sum(r["day"] for r in quarantine),
        "quarantined_week": sum(r["week"] for r in quarantine),
        "rejected": rejected_drops(con, period),
        "reviewed": reviewed_drops(con, period),
        "missing": missing_drops(con, period),
    }
