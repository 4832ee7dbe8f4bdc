"""One checked expectation: what was checked, whether it held, and whether failing blocks or holds."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Outcome:
    suite: str  # the suite (a raw table's name for drops, a mart's for marts)
    expectation: str  # readable: the expectation type and the columns it is about
    success: bool
    critical: bool = True  # a failing critical expectation rejects the drop / blocks publishing
    details: str = ""
    review: bool = False  # statistical (volume, drift): a failure holds the drop for review

    @property
    def blocks(self) -> bool:
        """A structural failure: the drop is rejected (or publishing blocked)."""
        return self.critical and not self.success and not self.review

    @property
    def holds(self) -> bool:
        """A statistical failure: the drop is held for review, until released or re-delivered."""
        return self.critical and not self.success and self.review

    @property
    def problem(self) -> str:
        """One line naming what failed, for the run's error message and audit.drops.problems."""
        return f"{self.suite}: {self.expectation}: {self.details}"
