"""The gate's thresholds: defaults here, each overridable by an environment variable.

`FULFILMENT_GATE_MAX_BAD_ROW_SHARE=0.1` overrides `max_bad_row_share`, and so on
for every field (upper-cased, prefixed).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace

from fulfilment_monitor.errors import UserError

ENV_PREFIX = "FULFILMENT_GATE_"


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
    def from_env(cls, environ: dict[str, str] | None = None) -> "GateSettings":
        environ = os.environ if environ is None else environ
        settings = cls()
        for f in fields(cls):
            text = environ.get(ENV_PREFIX + f.name.upper())
            if text is None:
                continue
            kind = type(getattr(settings, f.name))
            try:
                settings = replace(settings, **{f.name: kind(text)})
            except ValueError:
                raise UserError(f"{ENV_PREFIX}{f.name.upper()}={text!r} is not a {kind.__name__}") from None
        return settings
