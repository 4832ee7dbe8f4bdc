"""The generator: reproducible bytes, files in the declared feed formats, a ground truth that
covers every rule, the injected defects present and listed, and fast enough to scale."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import statistics
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from fulfilment_monitor.errors import UserError
from fulfilment_monitor.feeds import BOOL, DATE, FEEDS, INT, SOURCES, TIMESTAMP, files_of
from fulfilment_monitor.generate import generate
from fulfilment_monitor.generate.catalog import UNKNOWN_EVENT_TYPE
from fulfilment_monitor.generate.defects import KINDS
from conftest import cli

START, DAYS, ORDERS = dt.date(2026, 10, 1), 21, 300
EXTRACT_DATES = [(START + dt.timedelta(days=i)).isoformat() for i in range(DAYS)]
UNFINISHED = (START + dt.timedelta(days=DAYS)).isoformat()
TIMESTAMP_TEXT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}")
KEY_FORMATS = {
    "missed_window": r"BK\d+/v\d+", "duplicate_shipment": r"O\d+", "orphaned_reschedule": r"BK\d+|CT\d+",
    "double_booking": r"O\d+/(TR\d+)?", "late_cancellation": r"EV\d+", "excessive_rebook_delay": r"BK\d+",
    "stalled_handoff": r"SH\d+", "high_effort_contact": r"O\d+", "at_risk_promise": r"O\d+",
}


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def truth(out: Path, name: str) -> list[dict]:
    with open(out / "truth" / name, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out = tmp_path_factory.mktemp("generated")
    summary = generate(out, orders=ORDERS, days=DAYS, start=START, seed=7)
    return out, summary


@pytest.fixture(scope="module")
def junk_lines(generated) -> dict[tuple[str, str, str], dict[int, str]]:
    out, _ = generated
    listed = defaultdict(dict)
    for r in truth(out, "quarantine.csv"):
        listed[(r["source"], r["extract_date"], r["file"])][int(r["line_no"])] = r["reason_kind"]
    return listed


def parse_record(feed, record) -> dict:
    if feed.is_csv:
        if len(record) != len(feed.columns):
            raise ValueError(f"{len(record)} fields")
        return dict(zip(feed.column_names, record))
    return json.loads(record.decode("utf-8"))


def problems(feed, row: dict) -> list[str]:
    """What is wrong with a parsed row against the declared format (empty when nothing)."""
    found = []
    if not feed.is_csv and list(row) != feed.column_names:
        return [f"keys {list(row)}"]
    for col in feed.columns:
        value = row[col.name]
        if value in ("", None):
            if not col.nullable:
                found.append(f"{col.name} missing")
            continue
        text = value if isinstance(value, str) else json.dumps(value)
        if col.kind == TIMESTAMP and not TIMESTAMP_TEXT.fullmatch(text):
            found.append(f"{col.name}={text}")
        elif col.kind == DATE and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            found.append(f"{col.name}={text}")
        elif col.kind == BOOL and (text not in ("true", "false") or not (feed.is_csv or isinstance(value, bool))):
            found.append(f"{col.name}={text}")
        elif col.kind == INT and (not re.fullmatch(r"-?\d+", text) or (col.positive and int(text) <= 0)
                                  or not (feed.is_csv or isinstance(value, int))):
            found.append(f"{col.name}={text}")
        if col.values and value not in col.values and not (col.name == "event_type" and value == UNKNOWN_EVENT_TYPE):
            found.append(f"{col.name}={value}")
    return found


def records(data: bytes, feed) -> list[tuple[int, bytes | list[str]]]:
    """(line where it starts, record) of each record after the header: a JSON line's bytes, or
    a CSV record's fields as Python's csv module reads them (quoted line breaks included)."""
    if not feed.is_csv:
        lines = data.split(b"\n")
        return list(enumerate(lines[:-1] if lines and lines[-1] == b"" else lines, start=1))
    reader = csv.reader(io.StringIO(data.decode("utf-8", "replace"), newline=""))
    found, consumed = [], 0
    for number, fields in enumerate(reader, start=1):
        start, consumed = consumed + 1, reader.line_num
        if number > 1:
            found.append((start, fields))
    return found


def good_rows(out: Path, junk_lines, source: str, day: str, feed):
    """(line_no, values) of the records of a complete drop's file that are not listed as junk."""
    junk = junk_lines.get((source, day, feed.file), {})
    data = (out / "landing" / source / day / feed.file).read_bytes()
    return [(number, parse_record(feed, record)) for number, record in records(data, feed) if number not in junk]


def test_same_seed_same_bytes_and_another_seed_differs(generated, tmp_path):
    out, summary = generated
    again = tmp_path / "again"
    assert generate(again, orders=ORDERS, days=DAYS, start=START, seed=7) == summary
    assert tree(again) == tree(out)
    other = tmp_path / "other"
    generate(other, orders=ORDERS, days=DAYS, start=START, seed=8)
    first, second = tree(out), tree(other)
    assert first["truth/exceptions.csv"] != second["truth/exceptions.csv"]
    assert sum(first[k] != second.get(k) for k in first) > len(first) // 2


def test_the_bundled_sample_is_what_make_sample_generates(tmp_path):
    """data/sample is `generate --orders 400 --days 21 --seed 7`, byte for byte (`make sample`)."""
    sample = Path(__file__).resolve().parent.parent / "data" / "sample"
    generate(tmp_path, orders=400, days=21, start=START, seed=7)
    assert tree(tmp_path) == tree(sample)


def test_landing_layout_and_the_unfinished_drop(generated):
    out, _ = generated
    landing = out / "landing"
    assert sorted(p.name for p in landing.iterdir()) == sorted(SOURCES)
    for source in SOURCES:
        days = sorted(p.name for p in (landing / source).iterdir())
        assert days == EXTRACT_DATES + ([UNFINISHED] if source == "contractor" else [])
        for day in EXTRACT_DATES:
            folder = landing / source / day
            assert (folder / "_SUCCESS").read_bytes() == b""
            assert sorted(p.name for p in folder.iterdir()) == sorted([f.file for f in files_of(source)] + ["_SUCCESS"])
    unfinished = landing / "contractor" / UNFINISHED
    assert not (unfinished / "_SUCCESS").exists()
    assert (unfinished / "events.jsonl").exists()


def test_every_line_of_complete_drops_has_the_declared_format(generated, junk_lines):
    out, _ = generated
    seen_null = Counter()
    for feed in FEEDS:
        for day in EXTRACT_DATES:
            data = (out / "landing" / feed.source / day / feed.file).read_bytes()
            if feed.is_csv:
                assert data.split(b"\n", 1)[0].decode() == ",".join(feed.column_names)
            for number, row in good_rows(out, junk_lines, feed.source, day, feed):
                assert not problems(feed, row), f"{feed.source}/{day}/{feed.file}:{number}: {problems(feed, row)}"
                for name, value in row.items():
                    seen_null[(feed.table, name)] += value in ("", None)
    # nullable columns do carry nulls somewhere
    for table, column in [("oms_customers", "timezone"), ("oms_customers", "preferred_channel"),
                          ("oms_orders", "store_id"), ("contacts_contacts", "order_id"),
                          ("contractor_events", "initiated_by"), ("contractor_events", "tracking_ref")]:
        assert seen_null[(table, column)] > 0, f"{table}.{column} is never null"


def test_csv_quotes_only_when_needed(generated):
    out, _ = generated
    text = b"".join((out / "landing" / "oms" / d / f).read_bytes() for d in EXTRACT_DATES
                    for f in ("customers.csv", "order_lines.csv")).decode("utf-8", "replace")
    assert '"Picture frame 8""x10"""' in text or '"Table lamp, brass"' in text
    assert '"O0' not in text and '"C0' not in text  # ids and plain values are never quoted


def test_truth_has_every_type_and_subtype_with_rule_keys(generated):
    out, summary = generated
    rows = truth(out, "exceptions.csv")
    assert rows == sorted(rows, key=lambda r: (r["exception_type"], r["exception_subtype"], r["order_id"], r["key"]))
    kinds = Counter(r["exception_type"] for r in rows)
    assert set(kinds) == set(KEY_FORMATS)
    assert all(n >= 3 for n in kinds.values()), kinds
    subtypes = Counter(r["exception_subtype"] for r in rows if r["exception_type"] == "missed_window")
    assert set(subtypes) == {"failed_attempt", "late_delivery", "no_show"}
    assert all(r["exception_subtype"] == "" for r in rows if r["exception_type"] != "missed_window")
    for r in rows:
        assert re.fullmatch(KEY_FORMATS[r["exception_type"]], r["key"]), r
        assert re.fullmatch(r"O\d+", r["order_id"]), r
    assert summary["truth exceptions"] == len(rows)
    assert summary["as_of"] == "2026-10-22T00:00:00Z"
    assert summary["orders"] == ORDERS


def test_quarantine_truth_lists_every_junk_kind_on_really_bad_lines(generated, junk_lines):
    out, _ = generated
    rows = truth(out, "quarantine.csv")
    assert {r["reason_kind"] for r in rows} == set(KINDS)
    assert all(r["extract_date"] in EXTRACT_DATES for r in rows)
    for (source, day, file), listed in junk_lines.items():
        feed = next(f for f in FEEDS if f.source == source and f.file == file)
        data = (out / "landing" / source / day / file).read_bytes()
        starting_on = dict(records(data, feed))
        for number, kind in listed.items():
            record = starting_on[number]
            if kind == "not_utf8":
                if feed.is_csv:
                    assert any("\ufffd" in field for field in record)  # decoded with replacement
                else:
                    with pytest.raises(UnicodeDecodeError):
                        record.decode("utf-8")
            elif kind == "truncated_line":
                assert number == max(starting_on) and not data.endswith(b"\n")
                if not feed.is_csv:
                    with pytest.raises(json.JSONDecodeError):
                        json.loads(record)
            elif kind == "wrong_column_count":
                assert len(record) != len(feed.columns)
            else:
                assert problems(feed, parse_record(feed, record)), (source, day, file, number, kind)


def test_junk_stays_under_two_percent_of_a_file_or_within_the_gate_tolerance(generated, junk_lines):
    out, _ = generated
    for (source, day, file), listed in junk_lines.items():
        data = (out / "landing" / source / day / file).read_bytes()
        total = data.count(b"\n") + (not data.endswith(b"\n")) - file.endswith(".csv")
        assert len(listed) <= 2 or len(listed) / total < 0.02, (source, day, file, len(listed), total)


def test_feed_defects_are_present(generated):
    out, _ = generated
    landing = out / "landing"
    # repeated event ids, in the same drop and in a later one; late events; the unknown event type
    seen, same_drop, later_drop, late, unknown = {}, 0, 0, 0, 0
    for day in EXTRACT_DATES:
        ids_here = Counter()
        for raw in (landing / "contractor" / day / "events.jsonl").read_bytes().split(b"\n"):
            try:
                event = json.loads(raw)
            except (ValueError, UnicodeDecodeError):
                continue
            if not event.get("event_id") or not isinstance(event.get("occurred_at"), str):
                continue
            ids_here[event["event_id"]] += 1
            if event["event_id"] in seen and seen[event["event_id"]] < day:
                later_drop += 1
            seen.setdefault(event["event_id"], day)
            late += event["occurred_at"][:10] < (dt.date.fromisoformat(day) - dt.timedelta(days=1)).isoformat()
            unknown += event["event_type"] == UNKNOWN_EVENT_TYPE
        same_drop += sum(n > 1 for n in ids_here.values())
    assert same_drop and later_drop and late and unknown
    # an OMS drop repeating yesterday's rows; an order line one drop before its header
    orders = {d: set((landing / "oms" / d / "orders.csv").read_text("utf-8", "replace").splitlines()[1:])
              for d in EXTRACT_DATES}
    assert any(orders[a] and orders[a] <= orders[b] for a, b in zip(EXTRACT_DATES, EXTRACT_DATES[1:]))
    first_header, first_line = {}, {}
    for d in EXTRACT_DATES:
        for line in orders[d]:
            first_header.setdefault(line.split(",")[0], d)
        for line in (landing / "oms" / d / "order_lines.csv").read_text("utf-8", "replace").splitlines()[1:]:
            first_line.setdefault(line.split(",")[0], d)
    assert any(first_line[o] < first_header.get(o, "9999") for o in first_line)


def test_daily_volumes_pass_the_loaders_volume_gate(tmp_path):
    """Every file of every drop within 0.2x-10x the median of the previous 7 (when judged)."""
    out = tmp_path / "volumes"
    generate(out, orders=3000, days=DAYS, start=START, seed=3)
    for feed in FEEDS:
        counts = []
        for day in EXTRACT_DATES:
            data = (out / "landing" / feed.source / day / feed.file).read_bytes()
            counts.append(data.count(b"\n") + (bool(data) and not data.endswith(b"\n")) - feed.is_csv)
        for i, n in enumerate(counts):
            history = counts[max(0, i - 7):i]
            if len(history) >= 3 and statistics.median(history) >= 50:
                usual = statistics.median(history)
                assert 0.2 * usual <= n <= 10 * usual, (feed.table, EXTRACT_DATES[i], n, usual)


def test_twenty_thousand_orders_scale_the_stories(tmp_path):
    """Volumes scale with --orders (how fast is the benchmark's business, never a test's)."""
    summary = generate(tmp_path / "big", orders=20_000, days=DAYS, start=START, seed=1)
    assert summary["orders"] == 20_000
    assert summary["truth exceptions"] > 500


def test_the_command_shows_its_progress_and_ends_with_its_summary(tmp_path):
    done = cli("generate", "--out", str(tmp_path), "--orders", "300", "--days", "16", "--seed", "7")
    assert done.returncode == 0, done.stderr
    for step in ("making orders", "placing rows", "writing drops"):
        assert step in done.stderr
    summary = dict(line.strip().split("  ", 1) for line in done.stdout.splitlines())
    assert summary["orders"].strip() == "300"
    assert summary["as_of"].strip() == "2026-10-17T00:00:00Z"
    assert int(summary["truth exceptions"]) == len(truth(tmp_path, "exceptions.csv"))
    assert int(summary["contractor/events.jsonl"]) > 0
    assert not (tmp_path / ".generating").exists()  # the scratch is gone


@pytest.mark.parametrize("kwargs", [dict(orders=50), dict(days=10)])
def test_refuses_too_few_orders_or_days(tmp_path, kwargs):
    with pytest.raises(UserError):
        generate(tmp_path, **kwargs)
