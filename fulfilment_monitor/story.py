"""`story ORDER_ID`: an order's story, readable at a glance, from the published database.

    python -m fulfilment_monitor story ORDER_ID [--db FILE] [--as-of TS] [--json]

A heading with what was promised (the promised date, the items, the bookings live now) and what
is open now (the open exceptions, the customer's effort, the outreach case and its context), then
the timeline: every fact of marts.fct_order_timeline in order. In a terminal the layout and colour
come from rich; piped, it is plain text, one fact a line; --json is for other tools.

Every sentence comes from the marts (words: dbt_project/macros/story_wording.sql); this module
only lays them out. The heading also reads staging (the order, its items, the customer's first
name and zone) and intermediate (the live bookings), and counts the customer's contacts, channels,
agent time and transfers from the timeline's contact facts (the effort score is the marts'). The story names the customer by first name only, and never shows an email
address or a phone number. Times are in the customer's zone when it is known, else UTC.

--as-of TS tells the story up to TS as the published database knows it (built at its run's T):
the facts that happened by TS, the exceptions open then and the effort after the last contact
by then. The outreach case exists at T only. A TS after T is an error: the database cannot know.
"""
from __future__ import annotations

import datetime as dt
import json
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb

from fulfilment_monitor import db as database
from fulfilment_monitor.errors import UserError
from fulfilment_monitor.feeds import SEVERITIES
from fulfilment_monitor.report.period import published_as_of
from fulfilment_monitor.report.queries import one, rows
from fulfilment_monitor.settings import iso

UTC = dt.timezone.utc


@dataclass
class Story:
    order_id: str
    as_of: dt.datetime
    database_as_of: dt.datetime
    first_name: str | None
    timezone: str | None
    order: dict  # the order's state at as_of (empty when its header had not arrived)
    items: list[dict]
    bookings: list[dict]  # live at as_of, each with its current window
    open_exceptions: list[dict]
    effort: dict
    outreach: dict | None  # the case queued at T (None before T or when there is none)
    timeline: list[dict] = field(default_factory=list)

    @property
    def zone(self) -> dt.tzinfo:
        return ZoneInfo(self.timezone) if self.timezone else UTC

    @property
    def zone_name(self) -> str:
        return self.timezone or "UTC"


def read(con: duckdb.DuckDBPyConnection, order_id: str, as_of: dt.datetime | None = None) -> Story:
    """The story of `order_id` up to `as_of` (default: the published run's T)."""
    known = published_as_of(con)
    if as_of is None:
        as_of = known
    elif as_of > known:
        raise UserError(f"--as-of {iso(as_of)} is after the database's T ({iso(known)}): it cannot know that yet")
    at = {"order_id": order_id, "as_of": as_of}
    timeline = rows(con, """
        SELECT happened_at, source, fact, source_key, summary, exception_type, severity, detected_at,
               channel, direction, handle_seconds, outcome, effort_score, booking_id
        FROM marts.fct_order_timeline
        WHERE order_id = $order_id AND happened_at <= $as_of
        ORDER BY happened_at, fact_rank, source_key""", at)
    if not timeline:
        if not one(con, "SELECT 1 AS found FROM marts.fct_order_timeline WHERE order_id = $order_id LIMIT 1",
                   {"order_id": order_id}):
            raise UserError(f"order {order_id!r} is not in the database (as of {iso(known)})")
        raise UserError(f"nothing was known about order {order_id!r} by {iso(as_of)}")
    order = one(con, """
        SELECT v.customer_id, v.sales_channel, v.store_id, v.placed_at, v.promised_date, v.order_status,
               c.first_name, c.timezone
        FROM staging.stg_oms__order_versions AS v
        LEFT JOIN staging.stg_oms__customers AS c USING (customer_id)
        WHERE v.order_id = $order_id AND v.valid_from <= $as_of
        ORDER BY v.valid_from DESC LIMIT 1""", at)
    first_name, timezone = order.pop("first_name", None), order.pop("timezone", None)
    return Story(
        order_id=order_id, as_of=as_of, database_as_of=known, first_name=first_name, timezone=timezone,
        order=order, items=_items(con, at), bookings=_live_bookings(con, at),
        open_exceptions=_open_exceptions(timeline), effort=_effort(timeline),
        outreach=_outreach(con, order_id) if as_of == known else None, timeline=timeline)


def _items(con, at: dict) -> list[dict]:
    return rows(con, """
        SELECT line_no, quantity, description, fulfilment_type
        FROM staging.stg_oms__order_lines
        WHERE order_id = $order_id AND updated_at <= $as_of
        ORDER BY line_no""", at)


def _live_bookings(con, at: dict) -> list[dict]:
    """Bookings active at as_of (int_bookings) with their current version then."""
    return rows(con, """
        SELECT b.booking_id, b.contractor_id, v.version_no, v.window_start, v.window_end,
               v.window_start_local, v.window_end_local
        FROM intermediate.int_bookings AS b
        JOIN intermediate.int_booking_versions AS v USING (booking_id)
        WHERE b.order_id = $order_id AND b.created_at <= $as_of
          AND (b.active_until IS NULL OR b.active_until > $as_of) AND v.started_at <= $as_of
        QUALIFY row_number() OVER (PARTITION BY b.booking_id ORDER BY v.version_no DESC) = 1
        ORDER BY v.window_start, b.booking_id""", at)


def _open_exceptions(timeline: list[dict]) -> list[dict]:
    """Exceptions opened by as_of and not put right by then, worst first."""
    put_right = {r["source_key"] for r in timeline if r["fact"] == "exception_resolved"}
    opened = [r for r in timeline if r["fact"] == "exception_opened" and r["source_key"] not in put_right]
    rank = {severity: position for position, severity in enumerate(SEVERITIES)}
    return [{"exception_id": r["source_key"], "exception_type": r["exception_type"], "severity": r["severity"],
             "opened_at": r["happened_at"], "detected_at": r["detected_at"], "summary": r["summary"]}
            for r in sorted(opened, key=lambda r: rank.get(r["severity"], len(rank)))]


def _effort(timeline: list[dict]) -> dict:
    """The effort score after the last contact by as_of (the marts' one definition), and what the
    customer did: their inbound contacts, channels, agent time and transfers."""
    contacts = [r for r in timeline if r["fact"] == "contact"]
    inbound = [r for r in contacts if r["direction"] == "inbound"]
    channels = list(dict.fromkeys(r["channel"] for r in inbound))
    return {"effort_score": contacts[-1]["effort_score"] if contacts else 0,
            "inbound_contacts": len(inbound), "channels_used": channels,
            "handle_seconds": sum(r["handle_seconds"] or 0 for r in inbound),
            "transfers": sum(r["outcome"] == "transferred" for r in contacts),
            "first_contact_at": inbound[0]["happened_at"] if inbound else None}


def _outreach(con, order_id: str) -> dict | None:
    found = one(con, """
        SELECT case_id, priority, channel, fallback_channels, send_after, escalate, suppressed_reason, context
        FROM marts.fct_outreach_queue WHERE order_id = $order_id
        ORDER BY priority DESC, case_id LIMIT 1""", {"order_id": order_id})
    return found or None


# --- output -----------------------------------------------------------------------------------

def as_json(story: Story) -> str:
    """The story for other tools: instants as ISO 8601 UTC, dates as YYYY-MM-DD."""
    def plain(value):
        if isinstance(value, dt.datetime):
            return iso(value) if value.tzinfo else value.isoformat()
        if isinstance(value, dt.date):
            return value.isoformat()
        return value
    data = asdict(story)
    return json.dumps(data, default=plain, ensure_ascii=False, indent=2)


def _local(story: Story, moment: dt.datetime | None) -> str:
    if moment is None:
        return "–"
    at = moment.astimezone(story.zone)
    return f"{at:%a} {at.day} {at:%b %H:%M}"


def _day(day: dt.date | None) -> str:
    return "–" if day is None else f"{day:%a} {day.day} {day:%b}"


def _hour(moment: dt.datetime) -> str:
    return f"{moment.hour}" if moment.minute == 0 else f"{moment.hour}:{moment.minute:02d}"


def _window(story: Story, booking: dict) -> str:
    """A live booking's window on the customer's wall clock (as the contractor wrote it when the
    customer's zone is unknown)."""
    if booking["window_start"] is None:
        return f"booking {booking['booking_id']} (no window)"
    if story.timezone:
        start, end = booking["window_start"].astimezone(story.zone), booking["window_end"].astimezone(story.zone)
    else:
        start, end = booking["window_start_local"], booking["window_end_local"]
    return f"{_day(start.date())}, {_hour(start)}–{_hour(end)} ({booking['booking_id']})"


def _count(n: int, thing: str) -> str:
    return f"{n} {thing}" + ("" if n == 1 else "s")


def _agent_time(seconds: int) -> str:
    hours, minutes = divmod(seconds // 60, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def heading(story: Story) -> list[tuple[str, str]]:
    """(label, text) lines of the heading: what was promised, what is open now."""
    o = story.order
    status = o.get("order_status")
    where = " ".join(filter(None, [o.get("sales_channel"), o.get("store_id")]))
    promised = (f"{_day(o.get('promised_date'))} · ordered {_local(story, o.get('placed_at'))}"
                f"{f' ({where})' if where else ''} · order {status or 'not in the OMS yet'}")
    lines = [("Promised", promised),
             ("Items", "; ".join(f"{i['quantity']} × {i['description']}" for i in story.items) or "–"),
             ("Booked", "; ".join(_window(story, b) for b in story.bookings) or "nothing booked")]
    opened = story.open_exceptions
    lines.append(("Open now", "; ".join(f"{e['exception_type']} ({e['severity']})" for e in opened) or "nothing"))
    e = story.effort
    if e["inbound_contacts"] or e["transfers"]:
        effort = (f"{e['effort_score']}/100 · {_count(e['inbound_contacts'], 'inbound contact')} on "
                  f"{', '.join(e['channels_used']) or '–'} · {_agent_time(e['handle_seconds'])} with agents"
                  f" · {_count(e['transfers'], 'transfer')} · first {_local(story, e['first_contact_at'])}")
    else:
        effort = f"{e['effort_score']}/100 · the customer has not contacted us"
    lines.append(("Effort", effort))
    if story.outreach:
        q = story.outreach
        status = "escalate to a person" if q["escalate"] else ""
        held = f"held: {q['suppressed_reason']}" if q["suppressed_reason"] else ""
        lines.append(("Outreach", " · ".join(filter(None, [
            f"priority {q['priority']}", f"{q['channel'] or 'no channel'} from {_local(story, q['send_after'])}",
            held, status]))))
        lines.append(("Context", q["context"] or "–"))
    return lines


def title(story: Story) -> str:
    who = f" · {story.first_name}" if story.first_name else ""
    return f"Order {story.order_id}{who} · as of {_local(story, story.as_of)} ({story.zone_name})"


def as_text(story: Story) -> str:
    """Plain text: the heading, then one fact a line (for pipes, files and grep)."""
    out = [title(story), ""]
    out += [f"{label + ':':<10} {text}" for label, text in heading(story)]
    out += ["", f"Timeline ({story.zone_name})"]
    for r in story.timeline:
        out.append(f"{_local(story, r['happened_at']):<17} {r['source']:<11}{_mark(r)}{r['summary']}")
    return "\n".join(out) + "\n"


def _mark(row: dict) -> str:
    if row["fact"] == "exception_opened":
        return f"[{row['severity']}] "
    return ""


STYLES = {"oms": "blue", "wms": "cyan", "contractor": "yellow", "contacts": "magenta", "monitor": "bold"}
FACT_STYLES = {"exception_opened": "bold red", "exception_resolved": "green", "outreach_queued": "bold magenta"}
SEVERITY_STYLES = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "dim"}


def render_rich(story: Story, console) -> None:
    """The same story laid out for a terminal: a panel for the heading, a table for the timeline."""
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    head = Table.grid(padding=(0, 2))
    head.add_column(style="bold", no_wrap=True)
    head.add_column()
    for label, text in heading(story):
        if label == "Open now" and story.open_exceptions:
            value = Text("; ").join(Text(f"{e['exception_type']} ({e['severity']})",
                                         style=SEVERITY_STYLES.get(e["severity"], ""))
                                    for e in story.open_exceptions)
        else:
            value = Text(text, style="italic" if label == "Context" else "")
        head.add_row(label, value)
    console.print(Panel(head, title=title(story), title_align="left", border_style="blue"))
    timeline = Table(box=None, show_edge=False, pad_edge=False, header_style="bold")
    timeline.add_column("when", no_wrap=True, style="dim")
    timeline.add_column("from", no_wrap=True)
    timeline.add_column("what")
    for r in story.timeline:
        style = FACT_STYLES.get(r["fact"], "")
        timeline.add_row(_local(story, r["happened_at"]), Text(r["source"], style=STYLES.get(r["source"], "")),
                         Text(_mark(r) + r["summary"], style=style))
    console.print(timeline)


def command(order_id: str, db: Path, as_of: dt.datetime | None, as_json_output: bool, out=None) -> None:
    """Print the story of `order_id` from the published database `db`."""
    if as_of is not None and as_of.tzinfo is None:
        raise UserError(f"--as-of {as_of} has no time zone")
    with database.connect(Path(db), read_only=True) as con:
        story = read(con, order_id, as_of)
    out = out or sys.stdout
    if as_json_output:
        out.write(as_json(story) + "\n")
        return
    from rich.console import Console

    console = Console(file=out)
    if console.is_terminal:
        render_rich(story, console)
    else:
        out.write(as_text(story))
