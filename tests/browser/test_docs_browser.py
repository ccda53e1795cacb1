"""/docs in a real headless Chromium against a real `serve` process, with no route to the internet:
Swagger UI loads from the server itself and shows the packages operations from /openapi.json."""

from __future__ import annotations

from pathlib import Path

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.process.conftest import running_server

PACKAGES_OPERATIONS = (
    "list_packages",
    "create_package",
    "get_package",
    "update_package",
    "delete_package",
    "upload_package_bits",
    "download_package_bits",
    "copy_package",
    "list_app_packages",
)


def test_docs_render_the_packages_operations_from_assets_on_the_server_alone(tmp_path: Path, browser):
    with running_server(tmp_path, CAPI_WORKER_ENABLED="false") as (url, _env):
        browser.get(f"{url}/docs")
        WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".opblock-tag-section"))

        shown = {e.get_attribute("id") for e in browser.find_elements(By.CSS_SELECTOR, ".opblock")}
        assert {f"operations-packages-{op}" for op in PACKAGES_OPERATIONS} <= shown, sorted(shown)

        # An operation opens on its parameters: the list filters come from the document.
        browser.find_element(By.CSS_SELECTOR, "#operations-packages-list_packages .opblock-summary-control").click()
        WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".parameters [data-param-name]"))
        params = browser.find_element(By.ID, "operations-packages-list_packages")
        names = {e.get_attribute("data-param-name") for e in params.find_elements(By.CSS_SELECTOR, "[data-param-name]")}
        assert {"states", "types", "app_guids", "label_selector", "per_page"} <= names
        codes = {e.get_attribute("data-code") for e in params.find_elements(By.CSS_SELECTOR, "tr.response[data-code]")}
        assert {"200", "400", "401", "403", "500"} <= codes, codes
        assert "CF-ResourceNotFound" in params.text  # the error envelope's example, on every error status
        browser.save_screenshot(str(tmp_path / "docs.png"))

        # Everything the page loaded came from the server; nothing was asked of another host.
        loaded = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
        assert loaded, "the page loaded no assets"
        assert all(name.startswith(url) for name in loaded), loaded
        severe = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
        assert not severe, severe
