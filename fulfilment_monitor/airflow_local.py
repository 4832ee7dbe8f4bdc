"""Airflow on this machine, on this project's DAGs: `python -m fulfilment_monitor.airflow_local`.

Airflow's home is the repository's gitignored `airflow_home/` (SQLite metadata), its DAG
folder `dags/`, no example DAGs. Before anything runs, the metadata database is migrated
and the `duckdb_writer` pool created: one slot, because DuckDB allows one writer per file,
so loads and builds take turns instead of failing on the lock.

    python -m fulfilment_monitor.airflow_local                  # airflow standalone on :8080
    python -m fulfilment_monitor.airflow_local --port 8090
    python -m fulfilment_monitor.airflow_local airflow dags test fulfilment_nightly 2026-10-21
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from fulfilment_monitor.settings import REPO

POOL = "duckdb_writer"
POOL_DESCRIPTION = "DuckDB allows one writer per file: loads and builds take turns"
DEFAULT_HOME = REPO / "airflow_home"
DAGS_FOLDER = REPO / "dags"
# The venv's own `airflow`; standalone starts its components by that name, so its folder goes on PATH.
BIN = Path(sys.executable).parent


def environment(home: Path, port: int | None = None, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment every Airflow command of this project runs with."""
    env = dict(os.environ if base is None else base)
    env.update({
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p),
        "PATH": os.pathsep.join(p for p in (str(BIN), env.get("PATH")) if p),
    })
    if port is not None:
        # Loopback only; task workers reach the execution API through base_url, so it names the port.
        env.update({"AIRFLOW__API__HOST": "127.0.0.1", "AIRFLOW__API__PORT": str(port),
                    "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}"})
    return env


def airflow(args: list[str], env: Mapping[str, str], **kwargs) -> subprocess.CompletedProcess:
    """Run one `airflow …` command of the venv with the given environment."""
    return subprocess.run([str(BIN / "airflow"), *args], env=dict(env), **kwargs)


def prepare(env: Mapping[str, str]) -> None:
    """Migrate the metadata database and create the writer pool (both idempotent)."""
    Path(env["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)
    for args in (["db", "migrate"], ["pools", "set", POOL, "1", POOL_DESCRIPTION]):
        done = airflow(args, env, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"airflow {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fulfilment_monitor.airflow_local",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=DEFAULT_HOME, help="AIRFLOW_HOME (default: airflow_home/)")
    parser.add_argument("--port", type=int, default=8080, help="the UI's port on 127.0.0.1 (default 8080)")
    parser.add_argument("command", nargs=argparse.REMAINDER,
                        help="`airflow ARGS…` to run one Airflow command instead of standalone")
    args = parser.parse_args(argv)
    env = environment(args.home.resolve(), args.port)
    prepare(env)
    if args.command and args.command[0] == "airflow":
        return airflow(args.command[1:], env).returncode
    if args.command:
        parser.error("a command must start with `airflow`")
    print(f"Airflow UI: http://127.0.0.1:{args.port}  user: admin  password: in "
          f"{args.home / 'simple_auth_manager_passwords.json.generated'} (and printed below on first start)",
          flush=True)
    return airflow(["standalone"], env).returncode


if __name__ == "__main__":
    raise SystemExit(main())
