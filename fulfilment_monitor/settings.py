"""The one configuration module: every setting, with its environment variable and its default.

Nothing else in the package (nor the DAG) reads the environment: the rest asks here, at call
time, so a changed variable counts from the next call. The README's table of settings is
`SETTINGS` (a test keeps the two equal). The exception catalogue's thresholds are dbt vars
(dbt_project/dbt_project.yml), not settings.

Two kinds of place:

- what the package reads (the dbt project and models, the expectation suites, the report's
  templates) travels with the installed package and is found through it (`RESOURCES`);
- the data it works on (landing zone, published database, Airflow's home, the DAG folder) is
  under one root, `$FULFILMENT_ROOT`, by default the current directory (the repository's
  folder for `make run` and the tests).

Also here: how a run's reference time T is read, and the work and private databases' names.
"""
from __future__ import annotations

import datetime as dt
import grp
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from importlib import resources
from pathlib import Path

from fulfilment_monitor.errors import UserError


@dataclass(frozen=True)
class Setting:
    env: str  # the environment variable
    default: str  # as a person reads it
    meaning: str


def _s(env: str, default: str, meaning: str) -> Setting:
    return Setting(env, default, meaning)


ROOT_SETTING = _s("FULFILMENT_ROOT", "the current directory",
                  "where `data/`, `dags/` and `airflow_home/` are")
LANDING = _s("FULFILMENT_LANDING", "`data/sample/landing`",
             "landing zone read by `run` and the DAG (also an Airflow Variable of that name, which wins)")
DB = _s("FULFILMENT_DB", "`data/fulfilment.duckdb`",
        "the published database (also an Airflow Variable of that name, which wins)")
DBT_THREADS = _s("FULFILMENT_DBT_THREADS", "2", "threads of the dbt build")
DUCKDB_MEMORY_LIMIT = _s("FULFILMENT_DUCKDB_MEMORY_LIMIT", "60% of the machine's memory",
                         "memory each DuckDB connection may hold (`12GB`, `800MB`); beyond it DuckDB spills to disk")
DUCKDB_THREADS = _s("FULFILMENT_DUCKDB_THREADS", "the machine's cores", "threads of each DuckDB query")
DUCKDB_TEMP_DIR = _s("FULFILMENT_DUCKDB_TEMP_DIR", "`<database>.tmp` beside each database",
                     "where DuckDB spills what does not fit in its memory limit")
ENGINE = _s("FULFILMENT_ENGINE", "duckdb",
            "`spark`: the models are built by Apache Spark from the lake beside the work database "
            "(needs `pip install -e '.[spark]'` and Java 17), then published as the same DuckDB database")
SPARK_MASTER = _s("FULFILMENT_SPARK_MASTER", "`local[2]`",
                  "where Spark runs the build: `local[N]` (N cores of this machine), `spark://host:7077` "
                  "(a standalone cluster) or `sc://host:15002` (Spark Connect)")
SMTP_HOST = _s("FULFILMENT_SMTP_HOST", "none (required by `report --send`)",
               "SMTP server of the report (the DAG uses its `smtp_default` connection instead)")
SMTP_PORT = _s("FULFILMENT_SMTP_PORT", "25 (465 with SSL)", "its port")
SMTP_USER = _s("FULFILMENT_SMTP_USER", "none", "login, when set")
SMTP_PASSWORD = _s("FULFILMENT_SMTP_PASSWORD", "none", "password of the login")
SMTP_STARTTLS = _s("FULFILMENT_SMTP_STARTTLS", "false", "`true`: upgrade the connection with STARTTLS")
SMTP_SSL = _s("FULFILMENT_SMTP_SSL", "false", "`true`: connect over SSL")
SMTP_TIMEOUT = _s("FULFILMENT_SMTP_TIMEOUT", "30", "seconds to wait for the server")
REPORT_FROM = _s("FULFILMENT_REPORT_FROM", "`FULFILMENT_ALERT_FROM`",
                 "sender of the report (the `smtp_default` connection's `from_email` wins in Airflow)")
REPORT_TO = _s("FULFILMENT_REPORT_TO", "`FULFILMENT_ALERT_TO`", "recipients of the report, comma-separated")
ALERT_FROM = _s("FULFILMENT_ALERT_FROM", "fulfilment-monitor@localhost", "sender of the DAG's failure alerts")
ALERT_TO = _s("FULFILMENT_ALERT_TO", "fulfilment-ops@localhost",
              "recipients of the DAG's failure alerts, comma-separated")
RETRY_DELAY = _s("FULFILMENT_RETRY_DELAY_SECONDS", "60",
                 "the DAG's first retry delay (doubling up to 20 minutes)")
DEBUG = _s("FULFILMENT_DEBUG", "false", "`true`: a failing command shows its traceback, not only its one line")
SHARED_GROUP = _s("FULFILMENT_SHARED_GROUP", "none (the owner's group)",
                  "group (name or id) of analysts and ops: the published database, reports, outbox and "
                  "data-quality page are created 0640 in it; the work and private databases stay owner-only")

GATE_PREFIX = "FULFILMENT_GATE_"


def _threshold(default, meaning: str):
    return field(default=default, metadata={"meaning": meaning})


@dataclass(frozen=True)
class GateSettings:
    """The drop gate's thresholds: each overridable by FULFILMENT_GATE_<FIELD> (see gate())."""
    max_bad_row_share: float = _threshold(0.05, "a file quarantining a larger share of its rows rejects its drop...")
    # A couple of bad lines in a small file are row defects, not a broken file.
    bad_rows_tolerated: int = _threshold(2, "...unless it has at most this many bad rows")
    # Volume: a file's row count against the range (smallest..largest) of the same file in the
    # latest loaded drops of its source (extract dates before this one). The range, not the median:
    # a quiet day that recurs (a Sunday, a small retailer's slow day) is in it, and it widens with
    # the history's own spread, so only a file far outside what the source has done lately is held.
    volume_history_drops: int = _threshold(
        7, "volume check: a file's rows are compared with the range of this many earlier drops")
    volume_min_history: int = _threshold(3, "fewer earlier drops than this: no volume check")
    volume_min_median_rows: int = _threshold(50, "a smaller usual (median) volume is too small to judge")
    volume_min_rows_apart: int = _threshold(
        30, "a file fewer rows than this outside the recent range is not judged (a quiet day, not a collapse)")
    volume_low_ratio: float = _threshold(
        0.2, "below the smallest recent drop x this: a collapse, the drop is held for review")
    volume_high_ratio: float = _threshold(
        5.0, "above the largest recent drop x this: a flood, the drop is held for review")
    # Null drift: a nullable field null (or absent) on every line of a file while recent loaded drops
    # filled it. Held when that is this unlikely by chance: (1 - share filled lately) ** rows.
    null_drift_chance: float = _threshold(
        1e-6, "a field null on every line while recent drops filled it, less likely than this by chance: held")
    null_drift_history_drops: int = _threshold(7, "null drift: the filled share is that of this many earlier drops")

GATE_SETTINGS = tuple(_s(GATE_PREFIX + f.name.upper(), str(f.default), f.metadata["meaning"])
                      for f in fields(GateSettings))

SETTINGS: tuple[Setting, ...] = (
    ROOT_SETTING, LANDING, DB, DBT_THREADS, DUCKDB_MEMORY_LIMIT, DUCKDB_THREADS, DUCKDB_TEMP_DIR, ENGINE, SPARK_MASTER,
    SMTP_HOST, SMTP_PORT, SMTP_USER, SMTP_PASSWORD, SMTP_STARTTLS, SMTP_SSL, SMTP_TIMEOUT,
    REPORT_FROM, REPORT_TO, ALERT_FROM, ALERT_TO, RETRY_DELAY, DEBUG, SHARED_GROUP,
    *GATE_SETTINGS,
)

# Airflow: the Variables the DAG reads (same names as the environment variables) and its connection.
LANDING_VARIABLE = LANDING.env
DB_VARIABLE = DB.env
SMTP_CONN_ID = "smtp_default"
# DuckDB allows one writer per file: the tasks that write take turns through this one-slot pool.
WRITER_POOL = "duckdb_writer"


def _read(setting: Setting, environ: Mapping[str, str] | None) -> str | None:
    value = (os.environ if environ is None else environ).get(setting.env)
    return value if value is None or value.strip() else None  # empty counts as unset


def _flag(setting: Setting, environ) -> bool:
    value = (_read(setting, environ) or "false").strip().lower()
    if value not in ("true", "false", "1", "0", "yes", "no"):
        raise UserError(f"{setting.env}={value!r} is not true or false")
    return value in ("true", "1", "yes")


def _number(setting: Setting, environ, default, kind=int):
    text = _read(setting, environ)
    if text is None:
        return default
    try:
        return kind(text)
    except ValueError:
        raise UserError(f"{setting.env}={text!r} is not a {'whole ' if kind is int else ''}number") from None


def _addresses(setting: Setting, environ) -> list[str]:
    return [a.strip() for a in (_read(setting, environ) or "").split(",") if a.strip()]


# --- places -----------------------------------------------------------------------------------

def root(environ: Mapping[str, str] | None = None) -> Path:
    """The folder holding data/, dags/ and airflow_home/."""
    return Path(_read(ROOT_SETTING, environ) or Path.cwd()).absolute()


ROOT = root()
DAGS_FOLDER = ROOT / "dags"
AIRFLOW_HOME = ROOT / "airflow_home"

PACKAGE = Path(str(resources.files("fulfilment_monitor")))
RESOURCES = PACKAGE / "resources"  # links to the repository's folders; copied into a built wheel
DBT_PROJECT = RESOURCES / "dbt_project"
EXPECTATIONS = RESOURCES / "expectations"
TEMPLATES = PACKAGE / "report" / "templates"


def landing(value: str | os.PathLike | None = None, environ: Mapping[str, str] | None = None) -> Path:
    """The landing zone: the value given, else $FULFILMENT_LANDING, else the sample's."""
    return Path(value or _read(LANDING, environ) or root(environ) / "data" / "sample" / "landing")


def database(value: str | os.PathLike | None = None, environ: Mapping[str, str] | None = None) -> Path:
    """The published database: the value given, else $FULFILMENT_DB, else data/fulfilment.duckdb."""
    return Path(value or _read(DB, environ) or root(environ) / "data" / "fulfilment.duckdb")


def work_db_for(published: Path) -> Path:
    """The private database the pipeline writes; analysts only ever see the published copy."""
    return published.with_name(published.stem + ".work" + (published.suffix or ".duckdb"))


def shared_group(environ: Mapping[str, str] | None = None) -> int | None:
    """The group id the shared files are given, or None (they keep the owner's group)."""
    value = _read(SHARED_GROUP, environ)
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return int(value)
    try:
        return grp.getgrnam(value).gr_gid
    except KeyError:
        raise UserError(f"{SHARED_GROUP.env}={value!r}: no such group") from None


def private_db_for(work: Path) -> Path:
    """The owner-only file of customers' names, emails and phones beside the work database
    `work` (`f.work.duckdb` -> `f.private.duckdb`); never published."""
    return work.with_name(work.stem.removesuffix(".work") + ".private" + (work.suffix or ".duckdb"))


# --- the pipeline ------------------------------------------------------------------------------

def dbt_threads(environ: Mapping[str, str] | None = None) -> int:
    threads = _number(DBT_THREADS, environ, 2)
    if threads < 1:
        raise UserError(f"{DBT_THREADS.env}={threads} must be at least 1")
    return threads


# DuckDB's own default is 80% of the machine's memory (or of its control group's limit). The
# pipeline's Python side (Arrow tables for validation, dbt's manifest) lives beside it, and the
# 10M-order stand-in peaked at 19.9 GB of 24 with that default: 60% leaves the rest room.
DUCKDB_MEMORY_DEFAULT = "60%"
_MEMORY = re.compile(r"\d+(\.\d+)?\s*(%|[KMGT]i?B)", re.IGNORECASE)


def duckdb_config(database_path: Path, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """DuckDB's memory limit, threads and spill folder for a connection to `database_path`."""
    memory = (_read(DUCKDB_MEMORY_LIMIT, environ) or DUCKDB_MEMORY_DEFAULT).strip()
    if not _MEMORY.fullmatch(memory):
        raise UserError(f"{DUCKDB_MEMORY_LIMIT.env}={memory!r} is not a size (e.g. 12GB, 800MB or 60%)")
    threads = _number(DUCKDB_THREADS, environ, len(os.sched_getaffinity(0)))
    if threads < 1:
        raise UserError(f"{DUCKDB_THREADS.env}={threads} must be at least 1")
    temp = _read(DUCKDB_TEMP_DIR, environ)
    return {"memory_limit": memory, "threads": str(threads),
            "temp_directory": temp.strip() if temp else f"{database_path}.tmp"}


ENGINES = ("duckdb", "spark")


def engine(environ: Mapping[str, str] | None = None) -> str:
    """Which engine builds the models: duckdb (the default) or spark."""
    name = (_read(ENGINE, environ) or ENGINES[0]).strip().lower()
    if name not in ENGINES:
        raise UserError(f"{ENGINE.env}={name!r} is not one of {', '.join(ENGINES)}")
    return name


def spark_master(environ: Mapping[str, str] | None = None) -> str:
    """The Spark master URL of the build (local[2] by default)."""
    return (_read(SPARK_MASTER, environ) or "local[2]").strip()


def lake_for(work: Path) -> Path:
    """The lake beside the work database: the drops' rows and Spark's models, as Parquet."""
    return work.with_name(work.stem + ".lake")


def gate(environ: Mapping[str, str] | None = None) -> GateSettings:
    """The drop gate's thresholds: GateSettings' defaults, each overridable by FULFILMENT_GATE_<FIELD>."""
    return GateSettings(**{f.name: _number(setting, environ, f.default, type(f.default))
                           for f, setting in zip(fields(GateSettings), GATE_SETTINGS)})


def retry_delay(environ: Mapping[str, str] | None = None) -> dt.timedelta:
    return dt.timedelta(seconds=_number(RETRY_DELAY, environ, 60.0, float))


# --- email -------------------------------------------------------------------------------------

SMTP_TIMEOUT_SECONDS = 30  # whatever names the server: the environment or Airflow's connection


def smtp_port(use_ssl: bool) -> int:
    return 465 if use_ssl else 25


def smtp(environ: Mapping[str, str] | None = None) -> dict:
    """The report's SMTP server from FULFILMENT_SMTP_*, in the form report.smtp.from_dict takes."""
    host = _read(SMTP_HOST, environ)
    if not host:
        raise UserError(f"{SMTP_HOST.env} is not set: say which SMTP server sends the report")
    use_ssl = _flag(SMTP_SSL, environ)
    return {"host": host.strip(), "port": _number(SMTP_PORT, environ, smtp_port(use_ssl)),
            "user": _read(SMTP_USER, environ), "password": _read(SMTP_PASSWORD, environ),
            "starttls": _flag(SMTP_STARTTLS, environ), "ssl": use_ssl,
            "timeout": _number(SMTP_TIMEOUT, environ, SMTP_TIMEOUT_SECONDS)}


def alert_sender(environ: Mapping[str, str] | None = None) -> str:
    return _read(ALERT_FROM, environ) or ALERT_FROM.default


def alert_recipients(environ: Mapping[str, str] | None = None) -> list[str]:
    return _addresses(ALERT_TO, environ) or [ALERT_TO.default]


def report_sender(environ: Mapping[str, str] | None = None) -> str:
    return _read(REPORT_FROM, environ) or alert_sender(environ)


def report_recipients(environ: Mapping[str, str] | None = None) -> list[str]:
    if _read(REPORT_TO, environ) is not None:
        recipients = _addresses(REPORT_TO, environ)
        if not recipients:
            raise UserError(f"{REPORT_TO.env} names no recipient")
        return recipients
    return alert_recipients(environ)


# --- child processes ---------------------------------------------------------------------------

def environment(**overrides: str) -> dict[str, str]:
    """This process's environment with `overrides`, for a command it starts (Airflow's)."""
    return {**os.environ, **overrides}


# --- time --------------------------------------------------------------------------------------

def parse_as_of(text: str) -> dt.datetime:
    """An ISO timestamp; one without an offset is read as UTC. Always returned in UTC."""
    try:
        value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UserError(f"--as-of {text!r} is not an ISO 8601 timestamp (e.g. 2026-11-21T00:00:00Z)") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc)


def end_of(day: dt.date) -> dt.datetime:
    """The end of an extract date: midnight UTC after it."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), dt.timezone.utc)


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def debug(environ: Mapping[str, str] | None = None) -> bool:
    """A failing command shows its traceback, not only its one line."""
    return _flag(DEBUG, environ)
