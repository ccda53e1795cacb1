"""`capi_client.PackagesClient` against a real `capi-packages serve` process, over HTTP, no mocks.

One server serves the whole module; each test makes its own apps, so tests do not see each
other's packages through the filters they use.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tracemalloc
import uuid
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from capi_client import (
    App,
    BadRequestError,
    Job,
    NotAuthenticatedError,
    NotAuthorizedError,
    NotFoundError,
    Organization,
    PackageFailedError,
    PackagesClient,
    Resource,
    Role,
    Space,
    UnprocessableEntityError,
)
from tests.process.client_live_support import (
    Live,
    new_app,
    ready_package,
    sha1_hex,
    zip_bytes,
    zip_contents,
)
from tests.process.conftest import mint

POLL = 0.1  # seconds between polls: the worker runs inside `serve` and is quick
MB = 1024 * 1024


def test_setup_calls_create_an_org_a_space_apps_and_roles(live: Live, admin: PackagesClient) -> None:
    org = admin.create_organization(f"setup-{uuid.uuid4().hex[:8]}")
    assert isinstance(org, Organization) and org.name.startswith("setup-") and org.guid
    space = admin.create_space("dev", org.guid)
    assert isinstance(space, Space) and space.name == "dev" and space.organization_guid == org.guid
    app = admin.create_app("web", space.guid)
    assert isinstance(app, App) and app.space_guid == space.guid and app.lifecycle_type == "buildpack"
    docker_app = admin.create_app("img", space.guid, "docker")
    assert docker_app.lifecycle_type == "docker"
    user = f"user-{uuid.uuid4().hex[:8]}"
    org_role = admin.create_role("organization_user", user, org_guid=org.guid)
    assert isinstance(org_role, Role)
    assert (org_role.type, org_role.user_guid, org_role.organization_guid) == (
        "organization_user",
        user,
        org.guid,
    )
    space_role = admin.create_role("space_developer", user, space_guid=space.guid)
    assert (space_role.type, space_role.user_guid, space_role.space_guid) == (
        "space_developer",
        user,
        space.guid,
    )
    with pytest.raises(ValueError):
        admin.create_role("space_developer", user)


# -- create, get, list, iterate --------------------------------------------------------------


def test_a_bits_package_is_created_awaiting_upload_and_reads_back_the_same(live: Live, admin: PackagesClient) -> None:
    app = new_app(admin, live)
    created = admin.create_package(app.guid, metadata={"labels": {"env": "test"}, "annotations": {"note": "hi"}})
    assert (created.type, created.state, created.app_guid) == ("bits", "AWAITING_UPLOAD", app.guid)
    assert created.labels == {"env": "test"} and created.annotations == {"note": "hi"}
    assert (created.checksum_type, created.checksum_value, created.error) == ("sha256", None, None)
    assert set(created.links) == {"self", "upload", "download", "app"}
    assert created.links["self"] == f"{live.url}/v3/packages/{created.guid}"
    assert isinstance(created.created_at, datetime) and created.created_at.tzinfo is not None
    got = admin.get_package(created.guid)
    assert got == created


def test_a_docker_package_is_ready_at_once_and_never_shows_its_password(live: Live, admin: PackagesClient) -> None:
    app = new_app(admin, live, "docker")
    created = admin.create_package(app.guid, "docker", image="nginx:1.27", username="bob", password="secret")
    assert (created.type, created.state, created.image, created.username) == (
        "docker",
        "READY",
        "nginx:1.27",
        "bob",
    )
    assert created.raw["data"]["password"] == "***"
    assert set(created.links) == {"self", "app"}
    assert "secret" not in json.dumps(admin.get_package(created.guid).raw)
    updated = admin.update_package(created.guid, username="carol", password="other")
    assert updated.username == "carol"


def test_list_filters_by_type_state_app_label_selector_and_guid(live: Live, admin: PackagesClient) -> None:
    a, b, d = new_app(admin, live), new_app(admin, live), new_app(admin, live, "docker")
    p1 = admin.create_package(a.guid, metadata={"labels": {"env": "prod"}})
    p2 = admin.create_package(a.guid, metadata={"labels": {"env": "dev"}})
    p3 = admin.create_package(b.guid)
    d1 = admin.create_package(d.guid, "docker", image="busybox")
    apps = [a.guid, b.guid, d.guid]

    def guids(**filters: Any) -> list[str]:
        return [p.guid for p in admin.list_packages(app_guids=apps, **filters)]

    assert guids() == [p1.guid, p2.guid, p3.guid, d1.guid]
    assert guids(types="docker") == [d1.guid]
    assert guids(types=["bits"]) == [p1.guid, p2.guid, p3.guid]
    assert guids(states=["READY"]) == [d1.guid]
    assert guids(states=["AWAITING_UPLOAD", "READY"], types=["docker"]) == [d1.guid]
    assert guids(label_selector="env=prod") == [p1.guid]
    assert guids(label_selector="env in (prod,dev)") == [p1.guid, p2.guid]
    assert guids(label_selector="!env") == [p3.guid, d1.guid]
    assert guids(guids=[p3.guid, p1.guid]) == [p1.guid, p3.guid]
    assert [p.guid for p in admin.list_packages(app_guids=a.guid)] == [p1.guid, p2.guid]
    page = admin.list_packages(app_guids=apps, per_page=2)
    assert (page.total_results, page.total_pages, len(page)) == (4, 2, 2)
    assert page.next_url and page.previous_url is None


def test_list_app_packages_returns_only_that_apps_packages_and_takes_filters(live: Live, admin: PackagesClient) -> None:
    a, b = new_app(admin, live), new_app(admin, live)
    p1 = admin.create_package(a.guid, metadata={"labels": {"tier": "web"}})
    p2 = admin.create_package(a.guid)
    admin.create_package(b.guid)
    assert [p.guid for p in admin.list_app_packages(a.guid)] == [p1.guid, p2.guid]
    assert [p.guid for p in admin.list_app_packages(a.guid, label_selector="tier=web")] == [p1.guid]
    assert [p.guid for p in admin.list_app_packages(a.guid, states="READY")] == []
    assert [p.guid for p in admin.iter_app_packages(a.guid, per_page=1)] == [p1.guid, p2.guid]
    with pytest.raises(TypeError):
        admin.list_app_packages(a.guid, app_guids=[b.guid])  # type: ignore[call-arg]


def test_iterating_walks_three_pages_of_three_and_sees_all_seven_packages_once(live: Live) -> None:
    client, recorder = live.recording()
    app = new_app(client, live)
    created = [client.create_package(app.guid).guid for _ in range(7)]
    first = client.list_packages(app_guids=app.guid, per_page=3)
    assert (first.total_results, first.total_pages, len(first)) == (7, 3, 3)
    recorder.requests.clear()
    seen = [p.guid for p in client.iter_packages(app_guids=app.guid, per_page=3)]
    assert seen == created and len(set(seen)) == 7
    pages = [r for r in recorder.requests if r.url.path == "/v3/packages"]
    assert len(pages) == 3
    # Every page after the first comes from the server's `next` link, which keeps the filter.
    for request in pages:
        assert request.url.params["app_guids"] == app.guid and request.url.params["per_page"] == "3"
    assert [r.url.params.get("page", "1") for r in pages] == ["1", "2", "3"]


# -- update, copy, delete --------------------------------------------------------------------


def test_update_sets_and_deletes_labels_and_annotations(live: Live, admin: PackagesClient) -> None:
    app = new_app(admin, live)
    package = admin.create_package(app.guid, metadata={"labels": {"a": "1", "b": "2"}, "annotations": {"x": "y"}})
    updated = admin.update_package(
        package.guid,
        metadata={"labels": {"a": None, "c": "3"}, "annotations": {"note": "long text"}},
    )
    assert updated.labels == {"b": "2", "c": "3"}
    assert updated.annotations == {"x": "y", "note": "long text"}
    assert admin.get_package(package.guid).labels == {"b": "2", "c": "3"}


def test_copy_gives_a_copying_package_that_becomes_ready_with_the_same_bits(
    live: Live, admin: PackagesClient, tmp_path: Path
) -> None:
    source_app, target_app = new_app(admin, live), new_app(admin, live)
    source = ready_package(admin, source_app.guid, {"index.html": b"<h1>copy me</h1>"})
    copy = admin.copy_package(source.guid, target_app.guid)
    assert copy.guid != source.guid and copy.app_guid == target_app.guid
    assert (copy.type, copy.state) == ("bits", "COPYING")
    ready = admin.wait_until_ready(copy, timeout=60, interval=POLL)
    assert ready.checksum_value == source.checksum_value
    admin.download_bits(source.guid, tmp_path / "source.zip")
    admin.download_bits(copy.guid, tmp_path / "copy.zip")
    assert (tmp_path / "copy.zip").read_bytes() == (tmp_path / "source.zip").read_bytes()
    with pytest.raises(UnprocessableEntityError) as same:
        admin.copy_package(source.guid, source_app.guid)
    assert same.value.detail == "Source and destination app cannot be the same"


def test_delete_returns_a_job_that_completes_and_then_the_package_is_gone(live: Live, admin: PackagesClient) -> None:
    app = new_app(admin, live)
    package = admin.create_package(app.guid)
    job = admin.delete_package(package.guid)
    assert isinstance(job, Job) and job.operation == "package.delete"
    assert job.state in ("PROCESSING", "COMPLETE")
    done = admin.wait_for_job(job, timeout=60, interval=POLL)
    assert (done.guid, done.state, done.errors) == (job.guid, "COMPLETE", ())
    assert admin.wait_for_job(job.guid, timeout=5, interval=POLL).state == "COMPLETE"
    with pytest.raises(NotFoundError):
        admin.get_package(package.guid)


# -- bits: upload, download, resource matches ------------------------------------------------


def test_upload_waits_ready_and_download_follows_the_signed_redirect_without_the_token(
    live: Live, tmp_path: Path
) -> None:
    client, recorder = live.recording()
    app = new_app(client, live)
    files = {"index.html": b"<h1>hello</h1>", "lib/app.py": b"print('hi')\n" * 100}
    upload = tmp_path / "app.zip"
    upload.write_bytes(zip_bytes(files))
    package = client.create_package(app.guid)
    progress: list[tuple[int, int | None]] = []
    uploaded = client.upload_bits(package.guid, upload, progress=lambda done, total: progress.append((done, total)))
    assert uploaded.state == "PROCESSING_UPLOAD"
    assert progress and progress[-1] == (upload.stat().st_size, upload.stat().st_size)
    ready = client.wait_until_ready(uploaded, timeout=60, interval=POLL)
    assert ready.state == "READY" and ready.checksum_type == "sha256" and len(ready.checksum_value or "") == 64

    recorder.requests.clear()
    target = tmp_path / "out.zip"
    size = client.download_bits(package.guid, target)
    data = target.read_bytes()
    assert size == len(data)
    assert hashlib.sha256(data).hexdigest() == ready.checksum_value
    assert zip_contents(data) == files
    # Into a file object too, byte for byte the same.
    sink = io.BytesIO()
    assert client.download_bits(package.guid, sink) == size and sink.getvalue() == data

    first, second = recorder.requests[0], recorder.requests[1]
    assert first.url.path == f"/v3/packages/{package.guid}/download"
    assert first.headers["authorization"].startswith("bearer ")
    assert first.extensions["status_seen"] == 302
    assert second.url.path == f"/blobs/packages/{package.guid}" and "signature" in second.url.params
    assert "authorization" not in second.headers, "the token went to the signed blob URL"
    assert second.extensions["status_seen"] == 200


def test_a_second_upload_is_refused_with_bits_already_uploaded(live: Live, admin: PackagesClient) -> None:
    app = new_app(admin, live)
    package = ready_package(admin, app.guid, {"a.txt": b"a"})
    with pytest.raises(BadRequestError) as raised:
        admin.upload_bits(package.guid, io.BytesIO(zip_bytes({"b.txt": b"b"})))
    error = raised.value
    assert (error.status, error.code, error.title) == (400, 150004, "CF-PackageBitsAlreadyUploaded")
    assert error.detail == "Bits may be uploaded only once. Create a new package to upload different bits."


def test_match_resources_returns_only_cached_files_above_the_pool_minimum(live: Live, admin: PackagesClient) -> None:
    app = new_app(admin, live)
    big, small = os.urandom(70 * 1024), b"tiny file\n"
    ready_package(admin, app.guid, {"big.bin": big, "small.txt": small})
    asked = [
        Resource(path="big.bin", sha1=sha1_hex(big), size=len(big), mode="644"),
        Resource(path="small.txt", sha1=sha1_hex(small), size=len(small), mode="644"),
        Resource(path="other.bin", sha1=sha1_hex(b"never uploaded" * 9000), size=126000, mode="644"),
    ]
    matched = admin.match_resources(asked)
    assert [(r.path, r.sha1, r.size, r.mode) for r in matched] == [("big.bin", sha1_hex(big), len(big), "644")]
    # The plain-dict (wire) form works too, and an entry without a mode never matches.
    wire = {"checksum": {"value": sha1_hex(big)}, "size_in_bytes": len(big), "path": "x/big.bin"}
    assert admin.match_resources([wire]) == []
    assert [r.path for r in admin.match_resources([{**wire, "mode": "0644"}])] == ["x/big.bin"]
    assert admin.match_resources([]) == []


def test_a_resources_only_upload_builds_the_package_from_the_cache(live: Live, admin: PackagesClient) -> None:
    app = new_app(admin, live)
    big = os.urandom(80 * 1024)
    ready_package(admin, app.guid, {"big.bin": big})
    matched = admin.match_resources([Resource("copy/big.bin", sha1_hex(big), len(big), "600")])
    package = admin.create_package(app.guid)
    admin.upload_bits(package.guid, resources=matched)
    ready = admin.wait_until_ready(package, timeout=60, interval=POLL)
    sink = io.BytesIO()
    admin.download_bits(ready.guid, sink)
    assert zip_contents(sink.getvalue()) == {"copy/big.bin": big}
    with pytest.raises(ValueError):
        admin.upload_bits(package.guid)


# -- error families --------------------------------------------------------------------------


def test_a_bad_or_missing_token_raises_not_authenticated(live: Live) -> None:
    with pytest.raises(NotAuthenticatedError) as bad:
        live.client("not-a-jwt").list_packages()
    assert (bad.value.status, bad.value.code, bad.value.title, bad.value.detail) == (
        401,
        1000,
        "CF-InvalidAuthToken",
        "Invalid Auth Token",
    )
    assert str(bad.value) == "CF-InvalidAuthToken: Invalid Auth Token"
    with pytest.raises(NotAuthenticatedError) as missing:
        live.client("").get_package(str(uuid.uuid4()))
    assert (
        missing.value.status,
        missing.value.code,
        missing.value.title,
        missing.value.detail,
    ) == (401, 10002, "CF-NotAuthenticated", "Authentication error")


def test_a_space_auditor_can_read_but_writing_raises_not_authorized(live: Live, admin: PackagesClient) -> None:
    app = new_app(admin, live)
    package = admin.create_package(app.guid)
    auditor = f"auditor-{uuid.uuid4().hex[:8]}"
    admin.create_role("organization_user", auditor, org_guid=live.org.guid)
    admin.create_role("space_auditor", auditor, space_guid=live.space.guid)
    client = live.client(mint(live.env, "--user-id", auditor))
    assert client.get_package(package.guid).guid == package.guid
    with pytest.raises(NotAuthorizedError) as create:
        client.create_package(app.guid)
    assert (create.value.status, create.value.code, create.value.title, create.value.detail) == (
        403,
        10003,
        "CF-NotAuthorized",
        "You are not authorized to perform the requested action",
    )
    with pytest.raises(NotAuthorizedError):
        client.delete_package(package.guid)
    with pytest.raises(NotAuthorizedError):
        client.update_package(package.guid, metadata={"labels": {"a": "b"}})


def test_a_missing_package_or_app_raises_not_found(live: Live, admin: PackagesClient) -> None:
    with pytest.raises(NotFoundError) as package:
        admin.get_package(str(uuid.uuid4()))
    assert (
        package.value.status,
        package.value.code,
        package.value.title,
        package.value.detail,
    ) == (404, 10010, "CF-ResourceNotFound", "Package not found")
    with pytest.raises(NotFoundError) as app:
        admin.list_app_packages(str(uuid.uuid4()))
    assert (app.value.code, app.value.detail) == (10010, "App not found")
    with pytest.raises(NotFoundError):
        admin.download_bits(str(uuid.uuid4()), io.BytesIO())
    with pytest.raises(NotFoundError):
        admin.delete_package(str(uuid.uuid4()))
    with pytest.raises(NotFoundError) as job:
        admin.get_job(str(uuid.uuid4()))
    assert job.value.detail == "Job not found"


def test_rule_breaking_requests_raise_unprocessable_entity(live: Live, admin: PackagesClient) -> None:
    with pytest.raises(UnprocessableEntityError) as no_app:
        admin.create_package(str(uuid.uuid4()))
    assert (no_app.value.status, no_app.value.code, no_app.value.title, no_app.value.detail) == (
        422,
        10008,
        "CF-UnprocessableEntity",
        "App is invalid. Ensure it exists and you have access to it.",
    )
    docker_app = new_app(admin, live, "docker")
    with pytest.raises(UnprocessableEntityError) as wrong_type:
        admin.create_package(docker_app.guid, "bits")
    assert wrong_type.value.detail == "Cannot create bits package for a Docker app."
    app = new_app(admin, live)
    pending = admin.create_package(app.guid)
    with pytest.raises(UnprocessableEntityError) as no_bits:
        admin.download_bits(pending.guid, io.BytesIO())
    assert no_bits.value.detail == "Package has no bits to download."


def test_bad_pagination_raises_bad_request(admin: PackagesClient) -> None:
    with pytest.raises(BadRequestError) as zero:
        admin.list_packages(per_page=0)
    assert (zero.value.status, zero.value.code, zero.value.title, zero.value.detail) == (
        400,
        10005,
        "CF-BadQueryParameter",
        "The query parameter is invalid: Per page must be a positive integer",
    )
    with pytest.raises(BadRequestError) as huge:
        admin.list_packages(per_page=5001)
    assert huge.value.detail == "The query parameter is invalid: Per page must be between 1 and 5000"
    with pytest.raises(BadRequestError) as order:
        admin.list_packages(order_by="name")
    assert order.value.detail == "The query parameter is invalid: Order by can only be: 'created_at', 'updated_at'"


def test_waiting_on_a_non_zip_upload_raises_package_failed_with_the_data_error(
    live: Live, admin: PackagesClient
) -> None:
    app = new_app(admin, live)
    package = admin.create_package(app.guid)
    admin.upload_bits(package.guid, io.BytesIO(b"this is not a zip archive at all"))
    with pytest.raises(PackageFailedError) as raised:
        admin.wait_until_ready(package.guid, timeout=60, interval=POLL)
    failed = raised.value
    assert failed.package.state == "FAILED" and failed.title == "PackageFailed"
    assert failed.detail == failed.package.error
    assert failed.detail.startswith("The app upload is invalid: Invalid zip archive")
    assert admin.get_package(package.guid).error == failed.detail


# -- a big upload and download in flat memory ------------------------------------------------


def test_a_50_mb_upload_and_download_keep_peak_memory_far_below_the_file_size(
    live: Live, admin: PackagesClient, tmp_path: Path
) -> None:
    source = tmp_path / "big.zip"
    digest = hashlib.sha256()
    entry = zipfile.ZipInfo("blob.bin", date_time=(2024, 1, 1, 0, 0, 0))
    with (
        zipfile.ZipFile(source, "w", zipfile.ZIP_STORED) as archive,
        archive.open(entry, "w", force_zip64=True) as out,
    ):
        for _ in range(50):  # 1 MB at a time: the test never holds the whole file either
            chunk = os.urandom(MB)
            digest.update(chunk)
            out.write(chunk)
    assert source.stat().st_size > 50 * MB
    app = new_app(admin, live)
    package = admin.create_package(app.guid)

    tracemalloc.start()
    try:
        admin.upload_bits(package.guid, source)
        _, upload_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    ready = admin.wait_until_ready(package, timeout=120, interval=POLL)

    target = tmp_path / "back.zip"
    tracemalloc.start()
    try:
        size = admin.download_bits(ready.guid, target)
        _, download_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert upload_peak < 10 * MB, f"upload peaked at {upload_peak / MB:.1f} MB"
    assert download_peak < 10 * MB, f"download peaked at {download_peak / MB:.1f} MB"
    assert size == target.stat().st_size
    back = hashlib.sha256()
    with zipfile.ZipFile(target) as archive, archive.open("blob.bin") as blob:
        while chunk := blob.read(MB):
            back.update(chunk)
    assert back.hexdigest() == digest.hexdigest()
    whole = hashlib.sha256()
    with open(target, "rb") as fileobj:
        while chunk := fileobj.read(MB):
            whole.update(chunk)
    assert whole.hexdigest() == ready.checksum_value


# -- push_directory --------------------------------------------------------------------------
