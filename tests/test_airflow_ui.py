"""A person's view: `airflow standalone` as airflow_local starts it, logged into with chromium.

Starts Airflow on a free loopback port with a temporary AIRFLOW_HOME, logs in as admin with
the password the simple auth manager generated, and sees the project's DAG listed with no
import errors. The screenshot goes to tests/artifacts/airflow_dags.png.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import free_port
from fulfilment_monitor import airflow_local
from conftest import REPO

pytestmark = pytest.mark.slow

ARTIFACTS = REPO / "tests" / "artifacts"
STARTUP_SECONDS = 240


def wait_until(condition, seconds: float, what: str, process: subprocess.Popen, log: Path):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"airflow standalone exited early:\n{log.read_text()[-3000:]}")
        value = condition()
        if value:
            return value
        time.sleep(1)
    pytest.fail(f"timed out waiting for {what}:\n{log.read_text()[-3000:]}")


def healthy(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/api/v2/monitor/health", timeout=5) as response:
            health = json.load(response)
    except OSError:
        return False
    return all(part.get("status") == "healthy" for part in health.values())


@pytest.fixture(scope="module")
def standalone(tmp_path_factory):
    home = tmp_path_factory.mktemp("airflow_home")
    port = free_port()
    env = airflow_local.environment(home, port)
    airflow_local.prepare(env)
    log = home / "standalone.log"
    with open(log, "w") as output:
        process = subprocess.Popen([str(airflow_local.BIN / "airflow"), "standalone"], env=env, cwd=home,
                                   stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: healthy(base), STARTUP_SECONDS, "a healthy Airflow", process, log)
        passwords = home / "simple_auth_manager_passwords.json.generated"
        wait_until(passwords.exists, 30, "the generated admin password", process, log)
        yield base, json.loads(passwords.read_text())["admin"], process, log
    finally:
        stop_group(process)


def stop_group(process: subprocess.Popen) -> None:
    """Stop standalone and every component it started (its own process group), then wait for them."""
    os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        process.poll()
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.5)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


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


def test_log_in_and_see_the_dags_without_import_errors(standalone, browser):
    from selenium.webdriver.common.by import By

    base, password, process, log = standalone
    browser.get(base + "/")
    wait_until(lambda: browser.find_elements(By.NAME, "username"), 60, "the login form", process, log)
    assert "/auth/login" in browser.current_url, "the UI asks who you are first"
    browser.find_element(By.NAME, "username").send_keys("admin")
    browser.find_element(By.NAME, "password").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_until(lambda: "/auth/login" not in browser.current_url, 60, "the login to go through", process, log)

    def dag_listed() -> bool:  # the DAG processor registers the DAG a little after start-up
        browser.get(base + "/dags")
        time.sleep(2)
        return "fulfilment_nightly" in page_text(browser)

    wait_until(dag_listed, 120, "fulfilment_nightly in the DAG list", process, log)
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "airflow_dags.png"))
    text = page_text(browser)
    assert "1 Dag" in text and "0 3 * * *" in text
    assert "Import Error" not in text

    # The same logged-in session asks the API the UI uses: no file failed to import.
    browser.get(base + "/api/v2/importErrors")
    assert json.loads(page_text(browser)) == {"import_errors": [], "total_entries": 0}
