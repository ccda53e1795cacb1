"""The tree digest: the client's (from a directory) and the server's (from a scanned zip) agree."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from capi_client.push import collect_files, write_zip
from capi_client.trees import tree_digest as client_digest
from capi_packages.bits.resources import CachedResource
from capi_packages.bits.trees import TreeItem, package_tree, tree_digest
from capi_packages.bits.zip_safety import ArchiveLimits, scan_archive

LIMITS = ArchiveLimits(10**9, 1000)


def _tree(root: Path) -> None:
    (root / "lib" / "deep").mkdir(parents=True)
    (root / "empty").mkdir()
    (root / "app.js").write_bytes(b"main\n")
    (root / "app.js").chmod(0o755)
    (root / "lib" / "a.js").write_bytes(b"a\n")
    (root / "lib" / "deep" / "blank").write_bytes(b"")
    (root / "ünïcode.txt").write_bytes(os.urandom(100))
    (root / "link").symlink_to("lib/a.js")


def _scanned_digest(root: Path, zip_path: Path, cached: list[CachedResource] | None = None) -> str | None:
    with open(zip_path, "wb") as f:
        write_zip(f, collect_files(root))
    entries = scan_archive(zip_path, LIMITS, lambda _size, _mode: True)
    tree = package_tree(entries, cached or [])
    return None if tree is None else tree_digest(tree)


def test_client_and_server_compute_the_same_digest_for_one_tree(tmp_path: Path) -> None:
    root = tmp_path / "app"
    root.mkdir()
    _tree(root)
    assert client_digest(collect_files(root)) == _scanned_digest(root, tmp_path / "a.zip")


def test_an_unhashed_file_leaves_the_tree_unknown(tmp_path: Path) -> None:
    root = tmp_path / "app"
    root.mkdir()
    _tree(root)
    zip_path = tmp_path / "a.zip"
    with open(zip_path, "wb") as f:
        write_zip(f, collect_files(root))
    assert package_tree(scan_archive(zip_path, LIMITS, None), []) is None


def test_a_resource_adds_a_file_but_never_replaces_an_uploaded_one(tmp_path: Path) -> None:
    root = tmp_path / "app"
    root.mkdir()
    _tree(root)
    big = b"x" * 70000
    sha1 = hashlib.sha1(big).hexdigest()
    cached = [CachedResource("vendor/big.bin", sha1, len(big), 0o644), CachedResource("app.js", sha1, 70000, 0o644)]
    (root / "vendor").mkdir()
    (root / "vendor" / "big.bin").write_bytes(big)
    with_big = client_digest(collect_files(root))
    (root / "vendor" / "big.bin").unlink()
    assert _scanned_digest(root, tmp_path / "a.zip", cached) == with_big


@pytest.mark.parametrize(("mode", "other"), [(0o644, 0o755), (0o600, 0o644)])
def test_modes_count(mode: int, other: int) -> None:
    assert tree_digest([TreeItem("a", mode, "0" * 40)]) != tree_digest([TreeItem("a", other, "0" * 40)])


def test_order_of_items_does_not_count_and_paths_cannot_be_confused() -> None:
    a, b = TreeItem("a", 0o644, "1" * 40), TreeItem("b", 0o644, "2" * 40)
    assert tree_digest([a, b]) == tree_digest([b, a])
    # Fields are NUL-separated: a path cannot pose as a path plus a mode.
    assert tree_digest([TreeItem("a\0644", 0o644, "1" * 40)]) != tree_digest([TreeItem("a", 0o644, "1" * 40)])
