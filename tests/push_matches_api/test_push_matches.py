"""POST /x/apps/{guid}/push_matches: the app's READY package holding exactly a pushed tree."""

from __future__ import annotations

import hashlib

import pytest

from tests.bits_api.bits_support import (
    directory,
    package_blob_path,
    regular,
    sha1,
    symlink,
    upload,
    uploaded_package,
    zip_entries,
)
from tests.conftest import BASE_URL
from tests.factories import assert_error

BIG = b"pool-sized content " * 4000  # above the pool minimum (64 KiB)
FILES = [regular("app.js", b"console.log(1)\n", 0o755), regular("lib/a.js", b"exports.a = 1\n")]
NOT_AUTHORIZED = (403, 10003, "CF-NotAuthorized", "You are not authorized to perform the requested action")
APP_NOT_FOUND = (404, 10010, "CF-ResourceNotFound", "App not found")
UNPROCESSABLE = (422, 10008, "CF-UnprocessableEntity")


def digest_of(items: list[tuple[str, int, str | None, str | None]]) -> str:
    """The wire format, written out independently: (path, mode, sha1, link target) sorted by path."""
    h = hashlib.sha256()
    for path, mode, file_sha1, target in sorted(items):
        line = f"l\0{path}\0{target}\n" if target is not None else f"f\0{path}\0{mode:o}\0{file_sha1}\n"
        h.update(line.encode())
    return h.hexdigest()


TREE = digest_of(
    [("app.js", 0o755, sha1(b"console.log(1)\n"), None), ("lib/a.js", 0o644, sha1(b"exports.a = 1\n"), None)]
)


def push_match(api, app_guid, body, headers=None):
    return api.client.post(f"/x/apps/{app_guid}/push_matches", json=body, headers=headers or api.admin)


def matched(api, app_guid, digest, headers=None):
    r = push_match(api, app_guid, {"tree_digest": digest}, headers)
    assert r.status_code == 200, r.text
    assert r.json()["tree_digest"] == digest
    package = r.json()["package"]
    return package["guid"] if package else None


@pytest.fixture
def world(api):
    return api.world()


@pytest.fixture
def ready(api, world, run_jobs):
    return uploaded_package(api, world.app["guid"], zip_entries(FILES), run_jobs)


def test_the_package_holding_exactly_the_tree_is_named_with_its_link(api, world, ready):
    r = push_match(api, world.app["guid"], {"tree_digest": TREE})
    assert r.status_code == 200, r.text
    assert r.json() == {
        "tree_digest": TREE,
        "package": {"guid": ready["guid"], "links": {"self": {"href": f"{BASE_URL}/v3/packages/{ready['guid']}"}}},
        "known_trees": 1,
    }


def test_known_trees_counts_the_apps_ready_packages_with_a_recorded_tree(api, world, run_jobs):
    def known():
        return push_match(api, world.app["guid"], {"tree_digest": TREE}).json()["known_trees"]

    assert known() == 0
    uploaded_package(api, world.app["guid"], zip_entries(FILES), run_jobs)
    uploaded_package(api, world.app["guid"], zip_entries([regular("b", b"b")]), run_jobs)
    api.create_package(world.app["guid"])  # no bits: nothing to match
    assert known() == 2


@pytest.mark.parametrize(
    "items",
    [
        [("app.js", 0o755, sha1(b"console.log(1)\n"), None)],  # a file less
        [("app.js", 0o644, sha1(b"console.log(1)\n"), None), ("lib/a.js", 0o644, sha1(b"exports.a = 1\n"), None)],
        [("app.js", 0o755, sha1(b"console.log(2)\n"), None), ("lib/a.js", 0o644, sha1(b"exports.a = 1\n"), None)],
        [("app.js", 0o755, sha1(b"console.log(1)\n"), None), ("lib/b.js", 0o644, sha1(b"exports.a = 1\n"), None)],
    ],
    ids=["file-missing", "mode-changed", "content-changed", "renamed"],
)
def test_any_other_tree_matches_nothing(api, world, ready, items):
    assert matched(api, world.app["guid"], digest_of(items)) is None


def test_directories_do_not_count_and_links_do(api, world, run_jobs):
    entries = [directory("lib"), *FILES, symlink("current", "lib/a.js")]
    pkg = uploaded_package(api, world.app["guid"], zip_entries(entries), run_jobs)
    with_link = digest_of(
        [
            ("app.js", 0o755, sha1(b"console.log(1)\n"), None),
            ("lib/a.js", 0o644, sha1(b"exports.a = 1\n"), None),
            ("current", 0, None, "lib/a.js"),
        ]
    )
    assert matched(api, world.app["guid"], with_link) == pkg["guid"]
    assert matched(api, world.app["guid"], TREE) is None


def test_files_taken_from_the_resource_pool_are_part_of_the_tree(api, world, run_jobs):
    uploaded_package(api, world.app["guid"], zip_entries([regular("big.bin", BIG)]), run_jobs)
    cached = [{"checksum": {"value": sha1(BIG)}, "size_in_bytes": len(BIG), "path": "vendor/big.bin", "mode": "600"}]
    pkg = uploaded_package(api, world.app["guid"], zip_entries(FILES), run_jobs, resources=cached)
    tree = digest_of(
        [
            ("app.js", 0o755, sha1(b"console.log(1)\n"), None),
            ("lib/a.js", 0o644, sha1(b"exports.a = 1\n"), None),
            ("vendor/big.bin", 0o600, sha1(BIG), None),
        ]
    )
    assert matched(api, world.app["guid"], tree) == pkg["guid"]


def test_a_resources_only_upload_is_matched_too(api, world, run_jobs):
    uploaded_package(api, world.app["guid"], zip_entries([regular("big.bin", BIG)]), run_jobs)
    cached = [{"checksum": {"value": sha1(BIG)}, "size_in_bytes": len(BIG), "path": "big.bin", "mode": "644"}]
    pkg = api.create_package(world.app["guid"])
    assert upload(api, pkg["guid"], None, cached).status_code == 200
    run_jobs()
    assert matched(api, world.app["guid"], digest_of([("big.bin", 0o644, sha1(BIG), None)])) == pkg["guid"]


def test_the_newest_of_several_packages_holding_the_tree_is_named_duplicates_included(api, world, ready, run_jobs):
    second = uploaded_package(api, world.app["guid"], zip_entries(FILES), run_jobs)
    assert matched(api, world.app["guid"], TREE) == second["guid"]
    copy = api.ok("POST", f"/x/packages/{ready['guid']}/duplicate", 201)
    run_jobs()
    assert matched(api, world.app["guid"], TREE) == copy["guid"]


def test_an_older_tree_of_the_app_is_still_found(api, world, ready, run_jobs):
    uploaded_package(api, world.app["guid"], zip_entries([regular("other.txt", b"x")]), run_jobs)
    assert matched(api, world.app["guid"], TREE) == ready["guid"]


def test_packages_of_other_apps_are_never_named(api, world, ready):
    other = api.create_app(world.space["guid"], "other")
    assert matched(api, other["guid"], TREE) is None


def test_a_package_whose_zip_is_gone_is_not_named(api, world, ready):
    package_blob_path(api, ready["guid"]).unlink()
    assert matched(api, world.app["guid"], TREE) is None


def test_a_deleted_package_is_not_named(api, world, ready, run_jobs):
    assert api.client.delete(f"/v3/packages/{ready['guid']}", headers=api.admin).status_code == 202
    run_jobs()
    assert matched(api, world.app["guid"], TREE) is None


def test_a_failed_package_is_not_named(api, world, run_jobs):
    pkg = api.create_package(world.app["guid"])
    upload(api, pkg["guid"], b"not a zip")
    run_jobs()
    assert matched(api, world.app["guid"], TREE) is None


@pytest.mark.parametrize("role", ["admin", "space_developer"])
def test_those_who_may_push_to_the_app_may_ask(api, world, ready, role):
    assert matched(api, world.app["guid"], TREE, api.user(role, world)) == ready["guid"]


@pytest.mark.parametrize(
    "role",
    ["admin_read_only", "global_auditor", "space_manager", "space_auditor", "space_supporter", "organization_manager"],
)
def test_those_who_see_the_app_but_may_not_push_are_forbidden(api, world, ready, role):
    assert_error(push_match(api, world.app["guid"], {"tree_digest": TREE}, api.user(role, world)), *NOT_AUTHORIZED)


@pytest.mark.parametrize(
    "role", ["organization_auditor", "organization_billing_manager", "organization_user", "no_role"]
)
def test_those_who_cannot_see_the_app_get_not_found(api, world, ready, role):
    assert_error(push_match(api, world.app["guid"], {"tree_digest": TREE}, api.user(role, world)), *APP_NOT_FOUND)


def test_an_unknown_app_is_not_found(api):
    assert_error(push_match(api, "no-such-app", {"tree_digest": TREE}), *APP_NOT_FOUND)


def test_no_token_is_not_authenticated(api, world):
    r = api.client.post(f"/x/apps/{world.app['guid']}/push_matches", json={"tree_digest": TREE})
    assert_error(r, 401, 10002, "CF-NotAuthenticated", "Authentication error")


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ([], "Request must be an object."),
        ("x", "Request must be an object."),
        ({}, "Tree digest must be 64 lowercase hexadecimal digits."),
        ({"tree_digest": None}, "Tree digest must be 64 lowercase hexadecimal digits."),
        ({"tree_digest": 7}, "Tree digest must be 64 lowercase hexadecimal digits."),
        ({"tree_digest": TREE.upper()}, "Tree digest must be 64 lowercase hexadecimal digits."),
        ({"tree_digest": TREE[:-1]}, "Tree digest must be 64 lowercase hexadecimal digits."),
        ({"tree_digest": TREE + "\n"}, "Tree digest must be 64 lowercase hexadecimal digits."),
        ({"tree_digest": "../" * 21 + "a"}, "Tree digest must be 64 lowercase hexadecimal digits."),
        ({"tree_digest": TREE, "resources": []}, "Unknown field(s): 'resources'"),
    ],
)
def test_bad_requests_are_unprocessable_with_a_clear_text(api, world, ready, body, detail):
    assert_error(push_match(api, world.app["guid"], body), *UNPROCESSABLE, detail)


def test_a_body_that_is_not_json_is_a_parse_error(api, world):
    r = api.client.post(
        f"/x/apps/{world.app['guid']}/push_matches",
        content=b"{not json",
        headers={**api.admin, "Content-Type": "application/json"},
    )
    assert r.status_code == 400, r.text
    assert r.json()["errors"][0]["title"] == "CF-MessageParseError"


@pytest.mark.parametrize("settings_overrides", [{"feature_app_bits_upload": False}])
def test_with_app_bits_upload_off_only_admins_may_ask(api, world, ready):
    developer = api.user("space_developer", world)
    r = push_match(api, world.app["guid"], {"tree_digest": TREE}, developer)
    assert_error(r, 403, 330002, "CF-FeatureDisabled", "Feature Disabled: app_bits_upload")
    assert matched(api, world.app["guid"], TREE) == ready["guid"]
