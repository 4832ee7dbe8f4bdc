"""The DAG's task bodies without Airflow (fulfilment_monitor.nightly), on a real DuckDB file.

The window comes from the logical date; a backfilled or rerun date publishes what its
nightly run published; a rejected drop is never retried into success; a load killed
mid-drop leaves nothing of that drop behind.
"""
from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import kill_when
from fulfilment_monitor import db, nightly
from fulfilment_monitor.errors import DropRejected, UserError
from fulfilment_monitor.feeds import SOURCES
from conftest import GENERATED_DAYS, GENERATED_START, REPO
from fulfilment_monitor.settings import work_db_for

UTC = dt.timezone.utc
START = GENERATED_START
LAST = START + dt.timedelta(days=GENERATED_DAYS - 1)  # the last extract date of `generated`


@pytest.fixture
def landing(generated, tmp_path) -> Path:
    """A private copy of the generated landing zone, free to damage."""
    return Path(shutil.copytree(generated / "landing", tmp_path / "landing"))


def dag_tasks(day: dt.date, landing: Path, published: Path) -> dict:
    """The DAG's writing tasks for one date, in order: each source's ingest, then transform
    (whose summary is returned)."""
    for source in SOURCES:
        nightly.ingest(source, day, landing, published)
    return nightly.transform(day, published)


def run_nightly(day: dt.date, landing: Path, published: Path) -> dict[str, list[tuple]]:
    """The DAG's tasks for one date, in order; returns the published marts."""
    dag_tasks(day, landing, published)
    return marts(published, nightly.window(day).as_of)


def marts(published: Path, as_of: dt.datetime) -> dict[str, list[tuple]]:
    """Every table of the marts schema as of T, rows sorted: what analysts see.

    A history table (one with `detected_at`) keeps every run's rows, so after an
    out-of-order backfill it also holds later runs' rows; it is compared up to T.
    """
    with db.connect(published, read_only=True) as con:
        tables = db.query(con, """
            SELECT table_name, bool_or(column_name = 'detected_at') FROM information_schema.columns
            WHERE table_schema = 'marts' GROUP BY 1 ORDER BY 1""")
        return {table: sorted(db.query(con, f"SELECT * FROM marts.{table}"
                                            + (" WHERE detected_at <= ?" if history else ""),
                                       [as_of] if history else []), key=repr)
                for table, history in tables}


def drop_rows(published: Path, raw_table: str, day: dt.date) -> tuple[int, int]:
    """(rows in raw, ledger entries) of one drop in the work database."""
    source = raw_table.split("_", 1)[0]
    with db.connect(work_db_for(published), read_only=True) as con:
        rows = db.query(con, f"SELECT count(*) FROM raw.{raw_table} WHERE _extract_date = ?", [day])
        ledger = db.query(con, "SELECT count(*) FROM audit.drops WHERE source = ? AND extract_date = ?",
                          [source, day])
    return rows[0][0], ledger[0][0]


def break_header(landing: Path, day: dt.date) -> bytes:
    """Rename a column in the header of a wms drop (which rejects the drop); returns the good bytes."""
    shipments = landing / "wms" / day.isoformat() / "shipments.csv"
    good = shipments.read_bytes()
    shipments.write_bytes(good.replace(b"tracking_ref", b"tracking_no", 1))
    return good


def test_the_window_is_read_from_the_logical_date_in_utc():
    assert nightly.window(dt.datetime(2026, 10, 16, 3, 0, tzinfo=UTC)) == nightly.Window(
        dt.date(2026, 10, 16), dt.datetime(2026, 10, 17, tzinfo=UTC))
    # 22:00 in Chicago is already the next day in UTC.
    late = dt.datetime(2026, 10, 16, 22, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    assert nightly.window(late).extract_date == dt.date(2026, 10, 17)
    assert nightly.window(dt.date(2026, 10, 16)).as_of == dt.datetime(2026, 10, 17, tzinfo=UTC)
    with pytest.raises(UserError, match="time zone"):
        nightly.window(dt.datetime(2026, 10, 16))


@pytest.mark.slow  # five dbt builds
def test_a_backfilled_or_rerun_date_publishes_what_its_nightly_run_published(landing, tmp_path):
    first, second = LAST - dt.timedelta(days=1), LAST
    nightly_db, backfill_db = tmp_path / "nightly" / "f.duckdb", tmp_path / "backfill" / "f.duckdb"

    nightly_first = run_nightly(first, landing, nightly_db)
    nightly_second = run_nightly(second, landing, nightly_db)

    # Deployed late: the latest date first, then the history backfilled, the latest cleared and rerun.
    run_nightly(second, landing, backfill_db)
    backfilled_first = run_nightly(first, landing, backfill_db)
    rerun_second = run_nightly(second, landing, backfill_db)

    assert nightly_first["fct_fulfilment_exceptions"], "the generated data has exceptions"
    assert nightly_first != nightly_second, "the two dates differ, so the comparison means something"
    assert backfilled_first == nightly_first
    assert rerun_second == nightly_second


@pytest.mark.slow
def test_a_rejected_drop_fails_every_retry_until_it_is_redelivered(landing, tmp_path):
    published = tmp_path / "f.duckdb"
    bad_day = LAST - dt.timedelta(days=1)
    good = break_header(landing, bad_day)

    for attempt in range(2):  # the retry finds the ledger's verdict, not a drop to skip
        with pytest.raises(DropRejected, match=f"wms/{bad_day}.*tracking_ref"):
            nightly.ingest("wms", LAST, landing, published)
    assert drop_rows(published, "wms_shipments", bad_day) == (0, 1)
    # A transform run on its own (a cleared task) finds the ledger's verdict too: nothing published.
    with pytest.raises(DropRejected, match=f"wms/{bad_day}.*tracking_ref"):
        nightly.transform(LAST, published)
    assert not published.exists()
    # The other sources, and dates before the bad drop, are not held up.
    assert nightly.ingest("oms", LAST, landing, published)["loaded"]
    nightly.ingest("wms", bad_day - dt.timedelta(days=1), landing, published)

    (landing / "wms" / bad_day.isoformat() / "shipments.csv").write_bytes(good)  # re-delivered, corrected
    assert f"wms/{bad_day}" in nightly.ingest("wms", LAST, landing, published)["loaded"]
    assert drop_rows(published, "wms_shipments", bad_day)[0] > 0


# Loads the wms drops and stops, as if killed, inside the loading transaction: after the
# rows of every drop of the batch are written, before their ledger rows and the commit.
STALLED_INGEST = textwrap.dedent("""
    import datetime as dt, sys, time
    from pathlib import Path
    from fulfilment_monitor import load, nightly

    landing, published = Path(sys.argv[1]), Path(sys.argv[2])

    def stall(*args):
        print("mid-load", flush=True)
        time.sleep(300)

    load._write_ledger = stall
    nightly.ingest("wms", dt.date.fromisoformat(sys.argv[3]), landing, published)
""")


@pytest.mark.slow
def test_a_task_killed_mid_load_leaves_no_partial_drop(landing, tmp_path):
    published = tmp_path / "f.duckdb"
    kill_when(STALLED_INGEST, str(landing), str(published), str(LAST), marker="mid-load")

    for day in (START, LAST):  # the batch's transaction died with it: no drop of it half there
        assert drop_rows(published, "wms_shipments", day) == (0, 0)

    nightly.ingest("wms", LAST, landing, published)  # the retry loads every drop whole
    reference = tmp_path / "reference" / "f.duckdb"
    nightly.ingest("wms", LAST, landing, reference)
    for table in ("wms_shipments", "wms_shipment_lines"):
        for day in (START, LAST):
            assert drop_rows(published, table, day) == drop_rows(reference, table, day) != (0, 0)


@pytest.mark.slow
def test_each_step_runs_from_the_command_line_without_airflow(landing, tmp_path):
    published = tmp_path / "f.duckdb"
    step = [sys.executable, "-m", "fulfilment_monitor.nightly"]
    paths = ["--landing", str(landing), "--db", str(published)]
    loaded = subprocess.run([*step, "ingest", "wms", str(START), *paths],
                            cwd=REPO, capture_output=True, text=True, timeout=300)
    assert loaded.returncode == 0, loaded.stderr
    assert f"wms/{START}" in loaded.stdout

    break_header(landing, LAST)
    rejected = subprocess.run([*step, "ingest", "wms", str(LAST), *paths],
                              cwd=REPO, capture_output=True, text=True, timeout=300)
    assert rejected.returncode == 1
    assert rejected.stderr.startswith("error: drop rejected") and len(rejected.stderr.splitlines()) == 1
    refused = subprocess.run([*step, "transform", str(LAST), "--db", str(published)],
                             cwd=REPO, capture_output=True, text=True, timeout=300)
    assert refused.returncode == 1 and f"wms/{LAST}" in refused.stderr, refused.stderr
