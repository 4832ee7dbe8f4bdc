"""The gate's thresholds: defaults here, each overridable by an environment variable.

`FULFILMENT_GATE_MAX_BAD_ROW_SHARE=0.1` overrides `max_bad_row_share`, and so on
for every field (upper-cased, prefixed); fulfilment_monitor.settings reads them.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class GateSettings:
    # A file whose quarantined share is above this rejects its drop...
    max_bad_row_share: float = 0.05
    # ...unless it has only this many bad rows: one bad line in a ten-line file is a row defect.
    bad_rows_tolerated: int = 2
    # Volume: a file's row count is compared with the median of the same file in the
    # latest loaded drops of its source (extract dates before this one).
    volume_history_drops: int = 7
    volume_min_history: int = 3  # fewer loaded drops than this: no volume check
    volume_min_median_rows: int = 50  # a smaller usual volume is too small to judge
    volume_low_ratio: float = 0.2  # below median x this: a collapse
    volume_high_ratio: float = 10.0  # above median x this: a flood

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "GateSettings":
        from fulfilment_monitor import settings

        return settings.gate(environ)
