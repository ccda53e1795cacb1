"""GET/PATCH/DELETE /v3/packages/:guid, jobs, droplets, unknown routes: reference §2.3, 2.6, 2.7, 2.10, 2.12, 6.2."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import update

from capi_packages.auth.tokens import WRITE
from capi_packages.packages.models import Package
from tests.factories import assert_error, bearer

BASE = "http://api.test"
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
ROLES = [
    "admin",
    "admin_read_only",
    "global_auditor",
    "organization_manager",
    "organization_auditor",
    "organization_billing_manager",
    "organization_user",
    "space_developer",
    "space_manager",
    "space_auditor",
    "space_supporter",
    "no_role",
]


def set_timestamps(api: Any, guid: str, **values: datetime) -> None:
    with api.app.state.sessionmaker() as session:
        session.execute(update(Package).where(Package.guid == guid).values(**values))
        session.commit()


def patch(api: Any, guid: str, body: Any, headers: dict[str, str] | None = None) -> Any:
    return api.client.patch(f"/v3/packages/{guid}", json=body, headers=headers or api.admin)


def not_found(response: Any, what: str) -> None:
    assert_error(response, 404, 10010, "CF-ResourceNotFound", f"{what} not found")


# --- GET one ------------------------------------------------------------------------------------
def test_getting_a_package_returns_the_same_object_as_create(api):
    pkg = api.create_package(api.world().app["guid"], metadata={"labels": {"env": "prod"}})
    r = api.client.get(f"/v3/packages/{pkg['guid']}", headers=api.admin)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    assert r.json() == pkg
    assert list(r.json()) == list(pkg)


def test_getting_an_unknown_package_is_not_found(api):
    not_found(api.client.get("/v3/packages/no-such-package", headers=api.admin), "Package")


@pytest.mark.parametrize("path", ["/v3/packages/{guid}", "/v3/packages", "/v3/packages/no-such-package"])
def test_json_responses_are_labelled_utf8_json(api, path):
    pkg = api.create_package(api.world().app["guid"])
    r = api.client.get(path.format(guid=pkg["guid"]), headers=api.admin)
    assert r.headers["content-type"].replace(" ", "").lower() == "application/json;charset=utf-8"


def test_extra_query_parameters_on_get_are_ignored(api):
    pkg = api.create_package(api.world().app["guid"])
    r = api.client.get(f"/v3/packages/{pkg['guid']}?potato=1&include=app", headers=api.admin)
    assert r.status_code == 200, r.text


# --- PATCH --------------------------------------------------------------------------------------
def test_patching_metadata_merges_labels_and_annotations_and_null_deletes(api):
    pkg = api.create_package(
        api.world().app["guid"],
        metadata={"labels": {"a": "1", "b": "2", "example.com/c": "3"}, "annotations": {"x": "one", "y": "two"}},
    )
    body = {
        "metadata": {
            "labels": {"b": None, "example.com/c": "30", "d": "4", "gone": None},
            "annotations": {"x": None, "z": "three"},
        }
    }
    r = patch(api, pkg["guid"], body)
    assert r.status_code == 200, r.text
    assert r.json()["metadata"] == {
        "labels": {"a": "1", "example.com/c": "30", "d": "4"},
        "annotations": {"y": "two", "z": "three"},
    }
    assert api.ok("GET", f"/v3/packages/{pkg['guid']}", 200)["metadata"] == r.json()["metadata"]


def test_patching_with_null_labels_and_annotations_changes_nothing(api):
    pkg = api.create_package(api.world().app["guid"], metadata={"labels": {"a": "1"}, "annotations": {"b": "2"}})
    r = patch(api, pkg["guid"], {"metadata": {"labels": None, "annotations": None}})
    assert r.status_code == 200, r.text
    assert r.json()["metadata"] == {"labels": {"a": "1"}, "annotations": {"b": "2"}}


def test_an_empty_patch_body_succeeds_and_changes_nothing(api):
    pkg = api.create_package(api.world().app["guid"], metadata={"labels": {"a": "1"}})
    r = patch(api, pkg["guid"], {})
    assert r.status_code == 200, r.text
    assert r.json() == pkg


def test_a_metadata_only_patch_leaves_updated_at_unchanged(api):
    pkg = api.create_package(api.world().app["guid"])
    old = datetime(2020, 1, 2, 3, 4, 5)
    set_timestamps(api, pkg["guid"], created_at=old, updated_at=old)
    r = patch(api, pkg["guid"], {"metadata": {"labels": {"a": "1"}, "annotations": {"b": "2"}}})
    assert r.status_code == 200, r.text
    assert r.json()["updated_at"] == "2020-01-02T03:04:05Z"
    assert r.json()["created_at"] == "2020-01-02T03:04:05Z"


def test_patching_an_unknown_field_is_unprocessable(api):
    pkg = api.create_package(api.world().app["guid"])
    assert_error(
        patch(api, pkg["guid"], {"animals": "dogs"}),
        422,
        10008,
        "CF-UnprocessableEntity",
        "Unknown field(s): 'animals'",
    )


def test_patch_validation_comes_before_the_package_lookup(api):
    assert_error(
        patch(api, "no-such-package", {"animals": "dogs"}),
        422,
        10008,
        "CF-UnprocessableEntity",
        "Unknown field(s): 'animals'",
    )


def test_patching_an_unknown_package_is_not_found(api):
    not_found(patch(api, "no-such-package", {"metadata": {"labels": {"a": "1"}}}), "Package")


@pytest.mark.parametrize(
    ("metadata", "detail"),
    [
        ({"labels": {"a.b/c/d": "v"}}, "Metadata label key error: key has more than one '/'"),
        ({"labels": {"k": "-v"}}, "Metadata label value error: '-v' starts or ends with invalid characters"),
        ({"annotations": "x"}, "Metadata 'annotations' is not an object"),
        ("x", "Metadata must be an object"),
    ],
)
def test_invalid_metadata_in_a_patch_is_unprocessable(api, metadata, detail):
    pkg = api.create_package(api.world().app["guid"])
    assert_error(patch(api, pkg["guid"], {"metadata": metadata}), 422, 10008, "CF-UnprocessableEntity", detail)


def test_patching_docker_credentials_updates_them_and_masks_the_password(api):
    world = api.world("docker")
    pkg = api.create_package(world.app["guid"], "docker", data={"image": "busybox"})
    r = patch(api, pkg["guid"], {"username": "alice", "password": "s3cret"})
    assert r.status_code == 200, r.text
    assert r.json()["data"] == {"image": "busybox", "username": "alice", "password": "***"}
    assert "s3cret" not in r.text
    r = patch(api, pkg["guid"], {"username": None, "password": "other"})
    assert r.status_code == 200, r.text
    assert r.json()["data"] == {"image": "busybox", "username": "alice", "password": "***"}


def test_patching_only_a_docker_password_keeps_showing_a_null_password(api):
    world = api.world("docker")
    pkg = api.create_package(world.app["guid"], "docker", data={"image": "busybox"})
    r = patch(api, pkg["guid"], {"password": "s3cret"})
    assert r.status_code == 200, r.text
    assert r.json()["data"] == {"image": "busybox", "username": None, "password": None}


def test_a_docker_password_over_5000_characters_is_rejected_on_patch(api):
    world = api.world("docker")
    pkg = api.create_package(world.app["guid"], "docker", data={"image": "busybox"})
    assert_error(
        patch(api, pkg["guid"], {"username": "u", "password": "p" * 5001}),
        422,
        10008,
        "CF-UnprocessableEntity",
        "docker_password can be up to 5,000 characters",
    )


@pytest.mark.parametrize("body", [{"username": "alice"}, {"password": "pw"}, {"username": "u", "password": "p"}])
def test_docker_credentials_cannot_be_set_on_a_bits_package(api, body):
    pkg = api.create_package(api.world().app["guid"])
    assert_error(
        patch(api, pkg["guid"], body),
        422,
        10008,
        "CF-UnprocessableEntity",
        "Cannot update Docker credentials for a buildpack app.",
    )


def test_null_docker_credentials_on_a_bits_package_are_accepted(api):
    pkg = api.create_package(api.world().app["guid"])
    r = patch(api, pkg["guid"], {"username": None, "password": None})
    assert r.status_code == 200, r.text
    assert r.json()["data"] == {"error": None, "checksum": {"type": "sha256", "value": None}}


def test_the_credentials_check_comes_before_the_write_check(api):
    world = api.world()
    pkg = api.create_package(world.app["guid"])
    auditor = api.user("space_auditor", world)
    assert_error(
        patch(api, pkg["guid"], {"username": "u"}, auditor),
        422,
        10008,
        "CF-UnprocessableEntity",
        "Cannot update Docker credentials for a buildpack app.",
    )


class TestMetadataLimitsOnPatch:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"max_labels_per_resource": 2, "max_annotations_per_resource": 2}

    def test_a_patch_that_grows_labels_past_the_limit_fails_and_changes_nothing(self, api):
        pkg = api.create_package(api.world().app["guid"], metadata={"labels": {"a": "1", "b": "2"}})
        r = patch(api, pkg["guid"], {"metadata": {"labels": {"c": "3"}, "annotations": {"n": "1"}}})
        assert_error(
            r, 422, 390020, "CF-LabelLimitExceeded", "Failed to add 1 labels because it would exceed maximum of 2"
        )
        assert api.ok("GET", f"/v3/packages/{pkg['guid']}", 200)["metadata"] == {
            "labels": {"a": "1", "b": "2"},
            "annotations": {},
        }

    def test_a_patch_that_grows_annotations_past_the_limit_fails(self, api):
        pkg = api.create_package(api.world().app["guid"], metadata={"annotations": {"a": "1", "b": "2"}})
        r = patch(api, pkg["guid"], {"metadata": {"annotations": {"c": "3"}}})
        assert_error(
            r,
            422,
            390023,
            "CF-AnnotationLimitExceeded",
            "Failed to add 1 annotations because it would exceed maximum of 2",
        )

    def test_a_patch_that_keeps_the_count_at_the_limit_succeeds(self, api):
        pkg = api.create_package(api.world().app["guid"], metadata={"labels": {"a": "1", "b": "2"}})
        r = patch(api, pkg["guid"], {"metadata": {"labels": {"a": None, "c": "3", "b": "20"}}})
        assert r.status_code == 200, r.text
        assert r.json()["metadata"]["labels"] == {"b": "20", "c": "3"}


# --- DELETE and the job ----------------------------------------------------------------------------
def delete(api: Any, guid: str) -> tuple[Any, str]:
    r = api.client.delete(f"/v3/packages/{guid}", headers=api.admin)
    assert r.status_code == 202, r.text
    return r, r.headers["location"]


def test_deleting_a_package_is_accepted_with_an_empty_body_and_a_job_location(api):
    pkg = api.create_package(api.world().app["guid"])
    r, location = delete(api, pkg["guid"])
    assert r.content == b""
    assert re.fullmatch(r"http://api\.test/v3/jobs/[0-9a-f-]{36}", location), location


def test_a_pending_delete_job_is_processing_with_a_package_link(api):
    pkg = api.create_package(api.world().app["guid"])
    _, location = delete(api, pkg["guid"])
    job_guid = location.rsplit("/", 1)[1]
    r = api.client.get(f"/v3/jobs/{job_guid}", headers=api.admin)
    assert r.status_code == 200, r.text
    job = r.json()
    assert list(job) == ["guid", "created_at", "updated_at", "operation", "state", "errors", "warnings", "links"]
    assert job["guid"] == job_guid
    assert TIMESTAMP.match(job["created_at"]) and TIMESTAMP.match(job["updated_at"])
    assert job["operation"] == "package.delete"
    assert job["state"] == "PROCESSING"
    assert job["errors"] == [] and job["warnings"] == []
    assert job["links"] == {"self": {"href": location}, "package": {"href": f"{BASE}/v3/packages/{pkg['guid']}"}}
    # The package is still there until the job runs.
    assert api.client.get(f"/v3/packages/{pkg['guid']}", headers=api.admin).status_code == 200


@pytest.mark.parametrize("type_", ["bits", "docker"])
def test_a_completed_delete_job_removes_the_package_and_keeps_only_its_self_link(api, run_jobs, type_):
    world = api.world("docker" if type_ == "docker" else "buildpack")
    pkg = api.create_package(world.app["guid"], type_, metadata={"labels": {"a": "1"}})
    _, location = delete(api, pkg["guid"])
    run_jobs()
    job = api.ok("GET", location.removeprefix(BASE), 200)
    assert job["state"] == "COMPLETE"
    assert job["errors"] == []
    assert job["links"] == {"self": {"href": location}}
    not_found(api.client.get(f"/v3/packages/{pkg['guid']}", headers=api.admin), "Package")
    assert api.ok("GET", f"/v3/apps/{world.app['guid']}/packages", 200)["resources"] == []


def test_a_second_delete_while_the_first_is_pending_creates_a_second_job(api, run_jobs):
    pkg = api.create_package(api.world().app["guid"])
    _, first = delete(api, pkg["guid"])
    _, second = delete(api, pkg["guid"])
    assert first != second
    run_jobs()
    assert api.ok("GET", first.removeprefix(BASE), 200)["state"] == "COMPLETE"
    assert api.ok("GET", second.removeprefix(BASE), 200)["state"] == "COMPLETE"


def test_deleting_an_unknown_package_is_not_found(api):
    not_found(api.client.delete("/v3/packages/no-such-package", headers=api.admin), "Package")


def test_an_unknown_job_is_not_found(api):
    not_found(api.client.get("/v3/jobs/no-such-job", headers=api.admin), "Job")


@pytest.mark.parametrize("role", ROLES)
def test_any_user_with_a_read_scope_can_read_any_job(api, role):
    world = api.world()
    pkg = api.create_package(world.app["guid"])
    _, location = delete(api, pkg["guid"])
    other = api.world()  # the role lives in an unrelated org and space
    r = api.client.get(location.removeprefix(BASE), headers=api.user(role, other))
    assert r.status_code == 200, r.text
    assert r.json()["operation"] == "package.delete"


def test_a_job_needs_a_read_scope(api):
    pkg = api.create_package(api.world().app["guid"])
    _, location = delete(api, pkg["guid"])
    r = api.client.get(location.removeprefix(BASE), headers=bearer(api.token("writer", scopes=(WRITE,))))
    assert_error(r, 403, 10003, "CF-NotAuthorized", "You are not authorized to perform the requested action")


# --- unknown routes -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v3/potatoes"),
        ("GET", "/v3/packages/some-guid/potatoes"),
        ("POST", "/v3/nothing/here"),
        ("GET", "/v2/packages"),
        ("PUT", "/v3/packages/some-guid"),
        ("DELETE", "/v3/packages"),
    ],
)
def test_an_unknown_route_is_an_unknown_request(api, method, path):
    r = api.client.request(method, path, headers=api.admin)
    assert_error(r, 404, 10000, "CF-NotFound", "Unknown request")


# --- droplets of a package ---------------------------------------------------------------------------
def test_a_packages_droplets_are_an_empty_paginated_list(api):
    pkg = api.create_package(api.world().app["guid"])
    r = api.client.get(f"/v3/packages/{pkg['guid']}/droplets", headers=api.admin)
    assert r.status_code == 200, r.text
    href = f"{BASE}/v3/packages/{pkg['guid']}/droplets?page=1&per_page=50"
    assert r.json() == {
        "pagination": {
            "total_results": 0,
            "total_pages": 1,
            "first": {"href": href},
            "last": {"href": href},
            "next": None,
            "previous": None,
        },
        "resources": [],
    }


def test_droplet_list_links_keep_the_package_base_path(api):
    pkg = api.create_package(api.world().app["guid"])
    r = api.client.get(f"/v3/packages/{pkg['guid']}/droplets?per_page=2&states=STAGED", headers=api.admin)
    assert r.status_code == 200, r.text
    assert r.json()["pagination"]["first"] == {
        "href": f"{BASE}/v3/packages/{pkg['guid']}/droplets?page=1&per_page=2&states=STAGED"
    }


def test_the_current_parameter_is_rejected_on_a_packages_droplets(api):
    pkg = api.create_package(api.world().app["guid"])
    r = api.client.get(f"/v3/packages/{pkg['guid']}/droplets?current=true", headers=api.admin)
    assert_error(
        r, 400, 10005, "CF-BadQueryParameter", "The query parameter is invalid: Unknown query parameter(s): 'current'"
    )


def test_an_unknown_parameter_is_rejected_on_a_packages_droplets(api):
    pkg = api.create_package(api.world().app["guid"])
    r = api.client.get(f"/v3/packages/{pkg['guid']}/droplets?potato=1", headers=api.admin)
    assert r.status_code == 400, r.text
    error = r.json()["errors"][0]
    assert (error["title"], error["code"]) == ("CF-BadQueryParameter", 10005)
    assert error["detail"].startswith("The query parameter is invalid: Unknown query parameter(s): 'potato'")


def test_the_droplets_of_an_unknown_package_are_not_found(api):
    not_found(api.client.get("/v3/packages/no-such-package/droplets", headers=api.admin), "Package")


def test_the_droplets_of_an_invisible_package_are_not_found(api):
    pkg = api.create_package(api.world().app["guid"])
    r = api.client.get(f"/v3/packages/{pkg['guid']}/droplets", headers=api.user("no_role"))
    not_found(r, "Package")
