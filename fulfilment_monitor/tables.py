"""The tables the pipeline writes itself (dbt owns the rest), declared in one place.

In the work database (published as it is):

- `raw.<feed table>`: each feed's declared columns but the personal ones, what is derived from
  them (feeds.py: a customer's first name), and the row's lineage;
- `quarantine.rows`: every record not loaded, with its reason and the first and last line it
  covered, personal fields masked;
- `audit.drops`, `audit.drop_files`, `audit.releases`: the load ledger (ledger.py);
- `audit.validations`: every checked expectation (validation/store.py);
- `audit.runs`: every run, failed ones included (pipeline.py);
- `audit.source_freshness`: `dbt source freshness` of each feed at each T (transform.py);
- `audit.erasures`: every `forget` of a customer (forget.py), without the erased data.

In the private file beside it (private.py), never published: `<feed table>` of each feed with
personal columns, its key and personal columns with the row's lineage.
"""
from __future__ import annotations

import duckdb

from fulfilment_monitor.feeds import FEEDS, SQL_TYPES, FeedFile

LINEAGE_COLUMNS = """
    _load_id VARCHAR NOT NULL,
    _source VARCHAR NOT NULL,
    _extract_date DATE NOT NULL,
    _file VARCHAR NOT NULL,
    _line_no BIGINT NOT NULL,
    _loaded_at TIMESTAMPTZ NOT NULL"""

TABLES = {
    "quarantine.rows": """
        load_id VARCHAR NOT NULL, source VARCHAR NOT NULL, extract_date DATE NOT NULL,
        file VARCHAR NOT NULL, line_no BIGINT NOT NULL, raw_text VARCHAR, reason VARCHAR NOT NULL,
        quarantined_at TIMESTAMPTZ NOT NULL, last_line_no BIGINT""",
    "audit.drops": """
        source VARCHAR NOT NULL, extract_date DATE NOT NULL, checksum VARCHAR NOT NULL,
        status VARCHAR NOT NULL, load_id VARCHAR, rows_read BIGINT, rows_loaded BIGINT,
        rows_quarantined BIGINT, problems VARCHAR, recorded_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (source, extract_date)""",
    "audit.drop_files": """
        source VARCHAR NOT NULL, extract_date DATE NOT NULL, file VARCHAR NOT NULL,
        rows_read BIGINT NOT NULL, rows_loaded BIGINT NOT NULL, rows_quarantined BIGINT NOT NULL,
        bytes BIGINT, modified_ns BIGINT,
        PRIMARY KEY (source, extract_date, file)""",
    "audit.validations": """
        run_id VARCHAR, scope VARCHAR NOT NULL, target VARCHAR NOT NULL, suite VARCHAR NOT NULL,
        expectation VARCHAR NOT NULL, success BOOLEAN NOT NULL, critical BOOLEAN NOT NULL,
        details VARCHAR, checked_at TIMESTAMPTZ NOT NULL, review BOOLEAN""",
    "audit.runs": """
        run_id VARCHAR PRIMARY KEY, as_of TIMESTAMPTZ NOT NULL, started_at TIMESTAMPTZ NOT NULL,
        finished_at TIMESTAMPTZ, status VARCHAR NOT NULL, drops_loaded INTEGER,
        drops_rejected INTEGER, rows_read BIGINT, rows_loaded BIGINT, rows_quarantined BIGINT,
        message VARCHAR""",
    "audit.source_freshness": """
        source VARCHAR NOT NULL, as_of TIMESTAMPTZ NOT NULL, latest_loaded_at TIMESTAMPTZ,
        age_seconds DOUBLE, status VARCHAR NOT NULL, PRIMARY KEY (source, as_of)""",
    "audit.releases": """
        source VARCHAR NOT NULL, extract_date DATE NOT NULL, checksum VARCHAR NOT NULL,
        released_by VARCHAR NOT NULL, released_at TIMESTAMPTZ NOT NULL, reason VARCHAR NOT NULL""",
    "audit.erasures": """
        customer_id VARCHAR NOT NULL, erased_at TIMESTAMPTZ NOT NULL, reason VARCHAR NOT NULL""",
}
ERASED = "SELECT customer_id FROM audit.erasures"  # the customers whose personal data must not come back

PRIVATE_FEEDS = tuple(f for f in FEEDS if f.personal_columns)


def column_types(feed: FeedFile, names: list[str]) -> list[tuple[str, str]]:
    """(name, SQL type) of `names`, columns of `feed` or derived from them (text)."""
    types = {c.name: SQL_TYPES[c.kind] for c in feed.columns}
    return [(name, types.get(name, "VARCHAR")) for name in names]


def _columns(feed: FeedFile, names: list[str]) -> str:
    return ",\n    ".join(f"{name} {kind}" for name, kind in column_types(feed, names))


def ensure(con: duckdb.DuckDBPyConnection) -> None:
    """Create the raw, quarantine and audit tables that this database does not have yet."""
    for schema in ("raw", "quarantine", "audit"):
        con.sql(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    for feed in FEEDS:
        con.sql(f"CREATE TABLE IF NOT EXISTS raw.{feed.table} (\n    {_columns(feed, feed.raw_columns)},"
                f"{LINEAGE_COLUMNS}\n)")
    for table, columns in TABLES.items():
        con.sql(f"CREATE TABLE IF NOT EXISTS {table} ({columns})")
    # A quarantined record's last line came later (a database made before has none for its rows).
    con.sql("ALTER TABLE quarantine.rows ADD COLUMN IF NOT EXISTS last_line_no BIGINT")
    # So did a check's being statistical, its failure holding a drop rather than rejecting it.
    con.sql("ALTER TABLE audit.validations ADD COLUMN IF NOT EXISTS review BOOLEAN")


def ensure_private(con: duckdb.DuckDBPyConnection, catalog: str) -> None:
    """Create the private file's tables (attached to `con` as `catalog`) it does not have yet."""
    for feed in PRIVATE_FEEDS:
        con.sql(f"CREATE TABLE IF NOT EXISTS {catalog}.main.{feed.table} (\n    "
                f"{_columns(feed, feed.private_columns)},{LINEAGE_COLUMNS}\n)")
