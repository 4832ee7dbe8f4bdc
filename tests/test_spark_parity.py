"""The same models on Apache Spark give the same answers, row for row.

The bundled sample is published by the real CLI on both engines (DuckDB: the shared
`sample_run`; Spark: FULFILMENT_ENGINE=spark, from the lake the loader writes), and every model
the DuckDB build makes is compared as a multiset of rows, with its columns and their types: the
two databases must not differ, but for the moment each run started. The views of the Spark
database are DuckDB's own SQL over Spark's tables; Spark's SQL of every view is compared through
the tables built on it (int_orders under the rules, int_exceptions_detected under
fct_fulfilment_exceptions, the int_timeline_* views under fct_order_timeline). Every dbt unit test
also passes on Spark.
"""
from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from conftest import REPO, SAMPLE
from fulfilment_monitor import db, lake
from fulfilment_monitor.errors import UserError
from fulfilment_monitor.settings import environment, work_db_for
from fulfilment_monitor.transform import dbt
from test_dbt_unit import failing, unit_test_results

pytestmark = pytest.mark.slow  # starts Spark (about 35 s) twice and builds every model on it

T = dt.datetime(2026, 11, 21, tzinfo=dt.timezone.utc)
LAYERS = ("staging", "intermediate", "marts")
# When the run that wrote a row started: a fact about the run, not about the data.
RUN_STAMPS = {"_built_at"}


@pytest.fixture(scope="module")
def spark_published(tmp_path_factory) -> Path:
    """The bundled sample published by `run` with FULFILMENT_ENGINE=spark."""
    published = tmp_path_factory.mktemp("spark") / "fulfilment.duckdb"
    ran = subprocess.run([sys.executable, "-m", "fulfilment_monitor", "run", "--landing", str(SAMPLE / "landing"),
                          "--db", str(published)], cwd=REPO, capture_output=True, text=True, timeout=1800,
                         env=environment(FULFILMENT_ENGINE="spark"))
    assert ran.returncode == 0, ran.stderr[-3000:]
    return published


def models(path: Path) -> dict[str, tuple[list[tuple[str, str]], Counter]]:
    """Every model's relation: its columns with their types, and its rows as a multiset."""
    with db.connect(path, read_only=True) as con:
        columns = db.query(con, f"""
            SELECT table_schema || '.' || table_name, list((column_name, data_type) ORDER BY ordinal_position)
            FROM information_schema.columns
            WHERE table_schema IN {LAYERS} AND table_name <> 'incremental_state'
            GROUP BY ALL""")
        found = {}
        for name, typed in columns:
            kept = [column for column, _ in typed if column not in RUN_STAMPS]
            rows = db.query(con, f"SELECT {', '.join(kept)} FROM {name}")
            found[name] = ([tuple(c) for c in typed], Counter(map(normalised, rows)))
    return found


def normalised(row: tuple) -> tuple:
    """A row as both engines must give it, hashable: a list or a map is a tuple of its elements
    or entries, in their order. Floating-point values are compared to 12 significant digits: a
    ratio summed in another order differs in its last bits, never in a digit a person reads."""
    return tuple(map(_value, row))


def _value(value):
    if isinstance(value, float):
        return float(f"{value:.12g}")
    if isinstance(value, list):
        return tuple(map(_value, value))
    if isinstance(value, dict):
        return tuple((k, _value(v)) for k, v in value.items())
    return value


def test_every_model_built_on_spark_has_the_rows_and_types_the_duckdb_build_has(sample_run, spark_published) -> None:
    _, duckdb_published, _ = sample_run
    expected, got = models(duckdb_published), models(spark_published)
    assert len(expected) == 56 and set(got) == set(expected), set(got) ^ set(expected)
    assert sum(len(rows) for _, rows in expected.values()) > 10_000
    problems = []
    for name, (columns, rows) in sorted(expected.items()):
        spark_columns, spark_rows = got[name]
        if spark_columns != columns:
            problems.append(f"{name}: columns {spark_columns} on Spark, {columns} on DuckDB")
        elif spark_rows != rows:
            extra, missing = spark_rows - rows, rows - spark_rows
            problems.append(f"{name}: {sum(extra.values())} rows only on Spark, e.g. {next(iter(extra), None)}; "
                            f"{sum(missing.values())} only on DuckDB, e.g. {next(iter(missing), None)}")
    assert not problems, f"{len(problems)} of {len(expected)} models differ:\n" + "\n".join(problems)


def test_the_lake_holds_every_loaded_drop_partitioned_by_source_and_extract_date(spark_published) -> None:
    work = work_db_for(spark_published)
    with db.connect(work, read_only=True) as con:
        loaded = {row[0] for row in db.query(con, "SELECT load_id FROM audit.drops WHERE status = 'loaded'")}
    files = list((work.with_name(work.stem + ".lake") / "raw").glob("*/*/_extract_date=*/*.parquet"))
    assert {lake.load_id_of(path) for path in files} == loaded
    assert len({path.parents[2].name for path in files}) == 4  # oms, wms, contractor, contacts


def test_every_dbt_unit_test_passes_on_spark(tmp_path: Path) -> None:
    from fulfilment_monitor import spark

    database = tmp_path / "unit.duckdb"
    session = spark.session(tmp_path / "unit.lake", adaptive=False)  # tiny fixtures: no adaptive plans
    try:
        spark.declare_raw(session, tmp_path / "unit.lake")
        # every model and seed empty: a fixture takes its columns' types from the relation it stands for
        dbt(["build", "--empty", "--full-refresh", "--resource-type", "model", "--resource-type", "seed"],
            database, T, target="spark")
        try:
            dbt(["test", "--select", "test_type:unit"], database, T, target="spark")
            failures = []
        except UserError as exc:
            failures = failing(unit_test_results(database, "spark")) or [str(exc)]
    finally:
        session.stop()
    if failures:
        pytest.fail(f"{len(failures)} dbt unit test(s) failed on Spark:\n" + "\n".join(failures), pytrace=False)
    assert len(unit_test_results(database, "spark")) > 50
