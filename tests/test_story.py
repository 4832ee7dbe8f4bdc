"""The order's story on a real published database: the founding story as the generator's truth
tells it, every feed row of every order in the timeline (nothing dropped, nothing invented), the
effort, the `story` command and the outreach context, and no customer data beyond a first name.

One generated landing zone and one real pipeline run (module fixture). Expected values come from
the generator's truth (truth/stories.csv, truth/exceptions.csv), from the feeds as loaded (raw.*;
the customers' names, emails and phones from the landing zone's files),
or from the founding story as scenarios/founding.py writes it by hand - never from the models.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import json
import re
from collections import defaultdict
from pathlib import Path

import pytest

from conftest import cli, landing_customers
from fulfilment_monitor import db, pipeline, story
from fulfilment_monitor.report import command as report_command
from fulfilment_monitor.settings import parse_as_of

FOUNDING_TYPES = {"missed_window", "late_cancellation", "excessive_rebook_delay", "high_effort_contact",
                  "double_booking", "duplicate_shipment"}
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.\w")  # an address (an order version's key, O1@2026-..., is none)
PHONE = re.compile(r"\+\d[\d ()-]{6,}")
ANSI = re.compile(r"\x1b\[")


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    from fulfilment_monitor.generate import generate

    out = tmp_path_factory.mktemp("story")
    generate(out, orders=400, days=21, seed=2026)
    published = out / "published" / "fulfilment.duckdb"
    pipeline.run(out / "landing", published)
    return out, published


@pytest.fixture(scope="module")
def published(generated) -> Path:
    return generated[1]


@pytest.fixture(scope="module")
def told(generated) -> dict[str, list[dict]]:
    """truth/stories.csv: each founding story's facts, in order."""
    with open(generated[0] / "truth" / "stories.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    stories = defaultdict(list)
    for row in rows:
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


def test_the_founding_story_has_its_six_exceptions(generated, published, told):
    with open(generated[0] / "truth" / "exceptions.csv", newline="") as handle:
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


def test_the_founding_story_context(published, told):
    for order_id in told:
        ((context,),) = select(published, "SELECT context FROM marts.fct_outreach_queue WHERE order_id = ?",
                               [order_id])
        assert re.match(r"Missed the 8–12 window on \w{3} \d+ \w{3}; the contractor cancelled the \w{3} \d+ \w{3} "
                        r"booking 14 h before it started; rebooked for .*, 45 days after the promised date; "
                        r"two bookings were live at once; the goods were dispatched twice\. \S+ has contacted us "
                        r"4 times on 4 channels \(phone, email, social media, in store\) since .*, 1 h 20 min with "
                        r"our agents, 1 transfer; effort so far 81/100\.$", context), context


# --- the timeline holds every row of the feeds -------------------------------------------------

FEED_KEYS = {
    # source, fact: the keys of every row loaded into raw, and the order each belongs to
    ("oms", "order_version"): """
        SELECT DISTINCT order_id, order_id || '@' || strftime(timezone('UTC', CAST(updated_at AS TIMESTAMPTZ)),
                                                             '%Y-%m-%dT%H:%M:%SZ')
        FROM raw.oms_orders WHERE CAST(updated_at AS TIMESTAMPTZ) <= $t""",
    ("oms", "order_line"): """
        SELECT DISTINCT order_id, order_id || '/' || line_no
        FROM raw.oms_order_lines WHERE CAST(updated_at AS TIMESTAMPTZ) <= $t""",
    ("wms", "shipment"): """
        SELECT DISTINCT order_id, shipment_id FROM raw.wms_shipments WHERE CAST(dispatched_at AS TIMESTAMPTZ) <= $t""",
    ("contractor", None): """
        SELECT DISTINCT order_id, event_id FROM raw.contractor_events WHERE CAST(occurred_at AS TIMESTAMPTZ) <= $t""",
    ("contacts", None): """
        SELECT DISTINCT order_id, contact_id FROM raw.contacts_contacts
        WHERE CAST(started_at AS TIMESTAMPTZ) <= $t AND order_id IS NOT NULL""",
}


def test_the_timeline_holds_every_feed_row_of_every_order_and_nothing_else(published):
    (t,), = select(published, "SELECT max(as_of) FROM audit.runs WHERE status = 'published'")
    for (source, fact), sql in FEED_KEYS.items():
        fed = set(select(published, sql, {"t": t}))
        told = set(select(published, f"""
            SELECT order_id, source_key FROM marts.fct_order_timeline
            WHERE source = '{source}' {f"AND fact = '{fact}'" if fact else ''}"""))
        if source == "contacts":  # a contact naming no order is told on the order it is attributed to
            unlinked = set(select(published, """
                SELECT t.order_id, t.source_key FROM marts.fct_order_timeline AS t
                JOIN raw.contacts_contacts AS r ON r.contact_id = t.source_key AND r.order_id IS NULL
                JOIN intermediate.int_orders AS o ON o.order_id = t.order_id AND o.customer_id = r.customer_id"""))
            assert unlinked, "some contact naming no order is attributed to its customer's order"
            told -= unlinked
        assert fed, (source, fact)
        assert not fed - told, f"{source} {fact}: dropped {sorted(fed - told)[:5]}"
        assert not told - fed, f"{source} {fact}: invented {sorted(told - fed)[:5]}"


def test_each_shipment_tells_every_line_it_carried(published):
    lines = select(published, """
        SELECT DISTINCT l.shipment_id, l.quantity || ' × ' || ol.description
        FROM raw.wms_shipment_lines AS l
        JOIN raw.wms_shipments AS s USING (shipment_id)
        JOIN staging.stg_oms__order_lines AS ol ON ol.order_id = s.order_id AND ol.line_no = CAST(l.line_no AS INTEGER)""")
    summaries = dict(select(published, "SELECT source_key, summary FROM marts.fct_order_timeline WHERE fact = 'shipment'"))
    assert lines
    for shipment_id, unit in lines:
        assert unit in summaries[shipment_id], (shipment_id, unit, summaries[shipment_id])


def test_what_the_monitor_tells_is_what_it_found(published):
    opened = select(published, "SELECT source_key FROM marts.fct_order_timeline WHERE fact = 'exception_opened' ORDER BY 1")
    resolved = select(published, "SELECT source_key FROM marts.fct_order_timeline WHERE fact = 'exception_resolved' ORDER BY 1")
    queued = select(published, "SELECT source_key FROM marts.fct_order_timeline WHERE fact = 'outreach_queued' ORDER BY 1")
    assert opened == select(published, "SELECT exception_id FROM marts.fct_fulfilment_exceptions "
                                       "WHERE order_id IS NOT NULL ORDER BY 1")
    assert resolved == select(published, "SELECT exception_id FROM marts.fct_fulfilment_exceptions "
                                         "WHERE order_id IS NOT NULL AND status = 'resolved' ORDER BY 1")
    assert queued == select(published, "SELECT case_id FROM marts.fct_outreach_queue ORDER BY 1")


# --- no customer data beyond a first name --------------------------------------------------------

def customers(generated) -> dict[str, tuple[str, list[str]]]:
    """customer_id -> (first name, [surname, email, phone, ...]: what must never be shown), from
    the landing zone's customers files."""
    found = {}
    for row in landing_customers(generated[0] / "landing"):
        first, _, surname = row["full_name"].strip().partition(" ")
        secret = found.setdefault(row["customer_id"], (first, []))[1]
        secret += [s for s in (surname, row["email"], row["phone"]) if s]
    return found


def leaks(text: str, secrets: list[str]) -> list[str]:
    found = [s for s in secrets if re.search(rf"(?<!\w){re.escape(s)}(?!\w)", text)]
    return found + (["an email address"] if EMAIL.search(text) else []) + (["a phone number"] if PHONE.search(text) else [])


def test_no_customer_data_in_the_timeline_or_the_context(generated, published):
    people = customers(generated)
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


def test_no_customer_data_in_the_story(generated, published, founding):
    ((customer_id,),) = select(published, "SELECT customer_id FROM intermediate.int_orders WHERE order_id = ?",
                               [founding])
    first, secrets = customers(generated)[customer_id]
    for args in ([], ["--json"]):
        shown = cli("story", founding, "--db", str(published), *args)
        assert shown.returncode == 0, shown.stderr
        assert not leaks(shown.stdout, secrets), leaks(shown.stdout, secrets)
        assert first in shown.stdout


# --- the story command ----------------------------------------------------------------------------

def test_story_prints_the_heading_then_every_fact_in_plain_text_when_piped(published, founding):
    shown = cli("story", founding, "--db", str(published))
    assert shown.returncode == 0, shown.stderr
    assert not ANSI.search(shown.stdout), "no colour codes in a pipe"
    heading, _, timeline = shown.stdout.partition("\nTimeline")
    for label in ("Promised:", "Items:", "Booked:", "Open now:", "Effort:", "Outreach:", "Context:"):
        assert re.search(rf"^{label}", heading, re.M), label
    assert "1 × Washing machine 8 kg; 1 × Tumble dryer, heat pump" in heading
    assert re.search(r"^Open now:\s+duplicate_shipment \(critical\); high_effort_contact \(high\)$", heading, re.M)
    assert re.search(r"^Effort:\s+81/100 · 4 inbound contacts on phone, email, social, store", heading, re.M)
    summaries = [s for (s,) in select(published, "SELECT summary FROM marts.fct_order_timeline WHERE order_id = ? "
                                                 "ORDER BY happened_at, fact_rank, source_key", [founding])]
    lines = timeline.strip().splitlines()[1:]
    assert len(lines) == len(summaries)
    for line, summary in zip(lines, summaries):
        assert line.endswith(summary), (line, summary)


def test_story_json_is_the_marts_story(published, founding):
    shown = cli("story", founding, "--db", str(published), "--json")
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)
    assert data["order_id"] == founding
    assert [r["summary"] for r in data["timeline"]] == [s for (s,) in select(
        published, "SELECT summary FROM marts.fct_order_timeline WHERE order_id = ? "
                   "ORDER BY happened_at, fact_rank, source_key", [founding])]
    assert {e["exception_type"] for e in data["open_exceptions"]} == {t for (t,) in select(
        published, "SELECT exception_type FROM marts.fct_fulfilment_exceptions WHERE order_id = ? AND status = 'open'",
        [founding])}
    effort = data["effort"]
    assert (effort["effort_score"], effort["inbound_contacts"], effort["channels_used"], effort["handle_seconds"],
            effort["transfers"]) == select(published, """
        SELECT effort_score, inbound_contacts, channels_used, handle_seconds, transfers
        FROM marts.fct_customer_effort WHERE order_id = ?""", [founding])[0]
    assert data["outreach"]["case_id"] == select(published, "SELECT case_id FROM marts.fct_outreach_queue "
                                                            "WHERE order_id = ?", [founding])[0][0]
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
    report_command(db=published, as_of=None, out=tmp_path, send=False)
    with open(tmp_path / "outreach_queue.csv", newline="", encoding="utf-8") as handle:
        rows = {r["case_id"]: r["context"] for r in csv.DictReader(handle)}
    assert rows == dict(select(published, "SELECT case_id, context FROM marts.fct_outreach_queue"))
    text = (tmp_path / "report.txt").read_text()
    html = (tmp_path / "report.html").read_text()
    for (context,) in select(published, "SELECT context FROM marts.fct_outreach_queue "
                                        "ORDER BY priority DESC, case_id LIMIT 10"):
        assert context in text
        assert context.replace("'", "&#39;") in html
