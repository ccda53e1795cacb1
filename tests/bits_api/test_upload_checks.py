"""POST /v3/packages/{guid}/upload: every request-time check of §5.3, with exact errors, in CC's order."""

from __future__ import annotations

import json
import uuid

import pytest

from capi_packages.auth.tokens import READ
from tests.bits_api.bits_support import (
    download_bytes,
    fingerprint,
    get_package,
    read_zip,
    state_of,
    upload,
)
from tests.factories import assert_error, make_zip

ZIP = make_zip({"index.js": "console.log('hi')"})
BIG = b"B" * 70_000  # above the default 65536-byte pool minimum, so it is cached
NOT_AUTHORIZED = (403, 10003, "CF-NotAuthorized", "You are not authorized to perform the requested action")
INVALID_JSON = (422, 10008, "CF-UnprocessableEntity", "Resources must be valid JSON.")
FLAG_OFF = {"feature_app_bits_upload": False}


def missing_guid() -> str:
    return str(uuid.uuid4())


# --- 1. feature flag app_bits_upload ------------------------------------------------------------
@pytest.mark.parametrize("settings_overrides", [FLAG_OFF])
def test_a_space_developer_gets_feature_disabled_when_app_bits_upload_is_off(api, world, package):
    r = upload(api, package["guid"], ZIP, headers=api.user("space_developer", world))
    assert_error(r, 403, 330002, "CF-FeatureDisabled", "Feature Disabled: app_bits_upload")
    assert state_of(api, package["guid"]) == "AWAITING_UPLOAD"


@pytest.mark.parametrize("settings_overrides", [FLAG_OFF])
def test_the_feature_flag_is_checked_before_the_body_and_the_package(api, world):
    headers = api.user("space_developer", world)
    r = upload(api, missing_guid(), resources="not json", headers=headers)
    assert_error(r, 403, 330002, "CF-FeatureDisabled", "Feature Disabled: app_bits_upload")


@pytest.mark.parametrize("settings_overrides", [FLAG_OFF])
def test_an_admin_bypasses_the_disabled_app_bits_upload_flag(api, package, run_jobs):
    r = upload(api, package["guid"], ZIP)
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "PROCESSING_UPLOAD"
    run_jobs()
    assert state_of(api, package["guid"]) == "READY"


@pytest.mark.parametrize(
    "settings_overrides",
    [{"feature_app_bits_upload": False, "feature_app_bits_upload_message": "Uploads are paused for maintenance"}],
)
def test_the_flags_custom_error_message_replaces_the_default_detail(api, world, package):
    r = upload(api, package["guid"], ZIP, headers=api.user("space_developer", world))
    assert_error(r, 403, 330002, "CF-FeatureDisabled", "Uploads are paused for maintenance")


# --- 2. the resources field ---------------------------------------------------------------------
@pytest.mark.parametrize("resources", ["this is not json", "[1]", "5", '{"a": 1}', '"a string"', '[{"fn": "a"}, 2]'])
def test_resources_that_are_not_a_json_array_of_objects_are_invalid_json(api, package, resources):
    r = upload(api, package["guid"], ZIP, resources=resources)
    assert_error(r, *INVALID_JSON)
    assert state_of(api, package["guid"]) == "AWAITING_UPLOAD"


def test_resources_sent_as_a_real_json_array_in_a_json_body_are_invalid_json(api, package):
    r = api.client.post(f"/v3/packages/{package['guid']}/upload", json={"resources": []}, headers=api.admin)
    assert_error(r, *INVALID_JSON)


def test_bad_resources_win_over_an_unknown_field(api, package):
    r = upload(api, package["guid"], ZIP, resources="[1]", fields={"cached_resources": "[]"})
    assert_error(r, *INVALID_JSON)


# --- 3. message validation ----------------------------------------------------------------------
def test_an_unknown_form_field_is_named_in_the_error(api, package):
    r = upload(api, package["guid"], ZIP, fields={"cached_resources": "[]"})
    assert_error(r, 422, 10008, "CF-UnprocessableEntity", "Unknown field(s): 'cached_resources'")


def test_unknown_fields_are_reported_before_the_missing_bits_message(api, package):
    r = upload(api, package["guid"], None, resources="[]", fields={"cached_resources": "[]", "app_guid": "x"})
    assert_error(
        r,
        422,
        10008,
        "CF-UnprocessableEntity",
        "Unknown field(s): 'cached_resources', 'app_guid', Upload must include either resources or bits",
    )


@pytest.mark.parametrize("resources", [None, "", "   ", "[]"])
def test_an_upload_with_neither_bits_nor_resources_is_unprocessable(api, package, resources):
    r = upload(api, package["guid"], None, resources=resources if resources is not None else "")
    assert_error(r, 422, 10008, "CF-UnprocessableEntity", "Upload must include either resources or bits")


def test_a_bits_path_field_in_a_json_body_is_invalid(api, package):
    body = {"bits_path": "/tmp/some-file", "bits_name": "package.zip", "resources": "[]"}
    r = api.client.post(f"/v3/packages/{package['guid']}/upload", json=body, headers=api.admin)
    assert_error(r, 422, 10008, "CF-UnprocessableEntity", "Bits path is invalid")


def test_a_bits_path_form_field_next_to_real_bits_is_invalid(api, package):
    r = upload(api, package["guid"], ZIP, fields={"bits_path": "../../etc/passwd"})
    assert_error(r, 422, 10008, "CF-UnprocessableEntity", "Bits path is invalid")
    assert state_of(api, package["guid"]) == "AWAITING_UPLOAD"


def test_the_nginx_dummy_field_means_the_file_field_lacks_path_information(api, package):
    r = upload(api, package["guid"], ZIP, fields={"<ngx_upload_module_dummy>": ""})
    assert_error(r, 422, 10008, "CF-UnprocessableEntity", "File field missing path information")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"zip_bytes": ZIP, "resources": "[1]"},
        {"zip_bytes": ZIP, "fields": {"cached_resources": "x"}},
        {"zip_bytes": None, "resources": "[]"},
    ],
    ids=["bad-resources", "unknown-field", "empty-upload"],
)
def test_a_bad_body_sent_to_a_missing_package_is_422_not_404(api, kwargs):
    r = upload(api, missing_guid(), **kwargs)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["title"] == "CF-UnprocessableEntity"


# --- 4./5. package visibility, write access, suspended orgs ---------------------------------------
def test_a_valid_upload_to_a_missing_package_is_not_found(api):
    assert_error(upload(api, missing_guid(), ZIP), 404, 10010, "CF-ResourceNotFound", "Package not found")


@pytest.mark.parametrize(
    "role",
    ["space_manager", "space_auditor", "space_supporter", "organization_manager", "admin_read_only", "global_auditor"],
)
def test_roles_that_can_only_read_the_package_are_forbidden_to_upload(api, world, package, role):
    r = upload(api, package["guid"], ZIP, headers=api.user(role, world))
    assert_error(r, *NOT_AUTHORIZED)
    assert state_of(api, package["guid"]) == "AWAITING_UPLOAD"


def test_a_token_without_the_write_scope_is_forbidden_to_upload(api, package):
    r = upload(api, package["guid"], ZIP, headers=api.headers("reader", (READ,)))
    assert_error(r, *NOT_AUTHORIZED)


def test_an_upload_without_a_token_is_not_authenticated(api, package):
    r = api.client.post(
        f"/v3/packages/{package['guid']}/upload", files={"bits": ("package.zip", ZIP, "application/zip")}
    )
    assert_error(r, 401, 10002, "CF-NotAuthenticated", "Authentication error")


def test_the_write_check_comes_before_the_already_uploaded_check(api, world, package, run_jobs):
    assert upload(api, package["guid"], ZIP).status_code == 200
    run_jobs()
    assert_error(upload(api, package["guid"], ZIP, headers=api.user("space_auditor", world)), *NOT_AUTHORIZED)


def suspend(api, world) -> None:
    api.ok("PATCH", f"/v3/organizations/{world.org['guid']}", 200, json={"suspended": True})


def test_a_space_developer_in_a_suspended_org_gets_org_suspended(api, world, package):
    headers = api.user("space_developer", world)
    suspend(api, world)
    r = upload(api, package["guid"], ZIP, headers=headers)
    assert_error(r, 403, 10017, "CF-OrgSuspended", "The organization is suspended")
    assert state_of(api, package["guid"]) == "AWAITING_UPLOAD"


def test_a_read_only_role_in_a_suspended_org_still_gets_not_authorized(api, world, package):
    headers = api.user("space_manager", world)
    suspend(api, world)
    assert_error(upload(api, package["guid"], ZIP, headers=headers), *NOT_AUTHORIZED)


def test_an_admin_may_upload_into_a_suspended_org(api, world, package):
    suspend(api, world)
    r = upload(api, package["guid"], ZIP)
    assert r.status_code == 200, r.text


# --- 6./7. package type and state -----------------------------------------------------------------
def test_uploading_to_a_docker_package_is_unprocessable_before_the_state_check(api):
    docker = api.world(lifecycle="docker")
    pkg = api.create_package(docker.app["guid"], type_="docker")
    assert pkg["state"] == "READY"  # the type check must win over "already uploaded"
    r = upload(api, pkg["guid"], ZIP, headers=api.user("space_developer", docker))
    assert_error(r, 422, 10008, "CF-UnprocessableEntity", "Package type must be bits.")


ALREADY = (
    400,
    150004,
    "CF-PackageBitsAlreadyUploaded",
    "Bits may be uploaded only once. Create a new package to upload different bits.",
)


def test_a_second_upload_while_processing_is_rejected(api, package):
    assert upload(api, package["guid"], ZIP).status_code == 200
    assert_error(upload(api, package["guid"], ZIP), *ALREADY)


def test_a_second_upload_after_ready_is_rejected(api, package, run_jobs):
    assert upload(api, package["guid"], ZIP).status_code == 200
    run_jobs()
    assert state_of(api, package["guid"]) == "READY"
    assert_error(upload(api, package["guid"], ZIP), *ALREADY)


def test_a_second_upload_after_a_failure_is_rejected(api, package, run_jobs):
    assert upload(api, package["guid"], b"not a zip").status_code == 200
    run_jobs()
    assert state_of(api, package["guid"]) == "FAILED"
    assert_error(upload(api, package["guid"], ZIP), *ALREADY)


# --- successful uploads ---------------------------------------------------------------------------
def test_a_space_developer_uploads_and_the_package_becomes_ready(api, world, package, run_jobs):
    headers = api.user("space_developer", world)
    r = upload(api, package["guid"], ZIP, headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["guid"] == package["guid"]
    assert body["state"] == "PROCESSING_UPLOAD"
    assert body["type"] == "bits"
    assert "location" not in {k.lower() for k in r.headers}
    run_jobs()
    got = api.ok("GET", f"/v3/packages/{package['guid']}", 200, headers=headers)
    assert got["state"] == "READY"
    assert got["data"]["error"] is None
    assert read_zip(download_bytes(api, package["guid"], headers=headers))["index.js"][0] == b"console.log('hi')"


def _seed_pool(api, world, run_jobs) -> None:
    seed = api.create_package(world.app["guid"])
    assert upload(api, seed["guid"], make_zip({"big.bin": BIG})).status_code == 200
    run_jobs()
    assert state_of(api, seed["guid"]) == "READY"


def _expect_pool_only_package(api, guid, run_jobs) -> None:
    run_jobs()
    assert state_of(api, guid) == "READY", get_package(api, guid)
    files = read_zip(download_bytes(api, guid))
    assert sorted(files) == ["cached/big.bin"]
    assert files["cached/big.bin"][0] == BIG


POOL_RESOURCES = [fingerprint(BIG, "cached/big.bin", "644")]


def test_a_multipart_upload_with_only_resources_builds_the_package_from_the_pool(api, world, run_jobs):
    _seed_pool(api, world, run_jobs)
    pkg = api.create_package(world.app["guid"])
    r = upload(api, pkg["guid"], None, resources=POOL_RESOURCES)
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "PROCESSING_UPLOAD"
    _expect_pool_only_package(api, pkg["guid"], run_jobs)


def test_a_url_encoded_upload_with_only_resources_builds_the_package_from_the_pool(api, world, run_jobs):
    _seed_pool(api, world, run_jobs)
    pkg = api.create_package(world.app["guid"])
    r = api.client.post(
        f"/v3/packages/{pkg['guid']}/upload", data={"resources": json.dumps(POOL_RESOURCES)}, headers=api.admin
    )
    assert r.status_code == 200, r.text
    _expect_pool_only_package(api, pkg["guid"], run_jobs)


def test_a_json_upload_with_only_a_resources_string_builds_the_package_from_the_pool(api, world, run_jobs):
    _seed_pool(api, world, run_jobs)
    pkg = api.create_package(world.app["guid"])
    r = api.client.post(
        f"/v3/packages/{pkg['guid']}/upload", json={"resources": json.dumps(POOL_RESOURCES)}, headers=api.admin
    )
    assert r.status_code == 200, r.text
    _expect_pool_only_package(api, pkg["guid"], run_jobs)


@pytest.mark.parametrize(
    ("filename", "content_type"),
    [
        ("package.zip", "application/zip"),
        ("my-app.tar", "application/octet-stream"),
        ("bits", "text/plain"),
        ("", "application/x-zip-compressed"),
        (None, "application/octet-stream"),
    ],
)
def test_the_bits_part_is_accepted_whatever_its_filename_and_content_type(
    api, package, run_jobs, filename, content_type
):
    r = upload(api, package["guid"], ZIP, filename=filename, content_type=content_type)
    assert r.status_code == 200, r.text
    run_jobs()
    assert state_of(api, package["guid"]) == "READY"
    assert read_zip(download_bytes(api, package["guid"]))["index.js"][0] == b"console.log('hi')"


def test_the_resources_part_may_come_after_the_bits_part(api, world, run_jobs):
    _seed_pool(api, world, run_jobs)
    pkg = api.create_package(world.app["guid"])
    parts = [
        ("bits", ("package.zip", make_zip({"own.txt": "own"}), "application/zip")),
        ("resources", (None, json.dumps(POOL_RESOURCES))),
    ]
    r = api.client.post(f"/v3/packages/{pkg['guid']}/upload", files=parts, headers=api.admin)
    assert r.status_code == 200, r.text
    run_jobs()
    assert sorted(read_zip(download_bytes(api, pkg["guid"]))) == ["cached/big.bin", "own.txt"]


@pytest.mark.parametrize("settings_overrides", [{"max_upload_size": 1000}])
def test_an_upload_body_over_max_upload_size_is_too_large(api, package):
    r = upload(api, package["guid"], b"x" * 5000)
    assert r.status_code == 413, r.text
    errors = r.json()["errors"]
    assert len(errors) == 1
    assert errors[0]["title"] == "CF-RequestEntityTooLarge"
    assert errors[0]["code"] == 10413
    assert isinstance(errors[0]["detail"], str) and errors[0]["detail"]
    assert state_of(api, package["guid"]) == "AWAITING_UPLOAD"


@pytest.mark.parametrize("settings_overrides", [{"max_upload_size": 1000}])
def test_a_chunked_upload_body_without_a_length_is_cut_off_at_max_upload_size(api, package):
    boundary = "capiboundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="bits"; filename="package.zip"\r\n'
        "Content-Type: application/zip\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()

    def body():
        yield head
        for _ in range(10):
            yield b"x" * 500
        yield tail

    headers = {**api.admin, "Content-Type": f"multipart/form-data; boundary={boundary}"}
    r = api.client.post(f"/v3/packages/{package['guid']}/upload", content=body(), headers=headers)
    assert r.status_code == 413, r.text
    assert r.json()["errors"][0]["title"] == "CF-RequestEntityTooLarge"
    assert r.json()["errors"][0]["code"] == 10413
    assert state_of(api, package["guid"]) == "AWAITING_UPLOAD"


# --- the upload column of the permissions matrix (§10.2) -----------------------------------------
UPLOAD_MATRIX = {
    "admin": 200,
    "admin_read_only": 403,
    "global_auditor": 403,
    "organization_manager": 403,
    "organization_auditor": 404,
    "organization_billing_manager": 404,
    "organization_user": 404,
    "space_developer": 200,
    "space_manager": 403,
    "space_auditor": 403,
    "space_supporter": 403,
    "no_role": 404,
}


@pytest.mark.parametrize(("role", "status"), UPLOAD_MATRIX.items())
def test_upload_follows_the_permissions_matrix(api, world, package, role, status):
    r = upload(api, package["guid"], ZIP, headers=api.user(role, world))
    assert r.status_code == status, r.text
    if status == 200:
        assert r.json()["state"] == "PROCESSING_UPLOAD"
    elif status == 403:
        assert_error(r, *NOT_AUTHORIZED)
    else:
        assert_error(r, 404, 10010, "CF-ResourceNotFound", "Package not found")
        assert state_of(api, package["guid"]) == "AWAITING_UPLOAD"


def test_a_developer_of_another_space_cannot_see_the_package(api, world, package):
    other = api.world()
    r = upload(api, package["guid"], ZIP, headers=api.user("space_developer", other))
    assert_error(r, 404, 10010, "CF-ResourceNotFound", "Package not found")


def test_resource_fingerprints_are_only_checked_by_the_job_not_at_request_time(api, package, run_jobs):
    bogus = [{"sha1": "nothex", "size": -3, "fn": "x", "mode": "777"}]
    r = upload(api, package["guid"], ZIP, resources=bogus)
    assert r.status_code == 200, r.text
    run_jobs()
    got = get_package(api, package["guid"])
    assert got["state"] == "FAILED"
    assert isinstance(got["data"]["error"], str) and got["data"]["error"]
