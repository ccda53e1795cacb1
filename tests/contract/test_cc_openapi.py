"""Our answers against the Cloud Controller's own OpenAPI 3.1 description (../shared/reference/cc-openapi).

Every 2xx and error body below is validated with jsonschema (draft 2020-12, formats asserted)
against the response schema CC's document declares for that operation and status, `$ref`s
resolved across its split files. CC's schemas leave objects open, so each package-bearing body is
also walked "closed": a key CC's schema does not describe fails (`shape_problems`).

Where the CC document and the behaviour reference (../shared/reference/packages-behavior.md)
disagree, the reference decides and the difference is pinned by name here:
- `links.download` has no `method` (reference §1.3; the document's examples show `GET`);
- the copy operation `POST /v3/packages?source_guid=` is described in paths/Packages.yaml but not
  mounted in openapi.yaml, so it is read from there;
- statuses CC answers but the document does not declare (UNDECLARED_BY_CC_DOCUMENT) are checked
  against its generic `Errors` schema.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from capi_packages.auth.tokens import READ
from tests.bits_api.bits_support import upload
from tests.contract import flows
from tests.contract.support import (
    CC_OPENAPI,
    OpenApi,
    child,
    media_type,
    require_file,
    shape_problems,
)
from tests.factories import bearer, make_zip

require_file(CC_OPENAPI)
CC = OpenApi(CC_OPENAPI)
BASE = "http://api.test"
COPY = ("/v3/packages?source_guid={source_guid}", "paths/Packages.yaml")
JOB_LOCATION = re.compile(rf"^{re.escape(BASE)}/v3/jobs/[0-9a-f-]{{36}}$")


def cc_body(
    response: Any, path: str, method: str, status: int, document: str | None = None, *, closed: bool = True
) -> Any:
    """Assert the status, a JSON content type and CC's schema for it; return the body."""
    assert response.status_code == status, (response.status_code, response.text)
    assert media_type(response) == "application/json", response.headers
    body = response.json()
    schema = CC.response_schema(path, method, status, document)
    CC.validate(body, schema)
    if closed:
        assert shape_problems(CC, body, schema) == []
    return body


@pytest.fixture
def world(api):
    return api.world()


@pytest.fixture
def docker_world(api):
    return api.world("docker")


# --- the checker itself -------------------------------------------------------------------------
def test_the_document_is_read_with_its_cross_file_references():
    """Guards the guard: CC's own examples pass, and a broken package fails on each detail."""
    item = CC.path_item("/v3/packages")
    example = CC.node(
        child(item, "get", "responses", "200", "content", "application/json", "examples", "default", "value")
    )
    CC.validate(example, CC.response_schema("/v3/packages", "get", 200))
    package = example["resources"][0]
    schema = CC.response_schema("/v3/packages/{guid}", "get", 200)
    CC.validate(package, schema)
    broken = {
        **package,
        "guid": "not-a-uuid",
        "state": "SLEEPING",
        "created_at": "2015-11-03T00:53:54",  # no zone
        "links": {"self": {"method": "GET"}},
        "data": {"checksum": {"type": "sha256", "value": 7}},
    }
    problems = CC.errors(broken, schema)
    for where in ("$.guid", "$.state", "$.created_at", "$.links.self", "$.data.checksum.value"):
        assert any(p.startswith(f"{where}:") for p in problems), (where, problems)
    assert shape_problems(CC, {**package, "extra": 1}, schema) == ["$.extra: unexpected key"]


# --- packages -----------------------------------------------------------------------------------
def test_create_bits_package_matches_cc(api, world):
    r = api.client.post(
        "/v3/packages",
        headers=api.admin,
        json={
            "type": "bits",
            "relationships": {"app": {"data": {"guid": world.app["guid"]}}},
            "metadata": {"labels": {"env": "prod"}, "annotations": {"note": "a b c"}},
        },
    )
    body = cc_body(r, "/v3/packages", "post", 201)
    assert body["state"] == "AWAITING_UPLOAD"
    assert body["data"] == {"error": None, "checksum": {"type": "sha256", "value": None}}


@pytest.mark.parametrize(
    "credentials", [{}, {"username": "user", "password": "secret"}], ids=["anonymous", "with-credentials"]
)
def test_create_docker_package_matches_cc(api, docker_world, credentials):
    r = api.client.post(
        "/v3/packages",
        headers=api.admin,
        json={
            "type": "docker",
            "relationships": {"app": {"data": {"guid": docker_world.app["guid"]}}},
            "data": {"image": "registry/image:latest", **credentials},
        },
    )
    body = cc_body(r, "/v3/packages", "post", 201)
    assert body["state"] == "READY"
    assert set(body["links"]) == {"self", "app"}


@pytest.mark.parametrize("state", flows.BITS_STATES)
def test_get_bits_package_matches_cc_in_every_state(api, world, run_jobs, state):
    guid = flows.bits_package(api, world.app["guid"], state, run_jobs)["guid"]
    body = cc_body(api.client.get(f"/v3/packages/{guid}", headers=api.admin), "/v3/packages/{guid}", "get", 200)
    if state == "FAILED":
        assert isinstance(body["data"]["error"], str)


@pytest.mark.parametrize("state", flows.DOCKER_STATES)
def test_get_docker_package_matches_cc(api, docker_world, state):
    guid = flows.docker_package(api, docker_world.app["guid"], state, username="u", password="p")["guid"]
    cc_body(api.client.get(f"/v3/packages/{guid}", headers=api.admin), "/v3/packages/{guid}", "get", 200)


def test_list_packages_matches_cc_on_every_page(api, world, docker_world, run_jobs):
    flows.bits_package(api, world.app["guid"], "READY", run_jobs)
    api.create_package(world.app["guid"])
    flows.docker_package(api, docker_world.app["guid"], "READY")
    for page in (1, 2, 3):
        body = cc_body(
            api.client.get(f"/v3/packages?per_page=1&page={page}", headers=api.admin), "/v3/packages", "get", 200
        )
        assert body["pagination"]["total_results"] == 3
        assert (body["pagination"]["next"] is None) == (page == 3)
        assert (body["pagination"]["previous"] is None) == (page == 1)
    filtered = api.client.get(
        "/v3/packages?types=bits&states=READY,AWAITING_UPLOAD&order_by=-created_at&label_selector=!nope",
        headers=api.admin,
    )
    assert cc_body(filtered, "/v3/packages", "get", 200)["pagination"]["total_results"] == 2
    empty = cc_body(api.client.get("/v3/packages?states=EXPIRED", headers=api.admin), "/v3/packages", "get", 200)
    assert empty["resources"] == [] and empty["pagination"]["total_pages"] == 1


def test_list_packages_of_an_app_matches_cc(api, world, run_jobs):
    flows.bits_package(api, world.app["guid"], "READY", run_jobs)
    api.create_package(world.app["guid"])
    r = api.client.get(f"/v3/apps/{world.app['guid']}/packages?per_page=1", headers=api.admin)
    body = cc_body(r, "/v3/apps/{guid}/packages", "get", 200)
    assert body["pagination"]["next"]["href"].startswith(f"{BASE}/v3/apps/{world.app['guid']}/packages?")


def test_update_package_matches_cc(api, world, docker_world):
    bits = api.create_package(world.app["guid"])
    r = api.client.patch(
        f"/v3/packages/{bits['guid']}",
        headers=api.admin,
        json={"metadata": {"labels": {"tier": "web"}, "annotations": {"owner": "me"}}},
    )
    assert cc_body(r, "/v3/packages/{guid}", "patch", 200)["metadata"]["labels"] == {"tier": "web"}
    docker = api.create_package(docker_world.app["guid"], "docker")
    r = api.client.patch(f"/v3/packages/{docker['guid']}", headers=api.admin, json={"username": "u", "password": "p"})
    assert cc_body(r, "/v3/packages/{guid}", "patch", 200)["data"]["password"] == "***"


@pytest.mark.parametrize("kind", ["bits", "docker"])
def test_copy_with_source_guid_matches_cc(api, world, docker_world, run_jobs, kind):
    if kind == "bits":
        source = flows.bits_package(api, world.app["guid"], "READY", run_jobs)
        destination = api.create_app(world.space["guid"])
    else:
        source = flows.docker_package(api, docker_world.app["guid"], "READY", username="u", password="p")
        destination = api.create_app(docker_world.space["guid"], lifecycle="docker")
    path, document = COPY
    body = cc_body(flows.copy_request(api, source["guid"], destination["guid"]), path, "post", 201, document)
    assert body["state"] == ("COPYING" if kind == "bits" else "READY")
    run_jobs()
    after = api.client.get(f"/v3/packages/{body['guid']}", headers=api.admin)
    assert cc_body(after, "/v3/packages/{guid}", "get", 200)["state"] == "READY"


@pytest.mark.parametrize("kind", ["bits", "docker"])
def test_delete_answers_202_with_a_job_location_and_no_body(api, world, docker_world, kind):
    app_guid = world.app["guid"] if kind == "bits" else docker_world.app["guid"]
    pkg = api.create_package(app_guid, kind)
    r = api.client.delete(f"/v3/packages/{pkg['guid']}", headers=api.admin)
    assert r.status_code == 202
    _, response = CC.response("/v3/packages/{guid}", "delete", 202)
    assert "content" not in response and r.content == b""  # CC describes no body, and sends none (§2.7)
    header_uri = child(CC.response("/v3/packages/{guid}", "delete", 202)[0], "headers", "Location", "schema")
    CC.validate(r.headers["location"], header_uri)  # a string with format uri, asserted
    assert JOB_LOCATION.match(r.headers["location"]), r.headers["location"]


def test_delete_job_matches_cc_while_processing_and_when_complete(api, world, run_jobs):
    pkg = api.create_package(world.app["guid"])
    location = api.client.delete(f"/v3/packages/{pkg['guid']}", headers=api.admin).headers["location"]
    processing = cc_body(api.client.get(location, headers=api.admin), "/v3/jobs/{guid}", "get", 200)
    assert processing["state"] == "PROCESSING"
    assert processing["links"]["package"] == {"href": f"{BASE}/v3/packages/{pkg['guid']}"}
    run_jobs()
    complete = cc_body(api.client.get(location, headers=api.admin), "/v3/jobs/{guid}", "get", 200)
    assert complete["state"] == "COMPLETE" and set(complete["links"]) == {"self"}


def test_upload_answers_200_with_a_package_matching_cc(api, world):
    pkg = api.create_package(world.app["guid"])
    body = cc_body(upload(api, pkg["guid"], flows.a_zip(), resources=[]), "/v3/packages/{guid}/upload", "post", 200)
    assert body["state"] == "PROCESSING_UPLOAD"


def test_resource_matches_answer_201_matching_cc(api, world, run_jobs):
    known = flows.matchable_resource(api, world.app["guid"], run_jobs)
    unknown = {"checksum": {"value": "0" * 40}, "size_in_bytes": flows.BIG, "path": "new.bin", "mode": "644"}
    r = api.client.post("/v3/resource_matches", headers=api.admin, json={"resources": [known, unknown]})
    assert cc_body(r, "/v3/resource_matches", "post", 201) == {"resources": [known]}
    r = api.client.post("/v3/resource_matches", headers=api.admin, json={"resources": [unknown]})
    assert cc_body(r, "/v3/resource_matches", "post", 201) == {"resources": []}


def test_package_droplets_list_matches_cc(api, world):
    pkg = api.create_package(world.app["guid"])
    r = api.client.get(f"/v3/packages/{pkg['guid']}/droplets", headers=api.admin)
    assert cc_body(r, "/v3/packages/{guid}/droplets", "get", 200)["resources"] == []


def test_download_answers_a_declared_302(api, world, run_jobs):
    pkg = flows.bits_package(api, world.app["guid"], "READY", run_jobs)
    r = api.client.get(f"/v3/packages/{pkg['guid']}/download", headers=api.admin, follow_redirects=False)
    assert str(r.status_code) in CC.declared_statuses("/v3/packages/{guid}/download", "get")
    assert r.status_code == 302 and r.headers["location"].startswith(BASE)


# --- links.upload.method ------------------------------------------------------------------------
def _bits_bodies(api: Any, world: Any, run_jobs: Callable[[], Any]) -> dict[str, Any]:
    """One package-bearing answer of each operation that returns a bits package."""
    created = api.client.post(
        "/v3/packages",
        headers=api.admin,
        json={"type": "bits", "relationships": {"app": {"data": {"guid": world.app["guid"]}}}},
    )
    guid = created.json()["guid"]
    ready = flows.bits_package(api, world.app["guid"], "READY", run_jobs)
    other = api.create_app(world.space["guid"])
    path, document = COPY
    return {
        "create": cc_body(created, "/v3/packages", "post", 201),
        "get": cc_body(api.client.get(f"/v3/packages/{guid}", headers=api.admin), "/v3/packages/{guid}", "get", 200),
        "update": cc_body(
            api.client.patch(f"/v3/packages/{guid}", headers=api.admin, json={}), "/v3/packages/{guid}", "patch", 200
        ),
        "list": cc_body(api.client.get("/v3/packages", headers=api.admin), "/v3/packages", "get", 200)["resources"][0],
        "app list": cc_body(
            api.client.get(f"/v3/apps/{world.app['guid']}/packages", headers=api.admin),
            "/v3/apps/{guid}/packages",
            "get",
            200,
        )["resources"][0],
        "copy": cc_body(flows.copy_request(api, ready["guid"], other["guid"]), path, "post", 201, document),
        "upload": cc_body(upload(api, guid, flows.a_zip()), "/v3/packages/{guid}/upload", "post", 200),
    }


def _cc_links(body: dict[str, Any]) -> dict[str, Any]:
    """A bits package's links exactly as CC's presenter writes them (reference §1.3, §1.4)."""
    package = f"{BASE}/v3/packages/{body['guid']}"
    return {
        "self": {"href": package},
        "upload": {"href": f"{package}/upload", "method": "POST"},
        "download": {"href": f"{package}/download"},  # no method: the document's `GET` example is not what CC sends
        "app": {"href": f"{BASE}/v3/apps/{body['relationships']['app']['data']['guid']}"},
    }


@pytest.mark.parametrize("settings_overrides", [{"links_upload_method": True}])
def test_with_links_upload_method_every_bits_package_has_ccs_exact_links(api, world, docker_world, run_jobs):
    for operation, body in _bits_bodies(api, world, run_jobs).items():
        assert body["links"] == _cc_links(body), operation
        assert list(body["links"]) == ["self", "upload", "download", "app"], operation
    docker = api.create_package(docker_world.app["guid"], "docker")
    assert docker["links"] == {
        "self": {"href": f"{BASE}/v3/packages/{docker['guid']}"},
        "app": {"href": f"{BASE}/v3/apps/{docker_world.app['guid']}"},
    }


def test_by_default_upload_links_omit_method_and_differ_from_cc_only_there(api, world, run_jobs):
    """The deliberate default (clients-on-the-wire §5): `href` only, for the seed's strict client."""
    for operation, body in _bits_bodies(api, world, run_jobs).items():
        expected = _cc_links(body)
        del expected["upload"]["method"]
        assert body["links"] == expected, operation


# --- errors -------------------------------------------------------------------------------------
def _unknown(api: Any, world: Any) -> str:
    return "0e4e2a2c-0000-4000-8000-000000000000"


# (what, status, (path, method, document), request)
ERROR_CASES: list[tuple[str, int, tuple[str, str, str | None], Callable[[Any, Any], Any]]] = [
    ("no token", 401, ("/v3/packages", "get", None), lambda api, w: api.client.get("/v3/packages")),
    (
        "bad token",
        401,
        ("/v3/packages/{guid}", "get", None),
        lambda api, w: api.client.get(f"/v3/packages/{_pkg(api, w)}", headers=bearer("not.a.jwt")),
    ),
    (
        "read-only role creates",
        403,
        ("/v3/packages", "post", None),
        lambda api, w: api.client.post(
            "/v3/packages",
            headers=api.user("space_auditor", w),
            json={"type": "bits", "relationships": {"app": {"data": {"guid": w.app["guid"]}}}},
        ),
    ),
    (
        "no write scope updates",
        403,
        ("/v3/packages/{guid}", "patch", None),
        lambda api, w: api.client.patch(
            f"/v3/packages/{_pkg(api, w)}", headers=api.headers("reader", (READ,)), json={}
        ),
    ),
    (
        "no write scope deletes",
        403,
        ("/v3/packages/{guid}", "delete", None),
        lambda api, w: api.client.delete(f"/v3/packages/{_pkg(api, w)}", headers=api.headers("reader", (READ,))),
    ),
    (
        "unknown package",
        404,
        ("/v3/packages/{guid}", "get", None),
        lambda api, w: api.client.get(f"/v3/packages/{_unknown(api, w)}", headers=api.admin),
    ),
    (
        "delete unknown package",
        404,
        ("/v3/packages/{guid}", "delete", None),
        lambda api, w: api.client.delete(f"/v3/packages/{_unknown(api, w)}", headers=api.admin),
    ),
    (
        "packages of unknown app",
        404,
        ("/v3/apps/{guid}/packages", "get", None),
        lambda api, w: api.client.get(f"/v3/apps/{_unknown(api, w)}/packages", headers=api.admin),
    ),
    (
        "unknown job",
        404,
        ("/v3/jobs/{guid}", "get", None),
        lambda api, w: api.client.get(f"/v3/jobs/{_unknown(api, w)}", headers=api.admin),
    ),
    (
        "upload to unknown package",
        404,
        ("/v3/packages/{guid}/upload", "post", None),
        lambda api, w: upload(api, _unknown(api, w), flows.a_zip()),
    ),
    (
        "create for unknown app",
        422,
        ("/v3/packages", "post", None),
        lambda api, w: api.client.post(
            "/v3/packages",
            headers=api.admin,
            json={"type": "bits", "relationships": {"app": {"data": {"guid": _unknown(api, w)}}}},
        ),
    ),
    (
        "update with unknown field",
        422,
        ("/v3/packages/{guid}", "patch", None),
        lambda api, w: api.client.patch(f"/v3/packages/{_pkg(api, w)}", headers=api.admin, json={"animals": 1}),
    ),
    (
        "copy to the same app",
        422,
        (COPY[0], "post", COPY[1]),
        lambda api, w: flows.copy_request(api, _pkg(api, w), w.app["guid"]),
    ),
    (
        "bad resource match",
        422,
        ("/v3/resource_matches", "post", None),
        lambda api, w: api.client.post("/v3/resource_matches", headers=api.admin, json={"resources": []}),
    ),
    (
        "upload with nothing",
        422,
        ("/v3/packages/{guid}/upload", "post", None),
        lambda api, w: upload(api, _pkg(api, w)),
    ),
    (
        "bad list query",
        400,
        ("/v3/packages", "get", None),
        lambda api, w: api.client.get("/v3/packages?bogus=1", headers=api.admin),
    ),
    ("second upload", 400, ("/v3/packages/{guid}/upload", "post", None), lambda api, w: _upload_twice(api, w)),
    (
        "download of a docker package",
        422,
        ("/v3/packages/{guid}/download", "get", None),
        lambda api, w: api.client.get(f"/v3/packages/{_docker_pkg(api)}/download", headers=api.admin),
    ),
    (
        "guid filter on the app route",
        400,
        ("/v3/apps/{guid}/packages", "get", None),
        lambda api, w: api.client.get(f"/v3/apps/{w.app['guid']}/packages?space_guids=x", headers=api.admin),
    ),
]
# Statuses CC answers (packages-behavior §2.5, §3.4, §5.8) that its OpenAPI document does not
# declare for the operation; their bodies are checked against the document's generic Errors schema.
UNDECLARED_BY_CC_DOCUMENT = {
    ("/v3/packages/{guid}/upload", "post", 400),
    ("/v3/packages/{guid}/download", "get", 422),
    ("/v3/apps/{guid}/packages", "get", 400),
}


def _pkg(api: Any, world: Any) -> str:
    return api.create_package(world.app["guid"])["guid"]


def _docker_pkg(api: Any) -> str:
    return api.create_package(api.world("docker").app["guid"], "docker")["guid"]


def _upload_twice(api: Any, world: Any) -> Any:
    guid = _pkg(api, world)
    assert upload(api, guid, make_zip({"a": "1"})).status_code == 200
    return upload(api, guid, make_zip({"a": "1"}))


@pytest.mark.parametrize(("what", "status", "operation", "request_"), ERROR_CASES, ids=[c[0] for c in ERROR_CASES])
def test_error_bodies_match_ccs_error_schema(api, world, what, status, operation, request_):
    path, method, document = operation
    r = request_(api, world)
    assert r.status_code == status, (r.status_code, r.text)
    assert media_type(r) == "application/json"
    declared = str(status) in CC.declared_statuses(path, method, document)
    assert declared == ((path, method, status) not in UNDECLARED_BY_CC_DOCUMENT), (path, method, status)
    schema = (
        CC.response_schema(path, method, status, document)
        if declared
        else CC.component("components/schemas/Errors.yaml")
    )
    body = r.json()
    CC.validate(body, schema)
    assert shape_problems(CC, body, schema) == []
    # Stricter than the document, as CC sends it (reference §0.3): one error, exactly these keys.
    assert [set(e) for e in body["errors"]] == [{"code", "title", "detail"}]


# --- roots --------------------------------------------------------------------------------------
# Links CC's document types as objects but that we publish as null: this service runs no v2 API,
# network policy or logging. The cf CLI and cf-python-client read only login, uaa and
# cloud_controller_v3 (clients-on-the-wire §2, §4), and CC itself answers null for links it lacks.
NULL_ROOT_LINKS_CC_TYPES_AS_OBJECTS = {"cloud_controller_v2", "network_policy_v1", "logging", "log_cache", "log_stream"}


def test_root_matches_cc_but_for_the_services_we_do_not_run(api):
    r = api.client.get("/")
    assert r.status_code == 200 and media_type(r) == "application/json"
    body = r.json()
    schema = CC.response_schema("/", "get", 200)
    failing = {p.split(":")[0] for p in CC.errors(body, schema)}
    assert failing == {f"$.links.{name}" for name in NULL_ROOT_LINKS_CC_TYPES_AS_OBJECTS}
    assert all(body["links"][name] is None for name in NULL_ROOT_LINKS_CC_TYPES_AS_OBJECTS)
    CC.validate({"links": {k: v for k, v in body["links"].items() if v is not None}}, schema)
    for name in ("login", "uaa", "cloud_controller_v3"):
        assert body["links"][name]["href"].startswith(BASE)
    assert body["links"]["cloud_controller_v3"]["meta"]["version"] == "3.195.0"


def test_v3_root_matches_cc(api):
    r = api.client.get("/v3")
    body = cc_body(r, "/v3", "get", 200, closed=False)  # CC lists resources this service does not serve
    assert body["links"]["packages"] == {"href": f"{BASE}/v3/packages"}
