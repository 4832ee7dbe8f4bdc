"""The expectation suites under expectations/: loadable by GX, and in step with feeds.py."""
from __future__ import annotations

import shutil

import pytest

from fulfilment_monitor.feeds import FEEDS
from fulfilment_monitor.validation import gx, suites


def all_suite_paths():
    return sorted(suites.DROP_SUITES.glob("*.json")) + suites.mart_suite_paths()


def test_every_feed_file_has_a_suite_and_nothing_else_is_there():
    assert sorted(p.stem for p in suites.DROP_SUITES.glob("*.json")) == sorted(f.table for f in FEEDS)


@pytest.mark.parametrize("path", all_suite_paths(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_suite_loads_in_great_expectations(path):
    data = suites.read_suite(path)
    suite = gx.suite_from_dict(data)
    assert suite.name == path.stem
    assert len(suite.expectations) == len(data["expectations"]) > 0
    assert all(e["severity"] in ("critical", "warning") for e in data["expectations"])


def test_regenerating_the_drop_suites_changes_nothing(tmp_path, monkeypatch):
    """The feed-derived expectations match feeds.py, and hand-written ones survive a rewrite."""
    copy = tmp_path / "drops"
    shutil.copytree(suites.DROP_SUITES, copy)
    monkeypatch.setattr(suites, "DROP_SUITES", copy)
    suites.write_drop_suites()
    for path in sorted(copy.glob("*.json")):
        assert path.read_text() == (suites.EXPECTATIONS / "drops" / path.name).read_text(), (
            f"{path.name} is out of step with feeds.py: run `python -m fulfilment_monitor.validation.suites`")


def test_a_changed_feed_declaration_shows_in_the_derived_expectations():
    orders = next(f for f in FEEDS if f.table == "oms_orders")
    enums = {e["kwargs"]["column"]: e["kwargs"]["value_set"] for e in suites.derive_drop_expectations(orders)
             if e["type"] == "expect_column_values_to_be_in_set"}
    assert enums == {"sales_channel": ["web", "app", "store", "phone"],
                     "order_status": ["placed", "cancelled", "completed"]}
    events = next(f for f in FEEDS if f.table == "contractor_events")
    kinds = {e["type"] for e in suites.derive_drop_expectations(events)}
    assert not kinds & {"expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique"}, (
        "contractor event ids repeat by design")


@pytest.mark.parametrize("path", sorted(suites.DROP_SUITES.glob("*.json")), ids=lambda p: p.stem)
def test_hand_written_drop_expectations_say_why(path):
    for expectation in suites.read_suite(path)["expectations"]:
        meta = expectation.get("meta", {})
        assert meta.get("from") == "feeds.py" or meta.get("why"), expectation


@pytest.mark.parametrize("path", suites.mart_suite_paths(), ids=lambda p: p.stem)
def test_mart_suites_name_their_table(path):
    meta = suites.read_suite(path)["meta"]
    assert meta["table"] == f"marts.{path.stem}"
