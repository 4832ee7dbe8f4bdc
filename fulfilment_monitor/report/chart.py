"""The trend chart: daily rates as lines, exceptions per day as bars, as a PNG (Agg, no display)."""
from __future__ import annotations

import io

import duckdb
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from fulfilment_monitor.report.period import Period
from fulfilment_monitor.report.queries import rows

DAYS = 14
LINES = (("on_time_rate", "on time", "#1f77b4"), ("promise_accuracy", "promise kept", "#2ca02c"),
         ("first_attempt_rate", "first attempt", "#9467bd"))


def trend(con: duckdb.DuckDBPyConnection, period: Period, days: int = DAYS) -> list[dict]:
    """The last `days` metric days up to the report date."""
    return rows(con, f"""
        SELECT metric_date, on_time_rate, promise_accuracy, first_attempt_rate, exceptions
        FROM marts.fct_daily_metrics
        WHERE metric_date BETWEEN $day - {int(days) - 1} AND $day
        ORDER BY metric_date""", {"day": period.report_date})


def png(points: list[dict]) -> bytes:
    # A Figure with its own Agg canvas: no pyplot global state, safe in a worker thread.
    figure = Figure(figsize=(9, 3.4), dpi=100)
    FigureCanvasAgg(figure)
    rates = figure.subplots()
    counts = rates.twinx()
    labels = [p["metric_date"].strftime("%d %b") for p in points]
    counts.bar(labels, [p["exceptions"] for p in points], color="#f2b8a2", label="exceptions (by day occurred)")
    for key, label, colour in LINES:
        values = [None if p[key] is None else 100 * p[key] for p in points]
        rates.plot(labels, [float("nan") if v is None else v for v in values], marker="o", color=colour, label=label)
    rates.set_zorder(counts.get_zorder() + 1)
    rates.patch.set_visible(False)
    rates.set_ylim(0, 105)
    rates.set_ylabel("% of the day's due")
    counts.set_ylabel("exceptions")
    counts.set_ylim(0, max([p["exceptions"] for p in points] + [4]) * 1.25)
    rates.tick_params(axis="x", labelsize=8, rotation=45)
    handles = rates.get_legend_handles_labels()[0] + counts.get_legend_handles_labels()[0]
    # above the axes, where it cannot hide a bar or a point
    rates.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 1.0), fontsize=8, ncols=4, frameon=False)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png", metadata={"Software": None})
    return out.getvalue()
