"""What every scenario shares: where its orders may be placed, and codes by name."""
from __future__ import annotations

import numpy as np

from fulfilment_monitor.errors import UserError
from fulfilment_monitor.generate import catalog as cat
from fulfilment_monitor.generate.clock import DAY, HOUR, UTC
from fulfilment_monitor.generate.world import NULL, World

# Scenario timelines (other than the at-risk ones, which live at T) run at most this many
# days after their order is placed, and must be over two days before T.
MAX_SPAN_DAYS = 12
MIN_DAYS = MAX_SPAN_DAYS + 4


def inside(w: World, span_days: int = MAX_SPAN_DAYS) -> tuple[int, int]:
    """Placement range [lo, hi] for a scenario whose story takes span_days: well inside the
    period, so everything it sets up is known (and settled) at T."""
    lo = w.clock.start_s + HOUR
    hi = w.T - (span_days + 2) * DAY
    if hi <= lo:
        raise UserError(f"--days must be at least {MIN_DAYS} to fit every scenario before T")
    return lo, hi


def pick(rng: np.random.Generator, names, n: int, p=None, table=None) -> np.ndarray:
    """n codes drawn from `names` (None -> NULL) using `table` (name -> code)."""
    codes = np.array([NULL if x is None else table[x] for x in names], np.int64)
    return codes[rng.choice(len(codes), n, p=p)]


def rule_zone(zone) -> np.ndarray:
    """The zone the at-risk rule reads a customer's 'today' in: theirs, or UTC when unknown."""
    zone = np.asarray(zone)
    return np.where(zone == NULL, UTC, zone)


def today_at_T(w: World, zone) -> np.ndarray:
    return w.clock.local_day(rule_zone(zone), w.T)


def third(n: int) -> np.ndarray:
    """Every third row (0, 3, 6, ...): the rows that get an exact boundary value."""
    return np.arange(n) % 3 == 0


INIT, RC = cat.INIT, cat.RC
