"""The expectation suites: JSON files under `expectations/`, readable and versioned.

`expectations/drops/every_file.json` holds what is expected of every feed file of a drop,
`expectations/drops/<raw table>.json` what is expected of one feed file: both on the
gate's measures of the file (validation/measures.py), never on single records, which the
loader has checked already. `expectations/marts/<mart>.json` are checked on the marts;
their `meta` names the table (`table`), whether it may be absent (`optional`) and, when
the suite needs more than the table's own columns, the query that builds the checked
frame (`frame_sql`).
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from fulfilment_monitor.feeds import FeedFile
from fulfilment_monitor.settings import EXPECTATIONS
from fulfilment_monitor.validation import gx

DROP_SUITES = EXPECTATIONS / "drops"
MART_SUITES = EXPECTATIONS / "marts"
EVERY_FILE = DROP_SUITES / "every_file.json"


def drop_suite_path(feed: FeedFile) -> Path:
    return DROP_SUITES / f"{feed.table}.json"


def read_suite(path: Path) -> dict:
    return json.loads(path.read_text())


@lru_cache(maxsize=None)
def _load(path: Path, mtime: float):
    return gx.suite_from_dict(read_suite(path))


def load_suite(path: Path):
    """The GX suite in a JSON file (parsed once per content change)."""
    return _load(path, path.stat().st_mtime)


def mart_suite_paths() -> list[Path]:
    return sorted(MART_SUITES.glob("*.json"))
