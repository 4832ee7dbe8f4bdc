"""fulfilment_nightly: load each source's drops, build + validate + publish, send the report.

One run per extract date D, D being the run's logical date: it runs at 03:00 UTC the
morning after D (when D's drops have landed), loads the complete drops extracted on or
before D and evaluates the rules at T = the end of D. Nothing reads the wall clock, so
rerunning, clearing or backfilling a date gives what its nightly run gave.

    ingest_oms ─────────┐
    ingest_wms ─────────┤
    ingest_contractor ──┼──► transform (dbt build, mart validation, publish) ──► report
    ingest_contacts ────┘

Thin by design: each task is one call into fulfilment_monitor.nightly, which also runs
without Airflow (`python -m fulfilment_monitor.nightly --help`).
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from airflow.providers.smtp.notifications.smtp import SmtpNotifier
from airflow.sdk import CronDataIntervalTimetable, Variable, dag, task
from airflow.sdk.exceptions import AirflowFailException

from fulfilment_monitor import settings
from fulfilment_monitor.feeds import SOURCES

# Names the task and the reason; sent once a task has failed for good (not on each retry).
failure_alert = SmtpNotifier(
    smtp_conn_id=settings.SMTP_CONN_ID,
    from_email=settings.alert_sender(),
    to=settings.alert_recipients(),
    subject="[fulfilment_monitor] {{ ti.dag_id }}.{{ ti.task_id }} failed for {{ ds }}",
    html_content=(
        "<p>Task <b>{{ ti.task_id }}</b> of <b>{{ ti.dag_id }}</b> failed for extract date {{ ds }}"
        " (run {{ ti.run_id }}, try {{ ti.try_number }}).</p>"
        "<p>Reason: {{ exception | string | e }}</p>"
        "<p>Log: <a href=\"{{ ti.log_url }}\">{{ ti.log_url }}</a></p>"),
)


def _paths():
    """Landing zone and published database: Airflow Variable, else environment, else defaults."""
    return (settings.landing(Variable.get(settings.LANDING_VARIABLE, default=None)),
            settings.database(Variable.get(settings.DB_VARIABLE, default=None)))


def _in_one_line(step, *args, **kwargs):
    """Run one step as the command line runs it: any failure is one line (errors.in_one_line), which
    the alert shows as the reason, no traceback, no data. A rejected drop stays rejected whatever
    the retry: it fails the task now, no retries."""
    from fulfilment_monitor.errors import DropRejected, in_one_line

    try:
        with in_one_line():
            return step(*args, **kwargs)
    except DropRejected as exc:
        raise AirflowFailException(str(exc)) from None


@task(pool=settings.WRITER_POOL, execution_timeout=timedelta(hours=1))
def ingest(source: str, logical_date=None) -> dict:
    from fulfilment_monitor import nightly

    landing, db = _paths()
    return _in_one_line(nightly.ingest, source, logical_date, landing, db)


@task(pool=settings.WRITER_POOL, execution_timeout=timedelta(hours=2))
def transform(logical_date=None) -> dict:
    from fulfilment_monitor import nightly

    _, db = _paths()
    return _in_one_line(nightly.transform, logical_date, db)


def _smtp_settings() -> dict:
    """The `smtp_default` connection as explicit SMTP settings for the report's sender."""
    from airflow.sdk import BaseHook

    conn = BaseHook.get_connection(settings.SMTP_CONN_ID)
    extra = conn.extra_dejson
    return {"host": conn.host, "port": conn.port, "user": conn.login or None, "password": conn.password or None,
            "sender": extra.get("from_email"), "starttls": not extra.get("disable_tls", False),
            "ssl": not extra.get("disable_ssl", False), "timeout": int(extra.get("timeout", 30))}


@task(execution_timeout=timedelta(minutes=30))
def report(logical_date=None) -> dict:
    from fulfilment_monitor import nightly

    _, db = _paths()
    return _in_one_line(nightly.report, logical_date, db, out=nightly.reports_path(db), send=True,
                        smtp=_smtp_settings())


@dag(
    dag_id="fulfilment_nightly",
    schedule=CronDataIntervalTimetable("0 3 * * *", timezone="UTC"),
    start_date=datetime(2026, 10, 1, tzinfo=timezone.utc),
    catchup=False,  # history is filled on purpose, with `airflow backfill create`
    max_active_runs=1,  # runs (backfills too) go one date after the other
    default_args={
        "retries": 3,
        "retry_delay": settings.retry_delay(),  # then doubling up to 20 minutes
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": timedelta(minutes=20),
        "on_failure_callback": failure_alert,
    },
    tags=["fulfilment_monitor"],
    doc_md=__doc__,
)
def fulfilment_nightly():
    loaded = [ingest.override(task_id=f"ingest_{source}")(source) for source in SOURCES]
    published = transform()
    loaded >> published
    published >> report()


fulfilment_nightly()
