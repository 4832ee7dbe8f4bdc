"""The command line: clear one-line errors and non-zero exits on bad use; time zones kept."""
from __future__ import annotations

import datetime as dt
import subprocess
import sys
import textwrap

import pytest

from conftest import cli, write_drop
from fulfilment_monitor import db, errors, pipeline
from fulfilment_monitor.errors import DropRejected
from fulfilment_monitor.settings import parse_as_of


def assert_one_line_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    assert result.returncode != 0
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1, message
    for fragment in fragments:
        assert fragment in message


def test_missing_landing_zone(tmp_path):
    result = cli("run", "--landing", str(tmp_path / "nowhere"), "--db", str(tmp_path / "x.duckdb"))
    assert_one_line_error(result, "does not exist")


def test_a_landing_zone_with_no_drop_says_what_it_holds_instead(landing, tmp_path):
    (landing / "erp" / "2026-11-01").mkdir(parents=True)
    result = cli("run", "--landing", str(landing), "--db", str(tmp_path / "x.duckdb"))
    assert_one_line_error(result, "no complete drop", "ignored erp: not a source folder")


def test_unparseable_as_of(landing, tmp_path):
    result = cli("run", "--landing", str(landing), "--db", str(tmp_path / "x.duckdb"), "--as-of", "next tuesday")
    assert_one_line_error(result, "--as-of", "next tuesday")


def test_database_locked_by_another_writer(landing, tmp_path):
    published = tmp_path / "x.duckdb"
    work = published.with_name("x.work.duckdb")
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import duckdb, sys, time
        con = duckdb.connect({str(work)!r})
        print("locked", flush=True)
        time.sleep(60)
    """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        result = cli("run", "--landing", str(landing), "--db", str(published))
        assert_one_line_error(result, "locked by another writer")
    finally:
        holder.kill()
        holder.wait()


def test_as_of_is_read_in_its_own_offset():
    assert parse_as_of("2026-11-21T09:00:00+09:00") == dt.datetime(2026, 11, 21, 0, 0, tzinfo=dt.timezone.utc)
    assert parse_as_of("2026-11-21T00:00:00") == dt.datetime(2026, 11, 21, tzinfo=dt.timezone.utc)


def test_a_window_written_east_of_utc_keeps_its_local_date(landing, tmp_path):
    # 08:00 on the 2nd in Tokyo is 23:00 on the 1st in UTC: the window is on the 2nd.
    event = ('{"event_id":"E1","event_type":"booking_created","occurred_at":"2026-11-01T10:00:00+09:00",'
             '"contractor_id":"K1","booking_id":"B1","order_id":"O1","tracking_ref":"T1",'
             '"window_start":"2026-11-02T08:00:00+09:00","window_end":"2026-11-02T12:00:00+09:00"}\n')
    write_drop(landing, "contractor", "2026-11-01", {"events.jsonl": event})
    published = tmp_path / "analysts.duckdb"
    pipeline.run(landing, published)
    with db.connect(published, read_only=True) as con:
        con.sql("SET TimeZone = 'America/Los_Angeles'")  # the server's zone must not matter
        row = db.query(con, """
            SELECT CAST(window_local_date AS VARCHAR), strftime(timezone('UTC', window_start), '%Y-%m-%d %H:%M'),
                   CAST(window_start_local AS VARCHAR)
            FROM staging.stg_contractor__events""")
    assert row == [("2026-11-02", "2026-11-01 23:00", "2026-11-02 08:00:00")]


def test_an_error_from_below_that_spans_lines_is_told_in_one_line_of_its_own_type():
    """A bug: dbt's message for a database DuckDB had invalidated ("FATAL Error ..." then
    "Original error: ... File too large") reached the command line on two lines."""
    with pytest.raises(DropRejected) as raised:
        with errors.in_one_line():
            raise DropRejected("dbt build failed: FATAL Error: invalidated\n  Original error: File too large\n")
    assert str(raised.value) == "dbt build failed: FATAL Error: invalidated Original error: File too large"
