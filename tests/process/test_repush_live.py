"""Re-pushes against a real server process: an unchanged tree is a server-side copy, a changed one
is uploaded as against CC, a missing stored zip falls back to uploading, and a server without push
matches (a Cloud Controller) gets CC's protocol."""

from __future__ import annotations

import io
import os
from pathlib import Path

import httpx

from capi_client import Package, PackagesClient, push
from capi_client.push import collect_files
from capi_client.trees import tree_digest
from tests.process.client_live_support import Live, multipart_parts, new_app, zip_contents


def _small_tree(root: Path, files: int = 40) -> None:
    for i in range(files):
        directory = root / "node_modules" / f"pkg{i // 10}"
        directory.mkdir(parents=True, exist_ok=True)
        (directory / f"index{i}.js").write_bytes(f"module.exports = {i};\n".encode() * 20)
    (root / "app.js").write_bytes(b"require('./node_modules/pkg0/index0.js')\n")
    (root / "app.js").chmod(0o755)
    (root / "big.bin").write_bytes(os.urandom(80 * 1024))
    (root / "current").symlink_to("app.js")


def _upload_paths(client_requests: list[httpx.Request]) -> list[str]:
    return [r.url.path for r in client_requests if r.url.path.endswith("/upload")]


def _bits(client: PackagesClient, guid: str) -> dict[str, bytes]:
    sink = io.BytesIO()
    client.download_bits(guid, sink)
    return zip_contents(sink.getvalue())


def test_an_unchanged_tree_is_copied_on_the_server_and_sends_no_bits(live: Live, tmp_path: Path) -> None:
    root = tmp_path / "app"
    _small_tree(root)
    client, recorder = live.recording(capture_uploads=True)
    app = new_app(client, live)
    first = push(client, app.guid, root, timeout=60)
    assert first.summary.copied_from is None and first.summary.bytes_sent > 0
    assert len(recorder.upload_bodies) == 1

    reports: list[str] = []
    before = len(recorder.requests)
    again = push(client, app.guid, root, timeout=60, report=reports.append)
    assert again.package.state == "READY" and again.package.guid != first.package.guid
    assert again.package.app_guid == app.guid
    assert len(recorder.upload_bodies) == 1  # no upload at all
    paths = [r.url.path for r in recorder.requests[before:]]
    assert f"/x/apps/{app.guid}/push_matches" in paths
    assert f"/x/packages/{first.package.guid}/duplicate" in paths
    assert "/v3/resource_matches" not in paths
    summary = again.summary
    assert (summary.copied_from, summary.bytes_sent, summary.uploaded_files) == (first.package.guid, 0, 0)
    assert summary.files == first.summary.files and summary.file_bytes == first.summary.file_bytes
    assert any(f"unchanged since package {first.package.guid}" in line for line in reports)
    assert _bits(client, again.package.guid) == _bits(client, first.package.guid)
    assert again.package.checksum_value == first.package.checksum_value


def test_the_server_records_the_digest_the_client_computes(live: Live, tmp_path: Path) -> None:
    root = tmp_path / "app"
    _small_tree(root, files=5)
    (root / "empty.txt").write_bytes(b"")
    (root / "private.key").write_bytes(b"k")
    (root / "private.key").chmod(0o600)
    client = live.client()
    app = new_app(client, live)
    pushed = push(client, app.guid, root, timeout=60).package
    assert client.match_pushed_tree(app.guid, tree_digest(collect_files(root))) == pushed.guid


def test_a_changed_file_is_uploaded_as_against_cc_and_the_rest_is_kept(live: Live, tmp_path: Path) -> None:
    root = tmp_path / "app"
    _small_tree(root)
    client, recorder = live.recording(capture_uploads=True)
    app = new_app(client, live)
    push(client, app.guid, root, timeout=60)
    (root / "app.js").write_bytes(b"console.log('changed')\n")
    again = push(client, app.guid, root, timeout=60)
    assert again.summary.copied_from is None
    parts = multipart_parts(recorder.upload_bodies[1])
    assert "big.bin" not in zip_contents(parts["bits"])  # matched in the resource pool, as in CC
    assert b'"big.bin"' in parts["resources"]
    bits = _bits(client, again.package.guid)
    assert bits["app.js"] == b"console.log('changed')\n"
    assert bits["big.bin"] == (root / "big.bin").read_bytes()


def test_a_mode_change_alone_is_a_different_tree(live: Live, tmp_path: Path) -> None:
    root = tmp_path / "app"
    _small_tree(root, files=3)
    client, recorder = live.recording(capture_uploads=True)
    app = new_app(client, live)
    push(client, app.guid, root, timeout=60)
    (root / "app.js").chmod(0o644)
    again = push(client, app.guid, root, timeout=60)
    assert again.summary.copied_from is None and len(recorder.upload_bodies) == 2


def test_a_stored_zip_gone_means_the_tree_is_uploaded_again_and_ready(live: Live, tmp_path: Path) -> None:
    root = tmp_path / "app"
    _small_tree(root)
    client, recorder = live.recording(capture_uploads=True)
    app = new_app(client, live)
    first = push(client, app.guid, root, timeout=60).package
    blobs = Path(live.env["CAPI_DATA_DIR"]) / "blobstore" / "packages"
    [blob] = [p for p in blobs.rglob(first.guid) if p.is_file()]
    blob.unlink()
    again = push(client, app.guid, root, timeout=60)
    assert again.package.state == "READY" and again.summary.copied_from is None
    assert len(recorder.upload_bodies) == 2
    assert _bits(client, again.package.guid)["app.js"] == (root / "app.js").read_bytes()


def test_a_server_without_push_matches_gets_cc_protocol(live: Live, tmp_path: Path) -> None:
    """As a Cloud Controller answers: any /x/ path is CF-NotFound."""
    root = tmp_path / "app"
    _small_tree(root)
    inner = httpx.HTTPTransport()

    class LikeCloudController(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            if request.url.path.startswith("/x/"):
                body = {"errors": [{"detail": "Unknown request", "title": "CF-NotFound", "code": 10000}]}
                return httpx.Response(404, json=body)
            return inner.handle_request(request)

        def close(self) -> None:
            inner.close()

    seen: list[httpx.Request] = []
    http = httpx.Client(timeout=30, transport=LikeCloudController(), event_hooks={"request": [seen.append]})
    live.clients.append(http)
    client = live.client(http_client=http)
    app = new_app(client, live)
    push(client, app.guid, root, timeout=60)
    again = push(client, app.guid, root, timeout=60)
    assert again.package.state == "READY" and again.summary.copied_from is None
    assert len(_upload_paths(seen)) == 2
    assert again.summary.bytes_sent > 0


def test_a_copy_that_fails_because_its_source_zip_vanished_is_followed_by_an_upload(live: Live, tmp_path: Path) -> None:
    root = tmp_path / "app"
    _small_tree(root)
    client, recorder = live.recording(capture_uploads=True)
    app = new_app(client, live)
    first = push(client, app.guid, root, timeout=60).package
    blobs = Path(live.env["CAPI_DATA_DIR"]) / "blobstore" / "packages"
    duplicate = client.duplicate_package

    def vanish_then_duplicate(guid: str) -> Package:
        # The zip goes after the match named it and before the copy job reads it.
        for blob in blobs.rglob(guid):
            blob.unlink()
        return duplicate(guid)

    client.duplicate_package = vanish_then_duplicate  # type: ignore[method-assign]
    reports: list[str] = []
    again = push(client, app.guid, root, timeout=60, report=reports.append)
    assert again.package.state == "READY" and again.summary.copied_from is None
    assert len(recorder.upload_bodies) == 2
    assert any("failed to copy - source package has no bits" in line for line in reports)
    failed = [p for p in client.iter_app_packages(app.guid) if p.state == "FAILED"]
    assert len(failed) == 1
    assert _bits(client, again.package.guid)["app.js"] == (root / "app.js").read_bytes()
    assert first.guid not in {p.guid for p in failed}
