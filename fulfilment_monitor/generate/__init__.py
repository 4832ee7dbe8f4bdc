"""`generate`: a realistic landing zone in the four feed formats, and its ground truth.

    generate(out, orders=300, days=21, start=date(2026, 10, 1), seed=7, progress=False) -> dict

writes

- `out/landing/<source>/<YYYY-MM-DD>/<file>` + empty `_SUCCESS` for every extract date
  start .. start+days-1 (formats: shared/spec/source-feeds.md, columns from feeds.py), plus
  `out/landing/contractor/<start+days>/events.jsonl` WITHOUT `_SUCCESS` (a drop still being
  written: the first 12 h after T; never loaded, irrelevant to the truth);
- `out/truth/exceptions.csv` (`exception_type,exception_subtype,order_id,key`): exactly what
  the rules of docs/rules.md find at T = start+days 00:00:00Z, keys as that page writes them;
- `out/truth/quarantine.csv` (`source,extract_date,file,line_no,reason_kind`): every injected
  malformed line with its physical line number (header = line 1);
- `out/truth/stories.csv` (`order_id,step,happened_at,source,fact,key`): every fact of each
  founding story in the order marts.fct_order_timeline must tell it (scenarios/founding.py).

and returns {orders, lines per feed file (complete drops), truth exceptions, truth
quarantined lines, as_of}. Same arguments, same bytes: one `numpy.random.default_rng` stream
per scenario (seed, scenario name), no wall clock, every sort explicit. Needs days >= 16 and
orders >= 234 (clean orders must stay the majority).

How it streams: nothing of the landing zone is held in memory, only what one step works on.
1. `simulate.py` runs the scenarios (`scenarios/`: each a vectorised block over its own
   orders and new customers, so stories never touch) on a `World`, in batches of at most a
   million instances. The world keeps no rows: every part a scenario adds (`world.py`), every
   entity's birth and every expected exception (`World.expect`) goes at once to the spill
   (`spill.py`: lz4-compressed Arrow files in `out/.generating/`, removed at the end). Held:
   one batch's working set (~450 MB for a million clean orders).
2. `placement.py` reads each table back in the order made and files every row under the
   drop it arrives in, with the feeds' delivery defects (late and repeated events, repeated
   OMS days). The events' defects are drawn over all events in the order made, as one block
   would draw them; held: a byte per event and the few late or repeated ones.
3. `ids.py` numbers every entity by birth, a day of births at a time. Held: one int32 rank per
   entity (~35 bytes per order, 350 MB at 10 M orders): with the events' byte each (step 2),
   the only memory that grows with the whole landing zone rather than with a batch or a day.
4. `writer.py` writes drop by drop: one file's rows of one drop, sorted into file order,
   turned into text by `rows.py` and `encode.py` (Arrow) 100,000 rows at a time. Held: a
   day's rows of one table (170 MB of events at 10 M orders, twice while they are sorted)
   and a piece's text (~60 MB).
Measured time and peak memory at 100,000 to 10 M orders: README, "Generating the landing zone".
5. `truth.py` writes the truth, an exception type at a time.
The batch size is part of what a seed means (simulate.py): every landing zone of up to a
million clean orders is made in one batch, byte for byte what the generator made before it
streamed (tests/test_generate_bytes.py).
Other modules: clock (zones, DST-aware offsets, dates and times as text), catalog
(reference data), orders / fulfil / contacts (the building blocks), defects (junk lines).

Clean orders (the majority; scenarios/clean.py): placed all through the period, promised
4-7 days out (big items 5-10), dispatched 3-20 h after checkout, received 1-18 h later,
booked right away on the promised date, delivered inside the window, completed 1-8 h after;
at most 2 short inbound contacts. Anything after T simply has not happened yet, and the
4-day minimum lead means any clean order promised today/tomorrow at T was booked and fully
dispatched well before T. Most stories are placed so that they are settled 2+ days
before T (scenarios/base.py); the at-risk ones are about T itself; and, as in a real month,
the scenarios whose story allows it (scenarios/__init__.py, `near_T`) place about a day's
share of their instances so that the exception breaks in the last day before T (at least
one) and a week's share in the week before it, each still exact at T (every event its truth
needs before T, no promise today or tomorrow in the at-risk rule's zone).

Scenario catalogue (scenarios/__init__.py has the counts; * = boundary value on every third):

| scenario | story | truth |
|---|---|---|
| founding_story | washer and dryer bought in a store: 8-12 window missed, contractor moves it then cancels the night before, rebooks 45 days out; the customer phones, emails, writes on social media and walks into the store; the associate books an expedite on top of the old booking and a second set ships; both sets delivered | missed_window no_show BK1/v1, late_cancellation (the cancel), excessive_rebook_delay BK2, high_effort_contact O, double_booking O/TR1, duplicate_shipment O; the story fact by fact in truth/stories.csv |
| missed_failed_attempt | delivery_failed (not_home/access) in v1's window; contractor reschedules; v2 delivered | missed_window failed_attempt BK/v1 |
| replacement_after_failed_attempt | damaged/lost at the door in the window; retailer cancels; `replacement` shipped and delivered | missed_window failed_attempt BK/v1 (no duplicate) |
| missed_late_delivery | delivered 35 min-4 h after window end | missed_window late_delivery BK/v1 |
| missed_then_redelivered | nobody came; contractor reschedules after the window; v2 delivered | missed_window late_delivery BK/v1 |
| missed_no_show_rebooked | nobody came; contractor cancels BK1 after the window, BK2 within 24 h, delivered | missed_window no_show BK1/v1 |
| missed_no_show_stuck | nobody came, nothing since (order open) | missed_window no_show BK/v1 |
| late_contractor_reschedule | contractor reschedules 2-20 h before v1's start | late_cancellation (that event) |
| late_contractor_cancel | contractor cancels 2-20 h before the start, BK2 within 10 h | late_cancellation (that event) |
| excessive_customer_rebook | customer moves the booking to promise + 15-20 days | excessive_rebook_delay BK |
| excessive_after_no_show | nobody came; contractor moves it to promise + 15-20 days | excessive_rebook_delay BK + missed_window BK/v1 (late_delivery if v2 delivered before T, else no_show) |
| orphaned_cancel | cancel by customer / contractor / null >= 30 h before the window, no booking_created within 24 h (60% rebooked 30-72 h later) | orphaned_reschedule BK |
| orphaned_agreement_never_booked / _unlinked | agent agrees date D (contact linked / without order_id, single open order); booking never moved, delivered in the old window | orphaned_reschedule CT |
| orphaned_agreement_booked_late | booking moved to D 26-40 h after the contact | orphaned_reschedule CT |
| double_booking_same_ref | store associate books an expedited BK2 (same tracking_ref) while BK1 active; BK2 delivered, retailer cancels BK1 | double_booking O/TR |
| double_booking_no_ref | two store bookings without tracking_ref | double_booking O/ |
| duplicate_rerelease | picker re-release: a second `initial` shipment (all lines or line 1) | duplicate_shipment O |
| stalled_received_late / stalled_lost | first contractor event 50-90 h after dispatch / never | stalled_handoff SH |
| high_effort_three_contacts / _unlinked | 3 short inbound contacts within 6 days while open (linked / without order_id, single open order) | high_effort_contact O |
| high_effort_transferred | one contact `transferred` while open | high_effort_contact O |
| high_effort_long_handling | 2 inbound contacts of 1400-1800 s | high_effort_contact O |
| at_risk_not_booked | US customers, promised today/tomorrow locally, dispatched, not booked | at_risk_promise O |
| at_risk_booked_too_late | promised today/tomorrow, booked 1-2 days after the promise | at_risk_promise O |
| at_risk_partly_dispatched | promised tomorrow, booked for it, line 2 never dispatched | at_risk_promise O |
| at_risk_not_dispatched | promised today/tomorrow, nothing shipped | at_risk_promise O |
| at_risk_east_of_utc | Tokyo/Sydney customers promised today/tomorrow there, not booked | at_risk_promise O |
| at_risk_unknown_zone | no time zone (UTC's today/tomorrow), not booked | at_risk_promise O |
| trap_grace_delivery | delivered 1-29 min after the window end, *exactly 30 min | - |
| trap_customer_reschedules_in_window | customer reschedules during v1's window | - |
| trap_superseded_before_start | customer reschedules 2-20 h before v1 starts | - |
| trap_contractor_reschedules_early | contractor reschedules 25-60 h before, *exactly 24 h | - |
| trap_rebook_within_14_days | customer moves it to promise + 10-14 days, *exactly 14 | - |
| trap_cancel_rebooked_in_time | customer cancels, booking_created 1-23 h later, *exactly 24 h | - |
| trap_retailer_cancel | retailer cancels, rebooks 30-60 h later | - |
| trap_cancelled_order | order cancelled in the OMS hours after checkout (some with a cancel contact) | - |
| trap_cancelled_after_booking | customer cancels booking + order (OMS cancelled within 3 h) | - |
| trap_split_order | `initial` + `split` shipments adding up to the order | - |
| trap_replacement_before_window | damaged/lost found before the window, retailer cancels, `replacement` | - |
| trap_handoff_just_in_time | first contractor event 40-48 h after dispatch, *exactly 48 h | - |
| trap_handoff_event_arrives_late | received 2-20 h after dispatch, event delivered 2-3 drops late | - |
| trap_agreement_booked / _unlinked | agreed date booked 1-23 h after the contact, *exactly 24 h | - |
| trap_two_short_contacts | 2 short inbound contacts in a week | - |
| trap_three_contacts_over_a_week | 3 short inbound contacts, first to third 7 d + 3-20 h | - |
| trap_unlinked_two_open_orders | 3 long unlinked inbound contacts while the customer has 2 open orders (2 orders each) | - |
| trap_promised_in_two_days | US customers promised in 2 local days (= tomorrow in UTC), not booked | - |
| trap_promised_yesterday_locally | Tokyo/Sydney/unknown-zone customers promised yesterday in the rule's zone, not booked | - |
| trap_booked_near_promise | promised today/tomorrow, booked on the date and dispatched | - |
| trap_cancelled_near_promise | promised today/tomorrow, order cancelled | - |
| trap_late_correction | promise moved +4 days; an older correction row (old date) arrives a drop later; booked promise + 11-12 | - |

Feed defects (placement.py, defects.py): OMS drops repeating yesterday's rows on two days;
late-evening order headers one drop after their lines; stale correction rows arriving after
newer rows; 3% of contractor events 1-3 drops late; 1.5% of events delivered again under the
same event_id (same drop or 1-2 drops later); an unknown event type (`photo_proof_uploaded`)
on 3% of clean deliveries; UTC-writing and local-offset contractors; DST changes inside the
period. Malformed lines (missing key, unparseable timestamp, negative quantity, unknown enum
value, wrong column count, truncated last line without newline, non-UTF-8 line) are extra
junk lines, about 1 per 20,000 rows per kind, under 2% of any file (a tiny landing zone may
put up to 2 in a small file, which the loader's gate tolerates).
"""
from __future__ import annotations

import datetime as dt
import shutil
from datetime import date
from pathlib import Path

from fulfilment_monitor.errors import UserError
from fulfilment_monitor.generate.clock import Clock
from fulfilment_monitor.generate.ids import Ids
from fulfilment_monitor.generate.placement import place
from fulfilment_monitor.generate.scenarios import MIN_DAYS, plan
from fulfilment_monitor.generate.simulate import run_scenarios
from fulfilment_monitor.generate.spill import Spill
from fulfilment_monitor.generate.truth import write_exceptions, write_quarantine, write_stories
from fulfilment_monitor.generate.world import World
from fulfilment_monitor.generate.writer import write_landing

SCRATCH = ".generating"  # the spill's folder inside `out`, removed when done


def generate(out: Path, orders: int = 300, days: int = 21, start: dt.date = date(2026, 10, 1), seed: int = 7,
             progress: bool = False) -> dict:
    """Write `out/landing/` (every drop start .. start+days-1, plus an unfinished contractor drop
    dated start+days without `_SUCCESS`) and `out/truth/` (the exceptions the rules must find
    at T = start+days 00:00Z, and the malformed lines the loader must quarantine).
    Same arguments, same bytes. Returns a small summary."""
    out = Path(out)
    if days < MIN_DAYS:
        raise UserError(f"--days must be at least {MIN_DAYS} (every scenario must play out before T)")
    plan(orders)  # refuses too few orders before anything is touched
    clock = Clock(start, days)
    for folder in ("landing", "truth"):
        shutil.rmtree(out / folder, ignore_errors=True)
    spill = Spill(out / SCRATCH)
    try:
        w = World(clock, seed, spill)
        run_scenarios(w, orders, progress)
        place(w, progress)
        ids = Ids.of(w)
        totals, quarantine = write_landing(w, out, ids, progress)
        exceptions = write_exceptions(w, ids, out / "truth" / "exceptions.csv")
        write_quarantine(out / "truth" / "quarantine.csv", quarantine)
        write_stories(w, ids, out / "truth" / "stories.csv")
    finally:
        spill.close()
    return {"orders": w.count("order"), **totals, "truth exceptions": exceptions,
            "truth quarantined lines": len(quarantine), "as_of": clock.iso_utc(clock.T)}
