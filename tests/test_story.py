"""The order's story on a real published database: the founding story as the generator's truth
tells it, every feed row of every order in the timeline (nothing dropped, nothing invented), the
effort, the `story` command and the outreach context, and no customer data beyond a first name.

The bundled sample as `make run` publishes it (the session's `sample_run`, read-only). Expected
values come from the generator's truth (truth/stories.csv, truth/exceptions.csv), from the feeds
as the generator sent them (the landing zone's files, read here: tests/landing_rows.py), or from
the founding story as scenarios/founding.py writes it by hand - never from the project's tables.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import json
import re
import shutil
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from conftest import cli, landing_customers
from fulfilment_monitor import db, story
from fulfilment_monitor.report import command as report_command
from fulfilment_monitor.settings import parse_as_of
from landing_rows import moment, rows

FOUNDING_TYPES = {"missed_window", "late_cancellation", "excessive_rebook_delay", "high_effort_contact",
                  "double_booking", "duplicate_shipment"}
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.\w")  # an address (an order version's key, O1@2026-..., is none)
PHONE = re.compile(r"\+\d[\d ()-]{6,}")
ANSI = re.compile(r"\x1b\[")
T = dt.datetime(2026, 10, 22, tzinfo=dt.timezone.utc)  # the sample's T: the day after its last drop


@pytest.fixture(scope="module")
def sample(sample_run) -> Path:
    return sample_run[0]


@pytest.fixture(scope="module")
def published(sample_run) -> Path:
    return sample_run[1]


@pytest.fixture(scope="module")
def told(sample) -> dict[str, list[dict]]:
    """truth/stories.csv: each founding story's facts, in order."""
    with open(sample / "truth" / "stories.csv", newline="", encoding="utf-8") as handle:
        found = list(csv.DictReader(handle))
    stories = defaultdict(list)
    for row in found:
        stories[row["order_id"]].append(row)
    assert stories, "the generator tells at least one founding story"
    return stories


@pytest.fixture(scope="module")
def founding(told) -> str:
    return sorted(told)[0]


def select(path: Path, sql: str, params=None) -> list[tuple]:
    with db.connect(path, read_only=True) as con:
        return db.query(con, sql, params)


def timeline_of(published: Path, order_id: str) -> list[tuple]:
    return select(published, """
        SELECT happened_at, source, fact,
               CASE WHEN fact LIKE 'exception%' THEN exception_type
                    WHEN fact = 'outreach_queued' THEN order_id ELSE source_key END
        FROM marts.fct_order_timeline WHERE order_id = ? ORDER BY happened_at, fact_rank, source_key""", [order_id])


def runs(facts) -> list[tuple]:
    """Facts grouped by (moment, source, fact) in order, keys as a set within each group (the order
    of facts of one kind at one moment - four exceptions put right by one delivery - is by key)."""
    return [(moment, source, fact, frozenset(k for *_, k in group))
            for (moment, source, fact), group in itertools.groupby(facts, key=lambda f: f[:3])]


# --- the founding story --------------------------------------------------------------------------

def test_the_founding_story_comes_out_in_order(published, told):
    for order_id, steps in told.items():
        expected = [(parse_as_of(s["happened_at"]), s["source"], s["fact"], s["key"]) for s in steps]
        assert runs(timeline_of(published, order_id)) == runs(expected), order_id


def test_the_founding_story_has_its_six_exceptions(sample, published, told):
    with open(sample / "truth" / "exceptions.csv", newline="") as handle:
        truth = defaultdict(set)
        for row in csv.DictReader(handle):
            truth[row["order_id"]].add(row["exception_type"])
    for order_id in told:
        assert truth[order_id] == FOUNDING_TYPES
        found = {t for (t,) in select(published, "SELECT exception_type FROM marts.fct_fulfilment_exceptions "
                                                 "WHERE order_id = ?", [order_id])}
        told_opened = {s["key"] for s in told[order_id] if s["fact"] == "exception_opened"}
        assert found == told_opened == FOUNDING_TYPES


def test_the_founding_story_effort(published, told):
    """4 inbound contacts (phone 25 min, email 12, social 8 and transferred, store 35), each of the
    last three within 7 days of the one before: 20 + 15 + 15 (3 more channels) + 15 + 16 (80 min) = 81."""
    for order_id in told:
        effort = select(published, """
            SELECT inbound_contacts, channels_used, channel_count, handle_seconds, transfers, repeat_contacts,
                   CAST(map_extract(contacts_by_channel, 'phone')[1] AS INTEGER), effort_score
            FROM marts.fct_customer_effort WHERE order_id = ?""", [order_id])
        assert effort == [(4, ["phone", "email", "social", "store"], 4, 4800, 1, 3, 1, 81)]
        queued = select(published, "SELECT effort_score, exception_types FROM marts.fct_outreach_queue "
                                   "WHERE order_id = ?", [order_id])
        assert queued == [(81, ["duplicate_shipment", "high_effort_contact"])]


FOUNDING_CONTEXT = re.compile(
    r"Missed the 8–12 window on \w{3} \d+ \w{3}; the contractor cancelled the \w{3} \d+ \w{3} "
    r"booking 14 h before it started; rebooked for .*, 45 days after the promised date; "
    r"two bookings were live at once; the goods were dispatched twice\. \S+ has contacted us "
    r"4 times on 4 channels \(phone, email, social media, in store\) since .*, 1 h 20 min with "
    r"our agents, 1 transfer; effort so far 81/100\.$")


def test_the_founding_story_context(published, told):
    for order_id in told:
        ((context,),) = select(published, "SELECT context FROM marts.fct_outreach_queue WHERE order_id = ?",
                               [order_id])
        assert FOUNDING_CONTEXT.match(context), context


# --- the timeline holds every row of the feeds -------------------------------------------------

def utc_key(text: str) -> str:
    return moment(text).strftime("%Y-%m-%dT%H:%M:%SZ")


def sent_keys(sample: Path) -> dict[tuple, set[tuple]]:
    """(source, fact) -> {(order_id, key)} of every row the generator sent that is known at T."""
    known = lambda r, column: moment(r[column]) <= T  # noqa: E731
    return {
        ("oms", "order_version"): {(r["order_id"], f"{r['order_id']}@{utc_key(r['updated_at'])}")
                                   for r in rows(sample, "oms", "orders.csv") if known(r, "updated_at")},
        ("oms", "order_line"): {(r["order_id"], f"{r['order_id']}/{r['line_no']}")
                                for r in rows(sample, "oms", "order_lines.csv") if known(r, "updated_at")},
        ("wms", "shipment"): {(r["order_id"], r["shipment_id"])
                              for r in rows(sample, "wms", "shipments.csv") if known(r, "dispatched_at")},
        ("contractor", None): {(r["order_id"], r["event_id"])
                               for r in rows(sample, "contractor", "events.jsonl") if known(r, "occurred_at")},
        ("contacts", None): {(r["order_id"], r["contact_id"]) for r in rows(sample, "contacts", "contacts.jsonl")
                             if known(r, "started_at") and r["order_id"]},
    }


def test_the_timeline_holds_every_feed_row_of_every_order_and_nothing_else(sample, published):
    customer_of = {r["order_id"]: r["customer_id"] for r in rows(sample, "oms", "orders.csv")}
    unnamed = {r["contact_id"]: r["customer_id"] for r in rows(sample, "contacts", "contacts.jsonl")
               if not r["order_id"]}
    for (source, fact), fed in sent_keys(sample).items():
        told = set(select(published, f"""
            SELECT order_id, source_key FROM marts.fct_order_timeline
            WHERE source = '{source}' {f"AND fact = '{fact}'" if fact else ''}"""))
        if source == "contacts":  # a contact naming no order is told on an order of the same customer
            unlinked = {(order_id, key) for order_id, key in told if key in unnamed}
            assert unlinked, "some contact naming no order is attributed to its customer's order"
            assert all(customer_of[order_id] == unnamed[key] for order_id, key in unlinked), unlinked
            told -= unlinked
        assert fed, (source, fact)
        assert not fed - told, f"{source} {fact}: dropped {sorted(fed - told)[:5]}"
        assert not told - fed, f"{source} {fact}: invented {sorted(told - fed)[:5]}"


def test_each_shipment_tells_every_line_it_carried(sample, published):
    # a one-line summary: a description's line breaks (the sofa's, a quoted CSV field) become spaces
    description = {(r["order_id"], r["line_no"]): " ".join(r["description"].split())
                   for r in rows(sample, "oms", "order_lines.csv")}
    order_of = {r["shipment_id"]: r["order_id"] for r in rows(sample, "wms", "shipments.csv")}
    carried = {(r["shipment_id"], f"{r['quantity']} × {description[order_of[r['shipment_id']], r['line_no']]}")
               for r in rows(sample, "wms", "shipment_lines.csv")}
    summaries = dict(select(published, "SELECT source_key, summary FROM marts.fct_order_timeline WHERE fact = 'shipment'"))
    assert carried
    for shipment_id, unit in carried:
        assert unit in summaries[shipment_id], (shipment_id, unit, summaries[shipment_id])


def test_what_the_monitor_tells_is_what_the_truth_expects(sample, published):
    """Every exception of an order the truth expects is opened on its order's timeline, once; one
    put right was opened before; an outreach case is for an order with an exception."""
    with open(sample / "truth" / "exceptions.csv", newline="") as handle:
        expected = Counter((r["order_id"], r["exception_type"]) for r in csv.DictReader(handle) if r["order_id"])
    facts = select(published, "SELECT order_id, fact, exception_type, happened_at FROM marts.fct_order_timeline "
                              "WHERE source = 'monitor'")
    opened = {(o, kind): at for o, fact, kind, at in facts if fact == "exception_opened"}
    assert Counter((o, kind) for o, fact, kind, _ in facts if fact == "exception_opened") == expected
    resolved = [(o, kind, at) for o, fact, kind, at in facts if fact == "exception_resolved"]
    assert resolved and all(opened[o, kind] <= at for o, kind, at in resolved)
    queued = {o for o, fact, _, _ in facts if fact == "outreach_queued"}
    assert queued and queued <= {o for o, _ in expected}


# --- no customer data beyond a first name --------------------------------------------------------

def customers(sample: Path) -> dict[str, tuple[str, list[str]]]:
    """customer_id -> (first name, [surname, email, phone, ...]: what must never be shown), from
    the landing zone's customers files."""
    found = {}
    for row in landing_customers(sample / "landing"):
        first, _, surname = row["full_name"].strip().partition(" ")
        secret = found.setdefault(row["customer_id"], (first, []))[1]
        secret += [s for s in (surname, row["email"], row["phone"]) if s]
    return found


def leaks(text: str, secrets: list[str]) -> list[str]:
    found = [s for s in secrets if re.search(rf"(?<!\w){re.escape(s)}(?!\w)", text)]
    return found + (["an email address"] if EMAIL.search(text) else []) + (["a phone number"] if PHONE.search(text) else [])


def test_no_customer_data_in_the_timeline_or_the_context(sample, published):
    people = customers(sample)
    texts = defaultdict(list)
    for customer_id, text in select(published, "SELECT customer_id, summary FROM marts.fct_order_timeline "
                                               "UNION ALL SELECT customer_id, context FROM marts.fct_outreach_queue"):
        texts[customer_id].append(text)
    assert len(texts) > 50
    for customer_id, lines in texts.items():
        secrets = people.get(customer_id, ("", []))[1]
        for text in lines:
            assert not leaks(text, secrets), (customer_id, text, leaks(text, secrets))
    named = [t for c, lines in texts.items() if c in people for t in lines if people[c][0] in t.split()]
    assert named and all("has " in t for t in named), "only the context names the customer, by first name"


def test_no_customer_data_in_the_story(sample, published, founding):
    (customer_id,) = {r["customer_id"] for r in rows(sample, "oms", "orders.csv") if r["order_id"] == founding}
    first, secrets = customers(sample)[customer_id]
    for args in ([], ["--json"]):
        shown = cli("story", founding, "--db", str(published), *args)
        assert shown.returncode == 0, shown.stderr
        assert not leaks(shown.stdout, secrets), leaks(shown.stdout, secrets)
        assert first in shown.stdout


# --- the story command ----------------------------------------------------------------------------

# The founding story's timeline as scenarios/founding.py tells it (its table, on the customer's
# wall clock, America/Chicago; D = Thu 1 Oct): when, system, and what each line must say.
FOUNDING_TIMELINE = [
    ("Thu 1 Oct 11:00", "oms", "Order placed in a store"),
    ("Thu 1 Oct 11:00", "oms", "Ordered 1 × Washing machine 8 kg"),
    ("Thu 1 Oct 11:00", "oms", "Ordered 1 × Tumble dryer, heat pump"),
    ("Fri 2 Oct 07:00", "wms", "Dispatched 1 × Washing machine 8 kg + 1 × Tumble dryer, heat pump"),
    ("Fri 2 Oct 13:00", "contractor", "took over the goods"),
    ("Fri 2 Oct 14:00", "contractor", "booked delivery for Wed 7 Oct, 8–12"),
    ("Fri 2 Oct 14:10", "contacts", "We texted the customer"),
    ("Wed 7 Oct 12:00", "monitor", "[critical] Missed window"),
    ("Wed 7 Oct 14:00", "contacts", "The customer phoned"),
    ("Wed 7 Oct 16:00", "contractor", "The contractor moved the Wed 7 Oct 8–12 booking to Fri 9 Oct"),
    ("Thu 8 Oct 18:00", "contractor", "The contractor cancelled the Fri 9 Oct 8–12 booking 14 h before it started"),
    ("Thu 8 Oct 18:00", "monitor", "[high] Late cancellation"),
    ("Thu 8 Oct 19:30", "contractor", "booked delivery for Sat 21 Nov, 8–12"),
    ("Thu 8 Oct 19:30", "monitor", "[high] Rebooked too late"),
    ("Thu 8 Oct 20:30", "contacts", "The customer emailed"),
    ("Fri 9 Oct 09:00", "contacts", "The customer wrote on social media"),
    ("Fri 9 Oct 09:00", "monitor", "[high] High customer effort"),
    ("Sat 10 Oct 12:00", "contacts", "The customer came into the store"),
    ("Sat 10 Oct 12:40", "contractor", "booked delivery for Mon 12 Oct, 8–12"),
    ("Sat 10 Oct 12:40", "monitor", "[high] Double booking"),
    ("Sat 10 Oct 14:00", "wms", "Dispatched 1 × Washing machine 8 kg + 1 × Tumble dryer, heat pump"),
    ("Sat 10 Oct 14:00", "monitor", "[critical] Duplicate shipment"),
    ("Sat 10 Oct 22:00", "contractor", "took over the goods"),
    ("Sun 11 Oct 09:00", "contractor", "booked delivery for Tue 13 Oct, 8–12"),
    ("Mon 12 Oct 07:00", "contractor", "Out for delivery"),
    ("Mon 12 Oct 09:30", "contractor", "Delivered within the 8–12 window"),
    *[("Mon 12 Oct 09:30", "monitor", "Put right: ")] * 4,
    ("Tue 13 Oct 07:00", "contractor", "Out for delivery"),
    ("Tue 13 Oct 10:15", "contractor", "Delivered within the 8–12 window"),
    ("Wed 21 Oct 19:00", "monitor", "Outreach queued"),
]
PUT_RIGHT = {"Put right: missed window", "Put right: late cancellation", "Put right: rebooked too late",
             "Put right: double booking"}


def test_story_prints_the_heading_then_every_fact_in_plain_text_when_piped(published, founding):
    shown = cli("story", founding, "--db", str(published))
    assert shown.returncode == 0, shown.stderr
    assert not ANSI.search(shown.stdout), "no colour codes in a pipe"
    heading, _, timeline = shown.stdout.partition("\nTimeline")
    for label in ("Promised:", "Items:", "Booked:", "Open now:", "Effort:", "Outreach:", "Context:"):
        assert re.search(rf"^{label}", heading, re.M), label
    assert "1 × Washing machine 8 kg; 1 × Tumble dryer, heat pump" in heading
    assert re.search(r"^Promised:\s+Wed 7 Oct · ordered Thu 1 Oct 11:00", heading, re.M)
    assert re.search(r"^Booked:\s+Sat 21 Nov, 8–12", heading, re.M)
    assert re.search(r"^Open now:\s+duplicate_shipment \(critical\); high_effort_contact \(high\)$", heading, re.M)
    assert re.search(r"^Effort:\s+81/100 · 4 inbound contacts on phone, email, social, store", heading, re.M)
    lines = timeline.strip().splitlines()[1:]
    assert [line.split(maxsplit=5)[:5] for line in lines] == [[*when.split(), source]
                                                              for when, source, _ in FOUNDING_TIMELINE]
    for line, (_, _, says) in zip(lines, FOUNDING_TIMELINE):
        assert says in line, (line, says)
    assert {line.split(maxsplit=5)[5].split(" (")[0] for line in lines if "Put right" in line} == PUT_RIGHT


def test_story_json_tells_the_founding_story(published, founding, told):
    shown = cli("story", founding, "--db", str(published), "--json")
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)
    assert data["order_id"] == founding
    assert [(parse_as_of(r["happened_at"]), r["source"]) for r in data["timeline"]] == \
        [(parse_as_of(s["happened_at"]), s["source"]) for s in told[founding]]
    for row, (_, _, says) in zip(data["timeline"], FOUNDING_TIMELINE):
        assert says.split("] ")[-1] in row["summary"], (row, says)  # the severity mark is the text's
    assert {(e["exception_type"], e["severity"]) for e in data["open_exceptions"]} == {
        ("duplicate_shipment", "critical"), ("high_effort_contact", "high")}
    effort = data["effort"]
    assert (effort["effort_score"], effort["inbound_contacts"], effort["channels_used"], effort["handle_seconds"],
            effort["transfers"]) == (81, 4, ["phone", "email", "social", "store"], 4800, 1)
    assert data["outreach"]["priority"] == 85 and data["outreach"]["escalate"]
    assert FOUNDING_CONTEXT.match(data["outreach"]["context"]), data["outreach"]["context"]
    live = {b["booking_id"] for b in data["bookings"]}
    assert len(live) == 1, "the booking 45 days out is still live after both sets arrived"


def test_story_as_of_tells_it_up_to_then(published, told, founding):
    """Just after the customer wrote on social media: four exceptions open, nothing queued yet,
    effort 15 + 10 + 10 + 15 + 9 (45 min) = 59 after three contacts."""
    social = next(s for s in told[founding] if s["fact"] == "exception_opened" and s["key"] == "high_effort_contact")
    moment = parse_as_of(social["happened_at"]) + dt.timedelta(minutes=1)
    shown = cli("story", founding, "--db", str(published), "--json", "--as-of", moment.isoformat())
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)
    expected = [s for s in told[founding] if parse_as_of(s["happened_at"]) <= moment]
    assert len(data["timeline"]) == len(expected)
    assert {e["exception_type"] for e in data["open_exceptions"]} == {
        "missed_window", "late_cancellation", "excessive_rebook_delay", "high_effort_contact"}
    assert (data["effort"]["effort_score"], data["effort"]["inbound_contacts"]) == (59, 3)
    assert data["outreach"] is None


def test_story_of_an_unknown_order_is_a_one_line_error(published):
    shown = cli("story", "O-NO-SUCH", "--db", str(published))
    assert shown.returncode == 1
    assert len(shown.stderr.strip().splitlines()) == 1
    assert "O-NO-SUCH" in shown.stderr and "not in the database" in shown.stderr


def test_story_after_the_databases_t_is_a_one_line_error(published, founding):
    shown = cli("story", founding, "--db", str(published), "--as-of", "2099-01-01T00:00:00Z")
    assert shown.returncode == 1
    assert len(shown.stderr.strip().splitlines()) == 1 and "cannot know" in shown.stderr


def test_story_in_a_terminal_is_laid_out_by_rich(published, founding):
    from rich.console import Console

    with db.connect(published, read_only=True) as con:
        read = story.read(con, founding)
    screen = io.StringIO()
    story.render_rich(read, Console(file=screen, force_terminal=True, width=120, color_system="standard"))
    shown = screen.getvalue()
    assert ANSI.search(shown), "colour in a terminal"
    plain = re.sub(r"\x1b\[[0-9;]*m", "", shown)
    assert f"Order {founding}" in plain and "Open now" in plain and "Duplicate shipment" in plain


# --- the report's outreach carries the context -----------------------------------------------------

def test_the_report_and_its_csv_carry_each_cases_context(published, tmp_path, founding):
    own = Path(shutil.copy(published, tmp_path / published.name))
    report_command(db=own, as_of=None, out=tmp_path, send=False)
    with open(tmp_path / "outreach_queue.csv", newline="", encoding="utf-8") as handle:
        queue = list(csv.DictReader(handle))
    (mine,) = [r for r in queue if r["order_id"] == founding]
    assert FOUNDING_CONTEXT.match(mine["context"]), mine["context"]
    assert all(r["context"] for r in queue), "every case comes with its context"
    text = (tmp_path / "report.txt").read_text()
    html = (tmp_path / "report.html").read_text()
    for row in queue[:10]:  # the CSV is worst first, as the report's top ten
        assert row["context"] in text
        assert row["context"].replace("'", "&#39;") in html
