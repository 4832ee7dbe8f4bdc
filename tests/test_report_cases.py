"""The report's figures against hand-written cases: a few exceptions and outreach cases written by
hand into a copy of the published sample, the report rendered at T (the CLI's `report --as-of`),
and every count, line and CSV row of its exception and outreach sections worked out here by hand,
not queried from the marts it renders.
"""
from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path

import pytest

from conftest import cli, copy_published, report_sections
from fulfilment_monitor import db
from fulfilment_monitor.report import command
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

# (case_id, order_id, priority, channel, suppressed_reason, escalate): twelve cases, two tied at 50
# (the case id breaks the tie), one suppressed (no channel).
OUTREACH = [
    ("c01", "O-A", 20, "email", None, False),
    ("c02", "O-B", 90, "phone", None, True),
    ("c03", "O-C", 50, "sms", None, False),
    ("c04", "O-D", 10, None, "no_consent", False),
    ("c05", "O-E", 70, "whatsapp", None, False),
    ("c06", "O-F", 50, "email", None, False),
    ("c07", "O-G", 30, "email", None, False),
    ("c08", "O-H", 60, "phone", None, True),
    ("c09", "O-I", 40, "sms", None, False),
    ("c10", "O-J", 80, "email", None, False),
    ("c11", "O-K", 15, "email", None, False),
    ("c12", "O-L", 25, "phone", None, False),
]
WORST_FIRST = ["O-B", "O-J", "O-E", "O-H", "O-C", "O-F", "O-I", "O-G", "O-L", "O-A", "O-K", "O-D"]


@pytest.fixture(scope="module")
def hand_written(sample_run, tmp_path_factory) -> Path:
    """The published sample with CASES as its only exceptions (other columns as a real row's)."""
    published = copy_published(sample_run[1], tmp_path_factory.mktemp("cases"))
    with db.connect(published) as con:
        con.sql("CREATE TEMP TABLE template AS SELECT * FROM marts.fct_fulfilment_exceptions ORDER BY exception_id LIMIT 1")
        con.sql("DELETE FROM marts.fct_fulfilment_exceptions")
        for n, (kind, severity, status, occurred) in enumerate(CASES):
            con.execute("""INSERT INTO marts.fct_fulfilment_exceptions SELECT * REPLACE (
                               ? AS exception_id, ? AS exception_type, ? AS severity, ? AS status,
                               ?::TIMESTAMPTZ AS occurred_at) FROM template""",
                        [f"case{n}", kind, severity, status, occurred])
        con.sql("CREATE TEMP TABLE case_template AS SELECT * FROM marts.fct_outreach_queue ORDER BY case_id LIMIT 1")
        con.sql("DELETE FROM marts.fct_outreach_queue")
        for case_id, order_id, priority, channel, suppressed, escalate in OUTREACH:
            con.execute("""INSERT INTO marts.fct_outreach_queue SELECT * REPLACE (
                               ? AS case_id, ? AS order_id, ? AS priority, ? AS channel, ? AS suppressed_reason,
                               ? AS escalate, ['missed_window'] AS exception_types, ? AS context)
                           FROM case_template""",
                        [case_id, order_id, priority, channel, suppressed, escalate, f"Context of {order_id}."])
    return published


def report_at(published: Path, as_of: dt.datetime) -> dict[str, list[list[str]]]:
    done = cli("report", "--db", str(published), "--as-of", iso(as_of))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"Fulfilment report for {(as_of - D).date()}"), done.stdout[:200]
    return report_sections(done.stdout)


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


def test_the_report_shows_the_ten_highest_priorities_and_attaches_the_whole_queue(hand_written, tmp_path):
    command(db=hand_written, as_of=T, out=tmp_path, send=False)
    text = (tmp_path / "report.txt").read_text()
    assert "OUTREACH: 12 cases, 11 sendable now, 2 to escalate" in text
    assert re.findall(r"^  \[(\d+)\] (\S+)", text, re.M) == [
        ("90", "O-B"), ("80", "O-J"), ("70", "O-E"), ("60", "O-H"), ("50", "O-C"), ("50", "O-F"), ("40", "O-I"),
        ("30", "O-G"), ("25", "O-L"), ("20", "O-A")]
    html = (tmp_path / "report.html").read_text()
    for order_id in WORST_FIRST[:10]:
        assert f"Context of {order_id}." in text and f"Context of {order_id}." in html
    assert "Context of O-K." not in text, "the eleventh case is in the CSV only"
    with open(tmp_path / "outreach_queue.csv", newline="", encoding="utf-8") as handle:
        queue = list(csv.DictReader(handle))
    assert [r["order_id"] for r in queue] == WORST_FIRST
    assert [(r["channel"], r["suppressed_reason"]) for r in queue if r["order_id"] == "O-D"] == [("", "no_consent")]
    assert [r["escalate"] for r in queue[:4]] == ["true", "false", "false", "true"]
