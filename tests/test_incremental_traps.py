"""What an incremental night must not miss, on hand-made drops: a fact whose stamp T has only
now passed although its drop was loaded nights ago; a drop for an old date that arrives late;
a copy of an event in that late drop that comes before the copy already kept. Each night on
one database equals a fresh database built from every drop at the same T.
"""
from __future__ import annotations

from pathlib import Path

from conftest import cli, write_drop
from fulfilment_monitor import db
from fulfilment_monitor.settings import parse_as_of
from test_incremental import differences, relations
from test_known_at_t import event, write_landing as write_first_drops


def run(landing: Path, path: Path, as_of: str) -> str:
    done = cli("run", "--landing", str(landing), "--db", str(path), "--as-of", as_of)
    assert done.returncode == 0, done.stderr
    return done.stdout


def query(path: Path, sql: str) -> list[tuple]:
    with db.connect(path, read_only=True) as con:
        return db.query(con, sql)


def test_each_incremental_night_equals_a_fresh_build(landing, tmp_path):
    write_first_drops(landing)  # booking B1, its window missed on the 3rd; a delivery in the drop of the 4th
    # In the drop of the 2nd, stamped the 5th: known only once T has passed it.
    write_drop(landing, "contractor", "2026-11-02", {"events.jsonl": event(
        "E5", "booking_created", "2026-11-05T10:00:00Z", booking_id="B2",
        window_start="2026-11-05T12:00:00Z", window_end="2026-11-05T14:00:00Z")})
    nightly_db = tmp_path / "nightly" / "f.duckdb"

    assert "rebuilt in full" not in run(landing, nightly_db, "2026-11-04T00:00:00Z")
    write_drop(landing, "contractor", "2026-11-05", {"events.jsonl": event(
        "E4", "delivery_failed", "2026-11-03T15:30:00Z", reason_code="no_access")})
    run(landing, nightly_db, "2026-11-06T00:00:00Z")
    assert query(nightly_db, "SELECT reason_code FROM staging.stg_contractor__events WHERE event_id = 'E4'") == [
        ("no_access",)]
    # Late, for the 3rd: a failed attempt inside B1's window, and an earlier copy of E4.
    write_drop(landing, "contractor", "2026-11-03", {"events.jsonl": event(
        "E3", "delivery_failed", "2026-11-03T15:00:00Z", reason_code="customer_absent") + event(
        "E4", "delivery_failed", "2026-11-03T15:30:00Z", reason_code="damaged")})

    for as_of in ("2026-11-06T00:00:00Z", "2026-11-07T00:00:00Z"):  # the night again, then the next
        out = run(landing, nightly_db, as_of)
        assert "rebuilt in full" not in out, out
        fresh = tmp_path / f"fresh-{as_of[:10]}" / "f.duckdb"
        run(landing, fresh, as_of)
        moment = parse_as_of(as_of)
        assert differences(relations(nightly_db, moment, history=False),
                           relations(fresh, moment, history=False)) == [], as_of

    assert query(nightly_db, "SELECT reason_code, CAST(first_extract_date AS VARCHAR) FROM staging.stg_contractor__events "
                             "WHERE event_id = 'E4'") == [("damaged", "2026-11-03")], "the earlier copy replaced the kept one"
    found = query(nightly_db, "SELECT exception_key, exception_subtype, status FROM marts.fct_fulfilment_exceptions "
                              "WHERE exception_type = 'missed_window' ORDER BY 1")
    assert found == [("B1/v1", "failed_attempt", "resolved"), ("B2/v1", "no_show", "open")], \
        "E3 arrived late for the 3rd; B2, stamped the 5th in the drop of the 2nd, is known from the 6th"
