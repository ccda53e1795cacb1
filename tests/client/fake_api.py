"""Test doubles for the wire: a small in-memory fake of the v3 API and a request Recorder."""

from __future__ import annotations

import hashlib
import io
import json
import re
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx

from capi_client import PackagesClient

API = "http://api.test"
BLOBS = "http://blobs.test"
UAA = "http://uaa.test"
TOKEN = "good-token"
NOW = "2026-01-02T03:04:05Z"


def envelope(status: int, title: str, detail: str, code: int) -> httpx.Response:
    error = {"detail": detail, "title": title, "code": code}
    return httpx.Response(status, json={"errors": [error]})


def parse_multipart(request: httpx.Request) -> list[tuple[dict[str, str], bytes]]:
    """The parts of a multipart body, in order: (lower-cased headers, data)."""
    match = re.search(r"boundary=(\S+)", request.headers["content-type"])
    assert match, request.headers["content-type"]
    boundary = match.group(1).encode()
    body = request.content
    assert body.endswith(b"--" + boundary + b"--\r\n")
    parts = []
    for chunk in body.split(b"--" + boundary)[1:-1]:
        assert chunk.startswith(b"\r\n") and chunk.endswith(b"\r\n")
        head, _, data = chunk[2:-2].partition(b"\r\n\r\n")
        headers = {}
        for line in head.decode().split("\r\n"):
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        parts.append((headers, data))
    return parts


def part_name(headers: dict[str, str]) -> str:
    match = re.search(r'name="([^"]*)"', headers["content-disposition"])
    assert match
    return match.group(1)


@dataclass
class FakeApi:
    """Enough of CC for the client: packages, uploads, downloads, matches, jobs, setup calls."""

    packages: dict[str, dict[str, Any]] = field(default_factory=dict)
    bits: dict[str, bytes] = field(default_factory=dict)
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    cache: dict[str, bytes] = field(default_factory=dict)  # sha1 → content
    uploads: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)
    polls_until_ready: int = 1
    fail_upload_with: str | None = None
    _polls: dict[str, int] = field(default_factory=dict)

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self.handle))

    # -- package objects --------------------------------------------------------------------

    def add_package(self, app_guid: str = "app-1", state: str = "AWAITING_UPLOAD", **extra: Any) -> dict[str, Any]:
        guid = extra.pop("guid", None) or str(uuid.uuid4())
        package = {
            "guid": guid,
            "created_at": NOW,
            "updated_at": NOW,
            "type": extra.pop("type", "bits"),
            "data": {"error": None, "checksum": {"type": "sha256", "value": None}},
            "state": state,
            "relationships": {"app": {"data": {"guid": app_guid}}},
            "metadata": {"labels": {}, "annotations": {}},
            "links": {
                "self": {"href": f"{API}/v3/packages/{guid}"},
                "upload": {"href": f"{API}/v3/packages/{guid}/upload", "method": "POST"},
                "download": {"href": f"{API}/v3/packages/{guid}/download"},
                "app": {"href": f"{API}/v3/apps/{app_guid}"},
            },
        }
        package.update(extra)
        self.packages[guid] = package
        return package

    def _page(self, base: str, items: list[dict[str, Any]], params: httpx.QueryParams) -> httpx.Response:
        per_page = int(params.get("per_page", 50))
        page = int(params.get("page", 1))
        total_pages = max(1, -(-len(items) // per_page))
        kept = {k: v for k, v in params.multi_items() if k not in ("page", "per_page")}

        def link(n: int) -> dict[str, str]:
            query = {**kept, "page": n, "per_page": per_page}
            return {"href": f"{base}?{urlencode(sorted(query.items()))}"}

        return httpx.Response(
            200,
            json={
                "pagination": {
                    "total_results": len(items),
                    "total_pages": total_pages,
                    "first": link(1),
                    "last": link(total_pages),
                    "next": link(page + 1) if page < total_pages else None,
                    "previous": link(page - 1) if page > 1 else None,
                },
                "resources": items[(page - 1) * per_page : page * per_page],
            },
        )

    # -- routing ----------------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        host, path, method = request.url.host, request.url.path, request.method
        if host == "uaa.test":
            return self._token(request)
        if host == "blobs.test":
            if "authorization" in request.headers:
                return httpx.Response(400, text="a signed URL must not get a token")
            guid = path.rsplit("/", 1)[-1]
            headers = {"Content-Type": "application/zip"}
            return httpx.Response(200, content=self.bits[guid], headers=headers)
        if path == "/":
            links = {"login": {"href": UAA}, "uaa": {"href": UAA}}
            return httpx.Response(200, json={"links": links})
        if request.headers.get("authorization", "").lower() != f"bearer {TOKEN}":
            return envelope(401, "CF-NotAuthenticated", "Authentication error", 10002)
        route = f"{method} {path}"
        if route == "GET /v3/packages":
            items = list(self.packages.values())
            if "states" in request.url.params:
                items = [p for p in items if p["state"] in request.url.params["states"].split(",")]
            return self._page(f"{API}/v3/packages", items, request.url.params)
        if m := re.fullmatch(r"GET /v3/apps/([^/]+)/packages", route):
            items = [p for p in self.packages.values() if p["relationships"]["app"]["data"]["guid"] == m[1]]
            return self._page(f"{API}/v3/apps/{m[1]}/packages", items, request.url.params)
        if route == "POST /v3/packages":
            return self._create(request)
        if route == "POST /v3/resource_matches":
            wanted = json.loads(request.content)["resources"]
            known = [r for r in wanted if r["checksum"]["value"] in self.cache]
            return httpx.Response(201, json={"resources": known})
        if m := re.fullmatch(r"GET /v3/jobs/([^/]+)", route):
            return (
                httpx.Response(200, json=self.jobs[m[1]])
                if m[1] in self.jobs
                else envelope(404, "CF-ResourceNotFound", "Job not found", 10010)
            )
        one_package = r"(GET|PATCH|DELETE|POST) /v3/packages/([^/]+)(/upload|/download)?"
        if m := re.fullmatch(one_package, route):
            package = self.packages.get(m[2])
            if package is None:
                return envelope(404, "CF-ResourceNotFound", "Package not found", 10010)
            return self._package_action(request, m[1], package, m[3])
        if m := re.fullmatch(r"POST /v3/(organizations|spaces|apps|roles)", route):
            body = json.loads(request.content)
            return httpx.Response(201, json={"guid": f"{m[1]}-guid", **body})
        return envelope(404, "CF-NotFound", "Unknown request", 10000)

    def _token(self, request: httpx.Request) -> httpx.Response:
        form = dict(httpx.QueryParams(request.content.decode()))
        if form.get("password") == "wrong":
            error = {"error": "unauthorized", "error_description": "Bad credentials"}
            return httpx.Response(401, json=error)
        return httpx.Response(
            200,
            json={
                "access_token": TOKEN,
                "refresh_token": "refresh-1",
                "token_type": "bearer",
                "expires_in": 599,
            },
        )

    def _create(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        app_guid = body["relationships"]["app"]["data"]["guid"]
        source = request.url.params.get("source_guid")
        if source is not None:
            if source not in self.packages:
                detail = "Source package is invalid. Ensure it exists and you have access to it."
                return envelope(422, "CF-UnprocessableEntity", detail, 10008)
            package = self.add_package(app_guid, "COPYING")
            self.bits[package["guid"]] = self.bits.get(source, b"")
            return httpx.Response(201, json=package)
        state = "READY" if body["type"] == "docker" else "AWAITING_UPLOAD"
        package = self.add_package(app_guid, state, type=body["type"])
        if body["type"] == "docker":
            package["data"] = {"image": body["data"]["image"], "username": None, "password": None}
        for kind in ("labels", "annotations"):
            package["metadata"][kind].update(body.get("metadata", {}).get(kind) or {})
        return httpx.Response(201, json=package)

    def _package_action(
        self, request: httpx.Request, method: str, package: dict[str, Any], action: str | None
    ) -> httpx.Response:
        guid = package["guid"]
        if action == "/upload":
            parts = parse_multipart(request)
            self.uploads[guid] = {"parts": parts, "headers": request.headers}
            for headers, data in parts:
                if part_name(headers) == "bits":
                    self.bits[guid] = data
            package["state"] = "PROCESSING_UPLOAD"
            return httpx.Response(200, json=package)
        if action == "/download":
            return httpx.Response(302, headers={"Location": f"{BLOBS}/signed/{guid}?sig=abc"})
        if method == "GET":
            self._advance(package)
            return httpx.Response(200, json=package)
        if method == "PATCH":
            body = json.loads(request.content)
            for kind in ("labels", "annotations"):
                for key, value in (body.get("metadata", {}).get(kind) or {}).items():
                    if value is None:
                        package["metadata"][kind].pop(key, None)
                    else:
                        package["metadata"][kind][key] = value
            return httpx.Response(200, json=package)
        job_guid = str(uuid.uuid4())
        self.jobs[job_guid] = {
            "guid": job_guid,
            "created_at": NOW,
            "updated_at": NOW,
            "operation": "package.delete",
            "state": "COMPLETE",
            "errors": [],
            "warnings": [],
            "links": {"self": {"href": f"{API}/v3/jobs/{job_guid}"}},
        }
        del self.packages[guid]
        return httpx.Response(202, headers={"Location": f"{API}/v3/jobs/{job_guid}"})

    def _advance(self, package: dict[str, Any]) -> None:
        """PROCESSING_UPLOAD and COPYING end after a few polls, as a worker would finish them."""
        if package["state"] not in ("PROCESSING_UPLOAD", "COPYING"):
            return
        guid = package["guid"]
        self._polls[guid] = self._polls.get(guid, 0) + 1
        if self._polls[guid] < self.polls_until_ready:
            return
        if self.fail_upload_with:
            package["state"], package["data"]["error"] = "FAILED", self.fail_upload_with
            return
        package["state"] = "READY"
        package["data"]["checksum"]["value"] = hashlib.sha256(self.bits.get(guid, b"")).hexdigest()


def zip_entries(data: bytes) -> dict[str, zipfile.ZipInfo]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename: info for info in archive.infolist()}


def zip_read(data: bytes, name: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read(name)


Answer = httpx.Response | Callable[[httpx.Request], httpx.Response]


class Recorder:
    """A MockTransport handler answering canned responses in turn and keeping every request."""

    def __init__(self, *responses: Answer) -> None:
        self.responses = list(responses)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.responses.pop(0) if len(self.responses) > 1 else self.responses[0]
        return answer(request) if callable(answer) else answer

    def client(self, token: str | None = TOKEN, **kwargs: Any) -> PackagesClient:
        http = httpx.Client(transport=httpx.MockTransport(self))
        client = PackagesClient(API, token, http_client=http, **kwargs)
        client._sleep = lambda _seconds: None
        return client

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]


def body(request: httpx.Request) -> Any:
    return json.loads(request.content)
