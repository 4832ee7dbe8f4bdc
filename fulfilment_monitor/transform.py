"""Build the dbt models through dbt's own runner, against the private work database."""
from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

from fulfilment_monitor.errors import UserError
from fulfilment_monitor.settings import DBT_PROJECT, dbt_threads, iso


def dbt(args: list[str], db: Path, as_of: dt.datetime | None = None, quiet: bool = True) -> None:
    """Run one dbt command in-process; raise a UserError naming what failed."""
    from dbt.cli.main import dbtRunner

    os.environ["FULFILMENT_DB_PATH"] = str(db.resolve())  # how profiles.yml learns which file
    # dbt's artefacts live beside the database, so concurrent runs on different databases never collide.
    artefacts = db.resolve().parent / "dbt"
    command = [*args, "--project-dir", str(DBT_PROJECT), "--profiles-dir", str(DBT_PROJECT),
               "--target-path", str(artefacts / "target"), "--log-path", str(artefacts / "logs"),
               "--threads", str(dbt_threads())]
    if as_of is not None:
        command += ["--vars", json.dumps({"as_of": iso(as_of)})]
    flags = ["--quiet"] if quiet else []
    result = dbtRunner().invoke([*flags, *command])
    if result.success:
        return
    failures = []
    for node in getattr(result.result, "results", None) or []:
        if str(node.status) in ("error", "fail"):
            lines = [ln.strip() for ln in str(node.message or node.status).splitlines()
                     if ln.strip() and not ln.strip().startswith("Runtime Error in")]
            failures.append(f"{node.node.name}: {lines[0] if lines else node.status}")
    reason = "; ".join(failures[:3]) or str(result.exception or "dbt failed")
    raise UserError(f"dbt {args[0]} failed: {reason}")


def build(db: Path, as_of: dt.datetime) -> None:
    """Seeds, models and data tests; dbt unit tests run in the test suite, not every night."""
    dbt(["build", "--exclude-resource-type", "unit_test"], db, as_of)
