"""GET /x/packages/{guid}/diff?against=: added, removed, changed and mode-changed paths, and its errors."""

from __future__ import annotations

import uuid

import pytest

from tests.bits_api.bits_support import regular, symlink, uploaded_package, zip_entries
from tests.entries_api.conftest import FILES
from tests.factories import assert_error


def second_zip() -> bytes:
    return zip_entries(
        [
            regular("index.js", FILES["index.js"], 0o644),  # mode only
            regular("lib/util.js", b"module.exports = 2\n"),  # content only
            regular("README.md", b"# app, renamed\n", 0o600),  # content and mode
            regular("lib/new.js", b"new"),  # added
            symlink("current", "index.js"),  # link retargeted
        ]
    )  # lib/deep/data.bin removed


@pytest.fixture
def pushed_again(api, world, run_jobs):
    return uploaded_package(api, world.app["guid"], second_zip(), run_jobs)


def diff(api, guid, query, headers=None):
    return api.client.get(f"/x/packages/{guid}/diff{query}", headers=headers or api.admin)


def test_a_second_push_shows_what_was_added_removed_and_changed(api, ready, pushed_again):
    r = diff(api, pushed_again["guid"], f"?against={ready['guid']}")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["package"] == {"guid": pushed_again["guid"]}
    assert body["against"] == {"guid": ready["guid"]}
    assert [e["path"] for e in body["added"]] == ["lib/new.js"]
    assert [e["path"] for e in body["removed"]] == ["lib/deep/data.bin"]
    assert [c["path"] for c in body["changed"]] == ["README.md", "current", "lib/util.js"]
    assert [c["path"] for c in body["mode_changed"]] == ["README.md", "index.js"]
    assert body["summary"] == {"added": 1, "removed": 1, "changed": 3, "mode_changed": 2, "unchanged": 0}
    index = next(c for c in body["mode_changed"] if c["path"] == "index.js")
    assert (index["before"]["mode"], index["after"]["mode"]) == ("755", "644")
    assert index["before"]["sha1"] == index["after"]["sha1"]
    link = next(c for c in body["changed"] if c["path"] == "current")
    assert (link["before"]["symlink_target"], link["after"]["symlink_target"]) == ("lib/util.js", "index.js")


def test_a_package_against_itself_or_a_copy_has_no_changes(api, ready, run_jobs):
    other_app = api.create_app(api.world().space["guid"])
    copy = api.ok(
        "POST",
        f"/v3/packages?source_guid={ready['guid']}",
        201,
        json={"relationships": {"app": {"data": {"guid": other_app["guid"]}}}},
    )
    run_jobs()
    body = diff(api, copy["guid"], f"?against={ready['guid']}").json()
    assert body["summary"] == {"added": 0, "removed": 0, "changed": 0, "mode_changed": 0, "unchanged": 5}


def test_against_is_required(api, ready):
    assert_error(
        diff(api, ready["guid"], ""),
        400,
        10005,
        "CF-BadQueryParameter",
        "The query parameter is invalid: Against can't be blank",
    )


def test_unknown_query_parameters_are_refused(api, ready):
    assert_error(
        diff(api, ready["guid"], f"?against={ready['guid']}&prefix=x"),
        400,
        10005,
        "CF-BadQueryParameter",
        "The query parameter is invalid: Unknown query parameter(s): 'prefix'. Valid parameters are: 'against'",
    )


def test_an_unknown_or_invisible_against_package_is_invalid(api, world, ready, pushed_again):
    invalid = (
        422,
        10008,
        "CF-UnprocessableEntity",
        "Against package is invalid. Ensure it exists and you have access to it.",
    )
    assert_error(diff(api, ready["guid"], f"?against={uuid.uuid4()}"), *invalid)
    elsewhere = api.world()
    developer = api.user("space_developer", world)
    other = api.create_package(elsewhere.app["guid"])
    assert_error(diff(api, ready["guid"], f"?against={other['guid']}", developer), *invalid)


def test_an_against_package_without_bits_says_so(api, world, ready):
    waiting = api.create_package(world.app["guid"])
    assert_error(
        diff(api, ready["guid"], f"?against={waiting['guid']}"),
        422,
        10008,
        "CF-UnprocessableEntity",
        "Against: Package has no bits to compare: it is AWAITING_UPLOAD.",
    )


def test_the_package_itself_follows_the_download_rules(api, world, ready, pushed_again):
    query = f"?against={ready['guid']}"
    assert_error(
        diff(api, pushed_again["guid"], query, api.user("space_auditor", world)),
        403,
        10003,
        "CF-NotAuthorized",
        "You are not authorized to perform the requested action",
    )
    assert_error(
        diff(api, pushed_again["guid"], query, api.user("no_role", world)),
        404,
        10010,
        "CF-ResourceNotFound",
        "Package not found",
    )
    assert diff(api, pushed_again["guid"], query, api.user("space_developer", world)).status_code == 200
