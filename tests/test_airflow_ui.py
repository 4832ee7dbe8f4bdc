"""A person's view of local Airflow: the launcher (`python -m fulfilment_monitor.airflow_local`)
started as the README says, on the bundled sample, looked at with chromium.

Logs in as admin with the generated password and sees the DAG without import errors; unpauses
the DAG and triggers the sample's last date, as the README says, and sees every run green (the
run the scheduler creates on unpausing too); the report arrives in the launcher's mail catcher.
Airflow is sized to the machine, and SIGTERM to the launcher stops every process it started.
Screenshots go to tests/artifacts/airflow_dags.png and airflow_runs.png.
"""
from __future__ import annotations

import email
import email.policy
import json
import mailbox
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import NamedTuple

import psutil
import pytest

from conftest import REPO, free_port
from fulfilment_monitor import airflow_local, settings

pytestmark = pytest.mark.slow

ARTIFACTS = REPO / "tests" / "artifacts"
SAMPLE = REPO / "data" / "sample" / "landing"
STARTUP_SECONDS = 240
RUN_SECONDS = 600
DAG_ID = "fulfilment_nightly"


class Launcher(NamedTuple):
    base: str
    password: str
    process: subprocess.Popen
    log: Path
    home: Path


def wait_until(condition, seconds: float, what: str, launcher: Launcher):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if launcher.process.poll() is not None:
            pytest.fail(f"the launcher exited early:\n{launcher.log.read_text()[-3000:]}")
        value = condition()
        if value:
            return value
        time.sleep(1)
    pytest.fail(f"timed out waiting for {what}:\n{launcher.log.read_text()[-3000:]}")


def healthy(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/api/v2/monitor/health", timeout=5) as response:
            health = json.load(response)
    except OSError:
        return False
    return all(part.get("status") == "healthy" for part in health.values())


@pytest.fixture(scope="module")
def launcher(tmp_path_factory):
    work = tmp_path_factory.mktemp("airflow_local")
    home, port = work / "airflow_home", free_port()
    log = work / "launcher.log"
    env = settings.environment(FULFILMENT_LANDING=str(SAMPLE), FULFILMENT_DB=str(work / "fulfilment.duckdb"))
    with open(log, "w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "fulfilment_monitor.airflow_local", "--home", str(home), "--port", str(port),
             "--mail-port", str(free_port())], env=env, cwd=REPO, stdout=output, stderr=subprocess.STDOUT)
    running = Launcher(f"http://127.0.0.1:{port}", "", process, log, home)
    try:
        wait_until(lambda: healthy(running.base), STARTUP_SECONDS, "a healthy Airflow", running)
        passwords = home / "simple_auth_manager_passwords.json.generated"
        wait_until(passwords.exists, 30, "the generated admin password", running)
        yield running._replace(password=json.loads(passwords.read_text())["admin"])
    finally:
        if process.poll() is None:  # a test failed before the stop test: stop it all the same way
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=120)


def api(launcher: Launcher, method: str, path: str, body: dict | None = None) -> dict:
    """The REST API the UI uses, with a token for admin."""
    def call(verb, url, data, headers):
        request = urllib.request.Request(url, data=json.dumps(data).encode() if data is not None else None,
                                         headers={"Content-Type": "application/json", **headers}, method=verb)
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)

    token = call("POST", f"{launcher.base}/auth/token", {"username": "admin", "password": launcher.password}, {})
    return call(method, f"{launcher.base}{path}", body, {"Authorization": f"Bearer {token['access_token']}"})


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,900"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    yield driver
    driver.quit()


def page_text(browser) -> str:
    from selenium.webdriver.common.by import By

    return browser.find_element(By.TAG_NAME, "body").text


def test_log_in_and_see_the_dags_without_import_errors(launcher, browser):
    from selenium.webdriver.common.by import By

    browser.get(launcher.base + "/")
    wait_until(lambda: browser.find_elements(By.NAME, "username"), 60, "the login form", launcher)
    assert "/auth/login" in browser.current_url, "the UI asks who you are first"
    browser.find_element(By.NAME, "username").send_keys("admin")
    browser.find_element(By.NAME, "password").send_keys(launcher.password)
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_until(lambda: "/auth/login" not in browser.current_url, 60, "the login to go through", launcher)

    def dag_listed() -> bool:  # the DAG processor registers the DAG a little after start-up
        browser.get(launcher.base + "/dags")
        time.sleep(2)
        return DAG_ID in page_text(browser)

    wait_until(dag_listed, 120, f"{DAG_ID} in the DAG list", launcher)
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "airflow_dags.png"))
    text = page_text(browser)
    assert "1 Dag" in text and "0 3 * * *" in text
    assert "Import Error" not in text

    # The same logged-in session asks the API the UI uses: no file failed to import.
    browser.get(launcher.base + "/api/v2/importErrors")
    assert json.loads(page_text(browser)) == {"import_errors": [], "total_entries": 0}


def finished_runs(launcher: Launcher) -> list[dict] | None:
    runs = api(launcher, "GET", f"/api/v2/dags/{DAG_ID}/dagRuns")["dag_runs"]
    return None if any(r["state"] in ("queued", "running") for r in runs) else runs


def test_unpause_and_trigger_a_sample_date_and_every_run_is_green(launcher, browser):
    last_date = max(p.name for p in (SAMPLE / "oms").iterdir())  # the README's date to pick
    api(launcher, "POST", f"/api/v2/dags/{DAG_ID}/dagRuns", {"logical_date": f"{last_date}T00:00:00Z"})
    api(launcher, "PATCH", f"/api/v2/dags/{DAG_ID}", {"is_paused": False})

    runs = wait_until(lambda: finished_runs(launcher), RUN_SECONDS, "the runs to finish", launcher)
    states = {(r["run_type"], r["logical_date"][:10]): r["state"] for r in runs}
    assert ("manual", last_date) in states
    assert any(kind == "scheduled" for kind, _ in states), "unpausing made the scheduler create a run"
    assert set(states.values()) == {"success"}, states

    browser.get(f"{launcher.base}/dags/{DAG_ID}/runs")
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        wait_until(lambda: page_text(browser).count("Success") >= len(runs), 60, "the runs in the UI", launcher)
    finally:
        browser.save_screenshot(str(ARTIFACTS / "airflow_runs.png"))
    text = page_text(browser)
    assert "failed" not in text.lower(), text

    # The report of the triggered date was emailed through smtp_default, to the catcher.
    subjects = [email.message_from_bytes(m.as_bytes(), policy=email.policy.default)["Subject"]
                for m in mailbox.Maildir(launcher.home / "mail", create=False)]
    assert any(last_date in subject for subject in subjects), subjects


def descendants(process: subprocess.Popen) -> list[psutil.Process]:
    return psutil.Process(process.pid).children(recursive=True)


def title(process: psutil.Process) -> str:
    try:
        return " ".join(process.cmdline())
    except psutil.Error:  # ended (or a zombie) meanwhile
        return ""


def test_airflow_is_sized_to_the_machine(launcher):
    titles = [t for t in map(title, descendants(launcher.process)) if t]
    workers = [t for t in titles if "LocalExecutor" in t]
    assert 1 <= len(workers) <= max(2, airflow_local.cores()), titles
    assert len(titles) <= 15, titles


def test_sigterm_stops_every_process_it_started(launcher):
    started = descendants(launcher.process)
    assert len(started) >= 4, "standalone and its components"
    launcher.process.send_signal(signal.SIGTERM)
    assert launcher.process.wait(timeout=120) != 0
    gone, alive = psutil.wait_procs(started, timeout=10)
    assert alive == [], [title(p) for p in alive]
