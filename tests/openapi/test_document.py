"""The served /openapi.json: valid OpenAPI, every route in it, and what it says matches what the app does."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import iter_route_contexts
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from capi_packages.listing import ListSpec
from capi_packages.packages.schemas import APP_PACKAGES_LIST, PACKAGES_LIST
from tests.openapi.observed import documented_routes


@pytest.fixture
def document(client):
    answer = client.get("/openapi.json")
    assert answer.status_code == 200
    return answer.json()


def _operations(document):
    return [(m.upper(), p, op) for p, ops in document["paths"].items() for m, op in ops.items()]


def _error_validator(document):
    registry = Registry().with_resource("urn:doc", DRAFT202012.create_resource(document))
    return Draft202012Validator({"$ref": "urn:doc#/components/schemas/CfErrors"}, registry=registry)


def test_the_document_is_valid_openapi(document):
    validate(document)
    assert document["openapi"].startswith("3.1")


def test_every_route_of_the_app_is_an_operation_of_the_document(app, document):
    routes = {(m, r.path_format) for r in documented_routes(app) for m in r.methods}
    operations = {(m, p) for m, p, _ in _operations(document)}
    assert routes == operations
    # Only the console's HTML pages, the docs page itself and its assets, and the operators' probes
    # and scrape endpoints (answered for load balancers and Prometheus, not API clients) stay out of it.
    every_path = {r.path_format for r in iter_route_contexts(app.routes) if r.path_format}
    operational = {"/openapi.json", "/healthz", "/readyz", "/metrics", "/internal/v4/metrics"}
    skipped = every_path - {p for _, p in operations} - operational
    assert all(p.startswith(("/console", "/docs")) for p in skipped), skipped


def test_operation_ids_are_the_handlers_snake_case_names_and_unique(document):
    ids = [op["operationId"] for _, _, op in _operations(document)]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", i) for i in ids), ids
    assert {"list_packages", "get_package", "create_package", "upload_package_bits", "download_package_bits"} <= set(
        ids
    )


def test_every_operation_has_a_tag_and_every_error_status_the_cf_envelope(document):
    for method, path, op in _operations(document):
        assert op.get("tags"), (method, path)
        for status, answer in op["responses"].items():
            if int(status) >= 400:
                schema = answer["content"]["application/json"]["schema"]
                want = "#/components/schemas/OAuthError" if path == "/oauth/token" and status != "500" else None
                assert schema["$ref"] in {want, "#/components/schemas/CfErrors"}, (method, path, status)


def _parameters(document, method, path):
    return {p["name"]: p for p in document["paths"][path][method]["parameters"]}


@pytest.mark.parametrize(
    ("path", "spec"), [("/v3/packages", PACKAGES_LIST), ("/v3/apps/{guid}/packages", APP_PACKAGES_LIST)]
)
def test_a_list_documents_the_filters_its_spec_accepts_and_no_other(document, path, spec: ListSpec):
    params = _parameters(document, "get", path)
    query = {n for n, p in params.items() if p["in"] == "query"}
    plain = {n for n in query if "[" not in n}
    assert plain == set(spec.allowed) - set(spec.nested_forbidden)
    assert {"created_ats[lt]", "updated_ats[gte]"} <= query
    assert params["per_page"]["schema"]["maximum"] == 5000
    assert "-created_at" in params["order_by"]["schema"]["enum"]
    assert "400" in document["paths"][path]["get"]["responses"]


def test_the_nested_list_refuses_the_filters_its_parent_names(document, api):
    world = api.world()
    # Documented as absent, and answered as CC answers them: a 400.
    assert "app_guids" not in _parameters(document, "get", "/v3/apps/{guid}/packages")
    answer = api.client.get(f"/v3/apps/{world.app['guid']}/packages?app_guids=x", headers=api.admin)
    assert answer.status_code == 400


def test_hand_parsed_bodies_are_described_per_media_type(document):
    paths = document["paths"]
    assert "multipart/form-data" in paths["/v3/packages/{guid}/upload"]["post"]["requestBody"]["content"]
    assert "application/x-yaml" in paths["/v3/spaces/{guid}/actions/apply_manifest"]["post"]["requestBody"]["content"]
    create = paths["/v3/packages"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert create["anyOf"][0]["properties"]["type"]["enum"] == ["bits", "docker"]
    assert "application/x-www-form-urlencoded" in paths["/oauth/token"]["post"]["requestBody"]["content"]


def test_statuses_beyond_200_are_listed_where_they_are_answered(document):
    paths = document["paths"]
    download = paths["/v3/packages/{guid}/download"]["get"]["responses"]
    assert {"200", "302", "404", "422", "502"} <= set(download)
    assert "Location" in download["302"]["headers"]
    assert "application/zip" in download["200"]["content"]
    delete = paths["/v3/packages/{guid}"]["delete"]["responses"]
    assert "content" not in delete["202"] and "Location" in delete["202"]["headers"]
    assert {"201", "422"} <= set(paths["/v3/packages"]["post"]["responses"])


def test_a_real_error_answer_matches_the_documented_envelope(document, api):
    answer = api.client.get("/v3/packages/no-such-guid", headers=api.admin)
    assert answer.status_code == 404
    assert "404" in document["paths"]["/v3/packages/{guid}"]["get"]["responses"]
    _error_validator(document).validate(answer.json())
    unauthenticated = api.client.get("/v3/packages")
    assert unauthenticated.status_code == 401
    _error_validator(document).validate(unauthenticated.json())


def test_the_status_check_itself_flags_a_status_the_document_does_not_list(document):
    from tests.openapi.observed import undocumented

    assert undocumented(document, {("GET", "/v3/packages/{guid}", 404)}) == []
    assert undocumented(document, {("GET", "/v3/packages/{guid}", 418)}) == [
        "GET /v3/packages/{guid} answered 418, which /openapi.json does not list for it"
    ]
