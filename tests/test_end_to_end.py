"""The real CLI on generated data: what it finds equals the generator's ground truth, also when
the generator makes its orders in several batches (as it does above a million orders)."""
from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import pytest

from fulfilment_monitor import db
from conftest import cli, copy_published

pytestmark = pytest.mark.slow  # a pipeline run per seed

SAMPLE_SEED = 7  # the bundled sample is `generate --orders 400 --seed 7` (21 days from 2026-10-01)
BATCHED = "seed 5 in batches of 60"  # scenario instances per vectorised call (generate/simulate.py)
SEEDS = [SAMPLE_SEED, 2026, 31337, BATCHED]


def truth_rows(out: Path, name: str) -> list[dict]:
    with open(out / "truth" / name, newline="") as handle:
        return list(csv.DictReader(handle))


def by_type(rows) -> dict[str, set]:
    grouped = defaultdict(set)
    for kind, *rest in rows:
        grouped[kind].add(tuple(rest))
    return grouped


@pytest.fixture(scope="module", params=SEEDS)
def generated_run(request, tmp_path_factory):
    """(generated folder, published database, run's output) of 400 orders per seed, read-only;
    seed 7 is the bundled sample (`make sample`), whose published run the session shares."""
    if request.param == SAMPLE_SEED:
        return request.getfixturevalue("sample_run")
    folder = tmp_path_factory.mktemp("seed")
    if request.param == BATCHED:
        generate_in_batches(folder, tmp_path_factory.mktemp("unbatched"))
    else:
        generated = cli("generate", "--out", str(folder), "--orders", "400", "--seed", str(request.param))
        assert generated.returncode == 0, generated.stderr
    published = folder / "analysts.duckdb"
    ran = cli("run", "--landing", str(folder / "landing"), "--db", str(published))
    assert ran.returncode == 0, ran.stderr
    return folder, published, ran.stdout


def generate_in_batches(folder: Path, unbatched: Path) -> None:
    """400 orders of seed 5, every scenario and the clean orders in batches of at most 60; not
    what one batch makes (the draws differ), so the batches are really there."""
    from fulfilment_monitor.generate import generate, simulate

    generate(unbatched, orders=400, seed=5)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(simulate, "BATCH", 60)
        generate(folder, orders=400, seed=5)
    assert (folder / "truth" / "exceptions.csv").read_bytes() != (unbatched / "truth" / "exceptions.csv").read_bytes()


def test_exceptions_equal_the_ground_truth_per_type(generated_run):
    out, published, _ = generated_run
    expected = by_type((r["exception_type"], r["order_id"], r["key"]) for r in truth_rows(out, "exceptions.csv"))
    with db.connect(published, read_only=True) as con:
        found = by_type(db.query(con, "SELECT exception_type, coalesce(order_id, ''), exception_key "
                                      "FROM marts.fct_fulfilment_exceptions"))
    assert len(expected) == 9, "the generator injects every type"
    for kind in sorted(set(expected) | set(found)):
        missed, extra = expected[kind] - found[kind], found[kind] - expected[kind]
        assert not missed and not extra, f"{kind}: recall misses {sorted(missed)[:5]}, precision extras {sorted(extra)[:5]}"


def test_missed_window_subtypes_equal_the_ground_truth(generated_run):
    out, published, _ = generated_run
    expected = {(r["key"], r["exception_subtype"]) for r in truth_rows(out, "exceptions.csv")
                if r["exception_type"] == "missed_window"}
    with db.connect(published, read_only=True) as con:
        found = set(db.query(con, "SELECT exception_key, exception_subtype FROM marts.fct_fulfilment_exceptions "
                                  "WHERE exception_type = 'missed_window'"))
    assert found == expected


def test_exactly_the_injected_defects_are_quarantined(generated_run):
    out, published, _ = generated_run
    expected = {(r["source"], r["extract_date"], r["file"], int(r["line_no"]))
                for r in truth_rows(out, "quarantine.csv")}
    with db.connect(published, read_only=True) as con:
        found = set(db.query(con, "SELECT source, CAST(extract_date AS VARCHAR), file, line_no FROM quarantine.rows"))
        accounts = db.query(con, "SELECT count(*) FILTER (WHERE rows_read <> rows_loaded + rows_quarantined) "
                                 "FROM audit.drops")
    assert found == expected
    assert accounts == [(0,)]


def test_running_again_changes_nothing(sample_run, tmp_path):
    out, shared, _ = sample_run
    published = copy_published(shared, tmp_path / "again")
    query = ("SELECT exception_id, first_detected_at, status FROM marts.fct_fulfilment_exceptions ORDER BY 1")
    with db.connect(published, read_only=True) as con:
        before = db.query(con, query)
        raw_before = db.query(con, "SELECT count(*) FROM raw.contractor_events")
    again = cli("run", "--landing", str(out / "landing"), "--db", str(published))
    assert again.returncode == 0, again.stderr
    assert "0 drop(s) processed" in again.stdout
    with db.connect(published, read_only=True) as con:
        assert db.query(con, query) == before
        assert db.query(con, "SELECT count(*) FROM raw.contractor_events") == raw_before


def test_every_mart_column_is_documented_and_docs_generate(sample_run, tmp_path):
    import json
    import shutil

    from fulfilment_monitor import transform
    from fulfilment_monitor.settings import parse_as_of, work_db_for

    out, published, _ = sample_run
    work = tmp_path / "docs.duckdb"
    shutil.copyfile(work_db_for(published), work)
    transform.dbt(["docs", "generate"], work, as_of=parse_as_of("2026-10-22T00:00:00Z"))
    manifest = json.loads((tmp_path / "dbt" / "target" / "manifest.json").read_text())
    catalog = json.loads((tmp_path / "dbt" / "target" / "catalog.json").read_text())
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model" or node["config"].get("schema") != "marts":
            continue
        assert node["description"].strip(), f"{node['name']} has no description"
        built = catalog["nodes"][node["unique_id"]]["columns"]
        undocumented = sorted(set(c.lower() for c in built) - set(node["columns"]))
        assert not undocumented, f"{node['name']}: undocumented columns {undocumented}"
