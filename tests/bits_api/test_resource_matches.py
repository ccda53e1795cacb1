"""POST /v3/resource_matches (§2.11): shape, validation messages, thresholds, flags and scopes.

The module lowers resource_pool.minimum_size to 10 bytes so pool content stays small; a file is
"in the pool" when a resources-only upload that names it becomes READY.
"""

from __future__ import annotations

import hashlib

import pytest

from capi_packages.auth.tokens import READ, WRITE
from tests.bits_api.bits_support import fingerprint, get_package, match, sha1, upload
from tests.factories import assert_error, make_zip

MIN = 10
PREFIX = "Resources array contains at least one resource with "


@pytest.fixture
def settings_overrides():
    return {"resource_pool_minimum_size": MIN}


@pytest.fixture
def pool(api, world, run_jobs):
    """Upload files (name -> bytes, optional modes) so that they enter the pool; return nothing."""

    def fill(files, modes=None):
        pkg = api.create_package(world.app["guid"])
        assert upload(api, pkg["guid"], make_zip(files, modes)).status_code == 200
        run_jobs()
        assert get_package(api, pkg["guid"])["state"] == "READY"

    return fill


@pytest.fixture
def in_pool(api, world, run_jobs):
    """Whether content is in the pool, judged by building a package from it alone."""

    def check(content):
        pkg = api.create_package(world.app["guid"])
        resources = [{"sha1": sha1(content), "size": len(content), "fn": "probe", "mode": "644"}]
        assert upload(api, pkg["guid"], None, resources).status_code == 200
        run_jobs()
        return get_package(api, pkg["guid"])["state"] == "READY"

    return check


def content(size, seed="x"):
    """Distinct content of exactly `size` bytes."""
    base = hashlib.sha256(seed.encode()).hexdigest().encode()
    return (base * (size // len(base) + 1))[:size]


def unprocessable(r, *messages):
    assert_error(r, 422, 10008, "CF-UnprocessableEntity", ", ".join(messages))


def valid(**over):
    entry = {"checksum": {"value": "a" * 40}, "size_in_bytes": 100, "path": "p", "mode": "644"}
    entry.update(over)
    return entry


# --- success shape ------------------------------------------------------------------------------
def test_matches_answer_201_with_the_cached_entries_in_cc_shape(api, pool):
    a, b = content(500, "a"), content(600, "b")
    pool({"a": a, "b": b})
    unknown = fingerprint(content(700, "u"), "unknown.txt")
    r = match(api, [fingerprint(a, "dir/a.txt", "644"), unknown, fingerprint(b, "b.txt", "0755")])
    assert r.status_code == 201, r.text
    assert r.headers["content-type"].startswith("application/json")
    assert r.json() == {
        "resources": [
            {"checksum": {"value": sha1(a)}, "size_in_bytes": 500, "path": "dir/a.txt", "mode": "644"},
            {"checksum": {"value": sha1(b)}, "size_in_bytes": 600, "path": "b.txt", "mode": "0755"},
        ]
    }
    assert list(r.json()["resources"][0]) == ["checksum", "size_in_bytes", "path", "mode"]


@pytest.mark.parametrize("mode", ["644", "0644", "100644", "0600", "777"])
def test_the_mode_is_echoed_exactly_as_sent(api, pool, mode):
    a = content(300)
    pool({"a": a})
    assert match(api, [fingerprint(a, "a", mode)]).json() == {"resources": [fingerprint(a, "a", mode)]}


def test_nothing_cached_gives_an_empty_list(api):
    r = match(api, [fingerprint(content(500), "a")])
    assert r.status_code == 201
    assert r.json() == {"resources": []}


def test_other_top_level_keys_are_ignored(api):
    r = api.client.post("/v3/resource_matches", json={"resources": [valid()], "potato": 1}, headers=api.admin)
    assert r.status_code == 201, r.text


# --- validation ---------------------------------------------------------------------------------
def test_a_missing_resources_key_gives_both_array_messages(api):
    r = api.client.post("/v3/resource_matches", json={}, headers=api.admin)
    unprocessable(r, "Resources must be an array", "Resources must have at least 1 resource")


def test_an_empty_resources_array_needs_at_least_one(api):
    unprocessable(match(api, []), "Resources must have at least 1 resource")


def test_more_than_5000_resources_are_refused(api):
    unprocessable(
        match(api, [valid(path=f"f{i}") for i in range(5001)]), "Resources array can have at most 5000 resources"
    )


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (valid(checksum="a" * 40), "a non-object checksum"),
        (valid(checksum=None), "a non-object checksum"),
        (valid(checksum={"value": 5}), "a non-string checksum value"),
        (valid(checksum={}), "a non-string checksum value"),
        (valid(checksum={"value": "abc"}), "a non-SHA1 checksum value"),
        (valid(checksum={"value": "z" * 40}), None),  # only the length is checked
        (valid(size_in_bytes=True), "a non-integer size_in_bytes"),
        (valid(size_in_bytes="12"), "a non-integer size_in_bytes"),
        (valid(size_in_bytes=5.1), "a non-integer size_in_bytes"),
        (valid(size_in_bytes={}), "a non-integer size_in_bytes"),
        (valid(size_in_bytes=-1), "a negative size_in_bytes"),
        (valid(mode=644), "a non-string mode"),
        (valid(mode="abc"), "an incorrect mode"),
        (valid(mode="0o644"), "an incorrect mode"),
        (valid(mode="8"), "an incorrect mode"),
        (valid(path=5), None),  # path is not validated
    ],
)
def test_each_per_entry_rule_has_its_own_message(api, entry, message):
    r = match(api, [entry])
    if message is None:
        assert r.status_code == 201, r.text
    else:
        unprocessable(r, PREFIX + message)


def test_a_missing_size_is_a_non_integer_size(api):
    entry = valid()
    del entry["size_in_bytes"]
    unprocessable(match(api, [entry]), PREFIX + "a non-integer size_in_bytes")


def test_every_broken_rule_is_reported_once_in_the_reference_order(api):
    broken = [
        valid(mode="9"),
        valid(mode=7),
        valid(size_in_bytes=-5),
        valid(size_in_bytes="x"),
        valid(checksum={"value": "short"}),
        valid(checksum={"value": 1}),
        valid(checksum="x"),
    ]
    r = match(api, broken * 3 + [valid()])
    unprocessable(
        r,
        PREFIX + "a non-object checksum",
        PREFIX + "a non-string checksum value",
        PREFIX + "a non-SHA1 checksum value",
        PREFIX + "a non-integer size_in_bytes",
        PREFIX + "a negative size_in_bytes",
        PREFIX + "a non-string mode",
        PREFIX + "an incorrect mode",
    )


def test_the_too_many_message_comes_before_the_entry_messages(api):
    r = match(api, [valid()] * 5000 + [valid(size_in_bytes=-1)])
    unprocessable(r, "Resources array can have at most 5000 resources", PREFIX + "a negative size_in_bytes")


@pytest.mark.parametrize("element", [1, "a", None, ["x"], True])
def test_a_non_object_element_is_unprocessable_not_a_server_error(api, element):
    r = match(api, [valid(), element])
    assert r.status_code == 422, r.text
    (error,) = r.json()["errors"]
    assert error["title"] == "CF-UnprocessableEntity"
    assert error["code"] == 10008
    assert error["detail"].startswith("Resources ")


def test_a_body_that_is_not_json_is_a_parse_error(api):
    r = api.client.post(
        "/v3/resource_matches", content=b"{nope", headers={**api.admin, "Content-Type": "application/json"}
    )
    assert_error(r, 400, 1001, "CF-MessageParseError", "Request invalid due to parse error: invalid request body")


# --- thresholds: inclusive when adding, strict when matching ------------------------------------
def test_a_file_exactly_at_the_minimum_size_is_cached_but_never_matched(api, pool, in_pool):
    below, at, above = content(MIN - 1, "below"), content(MIN, "at"), content(MIN + 1, "above")
    pool({"below": below, "at": at, "above": above})
    assert in_pool(at)
    assert not in_pool(below)
    assert in_pool(above)
    r = match(api, [fingerprint(below, "below"), fingerprint(at, "at"), fingerprint(above, "above")])
    assert r.json() == {"resources": [fingerprint(above, "above")]}


def test_matching_compares_the_declared_size_strictly_against_the_minimum(api, pool):
    above = content(MIN + 1)
    pool({"above": above})
    declared_at_minimum = {"checksum": {"value": sha1(above)}, "size_in_bytes": MIN, "path": "a", "mode": "644"}
    assert match(api, [declared_at_minimum]).json() == {"resources": []}


@pytest.mark.parametrize("settings_overrides", [{"resource_pool_minimum_size": MIN, "resource_pool_maximum_size": 100}])
def test_a_file_exactly_at_the_maximum_size_is_cached_but_never_matched(api, pool, in_pool):
    below, at, above = content(99, "below"), content(100, "at"), content(101, "above")
    pool({"below": below, "at": at, "above": above})
    assert in_pool(below)
    assert in_pool(at)
    assert not in_pool(above)
    r = match(api, [fingerprint(below, "below"), fingerprint(at, "at"), fingerprint(above, "above")])
    assert r.json() == {"resources": [fingerprint(below, "below")]}


@pytest.mark.parametrize(
    ("mode", "matched"),
    [
        ("600", True),
        ("0600", True),
        ("700", True),
        ("1000", True),
        ("100644", True),
        ("577", False),
        ("0400", False),
        ("500", False),
        ("0", False),
    ],
)
def test_the_mode_must_be_at_least_0600_read_as_an_octal_number(api, pool, mode, matched):
    a = content(200)
    pool({"a": a})
    expected = [fingerprint(a, "a", mode)] if matched else []
    assert match(api, [fingerprint(a, "a", mode)]).json() == {"resources": expected}


def test_an_entry_without_a_mode_is_never_matched(api, pool):
    a = content(200)
    pool({"a": a})
    assert match(api, [fingerprint(a, "a", None)]).json() == {"resources": []}


def test_uploaded_files_with_modes_below_0600_do_not_enter_the_pool(api, pool, in_pool):
    locked, open_ = content(300, "locked"), content(300, "open")
    pool({"locked": locked, "open": open_}, modes={"locked": 0o444, "open": 0o600})
    assert not in_pool(locked)
    assert in_pool(open_)


# --- flags, scopes and roles --------------------------------------------------------------------
def test_with_resource_matching_off_nothing_is_matched_even_for_an_admin(api, pool):
    a = content(200)
    pool({"a": a})
    assert match(api, [fingerprint(a, "a")]).json() == {"resources": [fingerprint(a, "a")]}
    api.app.state.settings.feature_resource_matching = False
    r = match(api, [fingerprint(a, "a")])
    assert r.status_code == 201
    assert r.json() == {"resources": []}


@pytest.mark.parametrize(
    "settings_overrides", [{"resource_pool_minimum_size": MIN, "feature_resource_matching": False}]
)
def test_with_resource_matching_off_uploads_do_not_fill_the_pool(api, pool, in_pool):
    a = content(200)
    pool({"a": a})
    assert not in_pool(a)


@pytest.mark.parametrize("settings_overrides", [{"resource_pool_minimum_size": MIN, "feature_app_bits_upload": False}])
def test_with_app_bits_upload_off_a_non_admin_is_refused(api, world):
    r = match(api, [valid()], headers=api.user("space_developer", world))
    assert_error(r, 403, 330002, "CF-FeatureDisabled", "Feature Disabled: app_bits_upload")


@pytest.mark.parametrize("settings_overrides", [{"resource_pool_minimum_size": MIN, "feature_app_bits_upload": False}])
def test_with_app_bits_upload_off_an_admin_still_matches(api):
    r = match(api, [valid()])
    assert r.status_code == 201, r.text
    assert r.json() == {"resources": []}


@pytest.mark.parametrize("settings_overrides", [{"resource_pool_minimum_size": MIN, "feature_app_bits_upload": False}])
def test_the_feature_flag_is_checked_before_validation(api, world):
    r = match(api, [], headers=api.user("space_developer", world))
    assert_error(r, 403, 330002, "CF-FeatureDisabled", "Feature Disabled: app_bits_upload")


def test_a_token_without_the_write_scope_is_forbidden(api):
    r = match(api, [valid()], headers=api.headers("reader", (READ,)))
    assert_error(r, 403, 10003, "CF-NotAuthorized", "You are not authorized to perform the requested action")


def test_a_request_without_a_token_is_not_authenticated(api):
    r = api.client.post("/v3/resource_matches", json={"resources": [valid()]})
    assert_error(r, 401, 10002, "CF-NotAuthenticated", "Authentication error")


@pytest.mark.parametrize("role", ["no_role", "organization_auditor", "space_auditor", "space_developer"])
def test_any_user_with_the_write_scope_may_match(api, world, pool, role):
    a = content(200)
    pool({"a": a})
    headers = api.user(role, world) if role != "no_role" else api.headers("nobody", (READ, WRITE))
    r = match(api, [fingerprint(a, "a")], headers=headers)
    assert r.status_code == 201, r.text
    assert r.json() == {"resources": [fingerprint(a, "a")]}


# --- output order and volume --------------------------------------------------------------------
def test_the_answer_is_grouped_by_size_bucket_in_order_of_first_appearance(api, pool):
    small1, small2 = content(500, "s1"), content(600, "s2")  # <= 1 KB
    mid1, mid2 = content(2_000, "m1"), content(3_000, "m2")  # 1 KB - 100 KB
    large = content(200_000, "l")  # 100 KB - 1 MB
    pool({"s1": small1, "s2": small2, "m1": mid1, "m2": mid2, "l": large})
    order = [
        fingerprint(mid1, "m1"),
        fingerprint(small1, "s1"),
        fingerprint(large, "l"),
        fingerprint(mid2, "m2"),
        fingerprint(small2, "s2"),
    ]
    r = match(api, order)
    assert [e["path"] for e in r.json()["resources"]] == ["m1", "m2", "s1", "s2", "l"]


def test_5000_fingerprints_are_answered_correctly(api, pool):
    cached = [content(100 + i, f"c{i}") for i in range(5)]
    pool({f"c{i}": c for i, c in enumerate(cached)})
    request = [fingerprint(content(50, f"n{i}"), f"miss/{i}") for i in range(5000)]
    for i, c in enumerate(cached):
        request[i * 1000 + 7] = fingerprint(c, f"hit/{i}")
    r = match(api, request)
    assert r.status_code == 201
    assert r.json() == {"resources": [fingerprint(c, f"hit/{i}") for i, c in enumerate(cached)]}
