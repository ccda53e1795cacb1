"""POST /x/packages/{guid}/duplicate: a new package of the same app, its bits copied on the server."""

from __future__ import annotations

import pytest

from tests.bits_api.bits_support import (
    checksum_of,
    download_bytes,
    error_of,
    get_package,
    package_blob_path,
    state_of,
    upload,
    uploaded_package,
    zip_entries,
)
from tests.factories import assert_error
from tests.push_matches_api.test_push_matches import FILES

NOT_AUTHORIZED = (403, 10003, "CF-NotAuthorized", "You are not authorized to perform the requested action")
PACKAGE_NOT_FOUND = (404, 10010, "CF-ResourceNotFound", "Package not found")


@pytest.fixture
def world(api):
    return api.world()


@pytest.fixture
def ready(api, world, run_jobs):
    return uploaded_package(api, world.app["guid"], zip_entries(FILES), run_jobs)


def duplicate(api, guid, headers=None):
    return api.client.post(f"/x/packages/{guid}/duplicate", headers=headers or api.admin)


def test_a_duplicate_is_a_new_package_of_the_same_app_copying_then_ready_with_the_same_bits(
    api, world, ready, run_jobs
):
    r = duplicate(api, ready["guid"])
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["guid"] != ready["guid"]
    assert (body["type"], body["state"]) == ("bits", "COPYING")
    assert body["links"]["app"]["href"].endswith(f"/v3/apps/{world.app['guid']}")
    run_jobs()
    assert state_of(api, body["guid"]) == "READY"
    assert checksum_of(api, body["guid"]) == checksum_of(api, ready["guid"])
    assert download_bytes(api, body["guid"]) == download_bytes(api, ready["guid"])
    listed = api.ok("GET", f"/v3/apps/{world.app['guid']}/packages", 200)["resources"]
    assert {p["guid"] for p in listed} == {ready["guid"], body["guid"]}


def test_a_duplicate_is_recorded_as_a_copy_into_the_app(api, world, ready):
    guid = duplicate(api, ready["guid"]).json()["guid"]
    events = api.ok("GET", f"/v3/audit_events?types=audit.app.package.create&target_guids={world.app['guid']}", 200)
    copies = [e for e in events["resources"] if e["data"].get("package_guid") == guid]
    assert len(copies) == 1
    assert copies[0]["data"]["request"] == {"source_package_guid": ready["guid"]}


def test_a_source_whose_zip_is_gone_fails_the_duplicate_with_a_clear_text(api, world, ready, run_jobs):
    package_blob_path(api, ready["guid"]).unlink()
    guid = duplicate(api, ready["guid"]).json()["guid"]
    run_jobs()
    assert state_of(api, guid) == "FAILED"
    assert error_of(api, guid) == "failed to copy - source package has no bits"


@pytest.mark.parametrize("role", ["admin", "space_developer"])
def test_those_who_may_push_to_the_app_may_duplicate(api, world, ready, role):
    assert duplicate(api, ready["guid"], api.user(role, world)).status_code == 201


@pytest.mark.parametrize(
    "role",
    ["admin_read_only", "global_auditor", "space_manager", "space_auditor", "space_supporter", "organization_manager"],
)
def test_those_who_see_the_package_but_may_not_push_are_forbidden(api, world, ready, role):
    assert_error(duplicate(api, ready["guid"], api.user(role, world)), *NOT_AUTHORIZED)


@pytest.mark.parametrize(
    "role", ["organization_auditor", "organization_billing_manager", "organization_user", "no_role"]
)
def test_those_who_cannot_see_the_package_get_not_found(api, world, ready, role):
    assert_error(duplicate(api, ready["guid"], api.user(role, world)), *PACKAGE_NOT_FOUND)


def test_an_unknown_package_is_not_found(api):
    assert_error(duplicate(api, "no-such-package"), *PACKAGE_NOT_FOUND)


def test_a_package_without_bits_yet_cannot_be_duplicated(api, world):
    pkg = api.create_package(world.app["guid"])
    r = duplicate(api, pkg["guid"])
    assert_error(r, 422, 10008, "CF-UnprocessableEntity", "Package has no bits to duplicate: it is AWAITING_UPLOAD.")


def test_a_failed_package_cannot_be_duplicated(api, world, run_jobs):
    pkg = api.create_package(world.app["guid"])
    upload(api, pkg["guid"], b"not a zip")
    run_jobs()
    r = duplicate(api, pkg["guid"])
    assert_error(r, 422, 10008, "CF-UnprocessableEntity", "Package has no bits to duplicate: it is FAILED.")


def test_a_docker_package_cannot_be_duplicated(api):
    docker = api.world(lifecycle="docker")
    body = {
        "type": "docker",
        "data": {"image": "nginx"},
        "relationships": {"app": {"data": {"guid": docker.app["guid"]}}},
    }
    pkg = api.ok("POST", "/v3/packages", 201, json=body)
    assert_error(duplicate(api, pkg["guid"]), 422, 10008, "CF-UnprocessableEntity", "Package type must be bits.")


def test_the_duplicate_counts_towards_the_packages_an_app_keeps(api, world, ready, run_jobs):
    guids = []
    for _ in range(5):
        guids.append(duplicate(api, ready["guid"]).json()["guid"])
        run_jobs()
    assert get_package(api, ready["guid"])["state"] == "EXPIRED"
    assert all(state_of(api, g) == "READY" for g in guids)
