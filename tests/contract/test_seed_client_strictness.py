"""What the seed's generated Go client accepts (../shared/seed/openapi.yaml, CAPI 3.195.0).

That client decodes strictly: a key its model does not know fails the whole call
(clients-on-the-wire §1). So every answer it decodes is walked against the response schema the
seed document gives for that operation, closed: no key beyond the schema's `properties`, every
`required` key present, JSON types right, date-time/uri/uuid well formed. Null is accepted for
any value (Go decodes null into the zero value), as §1 says ("each may be null").

The schema reading is itself checked against §1's list of keys, so a misread of the document
cannot make these tests pass vacuously.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.bits_api.bits_support import upload
from tests.contract import flows
from tests.contract.support import (
    SEED_OPENAPI,
    OpenApi,
    described_keys,
    is_rfc3339,
    link_objects,
    media_type,
    require_file,
    shape_problems,
    timestamps,
)

require_file(SEED_OPENAPI)
SEED = OpenApi(SEED_OPENAPI)

# The operations of the seed's PackagesAPI (seed/PackagesAPI.md) and the job it is pointed to.
CREATE = ("/v3/packages", "post", 201)
GET = ("/v3/packages/{guid}", "get", 200)
UPDATE = ("/v3/packages/{guid}", "patch", 200)
COPY = ("/v3/packages/{guid}/copy", "post", 201)
UPLOAD = ("/v3/packages/{guid}/upload", "post", 200)
LIST = ("/v3/packages", "get", 200)
APP_LIST = ("/v3/apps/{guid}/packages", "get", 200)
JOB = ("/v3/jobs/{guid}", "get", 200)


def schema(operation: tuple[str, str, int]) -> str:
    return SEED.response_schema(*operation)


def seed_problems(body: Any, operation: tuple[str, str, int]) -> list[str]:
    return shape_problems(SEED, body, schema(operation), null_anywhere=True)


def decoded(response: Any, operation: tuple[str, str, int]) -> Any:
    """What the client would decode: the right status, a JSON Content-Type, and a body its model
    takes whole. Also: every timestamp RFC 3339 with a zone, every link `{href}` only."""
    path, method, status = operation
    assert response.status_code == status, (response.status_code, response.text)
    content_type = response.headers["content-type"].replace(" ", "").lower()
    assert content_type in ("application/json", "application/json;charset=utf-8"), content_type
    body = response.json()
    assert seed_problems(body, operation) == [], f"{method.upper()} {path}"
    for where, value in timestamps(body):
        assert isinstance(value, str) and is_rfc3339(value), (where, value)
    for where, link in link_objects(body):
        assert isinstance(link, dict) and set(link) == {"href"} and isinstance(link["href"], str), (where, link)
    return body


@pytest.fixture
def world(api):
    return api.world()


@pytest.fixture
def docker_world(api):
    return api.world("docker")


# --- the schemas the client was generated from, against clients-on-the-wire §1 ---------------------
PACKAGE_KEYS = {"guid", "created_at", "updated_at", "type", "data", "state", "relationships", "metadata", "links"}
PAGINATION_KEYS = {"total_results", "total_pages", "first", "last", "next", "previous"}


@pytest.mark.parametrize("operation", [CREATE, GET, UPDATE, COPY, UPLOAD], ids=lambda o: f"{o[1]} {o[0]}")
def test_seed_package_model_is_the_one_the_wire_notes_describe(operation):
    package = schema(operation)
    assert set(described_keys(SEED, package)) == PACKAGE_KEYS
    assert set(SEED.follow(package)[1]["required"]) == PACKAGE_KEYS  # none may be missing
    data = described_keys(SEED, described_keys(SEED, package)["data"])
    assert set(data) == {"checksum", "error", "image", "username", "password"}
    assert set(described_keys(SEED, data["checksum"])) == {"type", "value"}
    links = described_keys(SEED, described_keys(SEED, package)["links"])
    assert set(links) == {"self", "upload", "download", "app"}
    assert all(set(described_keys(SEED, uri)) == {"href"} for uri in links.values())
    assert set(described_keys(SEED, described_keys(SEED, package)["metadata"])) == {"labels", "annotations"}
    app = described_keys(SEED, described_keys(SEED, package)["relationships"])
    assert set(app) == {"app"}
    assert set(described_keys(SEED, described_keys(SEED, app["app"])["data"])) == {"guid"}


@pytest.mark.parametrize("operation", [LIST, APP_LIST], ids=["list", "app list"])
def test_seed_list_model_is_the_one_the_wire_notes_describe(operation):
    pagination = described_keys(SEED, schema(operation))["pagination"]
    keys = described_keys(SEED, pagination)
    assert set(keys) == PAGINATION_KEYS
    assert all(set(described_keys(SEED, keys[name])) == {"href"} for name in ("first", "last", "next", "previous"))


def test_the_strict_walk_refuses_what_the_client_refuses(api, world):
    """Guards the guard on a real answer: one extra key, one missing key, a naive time, a method."""
    body = api.create_package(world.app["guid"])
    assert seed_problems(body, GET) == []
    broken = {k: v for k, v in body.items() if k != "state"}
    broken["created_at"] = "2026-01-02T03:04:05"
    broken["data"] = {**body["data"], "sha1": "x"}
    broken["links"] = {**body["links"], "upload": {**body["links"]["upload"], "method": "POST"}}
    assert sorted(seed_problems(broken, GET)) == sorted(
        [
            "$: missing required key 'state'",
            "$.created_at: '2026-01-02T03:04:05' is not a valid date-time",
            "$.data.sha1: unexpected key",
            "$.links.upload.method: unexpected key",
        ]
    )


# --- packages ------------------------------------------------------------------------------------
BITS_KEYS = {"error", "checksum"}
DOCKER_KEYS = {"image", "username", "password"}


@pytest.mark.parametrize("state", flows.BITS_STATES)
def test_bits_package_in_every_state_is_decoded_whole(api, world, run_jobs, state):
    guid = flows.bits_package(api, world.app["guid"], state, run_jobs)["guid"]
    body = decoded(api.client.get(f"/v3/packages/{guid}", headers=api.admin), GET)
    assert set(body) == PACKAGE_KEYS
    assert set(body["data"]) == BITS_KEYS and set(body["data"]["checksum"]) == {"type", "value"}
    assert set(body["links"]) == {"self", "upload", "download", "app"}
    assert (body["data"]["error"] is not None) == (state == "FAILED")


@pytest.mark.parametrize("state", flows.DOCKER_STATES)
@pytest.mark.parametrize("credentials", [{}, {"username": "u", "password": "p"}], ids=["anonymous", "with-credentials"])
def test_docker_package_is_decoded_whole(api, docker_world, state, credentials):
    guid = flows.docker_package(api, docker_world.app["guid"], state, **credentials)["guid"]
    body = decoded(api.client.get(f"/v3/packages/{guid}", headers=api.admin), GET)
    assert set(body) == PACKAGE_KEYS
    assert set(body["data"]) == DOCKER_KEYS
    assert set(body["links"]) == {"self", "app"}


def test_every_packages_api_operation_answers_what_the_client_decodes(api, world, docker_world, run_jobs):
    created = decoded(
        api.client.post(
            "/v3/packages",
            headers=api.admin,
            json={
                "type": "bits",
                "relationships": {"app": {"data": {"guid": world.app["guid"]}}},
                "metadata": {"labels": {"env": "prod"}, "annotations": {"note": "x"}},
            },
        ),
        CREATE,
    )
    decoded(
        api.client.post(
            "/v3/packages",
            headers=api.admin,
            json={
                "type": "docker",
                "relationships": {"app": {"data": {"guid": docker_world.app["guid"]}}},
                "data": {"image": "registry/image:latest", "username": "u", "password": "p"},
            },
        ),
        CREATE,
    )
    decoded(
        api.client.patch(
            f"/v3/packages/{created['guid']}",
            headers=api.admin,
            json={"metadata": {"labels": {"env": None, "tier": "web"}}},
        ),
        UPDATE,
    )
    decoded(upload(api, created["guid"], flows.a_zip(), resources=[]), UPLOAD)
    run_jobs()
    other = api.create_app(world.space["guid"])
    # The client copies with /copy; CC's ?source_guid= gives the same answer (clients-on-the-wire §5).
    decoded(flows.copy_request(api, created["guid"], other["guid"], via="copy"), COPY)
    decoded(flows.copy_request(api, created["guid"], other["guid"], via="source_guid"), COPY)


# --- lists ---------------------------------------------------------------------------------------
def test_list_pagination_is_decoded_on_every_page(api, world, docker_world, run_jobs):
    flows.bits_package(api, world.app["guid"], "READY", run_jobs)
    api.create_package(world.app["guid"])
    flows.docker_package(api, docker_world.app["guid"], "READY", username="u", password="p")
    for page in (1, 2, 3, 4):
        body = decoded(api.client.get(f"/v3/packages?per_page=1&page={page}", headers=api.admin), LIST)
        pagination = body["pagination"]
        assert set(pagination) == PAGINATION_KEYS
        assert type(pagination["total_results"]) is int and type(pagination["total_pages"]) is int
        assert (pagination["total_results"], pagination["total_pages"]) == (3, 3)
        assert (pagination["next"] is None) == (page >= 3)
        assert (pagination["previous"] is None) == (page == 1)
    empty = decoded(api.client.get("/v3/packages?states=EXPIRED", headers=api.admin), LIST)
    assert empty["resources"] == [] and set(empty["pagination"]) == PAGINATION_KEYS


def test_app_package_list_is_decoded(api, world, run_jobs):
    for state in ("READY", "FAILED", "AWAITING_UPLOAD"):
        flows.bits_package(api, world.app["guid"], state, run_jobs)
    r = api.client.get(f"/v3/apps/{world.app['guid']}/packages?per_page=2&order_by=-created_at", headers=api.admin)
    body = decoded(r, APP_LIST)
    assert set(body) == {"pagination", "resources"} and len(body["resources"]) == 2


# --- links.upload.method -------------------------------------------------------------------------
@pytest.mark.parametrize("settings_overrides", [{"links_upload_method": True}])
def test_ccs_upload_method_is_exactly_what_the_client_would_refuse(api, world):
    """With the CC-compatibility setting on, the only thing the client would refuse is `method`
    (why it is off by default: clients-on-the-wire §1, §5)."""
    body = api.create_package(world.app["guid"])
    assert seed_problems(body, GET) == ["$.links.upload.method: unexpected key"]


# --- jobs ----------------------------------------------------------------------------------------
def test_completed_delete_job_is_decoded_whole(api, world, run_jobs):
    pkg = api.create_package(world.app["guid"])
    location = api.client.delete(f"/v3/packages/{pkg['guid']}", headers=api.admin).headers["location"]
    run_jobs()
    body = decoded(api.client.get(location, headers=api.admin), JOB)
    assert body["state"] == "COMPLETE"


def test_processing_delete_job_carries_ccs_resource_link_which_the_seed_job_model_lacks(api, world):
    """CC names a live job's resource link after its type (`links.package`, packages-behavior
    §2.12, §6.2); the seed's Job.links knows only `self` and `resource`. The reference sides with
    CC and clients-on-the-wire has not decided for jobs, so this pins the one difference."""
    pkg = api.create_package(world.app["guid"])
    location = api.client.delete(f"/v3/packages/{pkg['guid']}", headers=api.admin).headers["location"]
    r = api.client.get(location, headers=api.admin)
    assert r.status_code == 200 and media_type(r) == "application/json"
    body = r.json()
    assert body["state"] == "PROCESSING"
    assert seed_problems(body, JOB) == ["$.links.package: unexpected key"]
    assert all(is_rfc3339(v) for _, v in timestamps(body))
    assert all(set(link) == {"href"} for _, link in link_objects(body))


# --- errors --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("status", "request_"),
    [
        (401, lambda api, w: api.client.get("/v3/packages")),
        (404, lambda api, w: api.client.get("/v3/packages/0e4e2a2c-0000-4000-8000-000000000000", headers=api.admin)),
        (422, lambda api, w: api.client.post("/v3/packages", headers=api.admin, json={"type": "bits"})),
    ],
    ids=["401", "404", "422"],
)
def test_errors_keep_ccs_envelope_which_the_seed_models_as_errors(api, world, status, request_):
    """Decided (clients-on-the-wire §5): CC's `{"errors": [...]}` always. The seed client still sees
    the status; its flat Error model stays empty. The envelope is its `Errors` model, exactly."""
    r = request_(api, world)
    assert r.status_code == status
    content_type = r.headers["content-type"].replace(" ", "").lower()
    assert content_type in ("application/json", "application/json;charset=utf-8")
    body = r.json()
    assert shape_problems(SEED, body, SEED.component("#/components/schemas/Errors")) == []
    assert [set(e) for e in body["errors"]] == [{"code", "title", "detail"}]
