"""Downloads through a real server go out with sendfile: whole, as a Range slice, and for HEAD."""

from __future__ import annotations

import os
import time
import uuid

import httpx
import pytest

from tests.factories import make_zip
from tests.process.conftest import mint, running_server

CONTENT = make_zip({"big.bin": os.urandom(3 * 1024 * 1024), "index.js": "ok"})


@pytest.fixture(scope="module", params=["redirect", "stream"])
def ready_package(request, tmp_path_factory):
    with running_server(tmp_path_factory.mktemp(request.param), CAPI_DOWNLOAD_MODE=request.param) as (url, env):
        h = {"Authorization": f"bearer {mint(env, '--user-id', 'root', '--admin')}"}
        post = lambda path, body: httpx.post(url + path, json=body, headers=h).json()  # noqa: E731
        org = post("/v3/organizations", {"name": f"o-{uuid.uuid4().hex[:6]}"})
        rel = {"organization": {"data": {"guid": org["guid"]}}}
        space = post("/v3/spaces", {"name": "s", "relationships": rel})
        app = post("/v3/apps", {"name": "a", "relationships": {"space": {"data": {"guid": space["guid"]}}}})
        pkg = post("/v3/packages", {"type": "bits", "relationships": {"app": {"data": {"guid": app["guid"]}}}})
        files = {"bits": ("package.zip", CONTENT, "application/zip")}
        assert httpx.post(f"{url}/v3/packages/{pkg['guid']}/upload", files=files, headers=h).status_code == 200
        deadline = time.monotonic() + 30
        while httpx.get(f"{url}/v3/packages/{pkg['guid']}", headers=h).json()["state"] != "READY":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        yield url, h, pkg["guid"]


def blob_url(url, headers, guid) -> str:
    r = httpx.get(f"{url}/v3/packages/{guid}/download", headers=headers)
    if r.status_code == 302:
        return r.headers["location"]
    assert r.status_code == 200
    return f"{url}/v3/packages/{guid}/download"


def test_the_whole_zip_arrives_byte_for_byte(ready_package):
    url, h, guid = ready_package
    r = httpx.get(blob_url(url, h, guid), headers=h)
    assert r.status_code == 200
    assert r.headers["content-length"] == str(len(CONTENT))
    assert r.content == CONTENT


@pytest.mark.parametrize(("spec", "start", "end"), [("bytes=100-199", 100, 200), ("bytes=-50", None, None)])
def test_a_range_request_gets_exactly_that_slice(ready_package, spec, start, end):
    url, h, guid = ready_package
    r = httpx.get(blob_url(url, h, guid), headers={**h, "Range": spec})
    assert r.status_code == 206
    expected = CONTENT[start:end] if start is not None else CONTENT[-50:]
    assert r.content == expected
    assert r.headers["content-length"] == str(len(expected))
    assert r.headers["content-range"].endswith(f"/{len(CONTENT)}")


def test_head_gets_the_headers_and_no_body(ready_package):
    url, h, guid = ready_package
    r = httpx.head(blob_url(url, h, guid), headers=h)
    assert r.status_code == 200
    assert r.headers["content-length"] == str(len(CONTENT))
    assert r.content == b""


def test_a_keep_alive_connection_serves_requests_after_a_zero_copy_download(ready_package):
    url, h, guid = ready_package
    with httpx.Client(headers=h) as client:
        target = blob_url(url, h, guid)
        for _ in range(3):
            assert client.get(target).content == CONTENT
        assert client.get(f"{url}/v3/packages/{guid}").json()["guid"] == guid
