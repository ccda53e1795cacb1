"""Re-pushes against a real server process: an unchanged tree is a server-side copy, a changed one
is uploaded as against CC, a missing stored zip falls back to uploading, and a server without push
matches (a Cloud Controller) gets CC's protocol."""

from __future__ import annotations

import importlib
import io
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import httpx
import pytest

from capi_client import Package, PackagesClient, push
from capi_client import archive as archive_module
from capi_client import tree_cache as tree_cache_module
from capi_client.push import PushResult, collect_files
from capi_client.tree_cache import TreeCache
from capi_client.trees import tree_digest
from tests.process.client_live_support import Live, multipart_parts, new_app, zip_contents

# The module, not the function capi_client exports under the same name.
push_module = importlib.import_module("capi_client.push")


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


# -- the remembered tree digest ------------------------------------------------------------------


def _unreadable(monkeypatch: pytest.MonkeyPatch) -> None:
    """From here on, reading a pushed file fails the test."""

    def refuse(*_args: object, **_kwargs: object) -> NoReturn:
        raise AssertionError("a file was read")

    for module in (archive_module, push_module):
        for name in ("hash_file", "read_whole"):
            if hasattr(module, name):
                monkeypatch.setattr(module, name, refuse)


@dataclass
class _Pushed:
    root: Path
    cache: TreeCache
    client: PackagesClient
    recorder: Any
    app_guid: str
    first: PushResult


def _pushed_once(live: Live, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> _Pushed:
    """A tree pushed once with a tree cache, old enough (as far as the cache knows) to be remembered."""
    monkeypatch.setattr(tree_cache_module, "RACY_SECONDS", 0)
    root = tmp_path / "app"
    _small_tree(root)
    cache = TreeCache(tmp_path / "trees")
    client, recorder = live.recording(capture_uploads=True)
    app = new_app(client, live)
    first = push(client, app.guid, root, timeout=60, tree_cache=cache)
    return _Pushed(root, cache, client, recorder, app.guid, first)


def test_a_remembered_unchanged_tree_is_copied_without_reading_a_file(
    live: Live, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pushed = _pushed_once(live, tmp_path, monkeypatch)
    assert len(list((tmp_path / "trees").glob("*.json"))) == 1
    _unreadable(monkeypatch)
    first = pushed.first
    again = push(pushed.client, pushed.app_guid, pushed.root, timeout=60, tree_cache=pushed.cache)
    assert again.summary.copied_from == first.package.guid and len(pushed.recorder.upload_bodies) == 1
    assert again.summary.files == first.summary.files and again.summary.file_bytes == first.summary.file_bytes


def test_a_file_rewritten_with_its_old_size_and_mtime_is_read_and_uploaded(
    live: Live, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ctime gives it away: it moves on every write and cannot be set back."""
    pushed = _pushed_once(live, tmp_path, monkeypatch)
    target = pushed.root / "node_modules" / "pkg0" / "index0.js"
    before = target.stat()
    old = target.read_bytes()
    time.sleep(0.01)
    target.write_bytes(old.replace(b"0", b"7"))
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert target.stat().st_size == before.st_size and target.stat().st_mtime_ns == before.st_mtime_ns
    again = push(pushed.client, pushed.app_guid, pushed.root, timeout=60, tree_cache=pushed.cache)
    assert again.summary.copied_from is None and len(pushed.recorder.upload_bodies) == 2
    assert _bits(pushed.client, again.package.guid)["node_modules/pkg0/index0.js"] == old.replace(b"0", b"7")


def test_a_tree_changed_just_before_its_push_is_not_remembered(live: Live, tmp_path: Path) -> None:
    root = tmp_path / "app"
    _small_tree(root)  # written just now: within the window where a write could hide
    cache = TreeCache(tmp_path / "trees")
    client = live.client()
    app = new_app(client, live)
    push(client, app.guid, root, timeout=60, tree_cache=cache)
    push(client, app.guid, root, timeout=60, tree_cache=cache)
    assert not list((tmp_path / "trees").glob("*.json"))


def test_a_cache_that_cannot_be_written_is_no_error(
    live: Live, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tree_cache_module, "RACY_SECONDS", 0)
    root = tmp_path / "app"
    _small_tree(root)
    (tmp_path / "trees").write_text("a file where the cache directory should be")
    client = live.client()
    app = new_app(client, live)
    first = push(client, app.guid, root, timeout=60, tree_cache=TreeCache(tmp_path / "trees"))
    again = push(client, app.guid, root, timeout=60, tree_cache=TreeCache(tmp_path / "trees"))
    assert again.summary.copied_from == first.package.guid
