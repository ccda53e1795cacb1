"""Events of organizations, spaces, apps and roles, every field checked (CC's *_event_repository)."""

from __future__ import annotations

from typing import Any

import pytest

from capi_packages.auth.tokens import ADMIN, READ, WRITE
from capi_packages.login.service import add_user
from tests.audit_events.support import actor_headers, events, events_of, expected, the_event
from tests.factories import Api


@pytest.fixture
def admin(api: Api) -> dict[str, str]:
    return actor_headers(api, "root")


ROOT = ("root", "root@example.com")


def test_creating_an_organization_records_its_request(api, admin):
    body = {"name": "acme", "suspended": False}
    org = api.ok("POST", "/v3/organizations", 201, json=body, headers=admin)
    event = the_event(api, "audit.organization.create", org["guid"])
    assert event == expected(
        event,
        type_="audit.organization.create",
        actor=ROOT,
        target=(org["guid"], "organization", "acme"),
        data={"request": body},
        space=None,
        org=org["guid"],
    )


def test_updating_an_organization_records_its_request(api, admin):
    org = api.create_org("before")
    api.ok("PATCH", f"/v3/organizations/{org['guid']}", 200, json={"name": "after"}, headers=admin)
    event = the_event(api, "audit.organization.update", org["guid"])
    assert event == expected(
        event,
        type_="audit.organization.update",
        actor=ROOT,
        target=(org["guid"], "organization", "after"),
        data={"request": {"name": "after"}},
        space=None,
        org=org["guid"],
    )


def test_creating_a_space_records_its_request_in_the_new_space(api, admin):
    org = api.create_org()
    body = {"name": "dev", "relationships": {"organization": {"data": {"guid": org["guid"]}}}}
    space = api.ok("POST", "/v3/spaces", 201, json=body, headers=admin)
    event = the_event(api, "audit.space.create", space["guid"])
    assert event == expected(
        event,
        type_="audit.space.create",
        actor=ROOT,
        target=(space["guid"], "space", "dev"),
        data={"request": body},
        space=space["guid"],
        org=org["guid"],
    )


def test_updating_a_space_records_its_request(api, admin):
    org = api.create_org()
    space = api.create_space(org["guid"], "before")
    body = {"name": "after", "metadata": {"labels": {"team": "a"}}}
    api.ok("PATCH", f"/v3/spaces/{space['guid']}", 200, json=body, headers=admin)
    event = the_event(api, "audit.space.update", space["guid"])
    assert event == expected(
        event,
        type_="audit.space.update",
        actor=ROOT,
        target=(space["guid"], "space", "after"),
        data={"request": body},
        space=space["guid"],
        org=org["guid"],
    )


def test_creating_an_app_records_its_request(api, admin):
    org = api.create_org()
    space = api.create_space(org["guid"])
    body = {
        "name": "web",
        "relationships": {"space": {"data": {"guid": space["guid"]}}},
        "lifecycle": {"type": "buildpack", "data": {"buildpacks": ["ruby_buildpack"]}},
    }
    app = api.ok("POST", "/v3/apps", 201, json=body, headers=admin)
    event = the_event(api, "audit.app.create", app["guid"])
    assert event == expected(
        event,
        type_="audit.app.create",
        actor=ROOT,
        target=(app["guid"], "app", "web"),
        data={"request": body},
        space=space["guid"],
        org=org["guid"],
    )


def test_deleting_an_app_records_its_packages_then_the_app_in_the_requesters_name(api, admin, run_jobs):
    world = api.world()
    pkgs = [api.create_package(world.app["guid"]) for _ in range(2)]
    assert api.client.delete(f"/v3/apps/{world.app['guid']}", headers=admin).status_code == 202
    assert events_of(api, "audit.app.delete-request") == []
    run_jobs()
    deleted = events(api, f"target_guids={world.app['guid']}&types=audit.app.package.delete,audit.app.delete-request")
    assert [e["type"] for e in deleted] == ["audit.app.package.delete"] * 2 + ["audit.app.delete-request"]
    assert sorted(e["data"]["package_guid"] for e in deleted[:2]) == sorted(p["guid"] for p in pkgs)
    assert {e["actor"]["guid"] for e in deleted} == {"root"}
    event = deleted[-1]
    assert event == expected(
        event,
        type_="audit.app.delete-request",
        actor=ROOT,
        target=(world.app["guid"], "app", world.app["name"]),
        data={},
        space=world.space["guid"],
        org=world.org["guid"],
    )


def test_deleting_a_space_records_its_apps_then_the_space(api, admin, run_jobs):
    world = api.world()
    api.create_package(world.app["guid"])
    assert api.client.delete(f"/v3/spaces/{world.space['guid']}", headers=admin).status_code == 202
    run_jobs()
    recorded = events(api, f"space_guids={world.space['guid']}")
    kinds = [e["type"] for e in recorded]
    assert kinds[-3:] == ["audit.app.package.delete", "audit.app.delete-request", "audit.space.delete-request"]
    event = recorded[-1]
    assert event == expected(
        event,
        type_="audit.space.delete-request",
        actor=ROOT,
        target=(world.space["guid"], "space", world.space["name"]),
        data={"request": {"recursive": True}},
        space=world.space["guid"],
        org=world.org["guid"],
    )


def test_deleting_an_organization_records_everything_under_it_then_the_org(api, admin, run_jobs):
    world = api.world()
    assert api.client.delete(f"/v3/organizations/{world.org['guid']}", headers=admin).status_code == 202
    run_jobs()
    recorded = events(api, f"organization_guids={world.org['guid']}")
    kinds = [e["type"] for e in recorded]
    assert kinds[-3:] == ["audit.app.delete-request", "audit.space.delete-request", "audit.organization.delete-request"]
    event = recorded[-1]
    assert event == expected(
        event,
        type_="audit.organization.delete-request",
        actor=ROOT,
        target=(world.org["guid"], "organization", world.org["name"]),
        data={"request": {"recursive": True}},
        space=None,
        org=world.org["guid"],
    )


# --- roles ----------------------------------------------------------------------------------------
def role_body(type_: str, user: str, **where: str) -> dict[str, Any]:
    rels: dict[str, Any] = {"user": {"data": {"guid": user}}}
    rels.update({key: {"data": {"guid": guid}} for key, guid in where.items()})
    return {"type": type_, "relationships": rels}


def test_an_org_role_is_recorded_in_the_org_with_no_space(api, admin):
    org = api.create_org()
    body = role_body("organization_auditor", "bob", organization=org["guid"])
    api.ok("POST", "/v3/roles", 201, json=body, headers=admin)
    event = the_event(api, "audit.user.organization_auditor_add", "bob")
    assert event == expected(
        event,
        type_="audit.user.organization_auditor_add",
        actor=ROOT,
        target=("bob", "user", ""),
        data={"request": body},
        space=None,
        org=org["guid"],
    )


def test_a_space_role_is_recorded_in_the_space_naming_the_local_user(api, admin):
    world = api.world()
    with api.app.state.sessionmaker.begin() as session:
        user_guid = add_user(session, "carol", "pw").guid
    api.grant(user_guid, "organization_user", org=world.org["guid"])
    body = role_body("space_developer", user_guid, space=world.space["guid"])
    api.ok("POST", "/v3/roles", 201, json=body, headers=admin)
    event = the_event(api, "audit.user.space_developer_add", user_guid)
    assert event == expected(
        event,
        type_="audit.user.space_developer_add",
        actor=ROOT,
        target=(user_guid, "user", "carol"),
        data={"request": body},
        space=world.space["guid"],
        org=world.org["guid"],
    )


@pytest.mark.parametrize(
    "role",
    [
        "organization_user",
        "organization_manager",
        "organization_auditor",
        "organization_billing_manager",
        "space_developer",
        "space_manager",
        "space_auditor",
        "space_supporter",
    ],
)
def test_every_role_type_records_its_add_and_remove_events(api, admin, role):
    world = api.world()
    if role.startswith("space_"):
        api.grant("dana", "organization_user", org=world.org["guid"])
        body = role_body(role, "dana", space=world.space["guid"])
    else:
        body = role_body(role, "dana", organization=world.org["guid"])
    created = api.ok("POST", "/v3/roles", 201, json=body, headers=admin)
    assert api.client.delete(f"/v3/roles/{created['guid']}", headers=admin).status_code == 202
    added = the_event(api, f"audit.user.{role}_add", "dana")
    removed = the_event(api, f"audit.user.{role}_remove", "dana")
    space = world.space["guid"] if role.startswith("space_") else None
    for event, type_, data in ((added, "add", {"request": body}), (removed, "remove", {"request": {}})):
        assert event == expected(
            event,
            type_=f"audit.user.{role}_{type_}",
            actor=ROOT,
            target=("dana", "user", ""),
            data=data,
            space=space,
            org=world.org["guid"],
        )


def test_a_refused_role_records_nothing(api, admin):
    world = api.world()
    body = role_body("space_developer", "erin", space=world.space["guid"])
    r = api.client.post("/v3/roles", json=body, headers=admin)
    assert r.status_code == 422, r.text
    assert events_of(api, "audit.user.space_developer_add") == []


def test_a_client_credentials_token_acts_as_a_user_named_by_its_client_id(api):
    token = api.token(
        "ci-client",
        (READ, WRITE, ADMIN),
        client_id="ci-client",
        grant_type="client_credentials",
        extra={"user_id": None, "user_name": None, "email": None},
    )
    org = api.ok("POST", "/v3/organizations", 201, json={"name": "ci"}, headers={"Authorization": f"bearer {token}"})
    event = the_event(api, "audit.organization.create", org["guid"])
    assert event["actor"] == {"guid": "ci-client", "type": "user", "name": ""}
