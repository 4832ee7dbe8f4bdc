"""The scenario catalogue: which story runs on how many orders.

Each scenario is a vectorised block over its own orders (and new customers), so stories
never interfere: an order belongs to exactly one scenario. A scenario's count is
max(minimum, share x orders); clean orders take the rest and must stay the majority.
See the package docstring for what each one produces.

Where a story allows it (`near_T`), some of a scenario's instances break near T, as in a
real month: about a day's share in the last day (at least one) and a week's share in the
week before it (at least one); the rest are placed early enough to settle before T.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from fulfilment_monitor.errors import UserError
from fulfilment_monitor.generate.scenarios import bookings, contact, founding, promise, shipping, windows
from fulfilment_monitor.generate.scenarios.base import MIN_DAYS, NearT
from fulfilment_monitor.generate.scenarios.clean import clean_orders


@dataclass(frozen=True)
class Scenario:
    fn: Callable
    minimum: int
    share: float
    orders_each: int = 1  # orders per instance
    near_T: NearT | None = None

    @property
    def name(self) -> str:
        return self.fn.__name__

    def count(self, orders: int) -> int:
        return max(self.minimum, int(round(self.share * orders)))

    def near_T_counts(self, n: int, days: int) -> tuple[int, int]:
        """(instances breaking in the last day, in the week before it) of the scenario's n."""
        if self.near_T is None:
            return 0, 0
        last = min(n, max(self.near_T.last_day_min, round(n / days))) if self.near_T.last_day else 0
        return last, min(n - last, max(1, round(7 * n / days)))


S = Scenario
# Near-T placements (days before T; see NearT), by what the story needs:
# the window on the promised date, already yesterday at T (Berlin, Tokyo: their today is D+1).
WINDOW_YESTERDAY = NearT(last_day=(5.95, 5.46), week=(12.9, 6.05), zones=("Europe/Berlin", "Asia/Tokyo"),
                         lead=(5, 5))
# the same in Berlin only: its windows start latest in UTC, so a cancellation 2-20 h before one
# is likeliest to fall in the last day (else the day before).
WINDOW_YESTERDAY_BERLIN = NearT(last_day=WINDOW_YESTERDAY.last_day, week=WINDOW_YESTERDAY.week,
                                zones=("Europe/Berlin",), lead=WINDOW_YESTERDAY.lead, last_day_min=2)
# dispatched 2-3 days before T (+48 h: the last day), promised 3+ days after T in every zone.
STALLED = NearT(last_day=(3.08, 2.88), week=(11.0, 9.0), lead=(6, 8))
STALLED_WEEK = NearT(week=STALLED.week, lead=STALLED.lead)
# the second shipment dispatched at most 26 h after placing, before T.
RERELEASE = NearT(last_day=(1.42, 1.13), week=(8.0, 2.0))
# three contacts within 6 days of placing, before T (the third in the last day or the days
# before); booked on the promise, so never at risk.
CONTACTS = NearT(last_day=(6.45, 6.1), week=(12.0, 6.5), last_day_min=2)
# the second booking at most 66 h after placing, before T (in the last day or the two before).
SECOND_BOOKING = NearT(last_day=(2.9, 2.75), week=(9.0, 3.0), last_day_min=2)
# the agreed date's deadline (contact + 24 h) at least a day before the window, before T.
AGREEMENT = NearT(week=(13.0, 9.1))
SCENARIOS: tuple[Scenario, ...] = (
    # the founding story: six exceptions on one order, every system holding one piece
    S(founding.founding_story, 1, 0.0005),
    # missed_window
    S(windows.missed_failed_attempt, 3, 0.006, near_T=WINDOW_YESTERDAY),
    S(windows.missed_late_delivery, 3, 0.006, near_T=WINDOW_YESTERDAY),
    S(windows.missed_then_redelivered, 2, 0.003),
    S(windows.missed_no_show_rebooked, 2, 0.003, near_T=WINDOW_YESTERDAY),
    S(windows.missed_no_show_stuck, 2, 0.002, near_T=WINDOW_YESTERDAY),
    S(shipping.replacement_after_failed_attempt, 2, 0.002),
    # late_cancellation, excessive_rebook_delay
    S(windows.late_contractor_reschedule, 2, 0.003, near_T=WINDOW_YESTERDAY_BERLIN),
    S(windows.late_contractor_cancel, 2, 0.002, near_T=WINDOW_YESTERDAY_BERLIN),
    S(windows.excessive_customer_rebook, 2, 0.003, near_T=WINDOW_YESTERDAY),
    S(windows.excessive_after_no_show, 2, 0.002),
    # orphaned_reschedule, double_booking
    S(bookings.orphaned_cancel, 3, 0.004),
    S(contact.orphaned_agreement_never_booked, 2, 0.002, near_T=AGREEMENT),
    S(contact.orphaned_agreement_unlinked, 1, 0.001),
    S(contact.orphaned_agreement_booked_late, 2, 0.002),
    S(bookings.double_booking_same_ref, 1, 0.003, near_T=SECOND_BOOKING),  # + the founding story's expedite
    S(bookings.double_booking_no_ref, 2, 0.001),
    # duplicate_shipment, stalled_handoff
    S(shipping.duplicate_rerelease, 3, 0.004, near_T=RERELEASE),
    S(shipping.stalled_received_late, 2, 0.003, near_T=STALLED_WEEK),
    S(shipping.stalled_lost, 2, 0.002, near_T=STALLED),
    # high_effort_contact
    S(contact.high_effort_three_contacts, 2, 0.003, near_T=CONTACTS),
    S(contact.high_effort_unlinked, 2, 0.002, near_T=CONTACTS),
    S(contact.high_effort_transferred, 2, 0.002),
    S(contact.high_effort_long_handling, 2, 0.002),
    # at_risk_promise (at T)
    S(promise.at_risk_not_booked, 2, 0.002),
    S(promise.at_risk_booked_too_late, 2, 0.002),
    S(promise.at_risk_partly_dispatched, 2, 0.001),
    S(promise.at_risk_not_dispatched, 2, 0.001),
    S(promise.at_risk_east_of_utc, 2, 0.001),
    S(promise.at_risk_unknown_zone, 1, 0.001),
    # traps: none of these may fire
    S(windows.trap_grace_delivery, 3, 0.004),
    S(windows.trap_customer_reschedules_in_window, 2, 0.003),
    S(windows.trap_superseded_before_start, 2, 0.003),
    S(windows.trap_contractor_reschedules_early, 3, 0.003),
    S(windows.trap_rebook_within_14_days, 3, 0.002),
    S(bookings.trap_cancel_rebooked_in_time, 3, 0.004),
    S(bookings.trap_retailer_cancel, 2, 0.002),
    S(bookings.trap_cancelled_order, 3, 0.02),
    S(bookings.trap_cancelled_after_booking, 2, 0.002),
    S(shipping.trap_split_order, 3, 0.02),
    S(shipping.trap_replacement_before_window, 2, 0.002),
    S(shipping.trap_handoff_just_in_time, 3, 0.003),
    S(shipping.trap_handoff_event_arrives_late, 2, 0.002),
    S(contact.trap_agreement_booked, 2, 0.002),
    S(contact.trap_agreement_booked_unlinked, 1, 0.001),
    S(contact.trap_two_short_contacts, 2, 0.005),
    S(contact.trap_three_contacts_over_a_week, 1, 0.001),
    S(contact.trap_unlinked_two_open_orders, 2, 0.001, orders_each=2),
    S(promise.trap_promised_in_two_days, 2, 0.002),
    S(promise.trap_promised_yesterday_locally, 2, 0.001),
    S(promise.trap_booked_near_promise, 2, 0.002),
    S(promise.trap_cancelled_near_promise, 2, 0.001),
    S(promise.trap_late_correction, 2, 0.001),
)


def _scenario_orders(orders: int) -> int:
    return sum(s.count(orders) * s.orders_each for s in SCENARIOS)


def minimum_orders() -> int:
    """The smallest order count that leaves clean orders the majority."""
    n = 2 * sum(s.minimum * s.orders_each for s in SCENARIOS)
    while orders_ok(n) is False:
        n += 1
    return n


def orders_ok(orders: int) -> bool:
    return orders - _scenario_orders(orders) >= _scenario_orders(orders)


def plan(orders: int) -> list[tuple[Scenario, int]]:
    """(scenario, instances) for every scenario; the clean scenario's count is what is left."""
    if not orders_ok(orders) or orders < minimum_orders():
        raise UserError(f"--orders must be at least {minimum_orders()} so that clean orders are the majority")
    return [(s, s.count(orders)) for s in SCENARIOS]


__all__ = ["SCENARIOS", "Scenario", "plan", "clean_orders", "MIN_DAYS", "minimum_orders"]
