"""Publishing: analysts holding the old file keep reading it; free space in the work database
is not copied into the published file (a real DuckDB file; a failed run not publishing at all
is tested with the pipeline, in test_broken_drops)."""
from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from fulfilment_monitor import db, pipeline
from fulfilment_monitor.publish import publish
from fulfilment_monitor.settings import end_of, work_db_for


def write(work: Path, sql: str) -> None:
    with db.connect(work) as con:
        con.sql(sql)


def blocks(path: Path) -> tuple[int, int]:
    """(total, free) blocks of a database file."""
    with db.connect(path, read_only=True) as con:
        return db.query(con, "SELECT total_blocks, free_blocks FROM pragma_database_size() "
                             "WHERE database_name = current_database()")[0]


def test_a_reader_of_the_published_file_keeps_reading_it_across_a_publish(tmp_path):
    work, published = tmp_path / "f.work.duckdb", tmp_path / "f.duckdb"
    write(work, "CREATE SCHEMA marts; CREATE TABLE marts.t AS SELECT 1 AS night")
    publish(work, published)

    with db.connect(published, read_only=True) as reader:
        write(work, "INSERT INTO marts.t VALUES (2)")
        publish(work, published)
        assert db.query(reader, "SELECT max(night) FROM marts.t") == [(1,)]  # its file is still whole
    with db.connect(published, read_only=True) as later:
        assert db.query(later, "SELECT max(night) FROM marts.t") == [(2,)]
    assert not list(tmp_path.glob(".*publishing*")), "nothing is left half-written"


# Compacting attaches a fresh file: its path is bound, the database's name quoted, never spliced.
@pytest.mark.parametrize("folder, name", [("plain", "f"), ('it\'s a "db" dir', 'it\'s "f"')])
def test_free_space_of_the_work_database_is_not_published(tmp_path, folder, name):
    (tmp_path / folder).mkdir()
    work, published = tmp_path / folder / f"{name}.work.duckdb", tmp_path / folder / f"{name}.duckdb"
    # The old version of a rebuilt table, freed in the middle of the file (a freed tail is truncated).
    write(work, "CREATE SCHEMA marts; CREATE TABLE marts.rebuilt AS SELECT range AS id, md5(range::VARCHAR) AS h "
                "FROM range(2000000)")
    write(work, "CREATE TABLE marts.kept AS SELECT range AS id, md5(range::VARCHAR) AS h FROM range(200000)")
    write(work, "DROP TABLE marts.rebuilt; CHECKPOINT")
    total, free = blocks(work)
    assert free > 0.5 * total, "the work database holds the dropped table's blocks"
    bloated = work.stat().st_size

    publish(work, published)

    total, free = blocks(published)
    assert free <= 0.10 * total, (total, free)
    assert published.stat().st_size < 0.5 * bloated
    with db.connect(published, read_only=True) as con:
        assert db.query(con, "SELECT count(*), count(DISTINCT h) FROM marts.kept") == [(200000, 200000)]
    assert blocks(work)[1] <= 0.10 * blocks(work)[0], "the work database was compacted too, once"


def test_a_lost_work_database_is_rebuilt_from_the_published_one_history_included(sample_run, tmp_path):
    """bootstrap_work, through the pipeline's ingest step: the ledger comes back with the copy,
    so no drop loads twice and raw holds what the published database holds."""
    sample, published_sample, _ = sample_run
    published = Path(shutil.copyfile(published_sample, tmp_path / "fulfilment.duckdb"))  # no work database
    before = published.read_bytes()

    results = pipeline.ingest(sample / "landing", published)

    assert results and {r.status for r in results} == {"skipped"}, "every drop known from the published ledger"
    counts = "SELECT (SELECT count(*) FROM raw.oms_orders), (SELECT count(*) FROM audit.drops)"
    with db.connect(work_db_for(published), read_only=True) as work, \
            db.connect(published, read_only=True) as copy:
        assert db.query(work, counts) == db.query(copy, counts) != [(0, 0)]
    assert published.read_bytes() == before, "the published database is only read"


def drops_on_disk(work: Path) -> list[tuple[str, str]]:
    """(source, extract date) of every loaded drop in the file as another process reads it: an
    instance of DuckDB still open in this process cannot hide what is missing from the disk."""
    read = subprocess.run([sys.executable, "-c", textwrap.dedent("""
        import sys, duckdb
        con = duckdb.connect(sys.argv[1], read_only=True)
        for source, day in con.sql("SELECT source, extract_date FROM audit.drops WHERE status = 'loaded'").fetchall():
            print(source, day)
        """), str(work)], capture_output=True, text=True, check=True)
    return sorted(tuple(line.split()) for line in read.stdout.splitlines())


def test_a_run_after_a_compaction_in_the_same_process_writes_to_the_new_file(generated, tmp_path):
    """A bug: publishing compacts the work database by replacing its file, while dbt's adapter
    still held the old one open in this process; the next run in the process (a DAG test, a
    backfill run in-process, the benchmark's night) wrote its drops into the replaced file,
    and they were lost with it."""
    landing, published = generated / "landing", tmp_path / "f.duckdb"
    days = sorted({p.name for p in landing.glob("*/*") if (p / "_SUCCESS").exists()})
    first, second = dt.date.fromisoformat(days[-2]), dt.date.fromisoformat(days[-1])
    pipeline.ingest(landing, published, until=first)
    pipeline.build_and_publish(published, end_of(first), compacted=True)  # replaces the work file
    pipeline.ingest(landing, published, until=second)

    expected = sorted((p.parent.name, p.name) for p in landing.glob("*/*")
                      if (p / "_SUCCESS").exists() and p.name <= second.isoformat())
    assert drops_on_disk(work_db_for(published)) == expected
