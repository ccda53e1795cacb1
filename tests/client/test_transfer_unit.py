"""Bits over the wire: the streamed multipart upload and the redirect-following download."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from capi_client import (
    CapiError,
    MultipartUpload,
    NotAuthorizedError,
    PackagesClient,
    Resource,
    UnprocessableEntityError,
)
from tests.client.fake_api import (
    API,
    TOKEN,
    FakeApi,
    Recorder,
    envelope,
    parse_multipart,
    part_name,
)


@pytest.fixture
def fake() -> FakeApi:
    return FakeApi()


@pytest.fixture
def client(fake: FakeApi) -> PackagesClient:
    api = PackagesClient(API, TOKEN, http_client=fake.client())
    api._sleep = lambda _seconds: None
    return api


# -- upload ----------------------------------------------------------------------------------


def test_upload_sends_resources_first_then_the_zip_as_package_zip(
    fake: FakeApi, client: PackagesClient, tmp_path: Path
) -> None:
    package = fake.add_package()
    zip_path = tmp_path / "app.zip"
    zip_path.write_bytes(b"PK\x05\x06" + b"\0" * 18)
    cached = {"checksum": {"value": "a" * 40}, "size_in_bytes": 70000, "path": "lib/x.jar", "mode": "644"}
    result = client.upload_bits(package["guid"], zip_path, resources=[Resource.from_json(cached)])
    assert result.state == "PROCESSING_UPLOAD"
    request = fake.requests[-1]
    assert (request.method, request.url.path) == ("POST", f"/v3/packages/{package['guid']}/upload")
    assert request.headers["content-length"] == str(len(request.content))
    assert "transfer-encoding" not in request.headers
    assert request.headers["authorization"] == f"bearer {TOKEN}"
    (resources_headers, resources_data), (bits_headers, bits_data) = parse_multipart(request)
    assert resources_headers == {"content-disposition": 'form-data; name="resources"'}
    assert json.loads(resources_data) == [cached]
    assert part_name(bits_headers) == "bits"
    assert 'filename="package.zip"' in bits_headers["content-disposition"]
    assert bits_headers["content-type"] == "application/zip"
    assert bits_data == zip_path.read_bytes()


def test_upload_of_resources_only_has_no_bits_part(fake: FakeApi, client: PackagesClient) -> None:
    package = fake.add_package()
    client.upload_bits(package["guid"], resources='[{"sha1":"x","size":1,"fn":"a"}]')
    parts = parse_multipart(fake.requests[-1])
    expected = [("resources", b'[{"sha1":"x","size":1,"fn":"a"}]')]
    assert [(part_name(h), d) for h, d in parts] == expected


def test_upload_needs_bits_or_resources(client: PackagesClient) -> None:
    with pytest.raises(ValueError, match="bits, resources or both"):
        client.upload_bits("pkg-1")


class CountingFile(io.BytesIO):
    largest_read = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        CountingFile.largest_read = max(CountingFile.largest_read, len(chunk))
        return chunk


def test_multipart_body_is_a_generator_of_small_chunks_with_a_known_length() -> None:
    data = bytes(range(256)) * 8192  # 2 MiB
    source = CountingFile(data)
    seen: list[tuple[int, int | None]] = []
    upload = MultipartUpload("[]", source, progress=lambda done, total: seen.append((done, total)), chunk_size=65536)
    chunks = list(upload)
    assert len(chunks) > 30 and max(len(c) for c in chunks) <= 65536
    assert CountingFile.largest_read <= 65536
    assert sum(map(len, chunks)) == upload.content_length
    assert seen[-1] == (len(data), len(data)) and len(seen) == 32
    # Iterating again re-reads the file: a retried request sends the same body.
    assert b"".join(upload) == b"".join(chunks)


def test_upload_spools_a_stream_that_cannot_seek(fake: FakeApi, client: PackagesClient) -> None:
    class Pipe(io.RawIOBase):
        def __init__(self, data: bytes) -> None:
            self._source = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: Any) -> int:
            chunk = self._source.read(len(buffer))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    package = fake.add_package()
    client.upload_bits(package["guid"], Pipe(b"zipdata"))  # type: ignore[arg-type]
    assert fake.bits[package["guid"]] == b"zipdata"


# -- download --------------------------------------------------------------------------------


def test_download_follows_a_cross_host_redirect_without_the_token(fake: FakeApi, tmp_path: Path) -> None:
    package = fake.add_package(state="READY")
    fake.bits[package["guid"]] = b"zip bytes"
    # Even a client that follows redirects itself, and carries its own headers, must not leak them.
    http = httpx.Client(
        transport=httpx.MockTransport(fake.handle),
        follow_redirects=True,
        headers={"X-Team-Secret": "s3cr3t"},
        cookies={"session": "c"},
    )
    client = PackagesClient(API, TOKEN, http_client=http)
    progress: list[tuple[int, int | None]] = []
    dest = tmp_path / "out.zip"
    size = client.download_bits(package["guid"], dest, progress=lambda *p: progress.append(p))
    assert size == 9 and (tmp_path / "out.zip").read_bytes() == b"zip bytes"
    api_request, blob_request = fake.requests
    assert api_request.url.path == f"/v3/packages/{package['guid']}/download"
    assert api_request.headers["authorization"] == f"bearer {TOKEN}"
    assert str(blob_request.url) == f"http://blobs.test/signed/{package['guid']}?sig=abc"
    for header in ("authorization", "x-team-secret", "cookie"):
        assert header not in blob_request.headers
    assert progress[-1] == (9, 9)
    assert list(tmp_path.iterdir()) == [tmp_path / "out.zip"]


def test_download_drops_the_token_even_on_a_same_origin_redirect() -> None:
    """A signed download URL is its own credential; the bearer token never follows a redirect."""
    recorder = Recorder(
        httpx.Response(302, headers={"Location": "/internal/blobs/pkg-1"}),
        httpx.Response(200, content=b"bits"),
    )
    out = io.BytesIO()
    assert recorder.client().download_bits("pkg-1", out) == 4
    assert out.getvalue() == b"bits"
    assert recorder.last.url == httpx.URL(f"{API}/internal/blobs/pkg-1")
    assert "authorization" not in recorder.last.headers


def test_download_streams_a_200_and_reports_api_errors(tmp_path: Path) -> None:
    recorder = Recorder(httpx.Response(200, content=b"direct"))
    assert recorder.client().download_bits("pkg-1", tmp_path / "a.zip") == 6
    no_bits = "Package has no bits to download."
    recorder = Recorder(envelope(422, "CF-UnprocessableEntity", no_bits, 10008))
    with pytest.raises(UnprocessableEntityError, match="no bits"):
        recorder.client().download_bits("pkg-1", tmp_path / "b.zip")
    assert not (tmp_path / "b.zip").exists() and [p.name for p in tmp_path.iterdir()] == ["a.zip"]


def test_download_blobstore_error_is_raised_and_leaves_no_file(tmp_path: Path) -> None:
    recorder = Recorder(
        httpx.Response(302, headers={"Location": "https://blobs.example/x"}),
        httpx.Response(403, text="<Error>SignatureDoesNotMatch</Error>"),
    )
    with pytest.raises(NotAuthorizedError) as caught:
        recorder.client().download_bits("pkg-1", tmp_path / "c.zip")
    assert caught.value.title == "HTTP 403" and "SignatureDoesNotMatch" in caught.value.detail
    assert list(tmp_path.iterdir()) == []


def test_download_gives_up_on_a_redirect_loop() -> None:
    recorder = Recorder(httpx.Response(302, headers={"Location": f"{API}/again"}))
    with pytest.raises(CapiError, match="redirects"):
        recorder.client().download_bits("pkg-1", io.BytesIO())
