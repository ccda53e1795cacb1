"""`capi_client.PackagesClient` against a real `capi-packages serve` process, over HTTP, no mocks.

One server serves the whole module; each test makes its own apps, so tests do not see each
other's packages through the filters they use.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import stat
import subprocess
import tracemalloc
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from capi_client import (
    App,
    BadRequestError,
    CapiError,
    Job,
    NotAuthenticatedError,
    NotAuthorizedError,
    NotFoundError,
    Organization,
    Package,
    PackageFailedError,
    PackagesClient,
    Resource,
    Role,
    Space,
    UnprocessableEntityError,
    login,
    push_directory,
    refresh,
    token_endpoint,
    token_expiry,
)
from tests.process.conftest import CLI, mint, running_server

POLL = 0.1  # seconds between polls: the worker runs inside `serve` and is quick
MB = 1024 * 1024


# -- the server and the world it holds --------------------------------------------------------


@dataclass
class Live:
    url: str
    env: dict[str, str]
    admin_token: str
    org: Organization
    space: Space
    clients: list[PackagesClient | httpx.Client] = field(default_factory=list)

    def client(self, token: str | None = None, **kwargs: Any) -> PackagesClient:
        made = PackagesClient(self.url, self.admin_token if token is None else token, **kwargs)
        self.clients.append(made)
        return made

    def recording(self, capture_uploads: bool = False) -> tuple[PackagesClient, Recorder]:
        """An admin client whose every request (and, if asked, upload body) is noted."""
        recorder = Recorder(capture_uploads)
        http = recorder.http_client()
        self.clients.append(http)
        return self.client(http_client=http), recorder


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with running_server(tmp_path_factory.mktemp("client-live")) as (url, env):
        admin_token = mint(env, "--user-id", "root", "--admin")
        with PackagesClient(url, admin_token) as admin:
            org = admin.create_organization(f"org-{uuid.uuid4().hex[:8]}")
            space = admin.create_space("space", org.guid)
        world = Live(url, env, admin_token, org, space)
        yield world
        for client in world.clients:
            client.close()


@pytest.fixture
def admin(live: Live) -> PackagesClient:
    return live.client()


def new_app(client: PackagesClient, live: Live, lifecycle: str = "buildpack") -> App:
    return client.create_app(f"app-{uuid.uuid4().hex[:10]}", live.space.guid, lifecycle)


def zip_bytes(files: dict[str, bytes], mode: int = 0o644) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 2, 3, 4, 6))
            info.create_system = 3
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content)
    return buffer.getvalue()


def zip_contents(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def ready_package(client: PackagesClient, app_guid: str, files: dict[str, bytes]) -> Package:
    package = client.create_package(app_guid)
    client.upload_bits(package.guid, io.BytesIO(zip_bytes(files)))
    return client.wait_until_ready(package.guid, timeout=60, interval=POLL)


def sha1_hex(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


class Recorder:
    """Notes every request the client sends: method, URL, headers; upload bodies on demand."""

    def __init__(self, capture_uploads: bool = False) -> None:
        self.capture_uploads = capture_uploads
        self.requests: list[httpx.Request] = []
        self.upload_bodies: list[bytes] = []

    def on_request(self, request: httpx.Request) -> None:
        self.requests.append(request)

    def on_response(self, response: httpx.Response) -> None:
        response.request.extensions["status_seen"] = response.status_code

    def transport(self) -> httpx.BaseTransport:
        recorder, inner = self, httpx.HTTPTransport()

        class Tee(httpx.BaseTransport):
            def handle_request(self, request: httpx.Request) -> httpx.Response:
                if recorder.capture_uploads and request.url.path.endswith("/upload"):
                    body = b"".join(request.stream)  # type: ignore[arg-type]
                    recorder.upload_bodies.append(body)
                    request.stream = httpx.ByteStream(body)
                return inner.handle_request(request)

            def close(self) -> None:
                inner.close()

        return Tee()

    def http_client(self) -> httpx.Client:
        return httpx.Client(
            timeout=30,
            transport=self.transport(),
            event_hooks={"request": [self.on_request], "response": [self.on_response]},
        )


def multipart_parts(body: bytes) -> dict[str, bytes]:
    """The parts of a multipart/form-data body by field name (the boundary is its first line)."""
    boundary = body.split(b"\r\n", 1)[0]
    parts: dict[str, bytes] = {}
    for chunk in body.split(boundary)[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, content = chunk[2:].partition(b"\r\n\r\n")
        name = head.split(b'name="', 1)[1].split(b'"', 1)[0].decode()
        parts[name] = content[:-2]  # the CRLF before the next boundary
    return parts


# -- setup calls ----------------------------------------------------------------------------


def test_setup_calls_create_an_org_a_space_apps_and_roles(
    live: Live, admin: PackagesClient
) -> None:
    org = admin.create_organization(f"setup-{uuid.uuid4().hex[:8]}")
    assert isinstance(org, Organization) and org.name.startswith("setup-") and org.guid
    space = admin.create_space("dev", org.guid)
    assert isinstance(space, Space) and space.name == "dev" and space.organization_guid == org.guid
    app = admin.create_app("web", space.guid)
    assert (
        isinstance(app, App) and app.space_guid == space.guid and app.lifecycle_type == "buildpack"
    )
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


def test_a_bits_package_is_created_awaiting_upload_and_reads_back_the_same(
    live: Live, admin: PackagesClient
) -> None:
    app = new_app(admin, live)
    created = admin.create_package(
        app.guid, metadata={"labels": {"env": "test"}, "annotations": {"note": "hi"}}
    )
    assert (created.type, created.state, created.app_guid) == ("bits", "AWAITING_UPLOAD", app.guid)
    assert created.labels == {"env": "test"} and created.annotations == {"note": "hi"}
    assert (created.checksum_type, created.checksum_value, created.error) == ("sha256", None, None)
    assert set(created.links) == {"self", "upload", "download", "app"}
    assert created.links["self"] == f"{live.url}/v3/packages/{created.guid}"
    assert isinstance(created.created_at, datetime) and created.created_at.tzinfo is not None
    got = admin.get_package(created.guid)
    assert got == created


def test_a_docker_package_is_ready_at_once_and_never_shows_its_password(
    live: Live, admin: PackagesClient
) -> None:
    app = new_app(admin, live, "docker")
    created = admin.create_package(
        app.guid, "docker", image="nginx:1.27", username="bob", password="secret"
    )
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


def test_list_filters_by_type_state_app_label_selector_and_guid(
    live: Live, admin: PackagesClient
) -> None:
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


def test_list_app_packages_returns_only_that_apps_packages_and_takes_filters(
    live: Live, admin: PackagesClient
) -> None:
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
    package = admin.create_package(
        app.guid, metadata={"labels": {"a": "1", "b": "2"}, "annotations": {"x": "y"}}
    )
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


def test_delete_returns_a_job_that_completes_and_then_the_package_is_gone(
    live: Live, admin: PackagesClient
) -> None:
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
    uploaded = client.upload_bits(
        package.guid, upload, progress=lambda done, total: progress.append((done, total))
    )
    assert uploaded.state == "PROCESSING_UPLOAD"
    assert progress and progress[-1] == (upload.stat().st_size, upload.stat().st_size)
    ready = client.wait_until_ready(uploaded, timeout=60, interval=POLL)
    assert (
        ready.state == "READY"
        and ready.checksum_type == "sha256"
        and len(ready.checksum_value or "") == 64
    )

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


def test_a_second_upload_is_refused_with_bits_already_uploaded(
    live: Live, admin: PackagesClient
) -> None:
    app = new_app(admin, live)
    package = ready_package(admin, app.guid, {"a.txt": b"a"})
    with pytest.raises(BadRequestError) as raised:
        admin.upload_bits(package.guid, io.BytesIO(zip_bytes({"b.txt": b"b"})))
    error = raised.value
    assert (error.status, error.code, error.title) == (400, 150004, "CF-PackageBitsAlreadyUploaded")
    assert (
        error.detail
        == "Bits may be uploaded only once. Create a new package to upload different bits."
    )


def test_match_resources_returns_only_cached_files_above_the_pool_minimum(
    live: Live, admin: PackagesClient
) -> None:
    app = new_app(admin, live)
    big, small = os.urandom(70 * 1024), b"tiny file\n"
    ready_package(admin, app.guid, {"big.bin": big, "small.txt": small})
    asked = [
        Resource(path="big.bin", sha1=sha1_hex(big), size=len(big), mode="644"),
        Resource(path="small.txt", sha1=sha1_hex(small), size=len(small), mode="644"),
        Resource(
            path="other.bin", sha1=sha1_hex(b"never uploaded" * 9000), size=126000, mode="644"
        ),
    ]
    matched = admin.match_resources(asked)
    assert [(r.path, r.sha1, r.size, r.mode) for r in matched] == [
        ("big.bin", sha1_hex(big), len(big), "644")
    ]
    # The plain-dict (wire) form works too, and an entry without a mode never matches.
    wire = {"checksum": {"value": sha1_hex(big)}, "size_in_bytes": len(big), "path": "x/big.bin"}
    assert admin.match_resources([wire]) == []
    assert [r.path for r in admin.match_resources([{**wire, "mode": "0644"}])] == ["x/big.bin"]
    assert admin.match_resources([]) == []


def test_a_resources_only_upload_builds_the_package_from_the_cache(
    live: Live, admin: PackagesClient
) -> None:
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


def test_a_space_auditor_can_read_but_writing_raises_not_authorized(
    live: Live, admin: PackagesClient
) -> None:
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


def test_rule_breaking_requests_raise_unprocessable_entity(
    live: Live, admin: PackagesClient
) -> None:
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
    assert (
        huge.value.detail == "The query parameter is invalid: Per page must be between 1 and 5000"
    )
    with pytest.raises(BadRequestError) as order:
        admin.list_packages(order_by="name")
    assert (
        order.value.detail
        == "The query parameter is invalid: Order by can only be: 'created_at', 'updated_at'"
    )


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


def _tree(root: Path) -> dict[str, bytes]:
    """An app directory; returns the contents the package must hold (ignored files left out)."""
    (root / "lib" / "nested" / "deep").mkdir(parents=True)
    (root / "bin").mkdir()
    contents = {
        "bin/run.sh": b"#!/bin/sh\n" + b"# padding so the script is matchable\n" * 2100,
        "big.bin": os.urandom(80 * 1024),
        "lib/nested/deep/data.bin": os.urandom(100 * 1024),
        "config.json": b'{"version": 1}\n',
    }
    for rel, data in contents.items():
        (root / rel).write_bytes(data)
    (root / "bin" / "run.sh").chmod(0o755)
    (root / "secret.txt").write_bytes(b"do not upload me")
    (root / ".cfignore").write_text("secret.txt\n")
    (root / "run").symlink_to("bin/run.sh")
    assert (root / "bin" / "run.sh").stat().st_size >= 70 * 1024
    return contents


def _check_package(data: bytes, expected: dict[str, bytes]) -> None:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos = {info.filename: info for info in archive.infolist()}
        assert set(infos) == {*expected, "run"}
        for name, content in expected.items():
            assert archive.read(name) == content, name
        assert stat.S_IMODE(infos["bin/run.sh"].external_attr >> 16) == 0o755
        assert stat.S_IMODE(infos["config.json"].external_attr >> 16) == 0o644
        link = infos["run"]
        assert stat.S_ISLNK(link.external_attr >> 16)
        assert archive.read(link) == b"bin/run.sh"


def test_push_directory_uploads_only_what_the_cache_lacks_and_keeps_modes_links_and_ignores(
    live: Live, tmp_path: Path
) -> None:
    old_umask = os.umask(0o022)
    try:
        root = tmp_path / "app"
        root.mkdir()
        expected = _tree(root)
    finally:
        os.umask(old_umask)
    client, recorder = live.recording(capture_uploads=True)
    app = new_app(client, live)
    reports: list[str] = []

    first = push_directory(client, app.guid, root, interval=POLL, timeout=60, report=reports.append)
    assert first.state == "READY" and first.app_guid == app.guid
    sink = io.BytesIO()
    client.download_bits(first.guid, sink)
    _check_package(sink.getvalue(), expected)
    first_parts = multipart_parts(recorder.upload_bodies[0])
    assert json.loads(first_parts["resources"]) == []
    assert set(zip_contents(first_parts["bits"])) == {*expected, "run"}

    (root / "config.json").write_bytes(b'{"version": 2}\n')
    expected["config.json"] = b'{"version": 2}\n'
    second = push_directory(
        client, app.guid, root, interval=POLL, timeout=60, report=reports.append
    )
    assert second.guid != first.guid and second.state == "READY"
    second_body = recorder.upload_bodies[1]
    parts = multipart_parts(second_body)
    # The changed file travels, plus the symlink (links are never matched); the big unchanged
    # files are named as cached resources instead.
    assert set(zip_contents(parts["bits"])) == {"config.json", "run"}
    cached = {entry["path"]: entry for entry in json.loads(parts["resources"])}
    assert set(cached) == {"bin/run.sh", "big.bin", "lib/nested/deep/data.bin"}
    assert cached["bin/run.sh"]["mode"] == "755"
    assert len(second_body) * 20 < len(recorder.upload_bodies[0])
    assert any("3 already cached" in line for line in reports)

    sink = io.BytesIO()
    client.download_bits(second.guid, sink)
    _check_package(sink.getvalue(), expected)


# -- login -----------------------------------------------------------------------------------


def test_login_with_a_password_and_refresh_give_working_tokens(live: Live) -> None:
    username = f"user{uuid.uuid4().hex[:8]}"
    added = subprocess.run(
        [*CLI, "users", "add", username, "--password", "pw-123"],
        env=live.env,
        capture_output=True,
        text=True,
        check=True,
    )
    user_guid = added.stdout.strip()
    assert token_endpoint(live.url) == live.url

    tokens = login(live.url, username, "pw-123")
    assert tokens.token_type.lower() == "bearer" and tokens.refresh_token
    assert tokens.authorization == f"bearer {tokens.access_token}"
    expiry = token_expiry(tokens.access_token)
    assert expiry is not None and expiry > datetime.now(UTC)

    with PackagesClient(live.url, live.admin_token) as admin:
        admin.create_role("organization_user", user_guid, org_guid=live.org.guid)
        admin.create_role("space_developer", user_guid, space_guid=live.space.guid)
        app = new_app(admin, live)
    with PackagesClient(live.url, tokens.authorization) as client:
        mine = client.create_package(app.guid)
        assert [p.guid for p in client.list_packages(app_guids=app.guid)] == [mine.guid]

    renewed = refresh(live.url, tokens.refresh_token)
    assert renewed.access_token and renewed.refresh_token
    with PackagesClient(live.url, renewed.access_token) as client:
        assert client.get_package(mine.guid).guid == mine.guid

    with pytest.raises(NotAuthenticatedError) as wrong:
        login(live.url, username, "wrong")
    assert (wrong.value.status, wrong.value.title) == (401, "unauthorized")
    with pytest.raises(CapiError) as bad_refresh:
        refresh(live.url, "not-a-refresh-token")
    assert bad_refresh.value.status == 401
