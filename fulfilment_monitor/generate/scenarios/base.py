"""What every scenario shares: where its orders may be placed, and codes by name."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fulfilment_monitor.errors import UserError
from fulfilment_monitor.generate import catalog as cat
from fulfilment_monitor.generate.clock import DAY, HOUR, UTC
from fulfilment_monitor.generate.world import NULL, World

# Scenario timelines (other than the at-risk ones, which live at T) run at most this many
# days after their order is placed, and must be over two days before T.
MAX_SPAN_DAYS = 12
MIN_DAYS = MAX_SPAN_DAYS + 4


@dataclass(frozen=True)
class NearT:
    """Where a scenario may place instances whose exception breaks near T, as a real month has
    them: placement ranges in days before T for the last day (`last_day`, None when the story
    cannot break then and still hold at T) and the week before it (`week`). Each range keeps
    the story exact at T: every event its truth needs happens before T, and the promise is
    never today or tomorrow in the at-risk rule's zone (so no at_risk_promise is added).
    `zones` and `lead` override the scenario's own where the story needs them (a promised date
    that is already yesterday at T east of UTC). `last_day_min`: instances aimed at the last
    day at least, for stories that only may break then (the others break the day before)."""
    week: tuple[float, float]
    last_day: tuple[float, float] | None = None
    zones: tuple[str, ...] | None = None
    lead: tuple[int, int] | None = None
    last_day_min: int = 1


@dataclass(frozen=True)
class Placement:
    """The instances being made now (World.placement): placed in [lo, hi], with these zones and lead."""
    lo: int
    hi: int
    zones: tuple[str, ...] | None
    lead: tuple[int, int] | None


def near_T(w: World, days_before: tuple[float, float], spec: NearT) -> Placement:
    lo = max(w.clock.start_s + HOUR, w.T - int(days_before[0] * DAY))
    return Placement(lo, w.T - int(days_before[1] * DAY), spec.zones, spec.lead)


def order_placement(w: World, lead: tuple[int, int]) -> dict:
    """new_orders' lo, hi, lead and zones: the scenario's usual ones, or those of the near-T
    instances being made (World.placement)."""
    lo, hi = inside(w)
    p = w.placement
    return dict(lo=lo, hi=hi, lead=p.lead if p and p.lead else lead, zones=p.zones if p else None)


def inside(w: World, span_days: int = MAX_SPAN_DAYS) -> tuple[int, int]:
    """Placement range [lo, hi] for a scenario whose story takes span_days: well inside the
    period, so everything it sets up is known (and settled) at T; or the range of the near-T
    instances being made (World.placement)."""
    if w.placement is not None:
        return w.placement.lo, w.placement.hi
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
    """The local date at T in the rule's zone of each order."""
    return w.clock.local_day(rule_zone(zone), w.T)


def third(n: int) -> np.ndarray:
    """Every third row (0, 3, 6, ...): the rows that get an exact boundary value."""
    return np.arange(n) % 3 == 0


INIT, RC = cat.INIT, cat.RC
