"""Data-quality gate (Great Expectations): drop checks before loading, mart checks before publishing.

The gate lives in the `validation` package; these are the two entry points the
pipeline calls, plus the page that shows what was checked.
"""
from __future__ import annotations

from fulfilment_monitor.validation.drop_gate import DropGate
from fulfilment_monitor.validation.mart_gate import validate_marts
from fulfilment_monitor.validation.page import write_page

__all__ = ["DropGate", "validate_marts", "write_page"]
