"""The report's two faces, HTML and plain text, from one context and two Jinja2 templates."""
from __future__ import annotations

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from fulfilment_monitor.settings import TEMPLATES


def pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def ratio(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def delta(day: float | None, week: float | None) -> str:
    """Percentage points the day moved against the week ('' when either is missing)."""
    if day is None or week is None:
        return ""
    return f"{100 * (day - week):+.1f} pt"


def _environment(html: bool) -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined,
                      autoescape=select_autoescape(["html.j2"]) if html else False,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters.update(pct=pct, ratio=ratio)
    env.globals.update(delta=delta)
    return env


def html(context: dict, image_src: str) -> str:
    """`image_src`: cid:... in the email, the PNG's file name beside report.html."""
    return _environment(True).get_template("report.html.j2").render(**context, image_src=image_src)


def text(context: dict) -> str:
    return _environment(False).get_template("report.txt.j2").render(**context)
