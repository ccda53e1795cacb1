"""The console's pages over HTTP: login, the app tree, packages, files, diffs, escaping and headers."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.console.conftest import HOSTILE_NAME, csrf_of, log_in


def test_without_a_login_every_page_sends_you_to_the_login_page(browser, pushes):
    _, first, _ = pushes
    for path in ("/console", f"/console/packages/{first['guid']}", f"/console/apps/{pushes[0].app['guid']}"):
        r = browser.get(path, follow_redirects=False)
        assert (r.status_code, r.headers["location"]) == (303, "/console/login"), path


def test_a_user_logs_in_with_a_password_and_gets_an_http_only_strict_cookie(browser, alice):
    r = log_in(browser, username="alice", password="s3cret")
    assert (r.status_code, r.headers["location"]) == (303, "/console")
    cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith("capi_console_token="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/console" in cookie
    assert "Max-Age=3600" in cookie
    home = browser.get("/console")
    assert home.status_code == 200 and "alice" in home.text


def test_a_wrong_password_is_refused_on_the_login_page(browser, alice):
    r = log_in(browser, username="alice", password="wrong")
    assert r.status_code == 401 and "Wrong user name or password." in r.text
    assert "capi_console_token" not in r.headers.get("set-cookie", "")


def test_a_login_without_the_form_token_is_refused(browser, alice):
    browser.get("/console/login")
    r = browser.post("/console/login", data={"csrf": "forged", "username": "alice", "password": "s3cret"})
    assert r.status_code == 400 and "The form expired" in r.text


def test_a_pasted_token_that_is_not_valid_is_refused(browser):
    r = log_in(browser, token="not-a-jwt")
    assert r.status_code == 401 and "That token is not valid here." in r.text


def test_logging_out_forgets_the_token(admin_browser):
    page = admin_browser.get("/console")
    r = admin_browser.post("/console/logout", data={"csrf": csrf_of(page.text)}, follow_redirects=False)
    assert r.status_code == 303
    assert admin_browser.get("/console", follow_redirects=False).status_code == 303


def test_pages_carry_a_strict_content_security_policy(admin_browser):
    r = admin_browser.get("/console")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp and "unsafe" not in csp
    assert r.headers["x-frame-options"] == "DENY" and r.headers["cache-control"] == "no-store"


def test_home_shows_orgs_spaces_and_apps(admin_browser, pushes):
    world = pushes[0]
    page = admin_browser.get("/console").text
    for name in (world.org["name"], world.space["name"], world.app["name"]):
        assert name in page
    assert f'href="/console/apps/{world.app["guid"]}"' in page


def test_an_app_page_lists_its_packages_newest_first_and_filters_like_the_api(admin_browser, pushes, api):
    world, first, second = pushes
    waiting = api.create_package(world.app["guid"])
    page = admin_browser.get(f"/console/apps/{world.app['guid']}").text
    assert page.index(waiting["guid"][:8]) < page.index(second["guid"][:8]) < page.index(first["guid"][:8])
    ready_only = admin_browser.get(f"/console/apps/{world.app['guid']}?states=READY&states=FAILED").text
    assert waiting["guid"][:8] not in ready_only and first["guid"][:8] in ready_only
    bad = admin_browser.get(f"/console/apps/{world.app['guid']}?label_selector=%21%21").text
    assert 'class="problem"' in bad


def test_a_package_page_shows_the_top_directory_and_links_the_previous_push(admin_browser, pushes):
    _, first, second = pushes
    page = admin_browser.get(f"/console/packages/{second['guid']}").text
    assert f"/console/packages/{second['guid']}?dir=lib" in page
    assert f"/console/packages/{second['guid']}/diff?against={first['guid']}" in page
    assert "-rw-r--r--" in page and "lib/" in page
    sub = admin_browser.get(f"/console/packages/{second['guid']}?dir=lib").text
    assert "new.py" in sub and "util.py" in sub and "-rwxr-xr-x" in sub


def test_hostile_names_and_contents_are_escaped(admin_browser, pushes):
    _, first, _ = pushes
    listing = admin_browser.get(f"/console/packages/{first['guid']}").text
    assert "<img src=x" not in listing and "&lt;img src=x onerror=alert(1)&gt;.html" in listing
    viewer = admin_browser.get(f"/console/packages/{first['guid']}/files/{quote(HOSTILE_NAME)}")
    assert viewer.status_code == 200
    assert "<script>alert" not in viewer.text and "&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;" in viewer.text


def test_a_text_file_is_shown_and_a_binary_one_offered_for_download(admin_browser, pushes):
    _, first, _ = pushes
    text = admin_browser.get(f"/console/packages/{first['guid']}/files/app.py").text
    assert "print(&#39;one&#39;)" in text
    binary = admin_browser.get(f"/console/packages/{first['guid']}/files/static/logo.bin").text
    assert "This file is not text." in binary
    raw = admin_browser.get(f"/console/packages/{first['guid']}/raw/static/logo.bin")
    assert raw.content == bytes(range(256)) and raw.headers["content-disposition"].startswith("attachment")


def test_the_whole_package_downloads_by_signed_url(admin_browser, pushes):
    _, first, _ = pushes
    r = admin_browser.get(f"/console/packages/{first['guid']}/download", follow_redirects=False)
    assert r.status_code == 303 and "/blobs/packages/" in r.headers["location"]
    assert admin_browser.get(r.headers["location"]).content[:2] == b"PK"


def test_the_diff_page_shows_a_tree_of_changes(admin_browser, pushes):
    _, first, second = pushes
    page = admin_browser.get(f"/console/packages/{second['guid']}/diff?against={first['guid']}").text
    assert 'class="changed"' in page and "app.py" in page
    assert 'class="added"' in page and "new.py" in page
    assert 'class="removed"' in page and "logo.bin" in page
    assert 'class="mode"' in page and "-rw-r--r-- → -rwxr-xr-x" in page


@pytest.mark.parametrize("role", ["space_auditor", "space_manager"])
def test_roles_without_download_rights_see_the_package_but_not_its_files(api, browser, pushes, role):
    world, first, _ = pushes
    log_in(browser, token=api.user(role, world)["Authorization"].split(" ", 1)[1])
    page = browser.get(f"/console/packages/{first['guid']}")
    assert page.status_code == 200
    assert "You are not authorized to perform the requested action" in page.text
    assert browser.get(f"/console/packages/{first['guid']}/files/app.py").status_code == 403


def test_invisible_packages_are_not_found_pages(api, browser, pushes):
    world, first, _ = pushes
    log_in(browser, token=api.user("no_role", world)["Authorization"].split(" ", 1)[1])
    page = browser.get(f"/console/packages/{first['guid']}")
    assert page.status_code == 404 and "Package not found" in page.text


def test_a_row_of_a_package_in_flight_polls_until_it_is_done(admin_browser, api, pushes):
    world = pushes[0]
    from tests.bits_api.bits_support import upload
    from tests.factories import make_zip

    pkg = api.create_package(world.app["guid"])
    upload(api, pkg["guid"], make_zip({"a.txt": "a"}))  # processed only when jobs run
    row = admin_browser.get(f"/console/packages/{pkg['guid']}/row", headers={"HX-Request": "true"}).text
    assert "PROCESSING_UPLOAD" in row and 'hx-trigger="every 2s"' in row


def test_static_assets_ship_with_the_package(browser):
    assert browser.get("/console/static/htmx.min.js").status_code == 200
    assert "Zero-Clause BSD" in browser.get("/console/static/htmx.LICENSE").text
    assert browser.get("/console/static/console.css").status_code == 200


@pytest.mark.parametrize("settings_overrides", [{"console_enabled": False}])
def test_the_console_can_be_switched_off(browser):
    assert browser.get("/console/login").status_code == 404
