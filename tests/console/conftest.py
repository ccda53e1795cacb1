"""Console fixtures: a local user, a logged-in browser-like client, an app with two pushes."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from capi_packages.login.service import add_user
from tests.bits_api.bits_support import regular, symlink, uploaded_package, zip_entries
from tests.conftest import BASE_URL

HOSTILE_NAME = "<img src=x onerror=alert(1)>.html"
HOSTILE_CONTENT = b"<script>alert('pwned')</script>\n"


def csrf_of(page: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', page)
    assert match, page
    return match.group(1)


def log_in(client: TestClient, **form: str):
    page = client.get("/console/login")
    return client.post("/console/login", data={"csrf": csrf_of(page.text), **form}, follow_redirects=False)


@pytest.fixture
def alice(app):
    with app.state.sessionmaker() as s:
        user = add_user(s, "alice", "s3cret")
        s.commit()
        return user.guid


@pytest.fixture
def browser(app):
    """A cookie-keeping client of its own, like a browser (the `api` client stays token-only)."""
    return TestClient(app, base_url=BASE_URL, raise_server_exceptions=False)


@pytest.fixture
def admin_browser(app, browser, api):
    r = log_in(browser, token=api.token("console-admin", ("cloud_controller.admin",)))
    assert r.status_code == 303, r.text
    return browser


@pytest.fixture
def pushes(api, run_jobs):
    world = api.world()
    first = uploaded_package(
        api,
        world.app["guid"],
        zip_entries(
            [
                regular("app.py", b"print('one')\n"),
                regular("lib/util.py", b"x = 1\n"),
                regular("static/logo.bin", bytes(range(256))),
                regular(HOSTILE_NAME, HOSTILE_CONTENT),
                symlink("current", "app.py"),
            ]
        ),
        run_jobs,
    )
    second = uploaded_package(
        api,
        world.app["guid"],
        zip_entries(
            [
                regular("app.py", b"print('two')\n"),
                regular("lib/util.py", b"x = 1\n", 0o755),
                regular("lib/new.py", b"new\n"),
                regular(HOSTILE_NAME, HOSTILE_CONTENT),
                symlink("current", "app.py"),
            ]
        ),
        run_jobs,
    )
    return world, first, second
