"""The expectation suites: JSON files under `expectations/`, readable and versioned.

`expectations/drops/<raw table>.json` holds one suite per feed file; the
expectations marked `"meta": {"from": "feeds.py"}` follow from the feed
declarations and are rewritten by `python -m fulfilment_monitor.validation.suites`,
the others are written by hand and kept. `expectations/marts/<mart>.json` are
written by hand; their `meta` names the table (`table`), whether it may be
absent (`optional`) and, when the suite needs more than the table's own columns,
the query that builds the checked frame (`frame_sql`).
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from fulfilment_monitor.feeds import BOOL, DATE, DECIMAL, FEEDS, INT, TIMESTAMP, FeedFile
from fulfilment_monitor.parse import _ISO_TIMESTAMP
from fulfilment_monitor.settings import EXPECTATIONS
from fulfilment_monitor.validation import gx
from fulfilment_monitor.validation.drop_frames import DERIVED_COLUMNS

DROP_SUITES = EXPECTATIONS / "drops"
MART_SUITES = EXPECTATIONS / "marts"
FROM_FEEDS = {"from": "feeds.py"}

# The pandas dtype each column kind arrives as in the checked frame (see frames.to_frame);
# GX's pandas type check knows no decimal, so decimals are checked as float64.
FRAME_TYPES = {INT: "int64", DECIMAL: "float64", DATE: "datetime64", BOOL: "bool"}
TIMESTAMP_REGEX = f"^(?:{_ISO_TIMESTAMP})$"


def derived_columns(feed: FeedFile) -> list[str]:
    """Columns the drop gate adds to a file's frame for checks across rows or files."""
    return list(DERIVED_COLUMNS.get(feed.table, {})) + ([] if feed.is_csv else ["undeclared_fields"])


def _expect(kind: str, **kwargs) -> dict:
    return {"type": kind, "kwargs": kwargs, "severity": "critical", "meta": dict(FROM_FEEDS)}


def derive_drop_expectations(feed: FeedFile) -> list[dict]:
    """What the feed declaration says about every good row of one file in one drop."""
    out = [_expect("expect_table_columns_to_match_ordered_list",
                   column_list=feed.column_names + derived_columns(feed))]
    for col in feed.columns:
        out.append(_expect("expect_column_values_to_be_of_type", column=col.name,
                           type_=FRAME_TYPES.get(col.kind, "str")))
        if not col.nullable:
            out.append(_expect("expect_column_values_to_not_be_null", column=col.name))
        if col.values:
            out.append(_expect("expect_column_values_to_be_in_set", column=col.name,
                               value_set=list(col.values)))
        if col.kind == TIMESTAMP:
            out.append(_expect("expect_column_values_to_match_regex", column=col.name,
                               regex=TIMESTAMP_REGEX))
        if col.positive:
            out.append(_expect("expect_column_values_to_be_between", column=col.name,
                               min_value=0, strict_min=True))
    if feed.key_unique_in_drop:
        if len(feed.key) == 1:
            out.append(_expect("expect_column_values_to_be_unique", column=feed.key[0]))
        else:
            out.append(_expect("expect_compound_columns_to_be_unique", column_list=list(feed.key)))
    return out


def drop_suite_path(feed: FeedFile) -> Path:
    return DROP_SUITES / f"{feed.table}.json"


def read_suite(path: Path) -> dict:
    return json.loads(path.read_text())


def dump_suite(suite: dict) -> str:
    """JSON with one expectation per line, so a suite reads (and diffs) as a list of rules."""
    head = {k: v for k, v in suite.items() if k != "expectations"}
    lines = [f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}," for k, v in head.items()]
    rules = ",\n".join("    " + json.dumps(e, ensure_ascii=False) for e in suite.get("expectations", []))
    return "{\n" + "\n".join(lines) + '\n  "expectations": [\n' + rules + "\n  ]\n}\n"


def write_drop_suites() -> list[Path]:
    """Rewrite the feed-derived expectations of every drop suite, keeping the hand-written ones."""
    written = []
    for feed in FEEDS:
        path = drop_suite_path(feed)
        old = read_suite(path) if path.exists() else {}
        by_hand = [e for e in old.get("expectations", []) if e.get("meta", {}).get("from") != "feeds.py"]
        suite = {
            "name": feed.table,
            "meta": old.get("meta") or {
                "about": f"The good rows of {feed.source}/<date>/{feed.file} in one drop."},
            "expectations": derive_drop_expectations(feed) + by_hand,
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dump_suite(suite))
        written.append(path)
    return written


@lru_cache(maxsize=None)
def _load(path: Path, mtime: float):
    return gx.suite_from_dict(read_suite(path))


def load_suite(path: Path):
    """The GX suite in a JSON file (parsed once per content change)."""
    return _load(path, path.stat().st_mtime)


def mart_suite_paths() -> list[Path]:
    return sorted(MART_SUITES.glob("*.json"))


if __name__ == "__main__":
    for written_path in write_drop_suites():
        print(written_path)
