"""Roles, suspended orgs, scopes and tokens: reference §0.2, §9.2, §10."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from capi_packages.auth.tokens import ADMIN, ADMIN_READ_ONLY, GLOBAL_AUDITOR, READ, WRITE
from tests.factories import Api, World, assert_error, bearer

APP_INVALID = "App is invalid. Ensure it exists and you have access to it."
FORBIDDEN = "You are not authorized to perform the requested action"

GLOBAL_READERS = ["admin", "admin_read_only", "global_auditor"]
INVISIBLE = ["organization_auditor", "organization_billing_manager", "organization_user", "no_role"]
READ_ONLY_LOCAL = ["organization_manager", "space_manager", "space_auditor", "space_supporter"]
WRITERS = ["admin", "space_developer"]
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


def outcome(role: str, ok: int, read_only: int, invisible: int) -> int:
    if role in WRITERS:
        return ok
    if role in INVISIBLE:
        return invisible
    return read_only


def check(response: Any, expected: int, not_found: str = "Package") -> None:
    if expected == 403:
        assert_error(response, 403, 10003, "CF-NotAuthorized", FORBIDDEN)
    elif expected == 404:
        assert_error(response, 404, 10010, "CF-ResourceNotFound", f"{not_found} not found")
    elif expected == 422:
        assert_error(response, 422, 10008, "CF-UnprocessableEntity", APP_INVALID)
    else:
        assert response.status_code == expected, response.text


@pytest.fixture
def world(api: Api) -> World:
    return api.world()


@pytest.fixture
def package(api: Api, world: World) -> dict[str, Any]:
    return api.create_package(world.app["guid"])


def create_body(app_guid: str) -> dict[str, Any]:
    return {"type": "bits", "relationships": {"app": {"data": {"guid": app_guid}}}}


def copy_request(api: Api, package: dict[str, Any], dest_guid: str, headers: dict[str, str]) -> Any:
    body = {"relationships": {"app": {"data": {"guid": dest_guid}}}}
    return api.client.post(f"/v3/packages?source_guid={package['guid']}", json=body, headers=headers)


# --- the §10.2 matrix ----------------------------------------------------------------------------
@pytest.mark.parametrize("role", ROLES)
def test_get_one_package_by_role(api, world, package, role):
    r = api.client.get(f"/v3/packages/{package['guid']}", headers=api.user(role, world))
    check(r, 404 if role in INVISIBLE else 200)
    if r.status_code == 200:
        assert r.json()["guid"] == package["guid"]


@pytest.mark.parametrize("role", ROLES)
def test_get_a_packages_droplets_by_role(api, world, package, role):
    r = api.client.get(f"/v3/packages/{package['guid']}/droplets", headers=api.user(role, world))
    check(r, 404 if role in INVISIBLE else 200)


@pytest.mark.parametrize("role", ROLES)
def test_list_all_packages_shows_what_the_role_can_see(api, world, package, role):
    sibling_space = api.create_space(world.org["guid"])
    sibling = api.create_package(api.create_app(sibling_space["guid"])["guid"])
    stranger = api.create_package(api.world().app["guid"])
    r = api.client.get("/v3/packages", headers=api.user(role, world))
    assert r.status_code == 200, r.text
    seen = {p["guid"] for p in r.json()["resources"]}
    if role in GLOBAL_READERS:
        expected = {package["guid"], sibling["guid"], stranger["guid"]}
    elif role == "organization_manager":
        expected = {package["guid"], sibling["guid"]}
    elif role in INVISIBLE:
        expected = set()
    else:
        expected = {package["guid"]}
    assert seen == expected
    assert r.json()["pagination"]["total_results"] == len(expected)


@pytest.mark.parametrize("role", ROLES)
def test_list_packages_for_an_app_by_role(api, world, package, role):
    r = api.client.get(f"/v3/apps/{world.app['guid']}/packages", headers=api.user(role, world))
    check(r, 404 if role in INVISIBLE else 200, not_found="App")
    if r.status_code == 200:
        assert [p["guid"] for p in r.json()["resources"]] == [package["guid"]]


@pytest.mark.parametrize("role", ROLES)
def test_create_a_package_by_role(api, world, role):
    r = api.client.post("/v3/packages", json=create_body(world.app["guid"]), headers=api.user(role, world))
    check(r, outcome(role, 201, 403, 422))
    if r.status_code == 201:
        assert r.json()["state"] == "AWAITING_UPLOAD"


@pytest.mark.parametrize("role", ROLES)
def test_copy_a_package_to_another_app_in_the_same_space_by_role(api, world, package, role):
    dest = api.create_app(world.space["guid"])
    r = copy_request(api, package, dest["guid"], api.user(role, world))
    check(r, outcome(role, 201, 403, 422))
    if r.status_code == 201:
        assert r.json()["relationships"]["app"]["data"]["guid"] == dest["guid"]
        assert r.json()["state"] == "COPYING"


@pytest.mark.parametrize("role", ROLES)
def test_patch_a_package_by_role(api, world, package, role):
    body = {"metadata": {"labels": {"touched": "yes"}}}
    r = api.client.patch(f"/v3/packages/{package['guid']}", json=body, headers=api.user(role, world))
    check(r, outcome(role, 200, 403, 404))
    labels = api.ok("GET", f"/v3/packages/{package['guid']}", 200)["metadata"]["labels"]
    assert labels == ({"touched": "yes"} if role in WRITERS else {})


@pytest.mark.parametrize("role", ROLES)
def test_delete_a_package_by_role(api, world, package, role, run_jobs):
    r = api.client.delete(f"/v3/packages/{package['guid']}", headers=api.user(role, world))
    check(r, outcome(role, 202, 403, 404))
    run_jobs()
    still_there = api.client.get(f"/v3/packages/{package['guid']}", headers=api.admin).status_code == 200
    assert still_there == (role not in WRITERS)


# --- copy needs both spaces ----------------------------------------------------------------------------
def test_copy_needs_write_access_to_the_source_space_too(api):
    dest_world, source_world = api.world(), api.world()
    source = api.create_package(source_world.app["guid"])
    user_id = f"dev-{uuid.uuid4().hex[:6]}"
    for w in (dest_world, source_world):
        api.grant(user_id, "organization_user", org=w.org["guid"])
    api.grant(user_id, "space_developer", space=dest_world.space["guid"])
    headers = bearer(api.token(user_id))
    r = copy_request(api, source, dest_world.app["guid"], headers)
    assert_error(
        r,
        422,
        10008,
        "CF-UnprocessableEntity",
        "Source package is invalid. Ensure it exists and you have access to it.",
    )
    api.grant(user_id, "space_auditor", space=source_world.space["guid"])
    assert_error(copy_request(api, source, dest_world.app["guid"], headers), 403, 10003, "CF-NotAuthorized", FORBIDDEN)
    api.grant(user_id, "space_developer", space=source_world.space["guid"])
    assert copy_request(api, source, dest_world.app["guid"], headers).status_code == 201


# --- suspended org (§10.3) ------------------------------------------------------------------------------
def suspend(api: Api, org_guid: str, suspended: bool = True) -> None:
    assert (
        api.ok("PATCH", f"/v3/organizations/{org_guid}", 200, json={"suspended": suspended})["suspended"] is suspended
    )


def org_suspended(response: Any) -> None:
    assert_error(response, 403, 10017, "CF-OrgSuspended", "The organization is suspended")


def writes(api: Api, world: World, package: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    dest = api.create_app(world.space["guid"])
    return {
        "create": api.client.post("/v3/packages", json=create_body(world.app["guid"]), headers=headers),
        "copy": copy_request(api, package, dest["guid"], headers),
        "patch": api.client.patch(
            f"/v3/packages/{package['guid']}", json={"metadata": {"labels": {"a": "b"}}}, headers=headers
        ),
        "delete": api.client.delete(f"/v3/packages/{package['guid']}", headers=headers),
    }


@pytest.mark.parametrize("operation", ["create", "copy", "patch", "delete"])
def test_a_space_developer_cannot_write_in_a_suspended_org(api, world, package, operation):
    headers = api.user("space_developer", world)
    suspend(api, world.org["guid"])
    org_suspended(writes(api, world, package, headers)[operation])


@pytest.mark.parametrize("role", ["admin_read_only", "global_auditor", *READ_ONLY_LOCAL])
def test_read_only_roles_in_a_suspended_org_are_still_not_authorized(api, world, package, role):
    headers = api.user(role, world)
    suspend(api, world.org["guid"])
    for name, r in writes(api, world, package, headers).items():
        assert r.status_code == 403, (name, r.text)
        assert_error(r, 403, 10003, "CF-NotAuthorized", FORBIDDEN)


def test_an_invisible_role_in_a_suspended_org_still_gets_invalid_app_on_create(api, world):
    headers = api.user("organization_auditor", world)
    suspend(api, world.org["guid"])
    r = api.client.post("/v3/packages", json=create_body(world.app["guid"]), headers=headers)
    assert_error(r, 422, 10008, "CF-UnprocessableEntity", APP_INVALID)


def test_an_admin_is_not_affected_by_a_suspended_org(api, world, package):
    suspend(api, world.org["guid"])
    results = writes(api, world, package, api.admin)
    assert {k: r.status_code for k, r in results.items()} == {"create": 201, "copy": 201, "patch": 200, "delete": 202}


def test_reads_still_work_in_a_suspended_org(api, world, package):
    headers = api.user("space_developer", world)
    suspend(api, world.org["guid"])
    assert api.client.get(f"/v3/packages/{package['guid']}", headers=headers).status_code == 200
    assert [p["guid"] for p in api.ok("GET", "/v3/packages", 200, headers=headers)["resources"]] == [package["guid"]]
    assert api.client.get(f"/v3/apps/{world.app['guid']}/packages", headers=headers).status_code == 200


def test_the_suspended_check_comes_before_the_lifecycle_check_on_create(api, world):
    headers = api.user("space_developer", world)
    suspend(api, world.org["guid"])
    body = {**create_body(world.app["guid"]), "type": "docker", "data": {"image": "busybox"}}
    org_suspended(api.client.post("/v3/packages", json=body, headers=headers))


def test_copying_out_of_a_suspended_source_org_is_org_suspended(api):
    dest_world, source_world = api.world(), api.world()
    source = api.create_package(source_world.app["guid"])
    user_id = f"dev-{uuid.uuid4().hex[:6]}"
    for w in (dest_world, source_world):
        api.grant(user_id, "organization_user", org=w.org["guid"])
        api.grant(user_id, "space_developer", space=w.space["guid"])
    suspend(api, source_world.org["guid"])
    org_suspended(copy_request(api, source, dest_world.app["guid"], bearer(api.token(user_id))))


def test_unsuspending_the_org_restores_writes(api, world):
    headers = api.user("space_developer", world)
    suspend(api, world.org["guid"])
    suspend(api, world.org["guid"], False)
    assert api.client.post("/v3/packages", json=create_body(world.app["guid"]), headers=headers).status_code == 201


# --- deleting org or space (§10.3) ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("target", "detail"),
    [("organizations", "The organization is being deleted"), ("spaces", "The space is being deleted")],
)
@pytest.mark.parametrize("operation", ["create", "patch", "delete"])
def test_a_space_developer_cannot_write_while_the_org_or_space_is_being_deleted(
    api, world, package, target, detail, operation
):
    headers = api.user("space_developer", world)
    guid = world.org["guid"] if target == "organizations" else world.space["guid"]
    api.ok("DELETE", f"/v3/{target}/{guid}", 202)  # the deletion job is left pending
    results = writes(api, world, package, headers)
    assert_error(results[operation], 422, 10020, "CF-ResourceBeingDeleted", detail)


def test_being_deleted_wins_over_suspended(api, world, package):
    headers = api.user("space_developer", world)
    api.ok("DELETE", f"/v3/spaces/{world.space['guid']}", 202)
    suspend(api, world.org["guid"])
    r = api.client.post("/v3/packages", json=create_body(world.app["guid"]), headers=headers)
    assert_error(r, 422, 10020, "CF-ResourceBeingDeleted", "The space is being deleted")


def test_a_read_only_role_in_a_deleting_org_is_still_not_authorized(api, world, package):
    headers = api.user("space_auditor", world)
    api.ok("DELETE", f"/v3/organizations/{world.org['guid']}", 202)
    r = api.client.post("/v3/packages", json=create_body(world.app["guid"]), headers=headers)
    assert_error(r, 403, 10003, "CF-NotAuthorized", FORBIDDEN)


def test_an_admin_is_not_affected_by_a_deleting_org(api, world, package):
    api.ok("DELETE", f"/v3/organizations/{world.org['guid']}", 202)
    r = api.client.post("/v3/packages", json=create_body(world.app["guid"]), headers=api.admin)
    assert r.status_code == 201, r.text


# --- authentication (§0.2 step 1) -----------------------------------------------------------------------
REQUESTS = [
    ("GET", "/v3/packages"),
    ("GET", "/v3/packages/some-guid"),
    ("POST", "/v3/packages"),
    ("PATCH", "/v3/packages/some-guid"),
    ("DELETE", "/v3/packages/some-guid"),
    ("GET", "/v3/apps/some-guid/packages"),
    ("GET", "/v3/jobs/some-guid"),
]


def invalid_token(response: Any) -> None:
    assert_error(response, 401, 1000, "CF-InvalidAuthToken", "Invalid Auth Token")


@pytest.mark.parametrize(("method", "path"), REQUESTS)
def test_a_request_without_a_token_is_not_authenticated(api, method, path):
    r = api.client.request(method, path, json={} if method in ("POST", "PATCH") else None)
    assert_error(r, 401, 10002, "CF-NotAuthenticated", "Authentication error")


def test_authentication_is_checked_before_the_body_is_parsed(api):
    r = api.client.post("/v3/packages", content="{not json", headers={"Content-Type": "application/json"})
    assert_error(r, 401, 10002, "CF-NotAuthenticated", "Authentication error")


def claims(api: Api, **overrides: Any) -> dict[str, Any]:
    settings = api.app.state.settings
    now = int(time.time())
    base = {
        "jti": uuid.uuid4().hex,
        "sub": "someone",
        "user_id": "someone",
        "user_name": "someone",
        "email": "someone",
        "client_id": "cf",
        "cid": "cf",
        "scope": [READ, WRITE, ADMIN],
        "iat": now,
        "exp": now + 600,
        "iss": f"{settings.base_url}/oauth/token",
        "aud": [settings.jwt_audience],
    }
    base.update(overrides)
    return base


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def fresh_rsa_pem() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def bad_tokens(api: Api) -> dict[str, str]:
    key = api.app.state.signing_key
    header = {"alg": "HS256", "typ": "JWT", "kid": key.kid}
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims(api)).encode())}"
    hs256 = signing_input + "." + b64(hmac.new(key.public_pem(), signing_input.encode(), hashlib.sha256).digest())
    return {
        "garbage": "garbage",
        "three garbage parts": "aaa.bbb.ccc",
        "expired": api.token("admin-user", (READ, WRITE, ADMIN), ttl=-10),
        "wrong signature with our kid": jwt.encode(
            claims(api), fresh_rsa_pem(), algorithm="RS256", headers={"kid": key.kid}
        ),
        "wrong signature without kid": jwt.encode(claims(api), fresh_rsa_pem(), algorithm="RS256"),
        "alg none": jwt.encode(claims(api), None, algorithm="none"),
        "HS256 with our public key": hs256,
        "wrong audience": jwt.encode(
            claims(api, aud=["someone_else"]), key.private_pem, algorithm="RS256", headers={"kid": key.kid}
        ),
        "tampered payload": _tamper(api.token("someone", (READ, WRITE))),
    }


def _tamper(token: str) -> str:
    header, payload, signature = token.split(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    body["scope"] = [READ, WRITE, ADMIN]
    return f"{header}.{b64(json.dumps(body).encode())}.{signature}"


BAD_TOKEN_NAMES = [
    "garbage",
    "three garbage parts",
    "expired",
    "wrong signature with our kid",
    "wrong signature without kid",
    "alg none",
    "HS256 with our public key",
    "wrong audience",
    "tampered payload",
]


@pytest.mark.parametrize("name", BAD_TOKEN_NAMES)
def test_an_invalid_token_is_rejected_as_an_invalid_auth_token(api, name):
    token = bad_tokens(api)[name]
    invalid_token(api.client.get("/v3/packages", headers=bearer(token)))
    invalid_token(api.client.post("/v3/packages", json={}, headers=bearer(token)))


def test_a_correctly_crafted_token_with_the_apps_key_is_accepted(api):
    # The control for the crafted tokens above: only the deliberate defect makes them fail.
    key = api.app.state.signing_key
    token = jwt.encode(claims(api), key.private_pem, algorithm="RS256", headers={"kid": key.kid})
    assert api.client.get("/v3/packages", headers=bearer(token)).status_code == 200


@pytest.mark.parametrize("scheme", ["bearer", "Bearer", "BEARER"])
def test_the_bearer_scheme_is_accepted_in_any_case(api, scheme):
    token = api.token("admin-user", (READ, WRITE, ADMIN))
    assert api.client.get("/v3/packages", headers={"Authorization": f"{scheme} {token}"}).status_code == 200


# --- scopes (§0.2 step 2, §10.2) ---------------------------------------------------------------------
def developer_with_scopes(api: Api, world: World, scopes: tuple[str, ...]) -> dict[str, str]:
    user_id = f"dev-{uuid.uuid4().hex[:6]}"
    api.grant(user_id, "organization_user", org=world.org["guid"])
    api.grant(user_id, "space_developer", space=world.space["guid"])
    return bearer(api.token(user_id, scopes))


@pytest.mark.parametrize("scopes", [(WRITE,), ()])
def test_a_token_without_a_read_scope_cannot_get(api, world, package, scopes):
    headers = developer_with_scopes(api, world, scopes)
    for path in (
        "/v3/packages",
        f"/v3/packages/{package['guid']}",
        f"/v3/apps/{world.app['guid']}/packages",
        f"/v3/packages/{package['guid']}/droplets",
        "/v3/packages/no-such-package",
    ):
        assert_error(api.client.get(path, headers=headers), 403, 10003, "CF-NotAuthorized", FORBIDDEN)


def test_a_token_without_a_write_scope_cannot_post_patch_or_delete(api, world, package):
    headers = developer_with_scopes(api, world, (READ,))
    for name, r in writes(api, world, package, headers).items():
        assert r.status_code == 403, (name, r.text)
        assert_error(r, 403, 10003, "CF-NotAuthorized", FORBIDDEN)
    assert api.client.get(f"/v3/packages/{package['guid']}", headers=headers).status_code == 200


def test_the_scope_check_comes_before_the_body_is_parsed(api):
    headers = {**bearer(api.token("reader", (READ,))), "Content-Type": "application/json"}
    r = api.client.post("/v3/packages", content="{not json", headers=headers)
    assert_error(r, 403, 10003, "CF-NotAuthorized", FORBIDDEN)


@pytest.mark.parametrize("scope", [ADMIN, ADMIN_READ_ONLY, GLOBAL_AUDITOR, READ])
def test_each_read_type_scope_alone_allows_get(api, scope):
    assert api.client.get("/v3/packages", headers=bearer(api.token("someone", (scope,)))).status_code == 200


def test_the_admin_scope_alone_allows_writes(api, world):
    headers = bearer(api.token("root", (ADMIN,)))
    assert api.client.post("/v3/packages", json=create_body(world.app["guid"]), headers=headers).status_code == 201
