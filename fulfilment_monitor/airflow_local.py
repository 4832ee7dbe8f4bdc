"""Airflow on this machine, on this project's DAGs: `python -m fulfilment_monitor.airflow_local`.

Airflow's home is the gitignored `airflow_home/` (SQLite metadata), its DAG folder `dags/`
(both under the project root, `$FULFILMENT_ROOT` or the current directory), no example DAGs.
Before anything runs, the metadata database is migrated and the `duckdb_writer` pool created:
one slot, because DuckDB allows one writer per file, so loads and builds take turns instead
of failing on the lock.

Started green: unless `smtp_default` is configured (in Airflow's database or its environment),
a mail catcher (a real SMTP server on loopback) receives what the DAG sends and keeps it in
`airflow_home/mail/` (a Maildir: `mutt -f airflow_home/mail`, or any .eml reader on
`mail/new/`), and `smtp_default` points at it. Airflow is sized to the machine (one task
slot and one API worker per core, one DAG parsing process), and stopping the launcher
(Ctrl-C or SIGTERM) stops every process it started.

    python -m fulfilment_monitor.airflow_local                  # airflow standalone on :8080
    python -m fulfilment_monitor.airflow_local --port 8090
    python -m fulfilment_monitor.airflow_local airflow dags test fulfilment_nightly 2026-10-21
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from contextlib import contextmanager, nullcontext
from pathlib import Path

from fulfilment_monitor import settings

POOL_DESCRIPTION = "DuckDB allows one writer per file: loads and builds take turns"
DEFAULT_HOME = settings.AIRFLOW_HOME
DAGS_FOLDER = settings.DAGS_FOLDER
MAIL_PORT = 8025
# The venv's own `airflow`; standalone starts its components by that name, so its folder goes on PATH.
BIN = Path(sys.executable).parent
STOP_SECONDS = 30  # after SIGTERM, what is still running then is killed


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def environment(home: Path, port: int | None = None, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment every Airflow command of this project runs with."""
    env = dict(settings.environment() if base is None else base)
    env.update({
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        # Sized to the machine: LocalExecutor starts one worker process per task slot.
        "AIRFLOW__CORE__PARALLELISM": str(max(2, cores())),
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
        # Tasks find the project's data where this launcher does, whatever their working directory.
        settings.ROOT_SETTING.env: str(settings.root()),
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
    for args in (["db", "migrate"], ["pools", "set", settings.WRITER_POOL, "1", POOL_DESCRIPTION]):
        done = airflow(args, env, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"airflow {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")


def smtp_configured(env: Mapping[str, str]) -> bool:
    """Whether `smtp_default` exists, in Airflow's database or its environment, as Airflow looks it up."""
    return airflow(["connections", "get", settings.SMTP_CONN_ID, "-o", "json"], env,
                   capture_output=True, text=True).returncode == 0


def catcher_connection(port: int) -> str:
    """`smtp_default` pointing at the mail catcher, as Airflow reads it from AIRFLOW_CONN_SMTP_DEFAULT."""
    return json.dumps({"conn_type": "smtp", "host": "127.0.0.1", "port": port,
                       "description": "fulfilment_monitor.airflow_local: mail catcher (airflow_home/mail)",
                       "extra": {"disable_tls": True, "disable_ssl": True, "timeout": 10}})


@contextmanager
def mail_catcher(folder: Path, port: int):
    """A real SMTP server on 127.0.0.1:`port` that keeps every message in the Maildir `folder`."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Mailbox

    server = Controller(Mailbox(folder), hostname="127.0.0.1", port=port)
    try:
        server.start()
    except (OSError, RuntimeError) as exc:
        raise SystemExit(f"error: the mail catcher cannot listen on 127.0.0.1:{port} ({exc}); "
                         "pick another port with --mail-port") from None
    try:
        yield server
    finally:
        server.stop()


def stop(process: subprocess.Popen, seconds: float = STOP_SECONDS) -> None:
    """Stop `process` and everything it started: SIGTERM to its process group and to every
    descendant (some leave the group), then SIGKILL to what is left after `seconds`."""
    import psutil

    try:
        family = [psutil.Process(process.pid), *psutil.Process(process.pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        family = []
    for send in (lambda: os.killpg(process.pid, signal.SIGTERM), *(p.terminate for p in family)):
        try:
            send()
        except (ProcessLookupError, psutil.NoSuchProcess):
            pass
    _, alive = psutil.wait_procs(family, timeout=seconds)
    for p in alive:
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(alive, timeout=5)
    try:
        os.killpg(process.pid, signal.SIGKILL)  # anything of the group started meanwhile
    except ProcessLookupError:
        pass
    process.wait()


def supervise(args: list[str], env: Mapping[str, str], cwd: Path) -> int:
    """Run `airflow ARGS` in its own process group until it exits or we are told to stop."""
    process = subprocess.Popen([str(BIN / "airflow"), *args], env=dict(env), cwd=cwd, start_new_session=True)
    stopping = []

    def on_signal(signum, frame):
        stopping.append(signum)

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
    try:
        while process.poll() is None and not stopping:
            time.sleep(0.2)
    finally:
        stop(process)
        for s, handler in previous.items():
            signal.signal(s, handler)
    return 128 + stopping[0] if stopping else process.returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fulfilment_monitor.airflow_local",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=DEFAULT_HOME, help="AIRFLOW_HOME (default: airflow_home/)")
    parser.add_argument("--port", type=int, default=8080, help="the UI's port on 127.0.0.1 (default 8080)")
    parser.add_argument("--mail-port", type=int, default=MAIL_PORT,
                        help=f"the mail catcher's port on 127.0.0.1 (default {MAIL_PORT})")
    parser.add_argument("command", nargs=argparse.REMAINDER,
                        help="`airflow ARGS…` to run one Airflow command instead of standalone")
    args = parser.parse_args(argv)
    if args.command and args.command[0] != "airflow":
        parser.error("a command must start with `airflow`")
    home = args.home.resolve()
    env = environment(home, args.port)
    prepare(env)
    command = args.command[1:] or ["standalone"]
    # Standalone and test runs send mail; other commands (e.g. `connections add`) must see Airflow as it is.
    sends_mail = command[0] == "standalone" or command[:2] in (["dags", "test"], ["tasks", "test"])
    if not sends_mail:
        return airflow(command, env).returncode
    catcher = not smtp_configured(env)
    if catcher:
        env["AIRFLOW_CONN_" + settings.SMTP_CONN_ID.upper()] = catcher_connection(args.mail_port)
    if command == ["standalone"]:
        print(f"Airflow UI: http://127.0.0.1:{args.port}  user: admin  password: in "
              f"{home / 'simple_auth_manager_passwords.json.generated'} (and printed below on first start)",
              flush=True)
    if catcher:
        print(f"Mail (smtp_default) goes to the catcher on 127.0.0.1:{args.mail_port}, kept in {home / 'mail'}",
              flush=True)
    with mail_catcher(home / "mail", args.mail_port) if catcher else nullcontext():
        return supervise(command, env, home)


if __name__ == "__main__":
    raise SystemExit(main())
