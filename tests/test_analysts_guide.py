"""Every query of the analysts' guide (docs/analysts.md) answers its question on the published sample.

Each documented query runs as written, and its result is compared with the answer worked out
here in Python from the tables it reads (or the seed file, or the generator's truth), so a query
that runs but answers wrongly fails.
"""
from __future__ import annotations

import csv
import datetime as dt
import re
import textwrap
from collections import Counter, defaultdict

import pytest

from conftest import REPO
from fulfilment_monitor import db

WEEK = dt.timedelta(days=7)
RANK = {"critical": 1, "high": 2, "medium": 3}


def documented_queries() -> dict[str, str]:
    """The SQL blocks of the guide by the question (bold) above them; 'Severity' for the first."""
    text = (REPO / "docs" / "analysts.md").read_text()
    found, question = {}, "Severity"
    for match in re.finditer(r"^\*\*(.+?)\*\*|(?:^    .*\n?)+", text, flags=re.M):
        if match.group(1):
            question = match.group(1)
            continue
        query = textwrap.dedent(match.group(0)).strip()
        if query.split(None, 1)[0].upper() in ("SELECT", "WITH", "SET"):
            assert question not in found, f"two queries under {question!r}"
            found[question] = query
    return found


QUERIES = documented_queries()


def rows_of(con, sql: str, params: list | None = None) -> list[dict]:
    cursor = con.execute(sql, params or [])
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row)) for row in cursor.fetchall()]


def answer(con, query: str) -> list[dict]:
    """The guide's query as an analyst runs it: every statement in turn, the last one's rows."""
    statements = [s for s in query.split(";") if s.strip()]
    for statement in statements[:-1]:
        con.execute(statement).fetchall()
    return rows_of(con, statements[-1])


@pytest.fixture(scope="module")
def con(sample_run):
    with db.connect(sample_run[1], read_only=True) as connection:
        yield connection


@pytest.fixture(scope="module")
def as_of(con) -> dt.datetime:
    return con.execute("SELECT max(as_of) FROM audit.runs WHERE status = 'published'").fetchall()[0][0]


@pytest.fixture(scope="module")
def exceptions(con) -> list[dict]:
    return rows_of(con, "SELECT * FROM marts.fct_fulfilment_exceptions")


def test_the_guide_documents_the_questions_checked_here():
    assert set(QUERIES) == set(CHECKS)


def check_severity(con, rows, **_):
    with open(REPO / "dbt_project" / "seeds" / "severity_map.csv", newline="") as handle:
        seed = list(csv.DictReader(handle))
    shown = [{k: "" if v is None else str(v).lower() if isinstance(v, bool) else str(v) for k, v in r.items()}
             for r in rows]
    assert sorted(map(repr, shown)) == sorted(map(repr, seed))


def check_open_worst_first(con, rows, exceptions, **_):
    key = ("exception_type", "exception_subtype", "order_id", "occurred_at", "evidence")
    expected = [tuple(e[k] for k in key) for e in exceptions if e["status"] == "open"]
    assert expected and sorted(map(repr, (tuple(r[k] for k in key) for r in rows))) == sorted(map(repr, expected))
    order = [(RANK.get(r["severity"], 4), r["occurred_at"]) for r in rows]
    assert order == sorted(order)


def check_by_contractor_this_week(con, rows, exceptions, as_of, **_):
    expected = Counter((e["contractor_id"], e["exception_type"]) for e in exceptions
                       if e["status"] == "open" and e["contractor_id"] and e["occurred_at"] >= as_of - WEEK)
    assert expected, "the sample has open exceptions of contractors in its last week"
    assert {(r["contractor_id"], r["exception_type"]): r["open_exceptions"] for r in rows} == expected
    counts = [r["open_exceptions"] for r in rows]
    assert counts == sorted(counts, reverse=True)


def check_three_contacts(con, rows, as_of, **_):
    contacts = rows_of(con, "SELECT * FROM intermediate.int_contacts_attributed")
    per_customer = Counter((c["customer_id"], c["attributed_order_id"]) for c in contacts
                           if c["direction"] == "inbound" and c["started_at"] >= as_of - WEEK)
    expected = {key: n for key, n in per_customer.items() if n >= 3}
    assert {(r["customer_id"], r["order_id"]): r["inbound_contacts"] for r in rows} == expected


def check_found_first_last_night(con, rows, exceptions, as_of, **_):
    expected = Counter(e["exception_type"] for e in exceptions if e["first_detected_at"] == as_of)
    assert expected and {r["exception_type"]: r["count_star()"] for r in rows} == expected


def the_guides_order(con, sample) -> str:
    """The order the story questions are about: set by the first, the founding story's."""
    order = re.search(r"order_id = '(\w+)'", QUERIES["Tell me the story of this order"]).group(1)
    with open(sample / "truth" / "stories.csv", newline="") as handle:
        assert {r["order_id"] for r in csv.DictReader(handle)} == {order}, "the guide tells the founding story"
    con.execute("SET VARIABLE order_id = ?", [order])
    return order


def timeline(con, order: str, where: str = "true") -> list[dict]:
    return sorted(rows_of(con, f"SELECT * FROM marts.fct_order_timeline WHERE order_id = ? AND {where}", [order]),
                  key=lambda r: (r["happened_at"], r["fact_rank"], r["source_key"]))


def check_story(con, rows, sample, **_):
    facts = timeline(con, the_guides_order(con, sample))
    assert rows == [{k: f[k] for k in ("happened_at", "source", "summary")} for f in facts]
    assert {f["source"] for f in facts} >= {"oms", "wms", "contractor", "contacts"}


def check_customer_did(con, rows, sample, **_):
    order = the_guides_order(con, sample)
    contacts = timeline(con, order, "fact = 'contact'")
    assert [r["summary"] for r in rows] == [c["summary"] for c in contacts]
    assert len(rows) == con.execute("SELECT count(*) FROM intermediate.int_contacts_attributed "
                                    "WHERE attributed_order_id = ?", [order]).fetchall()[0][0] > 0


def check_chased_hardest(con, rows, **_):
    effort = [e for e in rows_of(con, "SELECT * FROM marts.fct_customer_effort") if e["inbound_contacts"] > 0]
    ranked = sorted(effort, key=lambda e: (-e["effort_score"], -e["days_since_first_contact"]))[:20]
    assert [(r["effort_score"], r["days_since_first_contact"]) for r in rows] == \
        [(e["effort_score"], e["days_since_first_contact"]) for e in ranked]
    assert {(r["customer_id"], r["order_id"]) for r in rows} <= {(e["customer_id"], e["order_id"]) for e in effort}


def check_three_channels(con, rows, **_):
    effort = rows_of(con, "SELECT * FROM marts.fct_customer_effort WHERE channel_count >= 3")
    assert {(r["customer_id"], r["order_id"]) for r in rows} == {(e["customer_id"], e["order_id"]) for e in effort}
    assert rows and [r["effort_score"] for r in rows] == sorted((r["effort_score"] for r in rows), reverse=True)


def check_bookings_moved(con, rows, sample, **_):
    order = the_guides_order(con, sample)
    kinds = ("booking_created", "booking_rescheduled", "booking_cancelled")
    events = con.execute("SELECT count(*) FROM staging.stg_contractor__events WHERE order_id = ? "
                         "AND event_type IN (SELECT unnest(?))", [order, list(kinds)]).fetchall()[0][0]
    assert len(rows) >= events > 0, "every booking event of the story is there"
    assert [r["happened_at"] for r in rows] == sorted(r["happened_at"] for r in rows)
    assert any(r["changed_by"] == "contractor" for r in rows), "the contractor moved and cancelled it"


def check_time_to_notice(con, rows, **_):
    opened = rows_of(con, "SELECT * FROM marts.fct_order_timeline WHERE fact = 'exception_opened'")
    put_right = {r["source_key"]: r["happened_at"]
                 for r in rows_of(con, "SELECT * FROM marts.fct_order_timeline WHERE fact = 'exception_resolved'")}
    assert len(rows) == len(opened) > 0
    expected = Counter((o["exception_type"], o["detected_at"] - o["happened_at"],
                        put_right[o["source_key"]] - o["happened_at"] if o["source_key"] in put_right else None)
                       for o in opened)
    assert Counter((r["exception_type"], r["time_to_notice"], r["time_to_put_right"]) for r in rows) == expected


def check_agent_sees(con, rows, **_):
    queue = sorted(rows_of(con, "SELECT * FROM marts.fct_outreach_queue"), key=lambda c: -c["priority"])
    assert [r["priority"] for r in rows] == [c["priority"] for c in queue[:10]]
    assert all(r["context"] for r in rows), "every case comes with its context"


def check_contacts_without_order(con, rows, **_):
    inferred = rows_of(con, "SELECT contact_id, attributed_order_id FROM intermediate.int_contacts_attributed "
                            "WHERE attribution = 'inferred'")
    assert Counter(r["order_id"] for r in rows) == Counter(c["attributed_order_id"] for c in inferred)
    assert inferred, "the sample has contacts without an order"


def check_evolution(con, rows, **_):
    assert rows == [], "the guide's placeholder id matches nothing"
    history = rows_of(con, "SELECT * FROM marts.exception_history")
    some_id = history[0]["exception_id"]
    mine = answer(con, QUERIES["How did an exception evolve over the nights?"].replace("…", some_id))
    expected = sorted(((h["detected_at"], h["status"], h["severity"]) for h in history
                       if h["exception_id"] == some_id))
    assert [(r["detected_at"], r["status"], r["severity"]) for r in mine] == expected


def check_disproved(con, rows, **_):
    current = {r["exception_id"] for r in rows_of(con, "SELECT exception_id FROM marts.fct_fulfilment_exceptions")}
    seen = defaultdict(list)
    for h in rows_of(con, "SELECT * FROM marts.exception_history"):
        if h["exception_id"] not in current:
            seen[(h["exception_type"], h["exception_key"])].append(h["detected_at"])
    expected = {key: (min(times), max(times)) for key, times in seen.items()}
    assert {(r["exception_type"], r["exception_key"]): (r["first_seen"], r["last_seen"]) for r in rows} == expected


def check_quarantine(con, rows, sample, **_):
    expected = Counter((q["source"], q["extract_date"], q["file"], q["reason"])
                       for q in rows_of(con, "SELECT * FROM quarantine.rows"))
    assert {(r["source"], r["extract_date"], r["file"], r["reason"]): r["rows"] for r in rows} == expected
    with open(sample / "truth" / "quarantine.csv", newline="") as handle:
        assert sum(expected.values()) == len(list(csv.DictReader(handle))) > 0
    dates = [r["extract_date"] for r in rows]
    assert dates == sorted(dates, reverse=True)


def check_drops(con, rows, **_):
    drops = rows_of(con, "SELECT * FROM audit.drops")
    expected = [(d["source"], d["extract_date"]) for d in drops
                if d["status"] != "loaded" or d["recorded_at"].date() > d["extract_date"] + dt.timedelta(days=1)]
    assert sorted((r["source"], r["extract_date"]) for r in rows) == sorted(expected)


def check_releases(con, rows, **_):
    drops = {(d["source"], d["extract_date"], d["checksum"]): d for d in rows_of(con, "SELECT * FROM audit.drops")}
    expected = [(r["source"], r["extract_date"], r["released_by"], r["reason"], drops[key]["status"])
                for r in rows_of(con, "SELECT * FROM audit.releases")
                if (key := (r["source"], r["extract_date"], r["checksum"])) in drops]
    assert sorted((r["source"], r["extract_date"], r["released_by"], r["reason"], r["status"]) for r in rows) \
        == sorted(expected)


def check_daily_metrics(con, rows, **_):
    days = sorted(rows_of(con, "SELECT * FROM marts.fct_daily_metrics"), key=lambda d: d["metric_date"], reverse=True)
    assert len(rows) == min(14, len(days)) > 0
    for row, day in zip(rows, days):
        assert row == {k: day[k] for k in row}
        due, on_time = day["windows_due"], day["windows_on_time"]
        assert row["on_time_rate"] == (pytest.approx(on_time / due) if due else None)


def check_contractors(con, rows, **_):
    cards = rows_of(con, "SELECT * FROM marts.fct_contractor_scorecard")
    last = max(c["metric_date"] for c in cards)
    totals = defaultdict(Counter)
    for c in cards:
        if c["metric_date"] > last - dt.timedelta(days=7):
            totals[c["contractor_id"]].update({k: c[k] for k in (
                "windows_on_time", "windows_due", "first_attempts_delivered", "first_attempts", "exceptions")})
    assert {r["contractor_id"] for r in rows} == set(totals)
    for r in rows:
        t = totals[r["contractor_id"]]
        assert r["on_time_rate"] == (pytest.approx(t["windows_on_time"] / t["windows_due"]) if t["windows_due"] else None)
        assert r["exceptions"] == t["exceptions"]
    rates = [r["on_time_rate"] for r in rows if r["on_time_rate"] is not None]
    assert rates == sorted(rates)


def check_warehouses(con, rows, **_):
    due, on_time = Counter(), Counter()
    for w in rows_of(con, "SELECT * FROM marts.fct_warehouse_scorecard"):
        due[w["warehouse_id"]] += w["handoffs_due"]
        on_time[w["warehouse_id"]] += w["handoffs_on_time"]
    assert {r["warehouse_id"]: (r["due"], r["on_time"]) for r in rows} == {w: (due[w], on_time[w]) for w in due}
    assert any(due[w] > on_time[w] for w in due), "the sample has stalled handoffs"


def check_marketing(con, rows, **_):
    table = rows_of(con, "SELECT * FROM marts.fct_marketing_during_exceptions")
    assert sorted(map(repr, rows)) == sorted(map(repr, table))


CHECKS = {
    "Severity": check_severity,
    "What is open right now, worst first?": check_open_worst_first,
    "Open exceptions by contractor this week": check_by_contractor_this_week,
    "Customers who contacted us three times or more in a week": check_three_contacts,
    "What was found last night for the first time?": check_found_first_last_night,
    "Tell me the story of this order": check_story,
    "What has the customer already done about it, and what did it cost them?": check_customer_did,
    "Who has had to chase us hardest?": check_chased_hardest,
    "Who had to try three channels or more?": check_three_channels,
    "Who moved or cancelled this order's bookings, and when?": check_bookings_moved,
    "How long did we take to notice each broken promise, and to put it right?": check_time_to_notice,
    "What will the agent who contacts the customer see?": check_agent_sees,
    "Whose contacts did we get without an order, and which order did they land on?": check_contacts_without_order,
    "How did an exception evolve over the nights?": check_evolution,
    "Exceptions that later data disproved": check_disproved,
    "What did the last drops reject, and why?": check_quarantine,
    "Which drops were rejected whole, held for review, or are late?": check_drops,
    "Which held drops did ops release, who, when and why?": check_releases,
    "On-time, promise accuracy, first attempt and contact rate, last two weeks": check_daily_metrics,
    "Contractors ranked by on-time rate over the last 7 days": check_contractors,
    "Warehouses whose goods were not handed over in time": check_warehouses,
    "Marketing that reached customers while they had an open exception": check_marketing,
}


@pytest.mark.parametrize("question", sorted(CHECKS))
def test_each_query_answers_its_question(question, con, as_of, exceptions, sample_run):
    rows = answer(con, QUERIES[question])
    CHECKS[question](con, rows, exceptions=exceptions, as_of=as_of, sample=sample_run[0])
