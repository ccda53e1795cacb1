"""Error paths of users, roles by username, processes and manifests: status, code, title, detail."""

from __future__ import annotations

import pytest

from tests.factories import assert_error

UE = (422, 10008, "CF-UnprocessableEntity")
YAML = {"Content-Type": "application/x-yaml"}


def _by_name(role, username, where, guid, origin=None):
    data = {"username": username, **({"origin": origin} if origin else {})}
    return {"type": role, "relationships": {"user": {"data": data}, where: {"data": {"guid": guid}}}}


def _add_user(api, guid, username, origin):
    api.ok("POST", "/v3/users", 201, json={"guid": guid})
    with api.app.state.sessionmaker() as session:
        from capi_packages.users.repository import find_user

        user = find_user(session, guid)
        user.username, user.origin = username, origin
        session.commit()


def test_roles_by_unknown_or_ambiguous_username_get_ccs_texts(api):
    world = api.world()
    org = world.org["guid"]
    r = api.client.post(
        "/v3/roles", headers=api.admin, json=_by_name("organization_user", "nobody", "organization", org)
    )
    assert_error(r, *UE, "No user exists with the username 'nobody'.")
    r = api.client.post(
        "/v3/roles", headers=api.admin, json=_by_name("organization_user", "nobody", "organization", org, "ldap")
    )
    assert_error(r, *UE, "No user exists with the username 'nobody' and origin 'ldap'.")
    r = api.client.post(
        "/v3/roles", headers=api.admin, json=_by_name("space_developer", "nobody", "space", world.space["guid"])
    )
    assert_error(
        r, *UE, "Users cannot be assigned roles in a space if they do not have a role in that space's organization."
    )
    _add_user(api, "g-1", "bob", "uaa")
    _add_user(api, "g-2", "bob", "ldap")
    r = api.client.post("/v3/roles", headers=api.admin, json=_by_name("organization_user", "bob", "organization", org))
    assert_error(
        r,
        *UE,
        "Ambiguous user. User with username 'bob' exists in the following origins: ldap, uaa. "
        "Specify an origin to disambiguate.",
    )
    ok = api.ok("POST", "/v3/roles", 201, json=_by_name("organization_user", "bob", "organization", org, "ldap"))
    assert ok["relationships"]["user"]["data"]["guid"] == "g-2"


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (
            {
                "type": "organization_user",
                "relationships": {
                    "user": {"data": {"guid": "x", "username": "y"}},
                    "organization": {"data": {"guid": "o"}},
                },
            },
            "Relationships Username cannot be specified when identifying user by guid",
        ),
        (
            {
                "type": "organization_user",
                "relationships": {"user": {"data": {"origin": "uaa"}}, "organization": {"data": {"guid": "o"}}},
            },
            "Relationships User origin cannot be specified without specifying the username, "
            "Relationships User must have a username or guid specified",
        ),
        (
            {"type": "organization_user", "relationships": {"user": {"data": {"guid": "x"}}}},
            "Relationships must specify either a space or an organization.",
        ),
        (
            {
                "type": "boss",
                "relationships": {"user": {"data": {"guid": "x"}}, "organization": {"data": {"guid": "o"}}},
            },
            'Type must be one of the allowed types ["organization_auditor", "organization_manager", '
            '"organization_billing_manager", "organization_user", "space_auditor", "space_manager", '
            '"space_developer", "space_supporter"]',
        ),
    ],
)
def test_role_messages_are_validated_as_cc_validates_them(api, body, detail):
    assert_error(api.client.post("/v3/roles", headers=api.admin, json=body), *UE, detail)


def test_user_list_filters_follow_ccs_combination_rules(api):
    r = api.client.get("/v3/users?origins=uaa", headers=api.admin)
    assert_error(r, *UE, "Origins filter cannot be provided without usernames or partial_usernames filter.")
    r = api.client.get("/v3/users?usernames=a&partial_usernames=b", headers=api.admin)
    assert_error(r, *UE, "Usernames filter cannot be provided with both usernames and partial_usernames filter.")
    r = api.client.get("/v3/users?bogus=1", headers=api.admin)
    assert r.status_code == 422 and r.json()["errors"][0]["detail"].startswith("Unknown query parameter(s): 'bogus'")
    _add_user(api, "g-3", "carol", "ldap")
    found = api.ok("GET", "/v3/users?partial_usernames=aro&origins=ldap", 200)
    assert [u["guid"] for u in found["resources"]] == ["g-3"]
    assert api.ok("GET", "/v3/users?usernames=CAROL", 200)["resources"][0]["origin"] == "ldap"


def test_users_are_created_by_admins_only_and_never_twice(api):
    r = api.client.post("/v3/users", headers=api.admin, json={"username": "x", "origin": "uaa"})
    assert_error(r, *UE, "Origin cannot be 'uaa' when creating a user by username")
    api.ok("POST", "/v3/users", 201, json={"username": "dan", "origin": "ldap"})
    r = api.client.post("/v3/users", headers=api.admin, json={"username": "dan", "origin": "ldap"})
    assert_error(r, *UE, "User with username 'dan' and origin 'ldap' already exists.")
    r = api.client.post("/v3/users", headers=api.headers("someone", ["cloud_controller.write"]), json={"guid": "z"})
    assert_error(r, 403, 10003, "CF-NotAuthorized", "You are not authorized to perform the requested action")


def test_a_user_sees_itself_and_the_users_of_its_orgs_only(api):
    world = api.world()
    member = api.user("organization_user", world)
    outsider = api.headers("outsider-1", ["cloud_controller.read", "cloud_controller.write"])
    seen = {u["guid"] for u in api.ok("GET", "/v3/users", 200, headers=member)["resources"]}
    assert len(seen) == 1
    assert {u["guid"] for u in api.ok("GET", "/v3/users", 200, headers=outsider)["resources"]} == {"outsider-1"}
    r = api.client.get(f"/v3/users/{next(iter(seen))}", headers=outsider)
    assert_error(r, 404, 10010, "CF-ResourceNotFound", "User not found")


def test_deleting_a_user_removes_its_roles_through_a_job(api, run_jobs):
    world = api.world()
    api.grant("erin", "organization_user", org=world.org["guid"])
    r = api.client.delete("/v3/users/erin", headers=api.admin)
    assert r.status_code == 202
    run_jobs()
    assert api.ok("GET", "/v3/roles?user_guids=erin", 200)["resources"] == []
    assert api.client.get("/v3/users/erin", headers=api.admin).status_code == 404


@pytest.mark.parametrize(
    ("body", "status", "code", "title", "detail"),
    [
        (
            b"a: &x [1]\nb: *x\n",
            400,
            1004,
            "CF-BadRequest",
            "Bad request: Manifest does not support Anchors and Aliases",
        ),
        (
            b"- just\n- a list\n",
            400,
            1001,
            "CF-MessageParseError",
            "Request invalid due to parse error: invalid request body",
        ),
        (
            b"applications: [\n",
            400,
            1001,
            "CF-MessageParseError",
            "Request invalid due to parse error: invalid request body",
        ),
        (
            b"applications:\n- name: !!binary aGk=\n",
            400,
            1001,
            "CF-MessageParseError",
            "Request invalid due to parse error: invalid request body",
        ),
        (
            b"version: 2\napplications: [{name: a}]\n",
            *UE,
            "Unsupported manifest schema version. Currently supported versions: [1].",
        ),
        (b"applications: []\n", *UE, "Cannot parse manifest with no 'applications' field."),
        (
            b"x" * (1024 * 1024 + 1),
            400,
            1004,
            "CF-BadRequest",
            "Bad request: Manifest size is too large. The maximum supported size is 1MB.",
        ),
    ],
)
def test_manifest_yaml_tricks_get_a_clear_4xx(api, body, status, code, title, detail):
    world = api.world()
    r = api.client.post(
        f"/v3/spaces/{world.space['guid']}/actions/apply_manifest", headers={**api.admin, **YAML}, content=body
    )
    assert_error(r, status, code, title, detail)


def test_exponential_aliases_are_refused_before_they_expand(api):
    world = api.world()
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    r = api.client.post(
        f"/v3/spaces/{world.space['guid']}/actions/apply_manifest",
        headers={**api.admin, **YAML},
        content="\n".join(lines).encode(),
    )
    assert_error(r, 400, 1004, "CF-BadRequest", "Bad request: Manifest does not support Anchors and Aliases")


def test_a_manifest_needs_yaml_content_type(api):
    world = api.world()
    r = api.client.post(f"/v3/spaces/{world.space['guid']}/actions/apply_manifest", headers=api.admin, json={})
    assert_error(r, 400, 1004, "CF-BadRequest", "Bad request: Content-Type must be yaml")


def test_invalid_manifest_applications_get_every_message_at_once(api):
    world = api.world()
    body = b"applications:\n- name: a\n  memory: 12Q\n  instances: -1\n- memory: 1G\n  env: [1]\n"
    r = api.client.post(
        f"/v3/spaces/{world.space['guid']}/actions/apply_manifest", headers={**api.admin, **YAML}, content=body
    )
    assert r.status_code == 422
    assert [e["detail"] for e in r.json()["errors"]] == [
        "For application 'a': Process \"web\": Memory must use a supported unit: B, K, KB, M, MB, G, GB, T, or TB",
        "For application 'a': Process \"web\": Instances must be greater than or equal to 0",
        "For application at index 1: Name must not be empty",
        "For application at index 1: Env must be an object of keys and values",
    ]
    assert {e["code"] for e in r.json()["errors"]} == {10008}


def test_a_manifest_naming_a_service_fails_its_job(api, run_jobs):
    world = api.world()
    body = b"applications:\n- name: svc-app\n  services: [db]\n"
    r = api.client.post(
        f"/v3/spaces/{world.space['guid']}/actions/apply_manifest", headers={**api.admin, **YAML}, content=body
    )
    assert r.status_code == 202
    run_jobs()
    job = api.ok("GET", r.headers["location"], 200)
    assert job["state"] == "FAILED"
    assert job["errors"] == [
        {
            "code": 10010,
            "title": "CF-ResourceNotFound",
            "detail": "For application 'svc-app': Service instance 'db' not found",
        }
    ]


def test_docker_keys_on_a_buildpack_app_are_refused(api):
    world = api.world()
    body = f"applications:\n- name: {world.app['name']}\n  docker: {{image: busybox}}\n".encode()
    r = api.client.post(
        f"/v3/spaces/{world.space['guid']}/actions/apply_manifest", headers={**api.admin, **YAML}, content=body
    )
    assert_error(
        r, *UE, f"For application '{world.app['name']}': Docker cannot be configured for a buildpack lifecycle app."
    )


def test_process_update_and_scale_are_validated(api):
    world = api.world()
    web = world.app["guid"]
    r = api.client.post(
        f"/v3/processes/{web}/actions/scale", headers=api.admin, json={"instances": -1, "memory_in_mb": 0}
    )
    assert_error(r, *UE, "Instances must be greater than or equal to 0, Memory in mb must be greater than 0")
    r = api.client.patch(f"/v3/processes/{web}", headers=api.admin, json={"health_check": {"type": "tcp"}})
    assert_error(r, *UE, 'Health check type must be "port", "process", or "http"')
    scaled = api.client.post(
        f"/v3/apps/{web}/processes/web/actions/scale", headers=api.admin, json={"instances": 3, "disk_in_mb": 512}
    )
    assert scaled.status_code == 202 and scaled.json()["instances"] == 3 and scaled.json()["disk_in_mb"] == 512
    stats = api.ok("GET", f"/v3/apps/{web}/processes/web/stats", 200)
    assert [s["index"] for s in stats["resources"]] == [0, 1, 2]
    patched = api.ok("PATCH", f"/v3/processes/{web}", 200, json={"command": "run", "health_check": {"type": "process"}})
    assert patched["command"] == "run" and patched["health_check"]["type"] == "process"
    r = api.client.get(f"/v3/apps/{web}/processes/worker", headers=api.admin)
    assert_error(r, 404, 10010, "CF-ResourceNotFound", "Process not found")
    r = api.client.get(f"/v3/apps/{web}/processes?app_guids=x", headers=api.admin)
    assert_error(
        r, 400, 10005, "CF-BadQueryParameter", "The query parameter is invalid: Unknown query parameter(s): 'app_guids'"
    )


@pytest.mark.parametrize(
    ("role", "read", "write"),
    [
        ("admin", 200, 202),
        ("admin_read_only", 200, 403),
        ("global_auditor", 200, 403),
        ("space_developer", 200, 202),
        ("space_manager", 200, 403),
        ("space_auditor", 200, 403),
        ("space_supporter", 200, 403),
        ("organization_manager", 200, 403),
        ("organization_auditor", 404, 404),
        ("organization_user", 404, 404),
        ("no_role", 404, 404),
    ],
)
def test_the_role_matrix_of_processes_and_manifests(api, role, read, write):
    world = api.world()
    headers = api.user(role, world)
    web = world.app["guid"]
    assert api.client.get(f"/v3/processes/{web}", headers=headers).status_code == read
    assert api.client.get(f"/v3/apps/{web}/processes", headers=headers).status_code == read
    r = api.client.post(f"/v3/processes/{web}/actions/scale", headers=headers, json={"instances": 2})
    assert r.status_code == write, r.text
    body = f"applications:\n- name: {world.app['name']}\n".encode()
    r = api.client.post(
        f"/v3/spaces/{world.space['guid']}/actions/apply_manifest", headers={**headers, **YAML}, content=body
    )
    assert r.status_code == write, r.text
