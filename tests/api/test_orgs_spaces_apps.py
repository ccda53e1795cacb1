"""The setup resources: organizations, spaces, apps and roles, as far as package users need them."""

from __future__ import annotations

from tests.factories import assert_error


def test_an_org_a_space_and_an_app_are_created_listed_and_read(api):
    world = api.world()
    orgs = api.ok("GET", f"/v3/organizations?names={world.org['name']}", 200)
    assert [o["guid"] for o in orgs["resources"]] == [world.org["guid"]]
    spaces = api.ok("GET", f"/v3/spaces?organization_guids={world.org['guid']}", 200)
    assert [s["guid"] for s in spaces["resources"]] == [world.space["guid"]]
    app = api.ok("GET", f"/v3/apps/{world.app['guid']}", 200)
    assert app["lifecycle"]["type"] == "buildpack"
    assert app["relationships"] == {"space": {"data": {"guid": world.space["guid"]}}}


def test_labels_and_annotations_on_orgs_and_spaces_are_kept_and_merged(api):
    org = api.ok("POST", "/v3/organizations", 201, json={"name": "m", "metadata": {"labels": {"a": "b"}}})
    assert org["metadata"] == {"labels": {"a": "b"}, "annotations": {}}
    patched = api.ok(
        "PATCH", f"/v3/organizations/{org['guid']}", 200, json={"metadata": {"labels": {"a": None, "c": "d"}}}
    )
    assert patched["metadata"]["labels"] == {"c": "d"}
    space = api.create_space(org["guid"])
    r = api.client.patch(f"/v3/spaces/{space['guid']}", headers=api.admin, json={"metadata": {"labels": {"-x": "y"}}})
    assert_error(
        r, 422, 10008, "CF-UnprocessableEntity", "Metadata label key error: '-x' starts or ends with invalid characters"
    )
    renamed = api.ok(
        "PATCH", f"/v3/spaces/{space['guid']}", 200, json={"name": "s2", "metadata": {"annotations": {"n": "v"}}}
    )
    assert renamed["name"] == "s2" and renamed["metadata"]["annotations"] == {"n": "v"}


def test_a_duplicate_org_name_is_unprocessable(api):
    api.create_org("same")
    r = api.client.post("/v3/organizations", headers=api.admin, json={"name": "same"})
    assert_error(r, 422, 10008, "CF-UnprocessableEntity", "Organization 'same' already exists.")


def test_only_admins_create_organizations(api):
    r = api.client.post(
        "/v3/organizations", headers=api.headers("someone", ["cloud_controller.write"]), json={"name": "x"}
    )
    assert_error(r, 403, 10003, "CF-NotAuthorized", "You are not authorized to perform the requested action")


def test_a_space_role_needs_an_org_role_first(api):
    world = api.world()
    body = {
        "type": "space_developer",
        "relationships": {"user": {"data": {"guid": "bob"}}, "space": {"data": {"guid": world.space["guid"]}}},
    }
    r = api.client.post("/v3/roles", headers=api.admin, json=body)
    assert_error(
        r,
        422,
        10008,
        "CF-UnprocessableEntity",
        "Users cannot be assigned roles in a space if they do not have a role in that space's organization.",
    )
    api.grant("bob", "organization_user", org=world.org["guid"])
    assert api.client.post("/v3/roles", headers=api.admin, json=body).status_code == 201


def test_an_org_manager_creates_spaces_and_grants_roles_in_its_org(api):
    world = api.world()
    manager = api.user("organization_manager", world)
    space = api.client.post(
        "/v3/spaces",
        headers=manager,
        json={"name": "by-manager", "relationships": {"organization": {"data": {"guid": world.org["guid"]}}}},
    )
    assert space.status_code == 201, space.text
    r = api.client.post(
        "/v3/roles",
        headers=manager,
        json={
            "type": "organization_user",
            "relationships": {
                "user": {"data": {"guid": "carol"}},
                "organization": {"data": {"guid": world.org["guid"]}},
            },
        },
    )
    assert r.status_code == 201, r.text
    roles = api.ok("GET", "/v3/roles?user_guids=carol", 200, headers=manager)
    assert [x["type"] for x in roles["resources"]] == ["organization_user"]


def test_deleting_an_app_removes_its_packages_through_a_job(api, run_jobs):
    world = api.world()
    pkg = api.create_package(world.app["guid"])
    r = api.client.delete(f"/v3/apps/{world.app['guid']}", headers=api.admin)
    assert r.status_code == 202 and r.headers["location"].startswith("http://api.test/v3/jobs/")
    run_jobs()
    assert api.client.get(f"/v3/packages/{pkg['guid']}", headers=api.admin).status_code == 404
    job = api.client.get(r.headers["location"], headers=api.admin).json()
    assert job["state"] == "COMPLETE" and job["operation"] == "app.delete"


def test_an_org_being_deleted_blocks_writes_for_non_admins(api, run_jobs):
    world = api.world()
    developer = api.user("space_developer", world)
    assert api.client.delete(f"/v3/organizations/{world.org['guid']}", headers=api.admin).status_code == 202
    r = api.client.post(
        "/v3/packages",
        headers=developer,
        json={"type": "bits", "relationships": {"app": {"data": {"guid": world.app["guid"]}}}},
    )
    assert_error(r, 422, 10020, "CF-ResourceBeingDeleted", "The organization is being deleted")
    run_jobs()
    assert api.client.get(f"/v3/organizations/{world.org['guid']}", headers=api.admin).status_code == 404
