"""The frame GX checks for each file of a drop: its good rows plus columns derived across rows/files.

Every file's parsed rows are visible to the derived-column SQL as `file_<raw table>`.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING

import duckdb
import pandas as pd

from fulfilment_monitor.validation.frames import to_frame

if TYPE_CHECKING:  # the loader imports this package: no import cycle at run time
    from fulfilment_monitor.load import FileResult

DERIVED_COLUMNS: dict[str, dict[str, str]] = {
    "wms_shipment_lines": {
        # Does the line point at a shipment row of the same drop? A quarantined shipment row
        # still counts (its id read from the raw line), so its lines are not called orphans.
        "shipment_in_drop": """shipment_id IN (
            SELECT coalesce(shipment_id, regexp_extract(raw_text, '^"?([^,"]*)', 1))
            FROM file_wms_shipments)""",
    },
}


def _undeclared_fields(result: FileResult) -> str:
    """JSON keys the feed does not declare (a renamed field shows up here), or NULL."""
    declared = ", ".join("'" + name + "'" for name in result.feed.column_names)
    return (f"nullif(array_to_string(list_sort(list_filter(json_keys(raw_text), "
            f"lambda k: NOT list_contains([{declared}], k))), ', '), '')")


def _frame_sql(result: FileResult) -> str:
    feed = result.feed
    derived = dict(DERIVED_COLUMNS.get(feed.table, {}))
    if not feed.is_csv:
        derived["undeclared_fields"] = _undeclared_fields(result)
    columns = feed.column_names + [f"{sql} AS {name}" for name, sql in derived.items()]
    return (f"SELECT {', '.join(columns)} FROM file_{feed.table} "
            f"WHERE reject_reason IS NULL ORDER BY _line_no")


@contextmanager
def registered(con: duckdb.DuckDBPyConnection, files: list[FileResult]):
    """Each parsed file visible as `file_<table>` while the block runs."""
    names = []
    try:
        for result in files:
            if result.rows is not None:
                names.append(f"file_{result.feed.table}")
                con.register(names[-1], result.rows)
        yield
    finally:
        for name in names:
            con.unregister(name)


def drop_frames(con: duckdb.DuckDBPyConnection, files: list[FileResult]) -> list[tuple[FileResult, pd.DataFrame]]:
    """Each parsed file with the frame its suite checks."""
    with registered(con, files):
        return [(r, to_frame(con.sql(_frame_sql(r)).to_arrow_table())) for r in files if r.rows is not None]
