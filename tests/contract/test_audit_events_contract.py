"""Audit event answers against CC's OpenAPI (closed) and the seed's strict Go client model."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.bits_api.bits_support import upload
from tests.contract.support import CC_OPENAPI, SEED_OPENAPI, OpenApi, require_file, shape_problems
from tests.contract.test_cc_openapi import cc_body
from tests.factories import make_zip

require_file(CC_OPENAPI)
require_file(SEED_OPENAPI)
SEED = OpenApi(SEED_OPENAPI)
LIST = "/v3/audit_events"
ONE = "/v3/audit_events/{guid}"


@pytest.fixture
def recorded(api: Any, run_jobs: Any) -> list[dict[str, Any]]:
    """One of each kind of event: org, space, app, every package event, a role, the deletes."""
    world = api.world()
    pkg = api.create_package(world.app["guid"])
    assert upload(api, pkg["guid"], make_zip({"a.txt": "a"})).status_code == 200
    run_jobs()
    download = api.client.get(f"/v3/packages/{pkg['guid']}/download", headers=api.admin, follow_redirects=False)
    assert download.status_code == 302
    # CC's user guids are UAA's uuids, which the seed's model demands of a target.
    api.grant(str(uuid.uuid4()), "organization_auditor", org=world.org["guid"])
    api.ok(
        "POST",
        f"/v3/packages?source_guid={pkg['guid']}",
        201,
        json={"relationships": {"app": {"data": {"guid": api.create_app(world.space["guid"])["guid"]}}}},
    )
    api.ok("PATCH", f"/v3/organizations/{world.org['guid']}", 200, json={"name": "renamed"})
    assert api.client.delete(f"/v3/spaces/{world.space['guid']}", headers=api.admin).status_code == 202
    run_jobs()
    body = api.ok("GET", f"{LIST}?per_page=5000", 200)
    return list(body["resources"])


def seed_problems(body: Any, path: str) -> list[str]:
    return shape_problems(SEED, body, SEED.response_schema(path, "get", 200), null_anywhere=True)


def test_the_list_matches_cc_and_the_seed_client(api, recorded):
    kinds = {e["type"] for e in recorded}
    assert {"audit.app.package.download", "audit.space.delete-request", "audit.organization.update"} <= kinds
    for query in ("per_page=2", "per_page=2&page=2&order_by=-created_at&types=audit.app.package.create"):
        body = cc_body(api.client.get(f"{LIST}?{query}", headers=api.admin), LIST, "get", 200)
        assert seed_problems(body, LIST) == []


def test_each_event_matches_cc_and_the_seed_client(api, recorded):
    for event in recorded:
        body = cc_body(api.client.get(f"{LIST}/{event['guid']}", headers=api.admin), ONE, "get", 200)
        assert body == event
        assert seed_problems(body, ONE) == [], event["type"]


def test_not_found_matches_ccs_error_schema(api):
    cc_body(api.client.get(f"{LIST}/nope", headers=api.admin), ONE, "get", 404)
