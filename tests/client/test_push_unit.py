"""push_directory against the fake API: what goes in the zip, what goes in `resources`."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path

import pytest

from capi_client import PackageFailedError, PackagesClient, collect_files, push_directory
from tests.client.fake_api import API, TOKEN, FakeApi, part_name, zip_entries, zip_read

CACHED = b"c" * 70000


@pytest.fixture
def fake() -> FakeApi:
    api = FakeApi()
    api.cache[hashlib.sha1(CACHED).hexdigest()] = CACHED
    return api


@pytest.fixture
def client(fake: FakeApi) -> PackagesClient:
    api = PackagesClient(API, TOKEN, http_client=fake.client())
    api._sleep = lambda _seconds: None
    return api


def write(root: Path, rel: str, data: bytes = b"x", mode: int = 0o644) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    path.chmod(mode)
    return path


@pytest.fixture
def app_dir(tmp_path: Path) -> Path:
    root = tmp_path / "app"
    write(root, "app.py", b"print('hi')\n", 0o755)
    write(root, "lib/util.py", b"X = 1\n", 0o640)
    write(root, "lib/vendor.jar", CACHED)
    write(root, "empty.txt", b"")
    write(root, "config/manifest.yml", b"a manifest is skipped at any depth")
    write(root, "manifest.yml", b"root manifest")
    write(root, ".git/config", b"[core]")
    write(root, ".gitignore", b"*.pyc")
    write(root, ".DS_Store", b"mac")
    write(root, "lib/.DS_Store", b"mac")
    write(root, "debug.log", b"noise")
    write(root, "keep.log", b"signal")
    write(root, "tmp/cache.bin", b"scratch")
    write(root, "docs/a/b/notes.md", b"notes")
    write(root, "docs/readme.txt", b"readme")
    write(root, ".cfignore", b"# local junk\n*.log\n!keep.log\ntmp/\ndocs/**/*.md\n")
    os.symlink("app.py", root / "link.py")
    os.symlink("lib", root / "lib-link")
    return root


def uploaded(fake: FakeApi, guid: str) -> tuple[list, bytes | None]:
    parts = fake.uploads[guid]["parts"]
    assert part_name(parts[0][0]) == "resources"
    resources = json.loads(parts[0][1])
    bits = parts[1][1] if len(parts) > 1 else None
    return resources, bits


def test_push_zips_unmatched_files_with_modes_and_symlinks(
    fake: FakeApi, client: PackagesClient, app_dir: Path
) -> None:
    package = push_directory(client, "app-1", app_dir)
    assert package.state == "READY"

    resources, bits = uploaded(fake, package.guid)
    assert bits is not None
    entries = zip_entries(bits)
    # The cf CLI's order (depth first, names sorted), without the directory entries the package
    # would not keep.
    assert list(entries) == [
        "app.py",
        "docs/readme.txt",
        "empty.txt",
        "keep.log",
        "lib/util.py",
        "lib-link",
        "link.py",
    ]
    assert entries["app.py"].external_attr >> 16 == stat.S_IFREG | 0o755
    assert entries["lib/util.py"].external_attr >> 16 == stat.S_IFREG | 0o640
    assert entries["empty.txt"].file_size == 0
    assert entries["link.py"].external_attr == 0o120777 << 16
    assert zip_read(bits, "link.py") == b"app.py"
    assert zip_read(bits, "lib-link") == b"lib"
    assert zip_read(bits, "app.py") == b"print('hi')\n"
    # The cached file travels as a resource, echoed exactly as the match returned it.
    assert resources == [
        {
            "checksum": {"value": hashlib.sha1(CACHED).hexdigest()},
            "size_in_bytes": 70000,
            "path": "lib/vendor.jar",
            "mode": "644",
        }
    ]


def test_push_asks_resource_matches_only_about_files_the_pool_could_hold(
    fake: FakeApi, client: PackagesClient, app_dir: Path
) -> None:
    push_directory(client, "app-1", app_dir)
    match_request = next(r for r in fake.requests if r.url.path == "/v3/resource_matches")
    asked = json.loads(match_request.content)["resources"]
    # Files under CC's resource_pool.minimum_size (64 KiB) can never be cached: they are zipped
    # while the tree is read, without asking.
    assert asked == [
        {
            "checksum": {"value": hashlib.sha1(CACHED).hexdigest()},
            "size_in_bytes": 70000,
            "path": "lib/vendor.jar",
            "mode": "644",
        }
    ]


def test_push_follows_the_cf_cli_order_of_calls(fake: FakeApi, client: PackagesClient, app_dir: Path) -> None:
    push_directory(client, "app-1", app_dir)
    calls = [(r.method, r.url.path.replace(next(iter(fake.packages)), "G")) for r in fake.requests]
    # First the probe for our push matches, which a Cloud Controller answers 404; then the cf CLI's calls.
    assert calls == [
        ("POST", "/x/apps/app-1/push_matches"),
        ("POST", "/v3/resource_matches"),
        ("POST", "/v3/packages"),
        ("POST", "/v3/packages/G/upload"),
        ("GET", "/v3/packages/G"),
    ]


def test_everything_matched_uploads_resources_without_bits(
    fake: FakeApi, client: PackagesClient, tmp_path: Path
) -> None:
    write(tmp_path, "a.jar", CACHED)
    write(tmp_path, "c.jar", CACHED, 0o600)
    package = push_directory(client, "app-1", tmp_path)
    resources, bits = uploaded(fake, package.guid)
    assert bits is None
    assert [(r["path"], r["mode"]) for r in resources] == [("a.jar", "644"), ("c.jar", "600")]


def test_a_tree_of_only_empty_directories_sends_them_as_the_cf_cli_does(
    fake: FakeApi, client: PackagesClient, tmp_path: Path
) -> None:
    # With nothing else to send, the directory entries go up, so the server answers what it
    # answers the cf CLI for such a zip rather than for an upload with no bits at all.
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "c").mkdir()
    package = push_directory(client, "app-1", tmp_path)
    resources, bits = uploaded(fake, package.guid)
    assert resources == []
    assert bits is not None
    entries = zip_entries(bits)
    assert list(entries) == ["a/", "a/b/", "c/"]
    assert entries["a/"].external_attr >> 16 == stat.S_IFREG | 0o755


def test_push_without_wait_returns_the_processing_package(
    fake: FakeApi, client: PackagesClient, tmp_path: Path
) -> None:
    write(tmp_path, "a.txt")
    package = push_directory(client, "app-1", tmp_path, wait=False)
    assert package.state == "PROCESSING_UPLOAD"
    assert not any(r.method == "GET" for r in fake.requests)


def test_push_reports_a_failed_package(fake: FakeApi, client: PackagesClient, tmp_path: Path) -> None:
    fake.fail_upload_with = "The app package is invalid: Package may not be larger than 42 bytes"
    write(tmp_path, "a.txt")
    with pytest.raises(PackageFailedError, match="may not be larger"):
        push_directory(client, "app-1", tmp_path)


def test_push_of_an_empty_directory_is_refused_before_any_call(
    fake: FakeApi, client: PackagesClient, tmp_path: Path
) -> None:
    write(tmp_path, ".cfignore", b"*\n")
    with pytest.raises(ValueError, match="nothing to push"):
        push_directory(client, "app-1", tmp_path)
    assert fake.requests == []
    with pytest.raises(NotADirectoryError):
        push_directory(client, "app-1", tmp_path / ".cfignore")


def test_progress_sees_the_whole_zip(fake: FakeApi, client: PackagesClient, tmp_path: Path) -> None:
    write(tmp_path, "big.bin", os.urandom(600_000))
    seen: list[tuple[int, int | None]] = []
    package = push_directory(client, "app-1", tmp_path, progress=lambda *p: seen.append(p))
    _, bits = uploaded(fake, package.guid)
    assert bits is not None and seen[-1] == (len(bits), len(bits)) and len(seen) > 1


def test_collect_files_skips_what_cannot_be_packaged(tmp_path: Path) -> None:
    write(tmp_path, "a.txt", b"abc")
    os.mkfifo(tmp_path / "pipe")
    os.symlink("missing-target", tmp_path / "dangling")
    (tmp_path / "empty-dir").mkdir()
    found = {f.path: f for f in collect_files(tmp_path)}
    assert list(found) == ["a.txt", "dangling", "empty-dir"]
    assert found["empty-dir"].is_dir and found["empty-dir"].mode == 0o755
    assert found["dangling"].link_target == "missing-target"
    assert found["a.txt"].fingerprint().sha1 == hashlib.sha1(b"abc").hexdigest()
