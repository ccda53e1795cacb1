"""The push zip, entry by entry, against what the cf CLI 8.6.1 writes for its own test fixtures.

The tree and the expectations come from the cf CLI's actor/sharedaction resource tests
(resource_test.go, resource_unix_test.go): `level1/level2/tmpFile1`, `tmpFile2`, `tmpFile3`, two
relative symlinks, a `.cfignore` naming `level2`, and every default-ignored name at two depths.
The cf CLI walks with Go's filepath.Walk (names sorted, a directory before its contents), gives
directories mode 0755 and keeps each file's own mode.
"""

from __future__ import annotations

import io
import os
import stat
import zipfile
from pathlib import Path

import pytest

from capi_client import DEFAULT_IGNORES, collect_files, write_zip

DIR = stat.S_IFREG | 0o755  # Go's zip.FileHeader.SetMode(0755): no directory type bit
LINK = stat.S_IFLNK | 0o777
SHA1 = {
    "level1/level2/tmpFile1": "9e36efec86d571de3a38389ea799a796fe4782f4",
    "tmpFile2": "e594bdc795bb293a0e55724137e53a36dc0d9e95",
    "tmpFile3": "f4c9ca85f3e084ffad3abbdabbd2a890c034c879",
}


@pytest.fixture
def src_dir(tmp_path: Path) -> Path:
    root = tmp_path / "resource-actions-test"
    sub = root / "level1" / "level2"
    sub.mkdir(parents=True)
    for path, data, mode in (
        (sub / "tmpFile1", b"why hello", 0o644),
        (root / "tmpFile2", b"Hello, Binky", 0o751),
        (root / "tmpFile3", b"Bananarama", 0o655),
    ):
        path.write_bytes(data)
        path.chmod(mode)
    os.symlink("level1/level2/tmpFile1", root / "symlink1")
    os.symlink("../../tmpfile2", sub / "symlink2")
    return root


def zipped(root: Path) -> list[tuple[str, int, bytes]]:
    buffer = io.BytesIO()
    write_zip(buffer, collect_files(root))
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as archive:
        return [(i.filename, i.external_attr >> 16, archive.read(i)) for i in archive.infolist()]


def test_the_zip_holds_the_cf_cli_entries_in_its_order_with_its_modes(src_dir: Path) -> None:
    assert zipped(src_dir) == [
        ("level1/", DIR, b""),
        ("level1/level2/", DIR, b""),
        ("level1/level2/symlink2", LINK, b"../../tmpfile2"),
        ("level1/level2/tmpFile1", stat.S_IFREG | 0o644, b"why hello"),
        ("symlink1", LINK, b"level1/level2/tmpFile1"),
        ("tmpFile2", stat.S_IFREG | 0o751, b"Hello, Binky"),
        ("tmpFile3", stat.S_IFREG | 0o655, b"Bananarama"),
    ]


def test_fingerprints_are_the_cf_cli_sha1s_and_sizes(src_dir: Path) -> None:
    files = {f.path: f for f in collect_files(src_dir) if f.is_regular}
    assert {path: f.sha1 for path, f in files.items()} == SHA1
    assert {path: f.size for path, f in files.items()} == {
        "level1/level2/tmpFile1": 9,
        "tmpFile2": 12,
        "tmpFile3": 10,
    }


def test_a_cfignore_naming_a_directory_drops_it_and_all_it_holds(src_dir: Path) -> None:
    (src_dir / ".cfignore").write_bytes(b"level2")
    assert [name for name, _, _ in zipped(src_dir)] == ["level1/", "symlink1", "tmpFile2", "tmpFile3"]


def test_every_default_ignored_name_is_dropped_at_any_depth(src_dir: Path) -> None:
    for name in DEFAULT_IGNORES:
        if name != ".cfignore":
            (src_dir / name).write_bytes(b"")
            (src_dir / "level1" / name).write_bytes(b"")
    assert [name for name, _, _ in zipped(src_dir)] == [
        "level1/",
        "level1/level2/",
        "level1/level2/symlink2",
        "level1/level2/tmpFile1",
        "symlink1",
        "tmpFile2",
        "tmpFile3",
    ]


def test_an_empty_directory_travels_as_its_own_entry(src_dir: Path) -> None:
    (src_dir / "level1" / "empty").mkdir()
    names = [name for name, _, _ in zipped(src_dir)]
    assert names[:3] == ["level1/", "level1/empty/", "level1/level2/"]


def test_compressed_formats_are_stored_and_the_rest_deflated(tmp_path: Path) -> None:
    (tmp_path / "lib.jar").write_bytes(b"PK" + os.urandom(2000))
    (tmp_path / "app.js").write_bytes(b"console.log(1);\n" * 100)
    buffer = io.BytesIO()
    write_zip(buffer, collect_files(tmp_path))
    with zipfile.ZipFile(buffer) as archive:
        methods = {i.filename: i.compress_type for i in archive.infolist()}
    assert methods == {"app.js": zipfile.ZIP_DEFLATED, "lib.jar": zipfile.ZIP_STORED}
