"""The expectation suites under expectations/: loadable by GX, and in step with what the gate measures."""
from __future__ import annotations

import pytest

from fulfilment_monitor.feeds import FEEDS
from fulfilment_monitor.validation import gx, suites
from fulfilment_monitor.validation.measures import declared_measures

# Measured of every file (validation/measures.py and drop_gate._frame), besides the declared ones.
EVERY_FILE_MEASURES = {"rows_read", "rows_loaded", "rows_quarantined", "quarantined_share", "volume_ratio", "null_drift",
                       "volume_median"}


def all_suite_paths():
    return sorted(suites.DROP_SUITES.glob("*.json")) + suites.mart_suite_paths()


def columns(path) -> set[str]:
    return {e["kwargs"]["column"] for e in suites.read_suite(path)["expectations"]}


def test_every_feed_file_has_a_suite_and_nothing_else_is_there():
    assert sorted(p.stem for p in suites.DROP_SUITES.glob("*.json")) == sorted(
        [f.table for f in FEEDS] + [suites.EVERY_FILE.stem])


@pytest.mark.parametrize("path", all_suite_paths(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_suite_loads_in_great_expectations(path):
    data = suites.read_suite(path)
    suite = gx.suite_from_dict(data)
    assert suite.name == path.stem
    assert len(suite.expectations) == len(data["expectations"]) > 0
    assert all(e["severity"] in ("critical", "warning") for e in data["expectations"])


@pytest.mark.parametrize("feed", FEEDS, ids=lambda f: f.table)
def test_drop_expectations_are_about_what_the_gate_measures(feed):
    assert columns(suites.drop_suite_path(feed)) <= set(declared_measures(feed))
    assert columns(suites.EVERY_FILE) <= EVERY_FILE_MEASURES


@pytest.mark.parametrize("feed", FEEDS, ids=lambda f: f.table)
def test_every_declared_format_rule_has_an_expectation(feed):
    """A `pattern`, `min_value`, `known`, `required_when` or reference added to feeds.py is judged."""
    rules = {m for m in declared_measures(feed) if not m.endswith("__null_share")}
    assert rules <= columns(suites.drop_suite_path(feed))


def test_nothing_the_loader_checks_row_by_row_is_expected_again():
    """Types, required values, enums and keys are the loader's (quarantine); GX judges whole files."""
    row_checks = {"expect_column_values_to_be_of_type", "expect_column_values_to_not_be_null",
                  "expect_column_values_to_be_in_set", "expect_column_values_to_match_regex",
                  "expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique"}
    for path in suites.DROP_SUITES.glob("*.json"):
        assert not {e["type"] for e in suites.read_suite(path)["expectations"]} & row_checks, path.name


@pytest.mark.parametrize("path", sorted(suites.DROP_SUITES.glob("*.json")), ids=lambda p: p.stem)
def test_drop_expectations_say_why(path):
    for expectation in suites.read_suite(path)["expectations"]:
        assert expectation.get("meta", {}).get("why"), expectation


@pytest.mark.parametrize("path", suites.mart_suite_paths(), ids=lambda p: p.stem)
def test_mart_suites_name_their_table(path):
    meta = suites.read_suite(path)["meta"]
    assert meta["table"] == f"marts.{path.stem}"
