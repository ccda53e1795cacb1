"""Who sees which events (CC's readable_event_dataset), over the 11 roles and a user with none.

Global readers see every event. Space auditors, developers and supporters see the events of their
spaces; org auditors every event of their organizations (in a space or not). Space managers, org
managers, billing managers and org users see none, not even of their own space.
"""

from __future__ import annotations

from typing import Any

import pytest

from capi_packages.auth.tokens import ADMIN, READ
from tests.api.test_permissions import GLOBAL_READERS, ROLES
from tests.audit_events.support import events, the_event
from tests.factories import Api, World, assert_error, bearer

SPACE_READERS = ["space_auditor", "space_developer", "space_supporter"]


@pytest.fixture
def world(api: Api) -> World:
    return api.world()


@pytest.fixture
def scene(api: Api, world: World) -> dict[str, dict[str, Any]]:
    """One event of each kind: the org itself, an app in the world's space, an app in a sibling
    space of the same org, and an app in another org."""
    sibling = api.create_app(api.create_space(world.org["guid"])["guid"])
    stranger = api.world().app
    return {
        "org": the_event(api, "audit.organization.create", world.org["guid"]),
        "space": the_event(api, "audit.app.create", world.app["guid"]),
        "sibling": the_event(api, "audit.app.create", sibling["guid"]),
        "stranger": the_event(api, "audit.app.create", stranger["guid"]),
    }


def visible_kinds(role: str) -> set[str]:
    if role in GLOBAL_READERS:
        return {"org", "space", "sibling", "stranger"}
    if role == "organization_auditor":
        return {"org", "space", "sibling"}
    if role in SPACE_READERS:
        return {"space"}
    return set()


@pytest.mark.parametrize("role", ROLES)
def test_the_list_shows_what_the_role_may_see(api, world, scene, role):
    headers = api.user(role, world)
    targets = ",".join(e["target"]["guid"] for e in scene.values())
    query = f"target_guids={targets}&types=audit.organization.create,audit.app.create"
    r = api.client.get(f"/v3/audit_events?{query}", headers=headers)
    assert r.status_code == 200, r.text
    seen = {e["guid"] for e in r.json()["resources"]}
    assert seen == {scene[kind]["guid"] for kind in visible_kinds(role)}
    assert r.json()["pagination"]["total_results"] == len(seen)
    # What is shown is the whole event, as an admin sees it.
    assert [e for e in r.json()["resources"]] == [e for e in scene.values() if e["guid"] in seen]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("kind", ["org", "space"])
def test_one_event_is_shown_or_not_found(api, world, scene, role, kind):
    event = scene[kind]
    r = api.client.get(f"/v3/audit_events/{event['guid']}", headers=api.user(role, world))
    if kind in visible_kinds(role):
        assert r.status_code == 200, r.text
        assert r.json() == event
    else:
        assert_error(r, 404, 10010, "CF-ResourceNotFound", "Event not found")


def test_a_missing_event_is_not_found(api):
    assert_error(
        api.client.get("/v3/audit_events/does-not-exist", headers=api.admin),
        404,
        10010,
        "CF-ResourceNotFound",
        "Event not found",
    )


def test_events_outlive_their_space_for_org_auditors_and_global_readers(api, world, scene, run_jobs):
    viewers = {role: api.user(role, world) for role in ("organization_auditor", "space_developer", "global_auditor")}
    assert api.client.delete(f"/v3/spaces/{world.space['guid']}", headers=api.admin).status_code == 202
    run_jobs()
    for role, headers in viewers.items():
        r = api.client.get(f"/v3/audit_events/{scene['space']['guid']}", headers=headers)
        # The space developer's role went with the space.
        assert r.status_code == (404 if role == "space_developer" else 200), (role, r.text)


def test_events_outlive_their_organization_for_global_readers_only(api, world, scene, run_jobs):
    viewers = {role: api.user(role, world) for role in ("organization_auditor", "admin_read_only")}
    assert api.client.delete(f"/v3/organizations/{world.org['guid']}", headers=api.admin).status_code == 202
    run_jobs()
    for role, headers in viewers.items():
        r = api.client.get(f"/v3/audit_events/{scene['org']['guid']}", headers=headers)
        assert r.status_code == (200 if role == "admin_read_only" else 404), (role, r.text)
    types = [e["type"] for e in events(api, f"organization_guids={world.org['guid']}")]
    assert types[-1] == "audit.organization.delete-request"


def test_reading_events_needs_a_token(api, scene):
    r = api.client.get("/v3/audit_events")
    assert_error(r, 401, 10002, "CF-NotAuthenticated", "Authentication error")
    r = api.client.get(f"/v3/audit_events/{scene['org']['guid']}")
    assert_error(r, 401, 10002, "CF-NotAuthenticated", "Authentication error")


def test_reading_events_needs_a_read_scope(api, scene):
    headers = bearer(api.token("writer", ("cloud_controller.write",)))
    r = api.client.get("/v3/audit_events", headers=headers)
    assert_error(r, 403, 10003, "CF-NotAuthorized", "You are not authorized to perform the requested action")
    assert api.client.get("/v3/audit_events", headers=bearer(api.token("reader", (READ, ADMIN)))).status_code == 200
