"""The report's figures against hand-written cases: a few exceptions written by hand into a copy
of the published sample, the report rendered at T (the CLI's `report --as-of`), and every count
of its exception sections worked out here by hand, not queried from the marts it renders.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from conftest import cli, copy_published
from fulfilment_monitor import db
from fulfilment_monitor.settings import iso

T = dt.datetime(2026, 11, 21, tzinfo=dt.timezone.utc)
H, D = dt.timedelta(hours=1), dt.timedelta(days=1)

# (type, severity, status, occurred_at): the last day is [T - 1 day, T), the previous 7 days
# [T - 8 days, T - 1 day); "open" is the status, whatever T.
CASES = [
    ("missed_window", "critical", "open", T - 2 * H),             # last day
    ("missed_window", "high", "resolved", T - 3 * D),              # previous 7 days
    ("missed_window", "critical", "open", T - 10 * D),             # before both, still open
    ("duplicate_shipment", "critical", "open", T - D),             # the last day's first instant
    ("stalled_handoff", "medium", "resolved", T - 8 * D),          # the previous week's first instant
    ("stalled_handoff", "medium", "resolved", T - 8 * D - dt.timedelta(seconds=1)),  # just before it
    ("at_risk_promise", "low", "resolved", T + H),                 # after T: nowhere
]


@pytest.fixture(scope="module")
def hand_written(sample_run, tmp_path_factory) -> Path:
    """The published sample with CASES as its only exceptions (other columns as a real row's)."""
    published = copy_published(sample_run[1], tmp_path_factory.mktemp("cases"))
    with db.connect(published) as con:
        con.sql("CREATE TEMP TABLE template AS SELECT * FROM marts.fct_fulfilment_exceptions LIMIT 1")
        con.sql("DELETE FROM marts.fct_fulfilment_exceptions")
        for n, (kind, severity, status, occurred) in enumerate(CASES):
            con.execute("""INSERT INTO marts.fct_fulfilment_exceptions SELECT * REPLACE (
                               ? AS exception_id, ? AS exception_type, ? AS severity, ? AS status,
                               ?::TIMESTAMPTZ AS occurred_at) FROM template""",
                        [f"case{n}", kind, severity, status, occurred])
    return published


def sections(text: str) -> dict[str, list[list[str]]]:
    """The report's text by section title (an upper-case line), each line split into words."""
    found: dict[str, list[list[str]]] = {}
    current = None
    for line in text.splitlines():
        if line and not line.startswith(" ") and line.split()[0].isupper():
            current = found.setdefault(line.split(" (")[0], [])
        elif current is not None and line.strip():
            current.append(line.split())
    return found


def report_at(published: Path, as_of: dt.datetime) -> dict[str, list[list[str]]]:
    done = cli("report", "--db", str(published), "--as-of", iso(as_of))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"Fulfilment report for {(as_of - D).date()}"), done.stdout[:200]
    return sections(done.stdout)


def test_exceptions_by_type_and_severity_count_the_windows_and_what_is_open(hand_written):
    shown = report_at(hand_written, T)
    # type, last day, previous 7 days, open, open by severity; types with nothing to show left out
    assert shown["EXCEPTIONS BY TYPE"] == [
        ["type", "last", "day", "prev", "7d", "open", "open", "by", "severity", "(crit/high/med/low)"],
        ["missed_window", "1", "1", "2", "2/0/0/0"],
        ["duplicate_shipment", "1", "0", "1", "1/0/0/0"],
        ["stalled_handoff", "0", "1", "0", "0/0/0/0"],
    ]
    assert shown["EXCEPTIONS BY SEVERITY"] == [
        ["critical", "2", "0", "3"], ["high", "0", "1", "0"], ["medium", "0", "1", "0"], ["low", "0", "0", "0"]]


def test_report_as_of_an_earlier_t_moves_the_windows(hand_written):
    shown = report_at(hand_written, T - D)
    assert shown["EXCEPTIONS BY TYPE"][1:] == [
        ["missed_window", "0", "1", "2", "2/0/0/0"],
        ["duplicate_shipment", "0", "0", "1", "1/0/0/0"],
        ["stalled_handoff", "0", "2", "0", "0/0/0/0"],
    ]
