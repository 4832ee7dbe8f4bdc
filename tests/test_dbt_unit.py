"""Every dbt unit test of the project (the `unit_tests:` YAML beside the models) passes.

dbt types a unit test's fixture rows from the relations its inputs name, so the test first
builds every model empty on a fresh database with the loader's raw schema, then runs the
unit tests through the same dbt runner the pipeline uses. A failure names every failing test.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from fulfilment_monitor.db import connect
from fulfilment_monitor.errors import UserError
from fulfilment_monitor.tables import ensure as ensure_tables
from fulfilment_monitor.settings import DBT_PROJECT
from fulfilment_monitor.transform import artefacts, dbt

# Each unit test sets its own T (overrides: vars: as_of); this one only types the empty build.
T = dt.datetime(2026, 11, 21, tzinfo=dt.timezone.utc)
ANSI = re.compile(r"\x1b\[[0-9;]*m")
RULES = sorted(p.stem for p in (DBT_PROJECT.parent / "dbt_models" / "intermediate" / "rules").glob("int_rule_*.sql"))


def unit_test_results(db: Path, target: str | None = None) -> list[dict]:
    """dbt's run results of the last command on this database (its artefacts live beside it)."""
    return json.loads((artefacts(db, target) / "target" / "run_results.json").read_text())["results"]


def failing(results: list[dict]) -> list[str]:
    """model::test and dbt's message (the diff of actual and expected rows), per unit test that failed."""
    return [f"{'::'.join(r['unique_id'].split('.')[-2:])}\n    "
            + ANSI.sub("", r.get("message") or r["status"]).strip().replace("\n", "\n    ")
            for r in results if r["status"] in ("fail", "error")]


def test_every_dbt_unit_test_passes(tmp_path: Path) -> None:
    db = tmp_path / "unit.duckdb"
    with connect(db) as con:
        ensure_tables(con)
    dbt(["build", "--empty", "--exclude-resource-type", "unit_test"], db, T)
    try:
        dbt(["test", "--select", "test_type:unit"], db, T)
        failures = []
    except UserError as exc:  # a project that does not compile has no per-test results
        failures = failing(unit_test_results(db)) or [str(exc)]
    if failures:
        pytest.fail(f"{len(failures)} dbt unit test(s) failed:\n" + "\n".join(failures), pytrace=False)
    per_model = Counter(r["unique_id"].split(".")[-2] for r in unit_test_results(db))
    thin = {rule: per_model[rule] for rule in RULES if per_model[rule] < 3}
    assert len(RULES) == 9 and not thin, f"each rule needs a firing test and one per trap: {thin}"
