"""Download (checks, signed redirect, stream, range), copy in both forms, retention, delete, droplets."""

from __future__ import annotations

import time
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.bits_api.bits_support import (
    download_bytes,
    get_package,
    package_blob_path,
    read_zip,
    sha256,
    upload,
    uploaded_package,
)
from tests.conftest import BASE_URL
from tests.factories import assert_error, make_zip

ZIP = make_zip({"index.js": "console.log('download me')", "lib/util.js": "u" * 3000}, modes={"index.js": 0o755})
NOT_AUTHORIZED = (403, 10003, "CF-NotAuthorized", "You are not authorized to perform the requested action")
PACKAGE_NOT_FOUND = (404, 10010, "CF-ResourceNotFound", "Package not found")
APP_INVALID = "App is invalid. Ensure it exists and you have access to it."
SOURCE_INVALID = "Source package is invalid. Ensure it exists and you have access to it."


def unprocessable(r, detail):
    assert_error(r, 422, 10008, "CF-UnprocessableEntity", detail)


@pytest.fixture
def ready(api, world, run_jobs):
    return uploaded_package(api, world.app["guid"], ZIP, run_jobs)


def get_download(api, guid, headers=None, **kw):
    return api.client.get(f"/v3/packages/{guid}/download", headers=headers or api.admin, follow_redirects=False, **kw)


# --- download: checks in order ------------------------------------------------------------------
def test_downloading_a_missing_package_is_not_found(api):
    assert_error(get_download(api, str(uuid.uuid4())), *PACKAGE_NOT_FOUND)


@pytest.mark.parametrize(
    "role", ["space_manager", "space_auditor", "space_supporter", "organization_manager", "global_auditor"]
)
def test_roles_that_cannot_read_secrets_are_forbidden_to_download(api, world, ready, role):
    assert_error(get_download(api, ready["guid"], api.user(role, world)), *NOT_AUTHORIZED)


@pytest.mark.parametrize(
    "role", ["organization_auditor", "organization_billing_manager", "organization_user", "no_role"]
)
def test_roles_that_cannot_see_the_package_get_not_found_on_download(api, world, ready, role):
    assert_error(get_download(api, ready["guid"], api.user(role, world)), *PACKAGE_NOT_FOUND)


@pytest.mark.parametrize("role", ["admin", "admin_read_only", "space_developer"])
def test_admin_admin_read_only_and_space_developers_may_download(api, world, ready, role):
    headers = api.user(role, world)
    r = get_download(api, ready["guid"], headers)
    assert r.status_code == 302, r.text
    assert read_zip(download_bytes(api, ready["guid"], headers))["index.js"][0] == b"console.log('download me')"


def test_a_docker_package_has_no_bits_to_download(api):
    docker = api.world(lifecycle="docker")
    pkg = api.create_package(docker.app["guid"], type_="docker")
    unprocessable(get_download(api, pkg["guid"], api.user("space_developer", docker)), "Package type must be bits.")


def test_the_secret_check_comes_before_the_type_check(api):
    docker = api.world(lifecycle="docker")
    pkg = api.create_package(docker.app["guid"], type_="docker")
    assert_error(get_download(api, pkg["guid"], api.user("space_auditor", docker)), *NOT_AUTHORIZED)


def test_a_package_awaiting_upload_has_no_bits_to_download(api, world):
    pkg = api.create_package(world.app["guid"])
    unprocessable(get_download(api, pkg["guid"]), "Package has no bits to download.")


@pytest.mark.parametrize("body", [b"not a zip", None])
def test_processing_and_failed_packages_have_no_bits_to_download(api, world, run_jobs, body):
    pkg = api.create_package(world.app["guid"])
    assert upload(api, pkg["guid"], body or ZIP).status_code == 200
    if body is not None:
        run_jobs()
        assert get_package(api, pkg["guid"])["state"] == "FAILED"
    unprocessable(get_download(api, pkg["guid"]), "Package has no bits to download.")


def test_a_suspended_org_does_not_block_download(api, world, ready):
    headers = api.user("space_developer", world)
    api.ok("PATCH", f"/v3/organizations/{world.org['guid']}", 200, json={"suspended": True})
    assert get_download(api, ready["guid"], headers).status_code == 302
    assert download_bytes(api, ready["guid"], headers) == package_blob_path(api, ready["guid"]).read_bytes()


# --- download: the signed redirect --------------------------------------------------------------
def test_download_redirects_to_a_signed_url_that_needs_no_authorization(api, ready):
    r = get_download(api, ready["guid"])
    assert r.status_code == 302
    location = r.headers["location"]
    parts = urlsplit(location)
    assert f"{parts.scheme}://{parts.netloc}" == BASE_URL
    assert parts.path == f"/blobs/packages/{ready['guid']}"
    query = parse_qs(parts.query)
    assert set(query) == {"expires", "signature"}
    assert int(query["expires"][0]) > time.time()
    blob = api.client.get(location)  # no Authorization header at all
    assert blob.status_code == 200, blob.text
    assert blob.headers["content-type"] == "application/zip"
    assert sha256(blob.content) == ready["data"]["checksum"]["value"]
    assert read_zip(blob.content)["index.js"] == (b"console.log('download me')", 0o100755)


def _location_parts(api, guid):
    parts = urlsplit(get_download(api, guid).headers["location"])
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    return parts.path, query


def _blob(api, path, query):
    return api.client.get(path, params=query)


@pytest.mark.parametrize("field", ["signature", "expires"])
def test_a_tampered_signed_url_is_forbidden(api, ready, field):
    path, query = _location_parts(api, ready["guid"])
    if field == "signature":
        query["signature"] = ("0" if query["signature"][0] != "0" else "1") + query["signature"][1:]
    else:
        query["expires"] = str(int(query["expires"]) + 3600)
    r = _blob(api, path, query)
    assert r.status_code == 403, r.text
    assert r.json()["errors"][0]["title"] == "CF-NotAuthorized"


@pytest.mark.parametrize("drop", ["signature", "expires"])
def test_a_signed_url_missing_a_part_is_forbidden(api, ready, drop):
    path, query = _location_parts(api, ready["guid"])
    del query[drop]
    assert _blob(api, path, query).status_code == 403


def test_a_signature_for_one_package_does_not_open_another(api, world, ready, run_jobs):
    other = uploaded_package(api, world.app["guid"], make_zip({"other": "o"}), run_jobs)
    _, query = _location_parts(api, ready["guid"])
    assert _blob(api, f"/blobs/packages/{other['guid']}", query).status_code == 403


@pytest.mark.parametrize("settings_overrides", [{"signed_url_ttl_seconds": 1}])
def test_an_expired_signed_url_is_forbidden(api, ready):
    path, query = _location_parts(api, ready["guid"])
    time.sleep(2.1)
    assert _blob(api, path, query).status_code == 403


def test_a_range_request_on_the_signed_url_answers_206(api, ready):
    location = get_download(api, ready["guid"]).headers["location"]
    full = api.client.get(location).content
    r = api.client.get(location, headers={"Range": "bytes=0-9"})
    assert r.status_code == 206, r.text
    assert r.content == full[:10]
    assert r.headers["content-range"] == f"bytes 0-9/{len(full)}"


def test_accept_json_on_download_still_gets_the_zip(api, ready):
    headers = {**api.admin, "Accept": "application/json"}
    r = get_download(api, ready["guid"], headers)
    assert r.status_code == 302
    blob = api.client.get(r.headers["location"], headers={"Accept": "application/json"})
    assert blob.status_code == 200
    assert blob.headers["content-type"] == "application/zip"
    assert sha256(blob.content) == ready["data"]["checksum"]["value"]


def test_a_ready_package_whose_blob_vanished_gives_blobstore_unavailable(api, ready):
    package_blob_path(api, ready["guid"]).unlink()
    r = get_download(api, ready["guid"])
    assert_error(
        r, 502, 150006, "CF-BlobstoreUnavailable", "Failed to perform operation due to blobstore unavailability."
    )


# --- download: stream mode ----------------------------------------------------------------------
STREAM = {"download_mode": "stream"}


@pytest.mark.parametrize("settings_overrides", [STREAM])
def test_stream_mode_answers_200_with_the_zip(api, world, ready):
    r = get_download(api, ready["guid"], api.user("space_developer", world))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/zip"
    assert sha256(r.content) == ready["data"]["checksum"]["value"]
    assert r.content == package_blob_path(api, ready["guid"]).read_bytes()


@pytest.mark.parametrize("settings_overrides", [STREAM])
def test_stream_mode_answers_a_range_request_with_206(api, ready):
    full = get_download(api, ready["guid"]).content
    r = get_download(api, ready["guid"], {**api.admin, "Range": "bytes=0-9"})
    assert r.status_code == 206, r.text
    assert r.content == full[:10]
    assert len(r.content) == 10


@pytest.mark.parametrize("settings_overrides", [STREAM])
def test_stream_mode_ignores_accept_json(api, ready):
    r = get_download(api, ready["guid"], {**api.admin, "Accept": "application/json"})
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/zip"


@pytest.mark.parametrize("settings_overrides", [STREAM])
def test_stream_mode_with_a_vanished_blob_gives_blobstore_unavailable(api, ready):
    package_blob_path(api, ready["guid"]).unlink()
    r = get_download(api, ready["guid"])
    assert_error(
        r, 502, 150006, "CF-BlobstoreUnavailable", "Failed to perform operation due to blobstore unavailability."
    )


# --- copy ---------------------------------------------------------------------------------------
def copy_request(api, form, source_guid, dest_app_guid, headers=None, body=None):
    body = body if body is not None else {"relationships": {"app": {"data": {"guid": dest_app_guid}}}}
    if form == "query":
        return api.client.post(f"/v3/packages?source_guid={source_guid}", json=body, headers=headers or api.admin)
    return api.client.post(f"/v3/packages/{source_guid}/copy", json=body, headers=headers or api.admin)


FORMS = ["query", "path"]


@pytest.mark.parametrize("form", FORMS)
def test_copying_a_bits_package_goes_through_copying_to_ready_with_the_same_bits(api, world, ready, run_jobs, form):
    dest_app = api.create_app(world.space["guid"])
    r = copy_request(api, form, ready["guid"], dest_app["guid"], api.user("space_developer", world))
    assert r.status_code == 201, r.text
    copy = r.json()
    assert copy["guid"] != ready["guid"]
    assert copy["type"] == "bits"
    assert copy["state"] == "COPYING"
    assert copy["relationships"] == {"app": {"data": {"guid": dest_app["guid"]}}}
    assert "location" not in {k.lower() for k in r.headers}
    run_jobs()
    got = get_package(api, copy["guid"])
    assert got["state"] == "READY", got
    assert got["data"] == {"error": None, "checksum": ready["data"]["checksum"]}
    assert download_bytes(api, copy["guid"]) == download_bytes(api, ready["guid"])


@pytest.mark.parametrize("form", FORMS)
def test_copying_a_docker_package_is_ready_at_once_without_credentials_or_metadata(api, form):
    docker = api.world(lifecycle="docker")
    source = api.create_package(
        docker.app["guid"],
        type_="docker",
        data={"image": "registry/app:1.2", "username": "bob", "password": "hunter2"},
        metadata={"labels": {"env": "prod"}, "annotations": {"note": "x"}},
    )
    assert source["data"]["username"] == "bob"
    dest_app = api.create_app(docker.space["guid"], lifecycle="docker")
    r = copy_request(api, form, source["guid"], dest_app["guid"])
    assert r.status_code == 201, r.text
    copy = r.json()
    assert copy["type"] == "docker"
    assert copy["state"] == "READY"
    assert copy["data"] == {"image": "registry/app:1.2", "username": None, "password": None}
    assert copy["metadata"] == {"labels": {}, "annotations": {}}
    assert get_package(api, copy["guid"])["state"] == "READY"


def test_a_docker_package_may_be_copied_to_a_buildpack_app(api, world):
    docker = api.world(lifecycle="docker")
    source = api.create_package(docker.app["guid"], type_="docker")
    r = copy_request(api, "query", source["guid"], world.app["guid"])
    assert r.status_code == 201, r.text
    assert r.json()["state"] == "READY"


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize(
    "body",
    [{"relationships": {"app": {"data": {"guid": "no-such-app"}}}}, {}, {"relationships": {"app": {"data": None}}}],
    ids=["unknown-app", "no-relationships", "null-data"],
)
def test_copy_to_a_missing_app_is_invalid(api, ready, form, body):
    unprocessable(copy_request(api, form, ready["guid"], None, body=body), APP_INVALID)


@pytest.mark.parametrize("form", FORMS)
def test_copy_of_a_missing_source_is_invalid(api, world, form):
    unprocessable(copy_request(api, form, str(uuid.uuid4()), world.app["guid"]), SOURCE_INVALID)


def test_a_missing_destination_is_reported_before_a_missing_source(api):
    body = {"relationships": {"app": {"data": {"guid": "nope"}}}}
    unprocessable(copy_request(api, "path", str(uuid.uuid4()), None, body=body), APP_INVALID)


@pytest.mark.parametrize("form", FORMS)
def test_copy_into_the_source_app_is_refused(api, world, ready, form):
    unprocessable(
        copy_request(api, form, ready["guid"], world.app["guid"]), "Source and destination app cannot be the same"
    )


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize(
    "role",
    ["space_manager", "space_auditor", "space_supporter", "organization_manager", "admin_read_only", "global_auditor"],
)
def test_read_only_roles_are_forbidden_to_copy(api, world, ready, form, role):
    dest_app = api.create_app(world.space["guid"])
    assert_error(copy_request(api, form, ready["guid"], dest_app["guid"], api.user(role, world)), *NOT_AUTHORIZED)


@pytest.mark.parametrize(
    "role", ["organization_auditor", "organization_billing_manager", "organization_user", "no_role"]
)
def test_roles_that_cannot_see_the_app_get_app_invalid_on_copy(api, world, ready, role):
    dest_app = api.create_app(world.space["guid"])
    unprocessable(copy_request(api, "path", ready["guid"], dest_app["guid"], api.user(role, world)), APP_INVALID)


def test_copy_needs_write_access_to_the_source_space_too(api, world, ready):
    other = api.world()
    user = f"dev-{uuid.uuid4().hex[:6]}"
    api.grant(user, "organization_user", org=other.org["guid"])
    api.grant(user, "space_developer", space=other.space["guid"])
    api.grant(user, "organization_user", org=world.org["guid"])
    api.grant(user, "space_auditor", space=world.space["guid"])
    headers = api.headers(user, ("cloud_controller.read", "cloud_controller.write"))
    assert_error(copy_request(api, "query", ready["guid"], other.app["guid"], headers), *NOT_AUTHORIZED)


@pytest.mark.parametrize("form", FORMS)
def test_copying_a_package_that_was_never_uploaded_fails_after_copying(api, world, run_jobs, form):
    source = api.create_package(world.app["guid"])
    dest_app = api.create_app(world.space["guid"])
    r = copy_request(api, form, source["guid"], dest_app["guid"])
    assert r.status_code == 201, r.text
    assert r.json()["state"] == "COPYING"
    run_jobs()
    got = get_package(api, r.json()["guid"])
    assert got["state"] == "FAILED", got
    assert got["data"]["error"].startswith("failed to copy - ")
    assert got["data"]["checksum"]["value"] is None


# --- retention and delete -----------------------------------------------------------------------
@pytest.mark.parametrize("settings_overrides", [{"max_valid_packages_stored": 2}])
def test_the_oldest_package_beyond_the_retention_count_expires_and_loses_its_blob(api, world, run_jobs):
    first = uploaded_package(api, world.app["guid"], make_zip({"v": "1"}), run_jobs)
    second = uploaded_package(api, world.app["guid"], make_zip({"v": "2"}), run_jobs)
    assert package_blob_path(api, first["guid"]).is_file()
    third = uploaded_package(api, world.app["guid"], make_zip({"v": "3"}), run_jobs)
    run_jobs()
    old = get_package(api, first["guid"])
    assert old["state"] == "EXPIRED"
    assert old["data"]["checksum"] == {"type": "sha256", "value": None}
    assert not package_blob_path(api, first["guid"]).exists()
    for kept in (second, third):
        assert get_package(api, kept["guid"])["state"] == "READY"
        assert package_blob_path(api, kept["guid"]).is_file()
    unprocessable(get_download(api, first["guid"]), "Package has no bits to download.")


@pytest.mark.parametrize("settings_overrides", [{"max_valid_packages_stored": 2}])
def test_failed_packages_count_towards_retention(api, world, run_jobs):
    failed = api.create_package(world.app["guid"])
    upload(api, failed["guid"], b"not a zip")
    run_jobs()
    assert get_package(api, failed["guid"])["state"] == "FAILED"
    uploaded_package(api, world.app["guid"], make_zip({"v": "2"}), run_jobs)
    assert get_package(api, failed["guid"])["state"] == "FAILED"
    uploaded_package(api, world.app["guid"], make_zip({"v": "3"}), run_jobs)
    assert get_package(api, failed["guid"])["state"] == "EXPIRED"


@pytest.mark.parametrize("settings_overrides", [{"max_valid_packages_stored": 2}])
def test_retention_is_counted_per_app(api, world, run_jobs):
    other_app = api.create_app(world.space["guid"])
    mine = [uploaded_package(api, world.app["guid"], make_zip({"v": str(i)}), run_jobs) for i in range(2)]
    for i in range(2):
        uploaded_package(api, other_app["guid"], make_zip({"o": str(i)}), run_jobs)
    assert [get_package(api, p["guid"])["state"] for p in mine] == ["READY", "READY"]


def test_deleting_a_ready_bits_package_removes_its_blob(api, world, ready, run_jobs):
    blob = package_blob_path(api, ready["guid"])
    assert blob.is_file()
    r = api.client.delete(f"/v3/packages/{ready['guid']}", headers=api.user("space_developer", world))
    assert r.status_code == 202, r.text
    assert r.headers["location"].startswith(f"{BASE_URL}/v3/jobs/")
    run_jobs()
    assert_error(api.client.get(f"/v3/packages/{ready['guid']}", headers=api.admin), *PACKAGE_NOT_FOUND)
    assert not blob.exists()
    job = api.ok("GET", urlsplit(r.headers["location"]).path, 200)
    assert job["state"] == "COMPLETE"


# --- GET /v3/packages/{guid}/droplets -----------------------------------------------------------
def test_a_packages_droplets_are_an_empty_list_based_at_the_package(api, world, ready):
    guid = ready["guid"]
    body = api.ok("GET", f"/v3/packages/{guid}/droplets", 200, headers=api.user("space_auditor", world))
    base = f"{BASE_URL}/v3/packages/{guid}/droplets"
    assert body == {
        "pagination": {
            "total_results": 0,
            "total_pages": 1,
            "first": {"href": f"{base}?page=1&per_page=50"},
            "last": {"href": f"{base}?page=1&per_page=50"},
            "next": None,
            "previous": None,
        },
        "resources": [],
    }


def test_the_droplets_of_an_unknown_package_are_not_found(api):
    assert_error(api.client.get(f"/v3/packages/{uuid.uuid4()}/droplets", headers=api.admin), *PACKAGE_NOT_FOUND)


def test_the_droplets_of_an_invisible_package_are_not_found(api, world, ready):
    r = api.client.get(f"/v3/packages/{ready['guid']}/droplets", headers=api.user("organization_auditor", world))
    assert_error(r, *PACKAGE_NOT_FOUND)


def test_the_droplets_list_rejects_current_as_a_query_parameter(api, ready):
    r = api.client.get(f"/v3/packages/{ready['guid']}/droplets?current=true", headers=api.admin)
    assert r.status_code == 400, r.text
    (error,) = r.json()["errors"]
    assert error["title"] == "CF-BadQueryParameter"
    assert "Unknown query parameter(s): 'current'" in error["detail"]
