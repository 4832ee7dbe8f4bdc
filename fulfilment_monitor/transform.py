"""Build the dbt models through dbt's own runner, against the private work database.

The staging models, and the intermediate ones kept per booking, contact, shipment or order,
are incremental (dbt_project/macros/incremental.sql): a run at a later T than the last one
redoes only the keys that gained a known row. A run that cannot move on from the last build
that way is a full rebuild (dbt --full-refresh): see full_refresh_reason.
"""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from fulfilment_monitor import db as database, tables
from fulfilment_monitor.errors import UserError
from fulfilment_monitor.settings import DBT_PROJECT, dbt_threads, duckdb_config, engine, iso

# T reaches dbt through the environment, not --vars: a new var makes dbt re-parse the whole
# project (about 2 s a night); an environment variable read only at execution does not.
AS_OF_ENV = "FULFILMENT_AS_OF"
STATE = "staging.incremental_state"
FRESHNESS = "audit.source_freshness"


def artefacts(db: Path, target: str | None = None) -> Path:
    """dbt's artefacts live beside the database, so concurrent runs on different databases never
    collide; one folder per target, so each keeps its partial parse."""
    return db.resolve().parent / ("dbt" if target is None else f"dbt-{target}")


def _invoke(args: list[str], db: Path, as_of: dt.datetime | None = None, manifest=None, quiet: bool = True,
            target: str | None = None):
    """Run one dbt command in-process (on a parsed `manifest` when given) against the work
    database, or with `target` another of profiles.yml's targets; its result, or a UserError
    naming what failed."""
    from dbt.cli.main import dbtRunner

    os.environ["FULFILMENT_DB_PATH"] = str(db.resolve())
    for name, value in duckdb_config(db.resolve()).items():  # profiles.yml's DuckDB settings
        os.environ[f"FULFILMENT_DB_{name.upper()}"] = value
    os.environ[AS_OF_ENV] = iso(as_of) if as_of is not None else ""  # empty: T is not set
    folder = artefacts(db, target)
    command = [*args, "--project-dir", str(DBT_PROJECT), "--profiles-dir", str(DBT_PROJECT),
               "--target-path", str(folder / "target"), "--log-path", str(folder / "logs"),
               "--threads", str(dbt_threads()), *(["--target", target] if target else [])]
    flags = ["--quiet"] if quiet else []
    try:
        result = dbtRunner(manifest=manifest).invoke([*flags, *command])
    finally:
        _release_duckdb()
    if result.success:
        return result
    failures = []
    for node in getattr(result.result, "results", None) or []:
        if str(node.status) in ("error", "fail"):
            lines = [ln.strip() for ln in str(node.message or node.status).splitlines()
                     if ln.strip() and not ln.strip().startswith("Runtime Error in")]
            failures.append(f"{node.node.name}: {lines[0] if lines else node.status}")
    reason = "; ".join(failures[:3]) or str(result.exception or "dbt failed")
    raise UserError(f"dbt {args[0]} failed: {reason}")


def _release_duckdb() -> None:
    """Close the DuckDB instance dbt's adapter keeps open between invocations. Held, it would
    outlive a compaction that replaces the work file (publish.py), and every later connection in
    this process would write to the replaced file, lost with it."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    with DuckDBConnectionManager._LOCK:
        if DuckDBConnectionManager._ENV is not None:
            DuckDBConnectionManager._ENV.close()
        DuckDBConnectionManager.close_all_connections()


def dbt(args: list[str], db: Path, as_of: dt.datetime | None = None, quiet: bool = True, target: str | None = None):
    """Run one dbt command in-process (on `target` of profiles.yml, the work database's by
    default); its result, or a UserError naming what failed."""
    return _invoke(args, db, as_of, quiet=quiet, target=target)


def incremental_models(manifest) -> list[tuple[str, str]]:
    """(schema, table) of every model that --full-refresh rebuilds from scratch."""
    return sorted((node.schema, node.alias) for node in manifest.nodes.values()
                  if node.resource_type == "model" and node.config.materialized == "incremental"
                  and node.config.full_refresh is not False)


def full_refresh_reason(db: Path, as_of: dt.datetime, models: list[tuple[str, str]]) -> str | None:
    """Why the incremental `models` must be rebuilt in full to be right at T, or None.

    An incremental run can only add what became known since each model's last build: a T
    before a model's last build (a backfill) would have to forget rows, a table without build
    state (built before it was incremental) has nothing to add to, a model missing beside built
    ones (dropped, as migrate.py drops what held personal data) would tell every model after it
    that all its rows changed, and a load the ledger no longer holds as loaded would have to be
    taken out.
    """
    with database.connect(db) as con:
        existing = set(database.query(con, "SELECT table_schema, table_name FROM information_schema.tables "
                                           "WHERE table_type = 'BASE TABLE'"))
        built = [table for schema, table in models if (schema, table) in existing]
        if not built:
            return None  # the first build creates them
        missing = [table for schema, table in models if (schema, table) not in existing]
        if missing:
            return f"{', '.join(missing[:3])}{' ...' if len(missing) > 3 else ''} not built"
        has_state = ("staging", "incremental_state") in existing
        state = dict(database.query(con, f"SELECT model, as_of FROM {STATE}")) if has_state else {}
        stateless = [table for table in built if table not in state]
        if stateless:
            return f"no incremental build state for {', '.join(stateless[:3])}{' ...' if len(stateless) > 3 else ''}"
        latest = max(state[table] for table in built)
        if latest > as_of:
            return f"T {iso(as_of)} is before the last build's {iso(latest)} (a backfill)"
        gone = database.query(con, f"""
            SELECT count(*) FROM (SELECT DISTINCT unnest(load_ids) AS load_id FROM {STATE})
            WHERE load_id NOT IN (SELECT load_id FROM audit.drops WHERE status = 'loaded')""")[0][0]
        if gone:
            return f"{gone} load(s) of the last build are no longer loaded in audit.drops"
    return None


def build(db: Path, as_of: dt.datetime, full_refresh: bool = False) -> str | None:
    """Seeds, models and data tests at T; dbt unit tests run in the test suite, not every night.

    Incremental unless `full_refresh` or full_refresh_reason() says otherwise; returns why the
    build was a full rebuild (None when it was incremental). With FULFILMENT_ENGINE=spark, Spark
    builds every model in full from the lake and they come back into the work database (spark.py).
    """
    if engine() == "spark":
        from fulfilment_monitor import spark
        spark.build(db, as_of)
        source_freshness(db, as_of)
        return "the engine is Spark, which builds every model in full"
    manifest = _invoke(["parse"], db, as_of).result  # partial parsing: a fraction of a second
    reason = "asked for" if full_refresh else full_refresh_reason(db, as_of, incremental_models(manifest))
    _invoke(["build", "--exclude-resource-type", "unit_test", *(["--full-refresh"] if reason else [])],
            db, as_of, manifest=manifest)
    source_freshness(db, as_of, manifest)
    return reason


def source_freshness(db: Path, as_of: dt.datetime, manifest=None) -> list[tuple]:
    """`dbt source freshness` of each feed's drops at T (dbt_models/staging/_sources.yml, source
    `drops`), kept in audit.source_freshness for the report's "drops late or missing": one row
    per feed and T, status pass or warn (its latest loaded drop ended before T). A rerun of a T
    replaces that T's rows."""
    result = _invoke(["source", "freshness", "--select", "source:drops"], db, as_of, manifest=manifest)
    found = [(node.node.name, as_of, node.max_loaded_at if node.max_loaded_at.year > 1 else None,  # year 1: none loaded
              node.age, str(node.status))
             for node in result.result.results if node.node.resource_type == "source"]
    with database.connect(db) as con:
        tables.ensure(con)  # audit.source_freshness, in a database made before it existed
        con.execute(f"DELETE FROM {FRESHNESS} WHERE as_of = ?", [as_of])
        con.executemany(f"INSERT INTO {FRESHNESS} VALUES (?, ?, ?, ?, ?)", found)
    return found
