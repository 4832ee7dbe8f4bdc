"""Row parsing and row checks, as one vectorised DuckDB query per feed file.

Input: a relation `lines(_line_no BIGINT, raw BLOB)` holding a file's data lines
as bytes. Output: one row per input line with the typed columns, the line as
text, and `reject_reason` (NULL for a good row). Every line comes out exactly
once, which is what makes loaded + quarantined = read hold by construction.
"""
from __future__ import annotations

from fulfilment_monitor.feeds import (BOOL, DATE, DECIMAL, INT, SQL_TYPES, TIMESTAMP, Column,
                                      FeedFile)

# One CSV field: quoted (with "" escapes) or bare without quotes.
_CSV_FIELD = r'"(?:[^"]|"")*"|[^,"]*'
# ISO 8601 with an explicit offset; seconds optional, as RFC 3339's space separator.
_ISO_TIMESTAMP = r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([+-]\d{2}(:?\d{2})?|Z)"
_ISO_DATE = r"\d{4}-\d{2}-\d{2}"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _value_exprs(feed: FeedFile) -> list[str]:
    """SQL for each column's text value (NULL when empty or absent), computed once per row."""
    if feed.is_csv:
        # A quoted field (the splitter keeps quotes) loses them and its "" escapes.
        return [
            f"nullif(CASE WHEN starts_with(fields[{i}], '\"') "
            f"THEN replace(fields[{i}][2:-2], '\"\"', '\"') ELSE fields[{i}] END, '')"
            for i in range(1, len(feed.columns) + 1)
        ]
    return [f"nullif(values[{i}], '')" for i in range(1, len(feed.columns) + 1)]


def _value_column(col: Column) -> str:
    """The column holding a value's text in the query (named apart from the feed's columns)."""
    return f"_v_{col.name}"


def _typed(col: Column, value: str) -> str:
    if col.kind in (INT, DECIMAL, DATE, BOOL):
        return f"try_cast({value} AS {SQL_TYPES[col.kind]})"
    return value


def _column_checks(col: Column, value: str) -> list[str]:
    """CASE branches giving the reason a value is bad, most basic first."""
    name = col.name
    shown = f"' in {name}: ' || left({value}, 60)"
    checks = []
    if not col.nullable:
        checks.append(f"WHEN {value} IS NULL THEN 'missing {name}'")
    if col.kind == TIMESTAMP:
        checks.append(
            f"WHEN {value} IS NOT NULL AND NOT (regexp_full_match({value}, '{_ISO_TIMESTAMP}') "
            f"AND try_cast({value} AS TIMESTAMPTZ) IS NOT NULL) "
            f"THEN 'bad timestamp (ISO 8601 with offset expected)' || {shown}")
    elif col.kind == DATE:
        checks.append(
            f"WHEN {value} IS NOT NULL AND NOT (regexp_full_match({value}, '{_ISO_DATE}') "
            f"AND try_cast({value} AS DATE) IS NOT NULL) THEN 'bad date' || {shown}")
    elif col.kind == BOOL:
        checks.append(
            f"WHEN {value} IS NOT NULL AND {value} NOT IN ('true', 'false') "
            f"THEN 'bad boolean' || {shown}")
    elif col.kind in (INT, DECIMAL):
        checks.append(
            f"WHEN {value} IS NOT NULL AND {_typed(col, value)} IS NULL "
            f"THEN 'bad number' || {shown}")
    if col.positive:
        checks.append(
            f"WHEN {_typed(col, value)} <= 0 THEN 'non-positive number' || {shown}")
    if col.values:
        allowed = ", ".join(_quote(v) for v in col.values)
        checks.append(
            f"WHEN {value} IS NOT NULL AND {value} NOT IN ({allowed}) "
            f"THEN 'unknown value' || {shown}")
    return checks


def parse_sql(feed: FeedFile) -> str:
    """The query turning `lines` into typed rows with a reject reason."""
    n = len(feed.columns)
    values = _value_exprs(feed)
    if feed.is_csv:
        # Most lines hold no quote and split on commas; the others take the CSV grammar (a
        # leading comma makes every field follow one, so empty fields are never skipped).
        split = (f"CASE WHEN contains(text, '\"') "
                 f"THEN regexp_extract_all(',' || text, ',({_CSV_FIELD})', 1) "
                 f"ELSE string_split(text, ',') END AS fields, "
                 f"NOT contains(text, '\"') OR "
                 f"regexp_full_match(text, '(?:{_CSV_FIELD})(?:,(?:{_CSV_FIELD}))*') AS well_formed")
        shape_checks = [
            "WHEN NOT well_formed THEN 'malformed CSV line (stray or unbalanced quotes)'",
            f"WHEN len(fields) <> {n} THEN 'wrong column count: expected {n}, got ' || len(fields)",
        ]
    else:
        paths = ", ".join(_quote(f"$.{c.name}") for c in feed.columns)
        split = (f"CASE WHEN json_valid(text) AND json_type(text) = 'OBJECT' "
                 f"THEN json_extract_string(text, [{paths}]) END AS values, "
                 f"json_valid(text) AS well_formed, "
                 f"CASE WHEN json_valid(text) THEN json_type(text) END AS json_kind")
        shape_checks = [
            "WHEN NOT well_formed THEN 'not valid JSON (truncated or malformed line)'",
            "WHEN json_kind <> 'OBJECT' THEN 'JSON line is not an object'",
        ]
    checks = ["WHEN text IS NULL THEN 'not valid UTF-8'",
              "WHEN trim(text) = '' THEN 'blank line'", *shape_checks]
    for col in feed.columns:
        checks.extend(_column_checks(col, _value_column(col)))
    key_values = ", ".join(_value_column(c) for c in feed.columns if c.name in feed.key)
    duplicate = (f"CASE WHEN reason IS NULL AND row_number() OVER (PARTITION BY reason IS NULL, "
                 f"{key_values} ORDER BY _line_no) > 1 THEN 'duplicate key within drop' END"
                 if feed.key_unique_in_drop else "NULL")
    typed_columns = ",\n        ".join(
        f"CASE WHEN reason IS NULL THEN {_typed(c, _value_column(c))} END AS {c.name}"
        for c in feed.columns)
    value_columns = ", ".join(f"{v} AS {_value_column(c)}" for c, v in zip(feed.columns, values))
    return f"""
WITH decoded AS (
    SELECT _line_no, rtrim(try(decode(raw)), E'\\r\\n') AS text,
           CAST(raw AS VARCHAR) AS escaped
    FROM lines
), split AS (
    SELECT *, {split} FROM decoded
), valued AS (
    SELECT *, {value_columns} FROM split
), checked AS (
    SELECT *, CASE {' '.join(checks)} END AS reason FROM valued
), keyed AS (
    SELECT * REPLACE (coalesce(reason, {duplicate}) AS reason) FROM checked
)
SELECT _line_no,
       coalesce(text, escaped) AS raw_text,
       reason AS reject_reason,
       {typed_columns}
FROM keyed
ORDER BY _line_no
"""
