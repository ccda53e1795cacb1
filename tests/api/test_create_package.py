"""POST /v3/packages (create and copy): reference §1, §2.1, §2.2, §8, §9."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.factories import assert_error

BASE = "http://api.test"
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
PACKAGE_KEYS = ["guid", "created_at", "updated_at", "type", "data", "state", "relationships", "metadata", "links"]
APP_SHAPE = 'Relationships App must be structured like this: "app: {"data": {"guid": "valid-guid"}}"'
APP_INVALID = "App is invalid. Ensure it exists and you have access to it."


def post(api: Any, body: Any, headers: dict[str, str] | None = None, **params: str) -> Any:
    return api.client.post("/v3/packages", json=body, headers=headers or api.admin, params=params or None)


def rel(app_guid: Any) -> dict[str, Any]:
    return {"app": {"data": {"guid": app_guid}}}


def unprocessable(response: Any, detail: str) -> None:
    assert_error(response, 422, 10008, "CF-UnprocessableEntity", detail)


# --- happy paths ------------------------------------------------------------------------------
def test_a_bits_package_is_created_awaiting_upload_with_the_full_shape(api):
    world = api.world()
    r = post(api, {"type": "bits", "relationships": rel(world.app["guid"])})
    assert r.status_code == 201, r.text
    assert r.headers["content-type"].startswith("application/json")
    assert "location" not in r.headers
    pkg = r.json()
    assert list(pkg) == PACKAGE_KEYS
    guid = pkg["guid"]
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", guid)
    assert pkg["type"] == "bits"
    assert pkg["state"] == "AWAITING_UPLOAD"
    assert pkg["data"] == {"error": None, "checksum": {"type": "sha256", "value": None}}
    assert list(pkg["data"]) == ["error", "checksum"]
    assert pkg["relationships"] == {"app": {"data": {"guid": world.app["guid"]}}}
    assert pkg["metadata"] == {"labels": {}, "annotations": {}}
    assert pkg["links"] == {
        "self": {"href": f"{BASE}/v3/packages/{guid}"},
        "upload": {"href": f"{BASE}/v3/packages/{guid}/upload"},
        "download": {"href": f"{BASE}/v3/packages/{guid}/download"},
        "app": {"href": f"{BASE}/v3/apps/{world.app['guid']}"},
    }
    assert list(pkg["links"]) == ["self", "upload", "download", "app"]


def test_timestamps_are_whole_seconds_in_utc_with_a_z_suffix(api):
    pkg = api.create_package(api.world().app["guid"])
    assert TIMESTAMP.match(pkg["created_at"]), pkg["created_at"]
    assert TIMESTAMP.match(pkg["updated_at"]), pkg["updated_at"]


@pytest.mark.parametrize("data", [None, {}])
def test_a_bits_package_accepts_null_or_empty_data(api, data):
    world = api.world()
    r = post(api, {"type": "bits", "relationships": rel(world.app["guid"]), "data": data})
    assert r.status_code == 201, r.text
    assert r.json()["data"] == {"error": None, "checksum": {"type": "sha256", "value": None}}


def test_a_docker_package_is_ready_and_masks_the_password_when_a_username_is_set(api):
    world = api.world("docker")
    data = {"image": "registry/image:latest", "username": "alice", "password": "s3cret"}
    r = post(api, {"type": "docker", "relationships": rel(world.app["guid"]), "data": data})
    assert r.status_code == 201, r.text
    pkg = r.json()
    assert list(pkg) == PACKAGE_KEYS
    assert pkg["state"] == "READY"
    assert pkg["data"] == {"image": "registry/image:latest", "username": "alice", "password": "***"}
    assert "s3cret" not in r.text
    guid = pkg["guid"]
    assert pkg["links"] == {
        "self": {"href": f"{BASE}/v3/packages/{guid}"},
        "app": {"href": f"{BASE}/v3/apps/{world.app['guid']}"},
    }
    again = api.ok("GET", f"/v3/packages/{guid}", 200)
    assert again["data"] == {"image": "registry/image:latest", "username": "alice", "password": "***"}


def test_a_docker_package_without_a_username_shows_a_null_password(api):
    world = api.world("docker")
    pkg = api.create_package(world.app["guid"], "docker", data={"image": "busybox"})
    assert pkg["data"] == {"image": "busybox", "username": None, "password": None}


def test_a_docker_password_without_a_username_is_still_shown_as_null(api):
    world = api.world("docker")
    pkg = api.create_package(world.app["guid"], "docker", data={"image": "busybox", "password": "pw"})
    assert pkg["data"] == {"image": "busybox", "username": None, "password": None}


def test_an_empty_string_docker_username_still_masks_the_password(api):
    world = api.world("docker")
    pkg = api.create_package(world.app["guid"], "docker", data={"image": "busybox", "username": "", "password": "pw"})
    assert pkg["data"] == {"image": "busybox", "username": "", "password": "***"}


def test_metadata_given_on_create_is_stored_and_returned(api):
    world = api.world()
    metadata = {
        "labels": {"env": "prod", "example.com/team": "core", "empty": ""},
        "annotations": {"note": "anything at all, even spaces!", "example.com/owner": "ops"},
    }
    pkg = api.create_package(world.app["guid"], metadata=metadata)
    assert pkg["metadata"] == metadata
    assert api.ok("GET", f"/v3/packages/{pkg['guid']}", 200)["metadata"] == metadata


def test_null_labels_and_annotations_on_create_are_accepted(api):
    world = api.world()
    pkg = api.create_package(world.app["guid"], metadata={"labels": None, "annotations": None})
    assert pkg["metadata"] == {"labels": {}, "annotations": {}}


# --- message validation (§2.1) ----------------------------------------------------------------
APP = "__APP__"

VALIDATION_CASES = [
    ("relationships missing", {"type": "bits"}, "Relationships 'relationships' is not an object"),
    ("relationships null", {"type": "bits", "relationships": None}, "Relationships 'relationships' is not an object"),
    (
        "relationships a string",
        {"type": "bits", "relationships": "app"},
        "Relationships 'relationships' is not an object",
    ),
    (
        "relationships empty",
        {"type": "bits", "relationships": {}},
        "Relationships 'relationships' must include one or more valid relationships",
    ),
    (
        "extra key in relationships",
        {"type": "bits", "relationships": {**rel(APP), "potato": {"data": {"guid": "x"}}}},
        "Relationships Unknown field(s): 'potato'",
    ),
    ("app missing", {"type": "bits", "relationships": {"app": None}}, f"Relationships App can't be blank, {APP_SHAPE}"),
    ("app without data", {"type": "bits", "relationships": {"app": {"guid": APP}}}, APP_SHAPE),
    ("app a string", {"type": "bits", "relationships": {"app": APP}}, APP_SHAPE),
    (
        "guid a number",
        {"type": "bits", "relationships": rel(5)},
        "Relationships App guid must be a string, Relationships App guid must be between 1 and 200 characters",
    ),
    (
        "guid null",
        {"type": "bits", "relationships": rel(None)},
        "Relationships App guid must be a string, Relationships App guid must be between 1 and 200 characters",
    ),
    (
        "guid empty",
        {"type": "bits", "relationships": rel("")},
        "Relationships App guid must be between 1 and 200 characters",
    ),
    (
        "guid too long",
        {"type": "bits", "relationships": rel("g" * 201)},
        "Relationships App guid must be between 1 and 200 characters",
    ),
    (
        "docker without data",
        {"type": "docker", "relationships": rel(APP)},
        "Data Image must be a string, Data Image required",
    ),
    (
        "docker data without image",
        {"type": "docker", "relationships": rel(APP), "data": {"username": "u"}},
        "Data Image must be a string, Data Image required",
    ),
    (
        "docker image not a string",
        {"type": "docker", "relationships": rel(APP), "data": {"image": 5}},
        "Data Image must be a string",
    ),
    (
        "docker data extra key",
        {"type": "docker", "relationships": rel(APP), "data": {"image": "i", "birthday": "x"}},
        "Data Unknown field(s): 'birthday'",
    ),
    (
        "bits with data",
        {"type": "bits", "relationships": rel(APP), "data": {"image": "i"}},
        "Data Data must be empty if provided for bits packages",
    ),
    (
        "bits with string data",
        {"type": "bits", "relationships": rel(APP), "data": "x"},
        "Data Data must be empty if provided for bits packages",
    ),
    ("bad type", {"type": "potato", "relationships": rel(APP)}, "Type must be one of 'bits, docker'"),
    ("type missing", {"relationships": rel(APP)}, "Type must be one of 'bits, docker'"),
    ("type null", {"type": None, "relationships": rel(APP)}, "Type must be one of 'bits, docker'"),
    (
        "unknown top-level fields",
        {"type": "bits", "relationships": rel(APP), "potato": 1, "bogus": 2},
        "Unknown field(s): 'potato', 'bogus'",
    ),
    (
        "metadata not an object",
        {"type": "bits", "relationships": rel(APP), "metadata": "x"},
        "Metadata must be an object",
    ),
    (
        "metadata extra keys",
        {"type": "bits", "relationships": rel(APP), "metadata": {"other": {}, "extra": {}}},
        "Metadata has unexpected field(s): 'other' 'extra'",
    ),
    (
        "labels not an object",
        {"type": "bits", "relationships": rel(APP), "metadata": {"labels": "x"}},
        "Metadata 'labels' is not an object",
    ),
    (
        "annotations not an object",
        {"type": "bits", "relationships": rel(APP), "metadata": {"annotations": 5}},
        "Metadata 'annotations' is not an object",
    ),
    (
        "reserved label prefix",
        {"type": "bits", "relationships": rel(APP), "metadata": {"labels": {"CloudFoundry.org/x": "v"}}},
        "Metadata label key error: prefix 'cloudfoundry.org' is reserved",
    ),
    (
        "label prefix without a dot",
        {"type": "bits", "relationships": rel(APP), "metadata": {"labels": {"onlycom/x": "v"}}},
        "Metadata label key error: prefix 'onlycom' must be in valid dns format",
    ),
    (
        "label key with two slashes",
        {"type": "bits", "relationships": rel(APP), "metadata": {"labels": {"a.b/c/d": "v"}}},
        "Metadata label key error: key has more than one '/'",
    ),
    (
        "empty label key",
        {"type": "bits", "relationships": rel(APP), "metadata": {"labels": {"": "v"}}},
        "Metadata label key error: key cannot be empty string",
    ),
    (
        "label key bad edge",
        {"type": "bits", "relationships": rel(APP), "metadata": {"labels": {"-bad": "v"}}},
        "Metadata label key error: '-bad' starts or ends with invalid characters",
    ),
    (
        "label key too long",
        {"type": "bits", "relationships": rel(APP), "metadata": {"labels": {"k" * 64: "v"}}},
        "Metadata label key error: 'kkkkkkkk...' is greater than 63 characters",
    ),
    (
        "label value bad chars",
        {"type": "bits", "relationships": rel(APP), "metadata": {"labels": {"k": "bad value!"}}},
        "Metadata label value error: 'bad value!' contains invalid characters",
    ),
    (
        "annotation key error",
        {"type": "bits", "relationships": rel(APP), "metadata": {"annotations": {"a.b/c/d": "v"}}},
        "Metadata annotation key error: key has more than one '/'",
    ),
    (
        "annotation value too long",
        {"type": "bits", "relationships": rel(APP), "metadata": {"annotations": {"k": "a" * 5001}}},
        "Metadata annotation value error: 'aaaaaaaa...' is greater than 5000 characters",
    ),
    (
        "validators run metadata, unknown keys, then type",
        {"type": "potato", "relationships": rel(APP), "bogus": 1, "metadata": "x"},
        "Metadata must be an object, Unknown field(s): 'bogus', Type must be one of 'bits, docker'",
    ),
    (
        "bits data before relationships",
        {"type": "bits", "data": {"x": 1}},
        "Data Data must be empty if provided for bits packages, Relationships 'relationships' is not an object",
    ),
]


def _fill(value: Any, app_guid: str) -> Any:
    if value == APP:
        return app_guid
    if isinstance(value, dict):
        return {k: _fill(v, app_guid) for k, v in value.items()}
    return value


@pytest.mark.parametrize(("body", "detail"), [c[1:] for c in VALIDATION_CASES], ids=[c[0] for c in VALIDATION_CASES])
def test_an_invalid_create_body_is_rejected_with_the_exact_joined_messages(api, body, detail):
    world = api.world()
    unprocessable(post(api, _fill(body, world.app["guid"])), detail)


def test_an_invalid_annotation_key_with_an_empty_value_is_not_reported(api):
    world = api.world()
    r = post(
        api, {"type": "bits", "relationships": rel(world.app["guid"]), "metadata": {"annotations": {"a.b/c/d": ""}}}
    )
    assert r.status_code == 201, r.text


def test_a_missing_app_is_reported_as_invalid_not_as_not_found(api):
    unprocessable(post(api, {"type": "bits", "relationships": rel("no-such-app")}), APP_INVALID)


def test_a_null_app_data_passes_validation_and_is_reported_as_an_invalid_app(api):
    unprocessable(post(api, {"type": "bits", "relationships": {"app": {"data": None}}}), APP_INVALID)


# --- lifecycle compatibility --------------------------------------------------------------------
def test_a_bits_package_cannot_be_created_for_a_docker_app(api):
    world = api.world("docker")
    unprocessable(
        post(api, {"type": "bits", "relationships": rel(world.app["guid"])}),
        "Cannot create bits package for a Docker app.",
    )


def test_a_docker_package_cannot_be_created_for_a_buildpack_app(api):
    world = api.world()
    body = {"type": "docker", "relationships": rel(world.app["guid"]), "data": {"image": "busybox"}}
    unprocessable(post(api, body), "Cannot create Docker package for a buildpack app.")


@pytest.mark.parametrize("type_", ["bits", "docker"])
def test_a_cnb_app_accepts_both_package_types(api, type_):
    world = api.world("cnb")
    pkg = api.create_package(world.app["guid"], type_)
    assert pkg["type"] == type_
    assert pkg["state"] == ("READY" if type_ == "docker" else "AWAITING_UPLOAD")


def test_a_docker_password_longer_than_5000_characters_is_rejected(api):
    world = api.world("docker")
    data = {"image": "busybox", "username": "u", "password": "p" * 5001}
    unprocessable(
        post(api, {"type": "docker", "relationships": rel(world.app["guid"]), "data": data}),
        "docker_password can be up to 5,000 characters",
    )
    assert api.ok("GET", f"/v3/apps/{world.app['guid']}/packages", 200)["resources"] == []


def test_a_docker_password_of_exactly_5000_characters_is_accepted(api):
    world = api.world("docker")
    pkg = api.create_package(
        world.app["guid"], "docker", data={"image": "busybox", "username": "u", "password": "p" * 5000}
    )
    assert pkg["data"]["password"] == "***"


# --- limits ------------------------------------------------------------------------------------
class TestMetadataLimitsOnCreate:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"max_labels_per_resource": 2, "max_annotations_per_resource": 2}

    def test_labels_up_to_the_limit_are_accepted(self, api):
        pkg = api.create_package(api.world().app["guid"], metadata={"labels": {"a": "1", "b": "2"}})
        assert pkg["metadata"]["labels"] == {"a": "1", "b": "2"}

    def test_too_many_labels_fail_and_nothing_is_created(self, api):
        world = api.world()
        body = {
            "type": "bits",
            "relationships": rel(world.app["guid"]),
            "metadata": {"labels": {"a": "1", "b": "2", "c": "3"}},
        }
        assert_error(
            post(api, body),
            422,
            390020,
            "CF-LabelLimitExceeded",
            "Failed to add 3 labels because it would exceed maximum of 2",
        )
        assert api.ok("GET", f"/v3/apps/{world.app['guid']}/packages", 200)["resources"] == []

    def test_too_many_annotations_fail_and_nothing_is_created(self, api):
        world = api.world()
        body = {
            "type": "bits",
            "relationships": rel(world.app["guid"]),
            "metadata": {"annotations": {"a": "1", "b": "2", "c": "3"}},
        }
        assert_error(
            post(api, body),
            422,
            390023,
            "CF-AnnotationLimitExceeded",
            "Failed to add 3 annotations because it would exceed maximum of 2",
        )
        assert api.ok("GET", f"/v3/apps/{world.app['guid']}/packages", 200)["resources"] == []


# --- bodies that are not what they should be ---------------------------------------------------
@pytest.mark.parametrize("raw", ['{"type": "bits",', "not json", '{"type": "bits"}}'])
def test_a_malformed_json_body_is_a_parse_error(api, raw):
    headers = {**api.admin, "Content-Type": "application/json"}
    r = api.client.post("/v3/packages", content=raw, headers=headers)
    assert_error(r, 400, 1001, "CF-MessageParseError", "Request invalid due to parse error: invalid request body")


@pytest.mark.parametrize("data", ["busybox", 5, ["busybox"], True])
def test_non_object_docker_data_is_unprocessable_not_a_server_error(api, data):
    world = api.world("docker")
    r = post(api, {"type": "docker", "relationships": rel(world.app["guid"]), "data": data})
    assert r.status_code == 422, r.text
    error = r.json()["errors"][0]
    assert (error["title"], error["code"]) == ("CF-UnprocessableEntity", 10008)


@pytest.mark.parametrize("body", [[], [{"type": "bits"}], "bits", 42, None])
def test_a_body_that_is_not_an_object_is_a_client_error(api, body):
    r = post(api, body)
    assert 400 <= r.status_code < 500, r.text
    assert list(r.json()) == ["errors"]
    assert set(r.json()["errors"][0]) == {"detail", "title", "code"}


# --- copy (§2.2) -------------------------------------------------------------------------------
def test_copying_a_bits_package_creates_a_copying_package_for_the_destination_app(api):
    world = api.world()
    dest = api.create_app(world.space["guid"])
    source = api.create_package(world.app["guid"], metadata={"labels": {"env": "prod"}})
    r = post(api, {"relationships": rel(dest["guid"])}, source_guid=source["guid"])
    assert r.status_code == 201, r.text
    assert "location" not in r.headers
    pkg = r.json()
    assert list(pkg) == PACKAGE_KEYS
    assert pkg["guid"] != source["guid"]
    assert pkg["type"] == "bits"
    assert pkg["state"] == "COPYING"
    assert pkg["relationships"] == {"app": {"data": {"guid": dest["guid"]}}}
    assert pkg["metadata"] == {"labels": {}, "annotations": {}}


def test_copying_a_docker_package_is_ready_without_credentials_even_to_a_buildpack_app(api):
    world = api.world("docker")
    dest = api.create_app(world.space["guid"])
    source = api.create_package(
        world.app["guid"], "docker", data={"image": "busybox", "username": "u", "password": "p"}
    )
    r = post(api, {"relationships": rel(dest["guid"])}, source_guid=source["guid"])
    assert r.status_code == 201, r.text
    assert r.json()["state"] == "READY"
    assert r.json()["data"] == {"image": "busybox", "username": None, "password": None}


def test_copy_ignores_unknown_keys_type_data_and_metadata_in_the_body(api):
    world = api.world()
    dest = api.create_app(world.space["guid"])
    source = api.create_package(world.app["guid"])
    body = {"relationships": rel(dest["guid"]), "type": "docker", "data": {"image": "x"}, "potato": 1, "metadata": "x"}
    r = post(api, body, source_guid=source["guid"])
    assert r.status_code == 201, r.text
    assert r.json()["type"] == "bits"


def test_the_copy_route_answers_like_the_source_guid_form(api):
    world = api.world()
    dest = api.create_app(world.space["guid"])
    source = api.create_package(world.app["guid"])
    r = api.client.post(
        f"/v3/packages/{source['guid']}/copy", json={"relationships": rel(dest["guid"])}, headers=api.admin
    )
    assert r.status_code == 201, r.text
    assert r.json()["state"] == "COPYING"
    assert r.json()["relationships"] == {"app": {"data": {"guid": dest["guid"]}}}


def test_copy_to_a_missing_app_is_an_invalid_app(api):
    source = api.create_package(api.world().app["guid"])
    unprocessable(post(api, {"relationships": rel("no-such-app")}, source_guid=source["guid"]), APP_INVALID)


def test_copy_without_a_destination_app_is_an_invalid_app(api):
    source = api.create_package(api.world().app["guid"])
    unprocessable(post(api, {}, source_guid=source["guid"]), APP_INVALID)


def test_copy_from_a_missing_source_package_is_an_invalid_source(api):
    world = api.world()
    unprocessable(
        post(api, {"relationships": rel(world.app["guid"])}, source_guid="no-such-package"),
        "Source package is invalid. Ensure it exists and you have access to it.",
    )


def test_copy_to_the_source_packages_own_app_is_rejected(api):
    world = api.world()
    source = api.create_package(world.app["guid"])
    unprocessable(
        post(api, {"relationships": rel(world.app["guid"])}, source_guid=source["guid"]),
        "Source and destination app cannot be the same",
    )
