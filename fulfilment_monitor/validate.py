"""Data-quality gate (Great Expectations): drop checks before loading, mart checks before publishing."""
from __future__ import annotations


def drop_checks() -> list:
    """Drop-level checks run on every parsed drop before any of it reaches `raw`."""
    return []


def validate_marts(con, run_id: str, as_of) -> list[str]:
    """Mart checks after the build; a non-empty list of problems blocks publishing."""
    return []
