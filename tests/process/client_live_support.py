"""Fixtures and helpers for the client tests against a real server process."""

from __future__ import annotations

import hashlib
import io
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from capi_client import (
    App,
    Organization,
    Package,
    PackagesClient,
    Space,
)
from tests.process.conftest import mint, running_server

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
