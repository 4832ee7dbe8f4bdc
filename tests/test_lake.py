"""The lake Spark builds from (lake.py): with FULFILMENT_ENGINE=spark the loader writes each drop's
accepted rows as Parquet partitioned by source and extract date, renamed into place before the
ledger commits; a file whose load never committed is swept at the next load; a build catches the
lake up with drops loaded before; the DuckDB engine writes no lake at all."""
from __future__ import annotations

from pathlib import Path

import duckdb

from conftest import kill_when, write_drop
from fulfilment_monitor import db, lake, load, tables
from fulfilment_monitor.landing import complete_drops
from fulfilment_monitor.settings import lake_for

SHIPMENTS = ("shipment_id,order_id,warehouse_id,dispatched_at,contractor_id,tracking_ref,shipment_reason,"
             "replaces_shipment_id\n"
             "S1,O1,W1,2026-11-01T08:00+01:00,K1,T1,initial,\n"
             "S2,O1,W2,2026-11-01T09:30:00-05:00,K2,T2,replacement,S1\n"
             "S3,O1,W1,2026-11-01T08:00:00-05:00,K1,T3,teleported,\n")  # quarantined: no such reason
LINES = "shipment_id,line_no,quantity\nS1,1,2\nS2,1,1\n"


def wms_drops(landing: Path, *days: str) -> None:
    for day in days:
        write_drop(landing, "wms", day, {"shipments.csv": SHIPMENTS.replace("S", f"S{day[-2:]}-"),
                                         "shipment_lines.csv": LINES.replace("S", f"S{day[-2:]}-")})


def load_wms_drops(landing: Path, work: Path, *days: str) -> list[str]:
    """Write and load wms drops of these days; their statuses."""
    wms_drops(landing, *days)
    with db.connect(work) as con:
        tables.ensure(con)
        return [r.status for r in load.load_drops(con, complete_drops(landing))]


def lake_files(work: Path) -> list[str]:
    return sorted(str(p.relative_to(lake_for(work))).rsplit("/", 1)[0] for p in lake_for(work).rglob("*.parquet"))


def test_each_loaded_drop_becomes_parquet_partitioned_by_source_and_extract_date(landing, tmp_path, monkeypatch):
    monkeypatch.setenv("FULFILMENT_ENGINE", "spark")
    work = tmp_path / "work.duckdb"
    assert load_wms_drops(landing, work, "2026-11-01", "2026-11-02") == ["loaded", "loaded"]
    assert lake_files(work) == [f"raw/wms/{table}/_extract_date={day}"
                                for table in ("wms_shipment_lines", "wms_shipments")
                                for day in ("2026-11-01", "2026-11-02")]
    shipments = duckdb.sql(f"""
        SELECT _extract_date, shipment_id, dispatched_at, replaces_shipment_id, _line_no
        FROM read_parquet('{lake_for(work)}/raw/wms/wms_shipments/*/*.parquet', hive_partitioning = true)
        ORDER BY ALL""").fetchall()
    assert [(str(d), s, at, r, n) for d, s, at, r, n in shipments] == [
        ("2026-11-01", "S01-1", "2026-11-01T08:00+01:00", None, 2),  # the text as delivered
        ("2026-11-01", "S01-2", "2026-11-01T09:30:00-05:00", "S01-1", 3),
        ("2026-11-02", "S02-1", "2026-11-01T08:00+01:00", None, 2),
        ("2026-11-02", "S02-2", "2026-11-01T09:30:00-05:00", "S02-1", 3)]


def test_the_duckdb_engine_writes_no_lake(landing, tmp_path):
    work = tmp_path / "work.duckdb"
    assert load_wms_drops(landing, work, "2026-11-01") == ["loaded"]
    assert not lake_for(work).exists()


STALL_AFTER_RENAME = """
import sys, time
from pathlib import Path
from fulfilment_monitor import db, lake, load, tables
from fulfilment_monitor.landing import complete_drops

write = lake._write
def write_then_stall(*args):
    write(*args)
    print("renamed", flush=True)
    time.sleep(120)
lake._write = write_then_stall
con = db.connect(Path(sys.argv[1]))
tables.ensure(con)
load.load_drops(con, [d for d in complete_drops(Path(sys.argv[2])) if str(d.extract_date) == sys.argv[3]])
"""


def test_a_drop_file_renamed_but_never_committed_is_swept_at_the_next_load(landing, tmp_path, monkeypatch):
    monkeypatch.setenv("FULFILMENT_ENGINE", "spark")
    wms_drops(landing, "2026-11-01", "2026-11-02")
    work = tmp_path / "work.duckdb"
    kill_when(STALL_AFTER_RENAME, str(work), str(landing), "2026-11-01", marker="renamed")
    assert lake_files(work) == ["raw/wms/wms_shipment_lines/_extract_date=2026-11-01",  # orphans
                                "raw/wms/wms_shipments/_extract_date=2026-11-01"]
    with db.connect(work) as con:
        assert db.query(con, "SELECT count(*) FROM audit.drops")[0][0] == 0  # never committed
        load.load_drops(con, [d for d in complete_drops(landing) if str(d.extract_date) == "2026-11-02"])
    assert lake_files(work) == ["raw/wms/wms_shipment_lines/_extract_date=2026-11-02",
                                "raw/wms/wms_shipments/_extract_date=2026-11-02"]


def test_a_build_on_spark_first_writes_the_drops_loaded_while_duckdb_was_the_engine(landing, tmp_path):
    work = tmp_path / "work.duckdb"
    assert load_wms_drops(landing, work, "2026-11-01") == ["loaded"]
    (lake_for(work) / "raw" / "wms" / "wms_shipments" / "_extract_date=2026-11-01").mkdir(parents=True)
    (lake_for(work) / "raw" / "wms" / "wms_shipments" / "_extract_date=2026-11-01" / ".x.parquet.writing").touch()
    lake.sync(work)
    assert lake_files(work) == ["raw/wms/wms_shipment_lines/_extract_date=2026-11-01",
                                "raw/wms/wms_shipments/_extract_date=2026-11-01"]
    assert not list(lake_for(work).rglob(".*"))  # a file left half written is gone too
