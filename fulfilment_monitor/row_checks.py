"""Every record checked against its feed's declaration, once, in DuckDB.

Input: the reader's table (reader.py), one row per record. Output: a temporary table with
`_file_id, _line_no, _raw` (the record's text, kept for a quarantined one), `_reason`
(NULL for a good row), `_key` (the first column's text, even for a quarantined record) and
the feed's columns typed. A value that does not fit its declared
type exactly is quarantined with the reason, never rounded or coerced: `2.5` is not a
quantity, `19.999` not a price, `1e3` not a number of seconds, a JSON object not a text.

A JSON Lines file whose set of fields changed (a declared field absent from every line, or
an undeclared one present) is a file-level problem: `json_field_problems` names it.
"""
from __future__ import annotations

import duckdb

from fulfilment_monitor.feeds import BOOL, DATE, DECIMAL, INT, SQL_TYPES, TIMESTAMP, Column, FeedFile
from fulfilment_monitor.text import fragment, quote_sql

# ISO 8601 with an explicit offset; seconds optional, RFC 3339's space separator allowed.
ISO_TIMESTAMP = r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([+-]\d{2}(:?\d{2})?|Z)"
ISO_DATE = r"\d{4}-\d{2}-\d{2}"
INTEGER = r"[+-]?[0-9]{1,18}"
# DECIMAL(18,2): two places at most (trailing zeros beyond them change nothing).
DECIMAL_2 = r"[+-]?[0-9]{1,16}(\.[0-9]{1,2}0*)?"
def value_column(col: Column) -> str:
    """The column holding a value's text in these queries (named apart from the feed's)."""
    return f"_v_{col.name}"


def _shown(text_sql: str) -> str:
    """A value as a reason quotes it: 40 characters, line breaks and tabs escaped."""
    return (f"replace(replace(replace(left({text_sql}, 40), chr(13), '\\r'), chr(10), '\\n'), "
            f"chr(9), '\\t')")


def _typed(col: Column, value: str) -> str:
    return f"CAST({value} AS {SQL_TYPES[col.kind]})" if col.kind in (INT, DECIMAL, DATE, BOOL) else value


def _json_type_check(col: Column, j: str) -> str:
    """A JSON value of the wrong type (`{...}` for a text, `2.5` or `"120"` for an integer), told
    from its JSON text without parsing it again."""
    if col.kind == INT:
        ok, words = f"regexp_full_match({j}, '-?[0-9]+')", "an integer"
    elif col.kind == DECIMAL:
        ok, words = f"regexp_matches(left({j}, 1), '[-0-9]')", "a number"
    elif col.kind == BOOL:
        ok, words = f"{j} IN ('true', 'false')", "true or false"
    else:
        ok, words = f"left({j}, 1) = '\"'", "a string"
    return f"WHEN {j} <> 'null' AND NOT {ok} THEN 'not {words} in {col.name}: ' || {_shown(j)}"


def _column_checks(col: Column, value: str, json_type: str | None) -> list[str]:
    """CASE branches giving the reason a value is bad, most basic first (`json_type`: the column
    holding a JSON value's text, for JSON Lines)."""
    name, shown = col.name, _shown(value)
    checks = []
    if json_type is not None:  # the JSON value's own type first: an object is not a text
        checks.append(_json_type_check(col, json_type))
    if not col.nullable:
        checks.append(f"WHEN {value} IS NULL THEN 'missing {name}'")
    pattern = {TIMESTAMP: ISO_TIMESTAMP, DATE: ISO_DATE, INT: INTEGER, DECIMAL: DECIMAL_2}.get(col.kind)
    reason = {TIMESTAMP: "bad timestamp (ISO 8601 with offset expected)", DATE: "bad date",
              INT: "not an integer", DECIMAL: "not a decimal with at most 2 places"}.get(col.kind)
    if pattern:
        cast = "TIMESTAMPTZ" if col.kind == TIMESTAMP else SQL_TYPES[col.kind]
        checks.append(f"WHEN {value} IS NOT NULL AND NOT (regexp_full_match({value}, {quote_sql(pattern)}) "
                      f"AND try_cast({value} AS {cast}) IS NOT NULL) THEN '{reason} in {name}: ' || {shown}")
    if col.kind == BOOL:
        checks.append(f"WHEN {value} IS NOT NULL AND {value} NOT IN ('true', 'false') "
                      f"THEN 'bad boolean in {name}: ' || {shown}")
    if col.positive:
        checks.append(f"WHEN {_typed(col, value)} <= 0 THEN 'non-positive number in {name}: ' || {shown}")
    if col.values:
        checks.append(f"WHEN {value} IS NOT NULL AND {value} NOT IN ({', '.join(map(quote_sql, col.values))}) "
                      f"THEN 'unknown value in {name}: ' || {shown}")
    return checks


def _csv_record(feed: FeedFile) -> str:
    """A parsed CSV record written back as its line (RFC 4180 quoting), for the quarantine."""
    fields = [f"""CASE WHEN "{c}" IS NULL THEN '' WHEN regexp_matches("{c}", '[,"\\r\\n]')
                  THEN '"' || replace("{c}", '"', '""') || '"' ELSE "{c}" END""" for c in feed.column_names]
    return "concat_ws(',', " + ", ".join(fields) + ")"


def _values_sql(feed: FeedFile, source: str) -> str:
    """The reader's records with each column's text as `_v_<column>` (and, for JSON, its type)."""
    if feed.is_csv:
        values = ", ".join(f"""nullif("{c.name}", '') AS {value_column(c)}""" for c in feed.columns)
        return f"SELECT *, {values} FROM {source}"
    # One parse: every declared field as its JSON text (null when absent). A string's value is
    # that text without its quotes, unescaped only when it holds an escape.
    structure = quote_sql("{" + ", ".join(f'"{c.name}": "JSON"' for c in feed.columns) + "}")
    texts = ", ".join(f"_o.{c.name}::VARCHAR AS _t_{c.name}" for c in feed.columns)
    values = ", ".join(
        f"CASE WHEN left(_t_{c.name}, 1) = '\"' THEN CASE WHEN contains(_t_{c.name}, '\\') "
        f"THEN _t_{c.name}::JSON ->> '$' ELSE _t_{c.name}[2:-2] END "
        f"WHEN _t_{c.name} <> 'null' THEN _t_{c.name} END AS {value_column(c)}" for c in feed.columns)
    return f"""
        SELECT *, {values}
        FROM (SELECT *, {texts}
              FROM (SELECT *, CASE WHEN _reader_reason IS NULL THEN try(json_transform(_line, {structure})) END AS _o
                    FROM {source}))"""


def check_rows(con: duckdb.DuckDBPyConnection, feed: FeedFile, records_sql: str, table: str) -> None:
    """`table`: the reader's records (`records_sql`) typed, each with its reason or none."""
    checks = ["WHEN _reader_reason IS NOT NULL THEN _reader_reason"]
    if not feed.is_csv:
        checks += ["WHEN _o IS NULL THEN 'not valid JSON (truncated or malformed line)'",
                   "WHEN left(ltrim(_line, E' \t\r'), 1) <> '{' THEN 'JSON line is not an object'"]
    for col in feed.columns:
        checks.extend(_column_checks(col, value_column(col), None if feed.is_csv else f"_t_{col.name}"))
    typed = ", ".join(f"CASE WHEN _reason IS NULL THEN {_typed(c, value_column(c))} END AS {c.name}"
                      for c in feed.columns)
    # The record's text is kept for a quarantined row only (a parsed CSV record is written back).
    raw = f"coalesce(_raw, {_csv_record(feed)})" if feed.is_csv else "coalesce(_raw, _line)"
    # A JSON object's keys, kept only when they are not the declared ones (json_transform tells
    # an absent field from a null one no more than a CSV column could).
    declared = "[" + ", ".join(quote_sql(c) for c in sorted(feed.column_names)) + "]"
    fields = "" if feed.is_csv else (
        ", _o IS NOT NULL AND _check IS DISTINCT FROM 'JSON line is not an object' AS _object, "
        f"CASE WHEN _o IS NOT NULL AND list_sort(json_keys(_line)) <> {declared} "
        f"THEN list_sort(json_keys(_line)) END AS _keys")
    con.sql(f"""
        CREATE OR REPLACE TEMP TABLE {table} AS
        WITH checked AS (SELECT *, CASE {' '.join(checks)} END AS _check FROM ({_values_sql(feed, f'({records_sql})')}))
        {_duplicates(feed)}
        SELECT _file_id, _line_no, CASE WHEN _reason IS NOT NULL THEN {raw} END AS _raw, _reason,
               {value_column(feed.columns[0])} AS _key, {typed}{fields}
        FROM keyed""")


def _duplicates(feed: FeedFile) -> str:
    """The CTE `keyed`: `_reason` is the check's, or for a second good row with a key already
    seen in the same file, 'duplicate key within drop' (an aggregate, not a window: it carries
    no payload)."""
    if not feed.key_unique_in_drop:
        return ", keyed AS (SELECT *, _check AS _reason FROM checked)"
    keys = [value_column(c) for c in feed.columns if c.name in feed.key]
    return f"""
        , repeated AS (
            SELECT _file_id, {', '.join(keys)}, min(_line_no) AS _first_line FROM checked WHERE _check IS NULL
            GROUP BY ALL HAVING count(*) > 1
        ), keyed AS (
            SELECT c.*, coalesce(c._check, CASE WHEN c._line_no > r._first_line THEN 'duplicate key within drop' END)
                   AS _reason
            FROM checked AS c LEFT JOIN repeated AS r
                ON r._file_id = c._file_id AND {' AND '.join(f'r.{k} = c.{k}' for k in keys)} AND c._check IS NULL)"""


def json_field_problems(con: duckdb.DuckDBPyConnection, feed: FeedFile, table: str) -> dict[int, str]:
    """{file id: problem} for JSON Lines files whose set of fields is not the declared one: a
    declared field absent from every line, or a field the feed does not declare."""
    if feed.is_csv:
        return {}
    declared = feed.column_names
    problems = {}
    for file_id, complete, shapes in con.sql(f"""
            SELECT _file_id, bool_or(_keys IS NULL), list(DISTINCT _keys) FILTER (WHERE _keys IS NOT NULL)
            FROM {table} WHERE _object GROUP BY _file_id""").fetchall():
        seen = set(declared) if complete else set()
        seen.update(key for shape in shapes or () for key in shape)
        absent = [c for c in declared if c not in seen]
        undeclared = sorted(seen - set(declared))
        parts = ([f"declared but absent from every line: {fragment(', '.join(absent))}"] if absent else []) + \
                ([f"not declared: {fragment(', '.join(undeclared))}"] if undeclared else [])
        if parts:
            problems[file_id] = f"{feed.file}: its JSON fields changed ({'; '.join(parts)})"
    return problems
