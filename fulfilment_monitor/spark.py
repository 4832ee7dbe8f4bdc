"""Build the models on Apache Spark from the lake, and bring them back into the work database.

dbt-spark's session method takes the active session (SparkSession.builder.getOrCreate), so this
module makes it first, once per process: its master (FULFILMENT_SPARK_MASTER: `local[N]`, a
standalone cluster's `spark://...`, or Spark Connect's `sc://...`), its catalog (a Hive
metastore in Derby and a warehouse, both in the lake beside the work database: one build at a
time per lake, as DuckDB has one writer) and what makes its SQL give DuckDB's values: a UTC
session, Parquet timestamps DuckDB reads as instants. Then it declares the lake's drops
(lake.py) as the tables of the dbt source `raw`.

The models come back as the DuckDB build makes them: DuckDB creates every table empty from the
same project (`dbt run --empty`: the same schemas and column types, the marts under their
contracts), Spark's Parquet rows go into them, and DuckDB makes the views over them. Analysts,
the report, `story` and GX see the database a DuckDB build publishes.
"""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from fulfilment_monitor import db as database
from fulfilment_monitor import lake as drops
from fulfilment_monitor import transform
from fulfilment_monitor.errors import UserError
from fulfilment_monitor.feeds import FEEDS
from fulfilment_monitor.settings import spark_master
from fulfilment_monitor.tables import LINEAGE_COLUMNS, column_types
from fulfilment_monitor.text import quote_sql

# Spark's own defaults suit a cluster; on one machine a shuffle into 200 partitions costs more
# than the data it moves.
LOCAL_SHUFFLE_PARTITIONS = 4


def warehouse(lake: Path) -> Path:
    """Where Spark keeps the models it builds: <warehouse>/<schema>.db/<model>/*.parquet."""
    return lake / "warehouse"


def session(lake: Path, adaptive: bool = True):
    """The process's Spark session, made for this lake (a session already made is returned as it is:
    a JVM keeps its first catalog). `adaptive`: adaptive query execution (off for the unit tests,
    whose tiny inputs it can reorder)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise UserError("FULFILMENT_ENGINE=spark needs Spark: pip install -e '.[spark]' (and Java 17)") from None
    master = spark_master()
    builder = SparkSession.builder.appName("fulfilment_monitor")
    if master.startswith("sc://"):
        builder = builder.remote(master)  # Spark Connect: the server owns its catalog and storage
    else:
        lake.mkdir(parents=True, exist_ok=True)
        builder = (builder.master(master).enableHiveSupport()
                   .config("spark.sql.warehouse.dir", str(warehouse(lake)))
                   .config("spark.hadoop.javax.jdo.option.ConnectionURL",
                           f"jdbc:derby:;databaseName={lake / 'metastore'};create=true")
                   .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={lake}")
                   .config("spark.ui.enabled", "false")
                   .config("spark.ui.showConsoleProgress", "false")
                   # Derby's metastore fails to filter partitions by a date: Spark prunes them itself
                   .config("spark.sql.hive.metastorePartitionPruning", "false"))
        local = re.fullmatch(r"local\[(\d+|\*)\]", master)
        if local:
            builder = (builder.config("spark.sql.shuffle.partitions", str(LOCAL_SHUFFLE_PARTITIONS))
                       .config("spark.driver.memory", "4g")
                       .config("spark.driver.host", "127.0.0.1")  # this machine only: loopback
                       .config("spark.driver.bindAddress", "127.0.0.1"))
    spark = (builder.config("spark.sql.session.timeZone", "UTC")
             .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
             .config("spark.sql.adaptive.enabled", str(adaptive).lower())
             .config("spark.log.level", "ERROR")
             .getOrCreate())
    spark.conf.set("spark.sql.adaptive.enabled", str(adaptive).lower())  # a session made earlier too
    return spark


# The loader's column types (feeds.py, tables.py) as Spark spells them.
SPARK_TYPES = {"VARCHAR": "STRING", "TIMESTAMPTZ": "TIMESTAMP"}
LINEAGE = [tuple(line.split()[:2]) for line in LINEAGE_COLUMNS.strip().splitlines()
           if not line.strip().startswith(drops.PARTITION)]


def declare_raw(spark, lake: Path) -> None:
    """The lake's drops as the tables raw.<feed table>, their partitions as they are now."""
    spark.sql("CREATE SCHEMA IF NOT EXISTS raw")
    for feed in FEEDS:
        columns = column_types(feed, feed.raw_columns) + list(LINEAGE)
        declared = ", ".join(f"{name} {SPARK_TYPES.get(kind, kind)}" for name, kind in columns)
        spark.sql(f"DROP TABLE IF EXISTS raw.{feed.table}")  # external: its files stay
        spark.sql(f"CREATE TABLE raw.{feed.table} ({declared}, {drops.PARTITION} DATE) USING parquet "
                  f"PARTITIONED BY ({drops.PARTITION}) LOCATION {quote_sql(str(drops.table_folder(lake, feed.table)))}")
        spark.sql(f"MSCK REPAIR TABLE raw.{feed.table}")


def build(work: Path, as_of: dt.datetime) -> None:
    """Every model in full on Spark at T (seeds, models, data tests), then into the work database."""
    lake = drops.sync(work)
    spark = session(lake)
    try:
        declare_raw(spark, lake)
        transform.dbt(["build", "--exclude-resource-type", "unit_test", "--full-refresh"], work, as_of, target="spark")
    finally:
        spark.stop()  # its memory back before validation and publishing
    bring_back(work, lake, as_of)


def bring_back(work: Path, lake: Path, as_of: dt.datetime) -> None:
    """Spark's models into the work database, typed as DuckDB's build types them."""
    transform.dbt(["seed", "--full-refresh"], work, as_of)
    built = transform.dbt(["run", "--empty", "--full-refresh"], work, as_of).result  # the views too: the tables need them
    tables = sorted((r.node.schema, r.node.alias) for r in built.results
                    if r.node.resource_type == "model" and r.node.config.materialized != "view")
    with database.connect(work) as con:
        con.begin()
        for schema, table in tables:
            files = warehouse(lake) / f"{schema}.db" / table
            con.execute(f'DELETE FROM "{schema}"."{table}"')
            con.execute(f'INSERT INTO "{schema}"."{table}" BY NAME SELECT * FROM '
                        "read_parquet(?, hive_partitioning = true)", [f"{files}/**/*.parquet"])
        # A DuckDB build after this one starts in full: these tables hold no increments of its own.
        con.execute(f"DELETE FROM {transform.STATE}")
        con.commit()
    transform.dbt(["run", "--select", "config.materialized:view"], work, as_of)
