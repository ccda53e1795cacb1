"""Bodies built to hurt: too deep, too big, too many parts, the wrong kind. Each gets a clean 4xx."""

from __future__ import annotations

import json

import pytest

from tests.bits_api.bits_support import state_of, upload
from tests.factories import assert_error, make_zip

PARSE_ERROR = (400, 1001, "CF-MessageParseError", "Request invalid due to parse error: invalid request body")
INVALID_JSON = (422, 10008, "CF-UnprocessableEntity", "Resources must be valid JSON.")
ZIP = make_zip({"a.txt": "a"})
MiB = 1024 * 1024


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def nested_objects(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


@pytest.fixture
def json_routes(api):
    world = api.world()
    pkg = api.create_package(world.app["guid"])
    return [
        ("POST", "/v3/packages"),
        ("PATCH", f"/v3/packages/{pkg['guid']}"),
        ("POST", f"/v3/packages?source_guid={pkg['guid']}"),
        ("POST", f"/v3/packages/{pkg['guid']}/copy"),
        ("POST", "/v3/resource_matches"),
        ("POST", "/v3/organizations"),
        ("PATCH", f"/v3/organizations/{world.org['guid']}"),
        ("POST", "/v3/spaces"),
        ("POST", "/v3/apps"),
        ("POST", "/v3/roles"),
    ]


# --- 9. deep JSON ---------------------------------------------------------------------------------
@pytest.mark.parametrize("body", [nested(1000), nested(100_000), nested_objects(5000)], ids=["1k", "100k", "objects"])
def test_deeply_nested_json_is_a_parse_error_on_every_json_route(api, json_routes, body):
    headers = {**api.admin, "Content-Type": "application/json"}
    for method, path in json_routes:
        r = api.client.request(method, path, content=body, headers=headers)
        assert_error(r, *PARSE_ERROR)


def test_json_nested_within_the_limit_is_parsed_and_validated(api):
    body = json.dumps({"type": "bits", "relationships": json.loads(nested_objects(90))})
    r = api.client.post("/v3/packages", content=body, headers={**api.admin, "Content-Type": "application/json"})
    assert r.status_code == 422, r.text


@pytest.mark.parametrize("resources", [nested(1000), nested(50_000), "[" + nested_objects(3000) + "]"])
def test_deeply_nested_upload_resources_are_invalid_json(api, resources):
    pkg = api.create_package(api.world().app["guid"])
    r = upload(api, pkg["guid"], ZIP, resources=resources)
    assert_error(r, *INVALID_JSON)
    assert state_of(api, pkg["guid"]) == "AWAITING_UPLOAD"


# --- JSON size, also without a Content-Length -------------------------------------------------------
def test_a_chunked_json_body_over_15_mib_is_too_large(api):
    def body():
        yield b'{"name": "'
        for _ in range(16):
            yield b"a" * MiB
        yield b'"}'

    r = api.client.post("/v3/organizations", content=body(), headers={**api.admin, "Content-Type": "application/json"})
    assert r.status_code == 413, r.text
    assert r.json()["errors"][0]["code"] == 10413


def test_a_json_body_declaring_more_than_15_mib_is_too_large(api):
    headers = {**api.admin, "Content-Type": "application/json", "Content-Length": str(16 * MiB)}
    r = api.client.post("/v3/packages", content=b"{" + b" " * (16 * MiB - 2) + b"}", headers=headers)
    assert r.status_code == 413


# --- the token endpoint ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("multipart/form-data; boundary=x", b'--x\r\nContent-Disposition: form-data; name="a"\r\n\r\nb\r\n--x--\r\n'),
        ("application/json", b'{"grant_type": "password"}'),
        ("text/plain", b"grant_type=password"),
        (None, b"grant_type=password"),
    ],
)
def test_the_token_endpoint_refuses_anything_but_a_url_encoded_form(client, content_type, body):
    headers = {"Content-Type": content_type} if content_type else {}
    r = client.post("/oauth/token", content=body, headers=headers)
    assert r.status_code == 415, r.text
    assert r.json()["error"] == "invalid_request"
    assert r.headers["cache-control"] == "no-store"


def test_the_token_endpoint_refuses_a_form_over_64_kib(client):
    r = client.post("/oauth/token", data={"grant_type": "password", "username": "a" * 70_000})
    assert r.status_code == 413
    assert r.json() == {"error": "invalid_request", "error_description": "Request body too large"}


def test_the_token_endpoint_refuses_a_form_with_too_many_fields(client):
    r = client.post("/oauth/token", data={f"f{i}": "x" for i in range(100)})
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_request"


def test_a_url_encoded_token_request_with_a_charset_is_still_a_form(client):
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    r = client.post("/oauth/token", content=b"grant_type=implicit", headers=headers)
    assert r.status_code == 400 and r.json()["error"] == "unsupported_grant_type"


# --- multipart upload parts ---------------------------------------------------------------------------
def test_more_than_32_parts_is_a_parse_error(api):
    pkg = api.create_package(api.world().app["guid"])
    r = upload(api, pkg["guid"], ZIP, fields={f"f{i}": "x" for i in range(40)})
    assert_error(r, *PARSE_ERROR)


def test_a_text_part_over_64_kib_is_too_large(api):
    pkg = api.create_package(api.world().app["guid"])
    r = upload(api, pkg["guid"], ZIP, fields={"bits_name": "n" * 70_000})
    assert r.status_code == 413
    assert "bits_name" in r.json()["errors"][0]["detail"]


def test_resources_may_be_large_but_not_beyond_the_json_limit(api):
    pkg = api.create_package(api.world().app["guid"])
    big_but_fine = json.dumps([{"sha1": "0" * 40, "size": 1, "fn": f"f{i}", "mode": "644"} for i in range(20_000)])
    assert len(big_but_fine) > MiB
    assert upload(api, pkg["guid"], ZIP, resources=big_but_fine).status_code == 200
    other = api.create_package(api.world().app["guid"])
    r = upload(api, other["guid"], ZIP, resources="[" + " " * (16 * MiB) + "]")
    assert r.status_code == 413
    assert "resources" in r.json()["errors"][0]["detail"]


def test_part_headers_over_16_kib_are_a_parse_error(api):
    pkg = api.create_package(api.world().app["guid"])
    boundary = "bnd"
    junk = "j" * 20_000
    head = f'--{boundary}\r\nContent-Disposition: form-data; name="bits"; filename="p.zip"\r\nX-Junk: {junk}\r\n\r\n'
    body = head.encode() + ZIP + f"\r\n--{boundary}--\r\n".encode()
    headers = {**api.admin, "Content-Type": f"multipart/form-data; boundary={boundary}"}
    r = api.client.post(f"/v3/packages/{pkg['guid']}/upload", content=body, headers=headers)
    assert_error(r, *PARSE_ERROR)


def test_a_rejected_upload_leaves_no_staging_file(api):
    pkg = api.create_package(api.world().app["guid"])
    # The text part comes after the bits here, so the zip was already being staged.
    parts = [("bits", ("package.zip", ZIP, "application/zip")), ("bits_name", (None, "n" * 70_000))]
    r = api.client.post(f"/v3/packages/{pkg['guid']}/upload", files=parts, headers=api.admin)
    assert r.status_code == 413
    staging = api.app.state.blobstore.staging.directory
    assert not staging.exists() or list(staging.iterdir()) == []


# --- the order of checks when the caller may not upload (§5.3 kept where a client can tell) ---------
def test_bad_resources_before_the_bits_still_win_over_not_found(api):
    r = upload(api, "no-such-package", ZIP, resources="[1]")
    assert_error(r, *INVALID_JSON)


def test_an_unknown_field_after_the_bits_cannot_be_seen_unread_so_not_found_wins(api):
    # Documented difference: CC reads the whole body first and would say 422 here.
    parts = [("bits", ("package.zip", ZIP, "application/zip")), ("cached_resources", (None, "[]"))]
    r = api.client.post("/v3/packages/no-such-package/upload", files=parts, headers=api.admin)
    assert_error(r, 404, 10010, "CF-ResourceNotFound", "Package not found")
