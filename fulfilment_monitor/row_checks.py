"""Every record checked against its feed's declaration, once, in DuckDB, as it is read.

`checked_sql` is the projection the reader applies to every record (reader.py): each value
must fit its declared type exactly, or the record is quarantined with the reason, never
rounded or coerced: `2.5` is not a quantity, `19.999` not a price, `1e3` not a number of
seconds, a JSON object not a text. `duplicates` finds a key repeated within a drop;
`json_field_problems` a JSON Lines file whose set of fields is not the declared one.
"""
from __future__ import annotations

import re

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
    return f"WHEN {j} IS NOT NULL AND {j} <> 'null' AND NOT {ok} THEN 'not {words} in {col.name}: ' || {_shown(j)}"


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


def _csv_record(feed: FeedFile, columns: list[str] | None = None) -> str:
    """A parsed CSV record written back as its line (RFC 4180 quoting), for the quarantine."""
    fields = [f"""CASE WHEN {c} IS NULL THEN '' WHEN regexp_matches({c}, '[,"\\r\\n]')
                  THEN '"' || replace({c}, '"', '""') || '"' ELSE {c} END"""
              for c in columns or [f'"{name}"' for name in feed.column_names]]
    return "concat_ws(',', " + ", ".join(fields) + ")"


def record_text_sql(feed: FeedFile) -> str:
    """SQL: a good record's text from its checked columns (a CSV line, or a JSON object), for
    one quarantined for what only other records tell (a repeated key)."""
    if feed.is_csv:
        return _csv_record(feed, [f"CAST({c} AS VARCHAR)" for c in feed.column_names])
    return "to_json({" + ", ".join(f"{quote_sql(c)}: {c}" for c in feed.column_names) + "})::VARCHAR"


def _suspect_pattern(feed: FeedFile) -> str:
    """A regular expression finding, in a JSON line, a declared field whose value may be of the
    wrong JSON type: a text not starting with a quote, a number or boolean starting with one.
    A match only sends the line to the exact check (a key's name inside a string can match)."""
    def named(kind_names: list[str]) -> str:
        return '"(?:' + "|".join(re.escape(n) for n in kind_names) + ')"\\s*:\\s*'
    texts = [c.name for c in feed.columns if c.kind not in (INT, DECIMAL, BOOL)]
    numbers = [c.name for c in feed.columns if c.kind in (INT, DECIMAL)]
    flags = [c.name for c in feed.columns if c.kind == BOOL]
    parts = ([named(texts) + '[^"n\\s]'] if texts else []) + ([named(numbers) + '[^-0-9n\\s]'] if numbers else []) \
        + ([named(flags) + "[^tfn\\s]"] if flags else [])
    return "|".join(parts)


def _values(feed: FeedFile) -> tuple[str, str]:
    """(SQL computing each column's text as `_v_<column>` over the reader's record, its FROM
    wrapper): CSV values are the reader's fields; JSON values come from one parse of the line,
    and a line whose values may be of the wrong JSON type is parsed again, exactly
    (`_t_<column>`: the value's JSON text, only on such a line)."""
    if feed.is_csv:
        return ", ".join(f"""nullif("{c.name}", '') AS {value_column(c)}""" for c in feed.columns), "{source}"
    structure = quote_sql("{" + ", ".join(f'"{c.name}": "VARCHAR"' for c in feed.columns) + "}")
    paths = "[" + ", ".join(quote_sql(f"$.{c.name}") for c in feed.columns) + "]"
    values = ", ".join(f"_o.{c.name} AS {value_column(c)}, _j[{i}]::VARCHAR AS _t_{c.name}"
                       for i, c in enumerate(feed.columns, start=1))
    wrapper = (f"(SELECT *, CASE WHEN _o IS NOT NULL AND regexp_matches(_line, {quote_sql(_suspect_pattern(feed))}) "
               f"THEN json_extract(_line, {paths}) END AS _j "
               f"FROM (SELECT *, _line IS NULL OR (left(_line, 1) <> '{{' AND trim(_line, E' \\t\\r') = '') AS _blank, "
               f"try(json_transform(_line, {structure})) AS _o FROM {{source}}))")
    return values, wrapper


def checked_sql(feed: FeedFile, source: str, file_id: str) -> str:
    """A projection of the reader's records (`source`: the fields as text, or the JSON line;
    `file_id`: SQL naming each record's file) into checked ones: `_file_id`, `_check` (why the record is bad, else NULL), `_raw` (its text,
    kept for a bad one), `_key` (its first column's text, for a bad one), the feed's columns typed (NULL on a
    bad record), and for JSON `_blank`, `_object` and `_keys` (an object's keys, sorted, only
    when they are not the declared ones in their order). Only projections: the order of records
    is kept."""
    checks = []
    if not feed.is_csv:
        checks += ["WHEN _blank THEN 'blank line'",  # a line without a record: quarantined, never skipped
                   "WHEN _o IS NULL THEN 'not valid JSON (truncated or malformed line)'",
                   "WHEN left(ltrim(_line, E' \\t\\r'), 1) <> '{' THEN 'JSON line is not an object'"]
    for col in feed.columns:
        checks.extend(_column_checks(col, value_column(col), None if feed.is_csv else f"_t_{col.name}"))
    typed = ", ".join(f"CASE WHEN _check IS NULL THEN {_typed(c, value_column(c))} END AS {c.name}"
                      for c in feed.columns)
    raw = _csv_record(feed) if feed.is_csv else "_line"
    declared = "[" + ", ".join(quote_sql(c) for c in feed.column_names) + "]"
    fields = ", false AS _blank" if feed.is_csv else (
        ", _blank, NOT _blank AND _o IS NOT NULL AND _check IS DISTINCT FROM 'JSON line is not an object' AS _object"
        f", CASE WHEN NOT _blank AND _o IS NOT NULL AND json_keys(_line) <> {declared} "
        f"THEN list_sort(json_keys(_line)) END AS _keys")
    values, wrapper = _values(feed)
    return f"""
        SELECT {file_id} AS _file_id, _check, CASE WHEN _check IS NOT NULL THEN {raw} END AS _raw,
               CASE WHEN _check IS NOT NULL THEN {value_column(feed.columns[0])} END AS _key, {typed}{fields}
        FROM (SELECT *, CASE {' '.join(checks)} END AS _check
              FROM (SELECT *, {values} FROM {wrapper.replace("{source}", source)}))"""


def duplicates(con: duckdb.DuckDBPyConnection, feed: FeedFile, table: str) -> str | None:
    """A temp table of the rowids of `table`'s good records whose key an earlier good record of
    the same file has (the feed's keys must be unique within a drop): None for a feed whose keys
    repeat by design. An aggregate over the keys alone, then the order among the few repeated."""
    if not feed.key_unique_in_drop:
        return None
    keys = ", ".join(c.name for c in feed.columns if c.name in feed.key)
    con.sql(f"""
        CREATE OR REPLACE TEMP TABLE {table}_duplicates AS
        WITH repeated AS (
            SELECT _file_id, hash({keys}) AS _h FROM {table} WHERE _check IS NULL
            GROUP BY ALL HAVING count(*) > 1
        )
        SELECT rowid AS _row FROM (
            SELECT t.rowid, row_number() OVER (PARTITION BY t._file_id, {', '.join('t.' + k for k in keys.split(', '))}
                                               ORDER BY t.rowid) AS n
            FROM {table} AS t JOIN repeated AS r ON r._file_id = t._file_id AND r._h = hash({', '.join('t.' + k for k in keys.split(', '))})
            WHERE t._check IS NULL)
        WHERE n > 1""")
    return f"{table}_duplicates"


def json_field_problems(con: duckdb.DuckDBPyConnection, feed: FeedFile, table: str) -> dict[int, tuple[str, bool]]:
    """{file id: (problem, critical)} for JSON Lines files whose set of fields is not the declared
    one. A field the feed does not declare (a renamed one shows up so) rejects the drop; a
    declared field absent from every line is loaded as null and reported (a producer may leave
    out a null field; one that stopped sending a field also shows in its null share)."""
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
        if undeclared:
            problems[file_id] = (f"{feed.file}: its JSON fields changed (not declared: "
                                 f"{fragment(', '.join(undeclared))}"
                                 + (f"; declared but absent: {fragment(', '.join(absent))}" if absent else "") + ")",
                                 True)
        elif absent:
            problems[file_id] = (f"{feed.file}: declared field(s) absent from every line, loaded as null: "
                                 f"{fragment(', '.join(absent))}", False)
    return problems
