"""The console in a real headless Chromium against a real `serve` process: log in, open an app, a package,
a file, see the live state of a push being processed, and what changed since the previous push.

Screenshots go to test-artifacts/console-browser/ (or $CAPI_TEST_ARTIFACTS/console-browser); the test
prints where."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import uuid
from contextlib import ExitStack
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from capi_client import PackagesClient

from tests.process.conftest import CLI, mint, running_server  # isort: skip (imports the support module)
from tests.process.client_live_support import ready_package, zip_bytes

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = "<img src=x onerror=alert(1)>.txt"


@pytest.fixture(scope="module")
def artifacts() -> Path:
    base = Path(os.environ.get("CAPI_TEST_ARTIFACTS") or ROOT / "test-artifacts")
    path = base / "console-browser"
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    print(f"\nconsole screenshots: {path}")
    return path


def _files(version: str) -> dict[str, bytes]:
    files = {
        "app.py": f"print('version {version}')\n".encode(),
        "lib/helpers.py": b"def helper():\n    return 42\n",
        "static/logo.bin": bytes(range(256)) * 4,
        HOSTILE: b"<script>document.title='pwned'</script>\n",
    }
    if version == "2":
        files["lib/new_feature.py"] = b"FEATURE = True\n"
        del files["static/logo.bin"]
    return files


def _shot(driver: webdriver.Chrome, artifacts: Path, name: str) -> None:
    driver.save_screenshot(str(artifacts / f"{name}.png"))


def _wait(driver: webdriver.Chrome, condition, timeout: float = 20):
    # htmx replaces polled rows: an element found just before a swap goes stale, so look again.
    return WebDriverWait(driver, timeout, ignored_exceptions=(StaleElementReferenceException,)).until(condition)


def _severe_logs(driver: webdriver.Chrome) -> list[str]:
    # A Content-Security-Policy violation (htmx blocked, an inline style) is logged as SEVERE.
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def test_a_user_finds_the_newest_package_reads_a_file_and_sees_what_changed(tmp_path, browser, artifacts):
    with ExitStack() as stack:
        url, env = stack.enter_context(running_server(tmp_path, CAPI_WORKER_ENABLED="false"))
        subprocess.run([*CLI, "users", "add", "alice", "--password", "s3cret", "--admin"], env=env, check=True)
        admin = stack.enter_context(PackagesClient(url, mint(env, "--user-id", "setup", "--admin")))
        org = admin.create_organization(f"org-{uuid.uuid4().hex[:6]}")
        space = admin.create_space("production", org.guid)
        app = admin.create_app("storefront", space.guid)
        # A worker of its own, so that the third push can be watched while it waits for one.
        worker = subprocess.Popen([*CLI, "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            first = ready_package(admin, app.guid, _files("1"))
            second = ready_package(admin, app.guid, _files("2"))
        finally:
            worker.terminate()
            worker.wait(timeout=15)

        # Log in with the service's own user.
        browser.get(f"{url}/console")
        _wait(browser, ec.presence_of_element_located((By.ID, "username")))
        assert browser.find_element(By.ID, "username").accessible_name == "User name"
        browser.find_element(By.ID, "username").send_keys("alice")
        browser.find_element(By.ID, "password").send_keys("s3cret", Keys.ENTER)
        _wait(browser, ec.presence_of_element_located((By.LINK_TEXT, "storefront")))
        assert "alice" in browser.find_element(By.CLASS_NAME, "who").text
        _shot(browser, artifacts, "1-apps")

        # The app's packages, newest first.
        browser.find_element(By.LINK_TEXT, "storefront").click()
        rows = _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "table.packages tbody tr"))
        assert [r.find_element(By.TAG_NAME, "code").text for r in rows] == [second.guid[:8], first.guid[:8]]
        assert all("READY" in r.text for r in rows)
        _shot(browser, artifacts, "2-app-packages")

        # A third push waits for a worker: its row shows PROCESSING_UPLOAD and turns READY by itself.
        third = admin.create_package(app.guid)
        admin.upload_bits(third.guid, io.BytesIO(zip_bytes(_files("2"))))
        browser.refresh()
        row = _wait(browser, ec.presence_of_element_located((By.ID, f"row-{third.guid}")))
        assert "PROCESSING_UPLOAD" in row.text
        _shot(browser, artifacts, "3-processing")
        worker = subprocess.Popen([*CLI, "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            _wait(browser, lambda d: "READY" in d.find_element(By.ID, f"row-{third.guid}").text, timeout=30)
        finally:
            worker.terminate()
            worker.wait(timeout=15)
        _shot(browser, artifacts, "4-ready-without-reload")

        # The second push: its file tree, with sizes and modes.
        browser.find_element(By.LINK_TEXT, second.guid[:8]).click()
        _wait(browser, ec.presence_of_element_located((By.CSS_SELECTOR, "table.files")))
        names = [a.text for a in browser.find_elements(By.CSS_SELECTOR, "table.files td:first-child a")]
        assert names[:1] == ["lib/"] and "app.py" in names and HOSTILE in names
        assert "-rw-r--r--" in browser.find_element(By.CSS_SELECTOR, "table.files").text
        _shot(browser, artifacts, "5-package-files")

        # A hostile file name and content stay text.
        browser.find_element(By.LINK_TEXT, HOSTILE).click()
        viewer = _wait(browser, ec.presence_of_element_located((By.CSS_SELECTOR, "pre.viewer")))
        assert "<script>document.title='pwned'</script>" in viewer.text
        assert "pwned" not in browser.title
        browser.back()

        # Into a directory and a text file.
        browser.find_element(By.LINK_TEXT, "lib/").click()
        browser.find_element(By.LINK_TEXT, "helpers.py").click()
        viewer = _wait(browser, ec.presence_of_element_located((By.CSS_SELECTOR, "pre.viewer")))
        assert "return 42" in viewer.text
        _shot(browser, artifacts, "6-file-viewer")

        # What changed since the previous push, as a tree.
        browser.find_element(By.CSS_SELECTOR, "nav.crumbs a[href$='" + second.guid + "']").click()
        browser.find_element(By.PARTIAL_LINK_TEXT, "What changed since the previous push").click()
        tree = _wait(browser, ec.presence_of_element_located((By.CSS_SELECTOR, ".tree")))
        assert "new_feature.py" in browser.find_element(By.CSS_SELECTOR, "li.added").text
        assert "logo.bin" in browser.find_element(By.CSS_SELECTOR, "li.removed").text
        assert "app.py" in browser.find_element(By.CSS_SELECTOR, "li.changed").text
        assert "lib/" in tree.text
        _shot(browser, artifacts, "7-diff")

        # Keyboard: the skip link comes first and moves focus to the content.
        browser.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
        assert browser.switch_to.active_element.text == "Skip to content"

        # Readable on a phone: nothing wider than the screen but the scrolling tables.
        browser.set_window_size(390, 844)
        browser.get(f"{url}/console/packages/{second.guid}")
        _wait(browser, ec.presence_of_element_located((By.CSS_SELECTOR, "table.files")))
        width = browser.execute_script("return document.documentElement.scrollWidth")
        assert width <= browser.execute_script("return window.innerWidth")
        _shot(browser, artifacts, "8-phone-package")

        assert _severe_logs(browser) == []
