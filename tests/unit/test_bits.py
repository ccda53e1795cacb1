"""Unit tests for capi_packages.bits: zip safety scan, pool candidates, package assembly."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import stat
import struct
import subprocess
import sys
import time
import zipfile
import zlib
from pathlib import Path

import pytest

from capi_packages.bits.assembly import (
    CachedResource,
    PackageChecksums,
    build_package_zip,
    parse_resources,
)
from capi_packages.bits.fingerprints import Fingerprint, extract_entry, pool_candidates
from capi_packages.bits.zip_safety import ArchiveLimits, ScannedEntry, data_offset, scan_archive
from capi_packages.errors import (
    AppBitsUploadInvalid,
    AppPackageInvalid,
    FileModeInvalid,
    FilePathInvalid,
    ResourceChecksumMismatch,
)

MiB = 1 << 20
LIMITS = ArchiveLimits(max_total_bytes=1 << 30, max_entries=1000)
INVALID_ZIP = "The app upload is invalid: Invalid zip archive."


# --- helpers ---------------------------------------------------------------------------------


def add_file(zf: zipfile.ZipFile, name: str, data: bytes, mode: int = 0o644,
             method: int = zipfile.ZIP_DEFLATED) -> None:
    info = zipfile.ZipInfo(name, date_time=(2020, 5, 17, 12, 30, 44))
    info.create_system = 3
    info.external_attr = (stat.S_IFREG | mode) << 16
    info.compress_type = method
    zf.writestr(info, data)


def add_dir(zf: zipfile.ZipFile, name: str, mode: int = 0o755) -> None:
    info = zipfile.ZipInfo(name.rstrip("/") + "/")
    info.create_system = 3
    info.external_attr = ((stat.S_IFDIR | mode) << 16) | 0x10
    zf.writestr(info, b"")


def add_link(zf: zipfile.ZipFile, name: str, target: str) -> None:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    zf.writestr(info, target.encode())


def make_zip(path: Path, build) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        build(zf)
    return path


def sha1_of(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def patch(path: Path, offset: int, fmt: str, *values: int) -> None:
    data = bytearray(path.read_bytes())
    struct.pack_into(fmt, data, offset, *values)
    path.write_bytes(bytes(data))


def central_offset(path: Path) -> int:
    """Offset of the first central directory record (single-entry zips in these tests)."""
    return path.read_bytes().rfind(b"PK\x01\x02")


def unzip_test(path: Path) -> None:
    if shutil.which("unzip") is None:
        return
    result = subprocess.run(["unzip", "-t", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


class Pool:
    def __init__(self, blobs: dict[str, bytes]) -> None:
        self.blobs = blobs
        self.opened: list[str] = []

    def __call__(self, sha1: str) -> io.BytesIO:
        self.opened.append(sha1)
        return io.BytesIO(self.blobs[sha1])


def mode_of(info: zipfile.ZipInfo) -> int:
    return (info.external_attr >> 16) & 0o777


# --- scan: happy paths -----------------------------------------------------------------------


def test_scan_reports_real_sizes_modes_sha1_and_links(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "a.zip", lambda zf: (
        add_dir(zf, "app"),
        add_file(zf, "app/run.sh", b"#!/bin/sh\n", 0o755),
        add_file(zf, "app/data.txt", b"x" * 5000, 0o600, zipfile.ZIP_STORED),
        add_file(zf, "app/big.bin", b"y" * 70000, 0o644, zipfile.ZIP_BZIP2),
        add_link(zf, "app/current", "data.txt"),
        add_link(zf, "dangling", "app/missing"),
    ))
    entries = scan_archive(path, LIMITS)
    by_name = {e.name: e for e in entries}
    assert [e.name for e in entries] == ["app/", "app/run.sh", "app/data.txt", "app/big.bin",
                                        "app/current", "dangling"]
    assert by_name["app/"].is_dir and not by_name["app/"].is_symlink
    assert by_name["app/run.sh"].mode == 0o755
    assert by_name["app/data.txt"] == ScannedEntry("app/data.txt", False, False, 0o600, 5000,
                                                   sha1_of(b"x" * 5000), None)
    assert by_name["app/big.bin"].size == 70000
    link = by_name["app/current"]
    assert link.is_symlink and link.link_target == "data.txt" and link.sha1 == sha1_of(b"data.txt")
    assert by_name["dangling"].is_symlink


def test_scan_defaults_mode_when_zip_has_no_unix_mode(tmp_path: Path) -> None:
    path = tmp_path / "dos.zip"
    with zipfile.ZipFile(path, "w") as zf:
        info = zipfile.ZipInfo("file.txt")
        info.create_system = 0
        info.external_attr = 0x20  # MS-DOS archive bit only
        zf.writestr(info, b"hi")
    assert scan_archive(path, LIMITS)[0].mode == 0o744


def test_empty_zip_scans_to_empty_list(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "empty.zip", lambda zf: None)
    assert scan_archive(path, LIMITS) == []


def test_force_zip64_entry_scans_and_builds(tmp_path: Path) -> None:
    path = tmp_path / "z64.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("big.txt", "w", force_zip64=True) as w:
            for _ in range(3):
                w.write(b"zip64 " * 10000)
        add_file(zf, "small.txt", b"small")
    entries = scan_archive(path, LIMITS)
    assert [e.size for e in entries] == [180000, 5]
    out = tmp_path / "out.zip"
    build_package_zip(path, entries, [], Pool({}), out, LIMITS.max_total_bytes)
    with zipfile.ZipFile(out) as zf:
        assert zf.read("big.txt") == b"zip64 " * 30000
    unzip_test(out)


def test_more_than_65535_entries_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "many.zip"
    count = 65600
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for i in range(count):
            zf.writestr(f"f{i}", b"")
    entries = scan_archive(path, ArchiveLimits(1 << 20, 100000))
    assert len(entries) == count
    out = tmp_path / "out.zip"
    build_package_zip(path, entries, [], Pool({}), out, 1 << 20)
    with zipfile.ZipFile(out) as zf:
        assert len(zf.infolist()) == count
    unzip_test(out)
    with pytest.raises(AppPackageInvalid):
        scan_archive(path, ArchiveLimits(1 << 20, 65535))


@pytest.mark.skipif(not os.environ.get("CAPI_SLOW_TESTS"), reason="set CAPI_SLOW_TESTS=1")
def test_entry_larger_than_4_gib(tmp_path: Path) -> None:
    path = tmp_path / "huge.zip"
    size = (4 << 30) + MiB
    chunk = bytes(16 * MiB)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        with zf.open("zeros", "w", force_zip64=True) as w:
            for _ in range(size // len(chunk)):
                w.write(chunk)
            w.write(bytes(size % len(chunk)))
    entries = scan_archive(path, ArchiveLimits(5 << 30, 10))
    assert entries[0].size == size
    out = tmp_path / "out.zip"
    build_package_zip(path, entries, [], Pool({}), out, 5 << 30)
    with zipfile.ZipFile(out) as zf:
        assert zf.getinfo("zeros").file_size == size
    unzip_test(out)


# --- scan: malformed and hostile archives -----------------------------------------------------


def assert_invalid(path: Path, limits: ArchiveLimits = LIMITS, text: str = INVALID_ZIP) -> None:
    with pytest.raises(AppBitsUploadInvalid) as caught:
        scan_archive(path, limits)
    assert str(caught.value) == text


def test_not_a_zip(tmp_path: Path) -> None:
    path = tmp_path / "junk.zip"
    path.write_bytes(os.urandom(4096))
    assert_invalid(path)


def test_truncated_zip(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "t.zip", lambda zf: add_file(zf, "a", os.urandom(50000)))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    assert_invalid(path)


def test_truncated_data_with_intact_directory(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "t.zip", lambda zf: add_file(zf, "a", os.urandom(50000)))
    data = path.read_bytes()
    cd = central_offset(path)
    # Drop 1000 bytes of entry data but keep the directory (its offsets now point past the end).
    path.write_bytes(data[: cd - 1000] + data[cd:])
    assert_invalid(path)


def test_bad_crc(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "c.zip", lambda zf: add_file(zf, "a", b"hello world" * 100))
    crc = zlib.crc32(b"something else")
    patch(path, 14, "<I", crc)
    patch(path, central_offset(path) + 16, "<I", crc)
    assert_invalid(path)


def test_encrypted_entry(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "e.zip", lambda zf: add_file(zf, "secret", b"data"))
    flags = struct.unpack_from("<H", path.read_bytes(), 6)[0]
    patch(path, 6, "<H", flags | 1)
    patch(path, central_offset(path) + 8, "<H", flags | 1)
    assert_invalid(path)


def test_unsupported_compression(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "m.zip", lambda zf: add_file(zf, "a", b"data"))
    patch(path, 8, "<H", 9)  # deflate64
    patch(path, central_offset(path) + 10, "<H", 9)
    assert_invalid(path)


def test_local_name_differs_from_directory(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "n.zip", lambda zf: add_file(zf, "abc", b"data"))
    data = bytearray(path.read_bytes())
    data[30:33] = b"../"[:3]
    path.write_bytes(bytes(data))
    assert_invalid(path)


@pytest.mark.parametrize("name", ["../x", "a/../../x", "a/../b", "/etc/x", "C:\\x", "\\x",
                                  "a\\..\\..\\x"])
def test_entry_outside_package(tmp_path: Path, name: str) -> None:
    path = tmp_path / "p.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(name, b"evil")
    with pytest.raises(AppBitsUploadInvalid) as caught:
        scan_archive(path, LIMITS)
    with zipfile.ZipFile(path) as zf:
        stored = zf.infolist()[0].filename
    assert str(caught.value) == (
        f"The app upload is invalid: Entry '{stored}' has a path outside the package."
    )


@pytest.mark.parametrize(("name", "target"), [
    ("link", "../../etc"),
    ("sub/link", "../../etc"),
    ("link", "/etc/passwd"),
    ("a/b/link", "../../../x"),
])
def test_symlink_escaping(tmp_path: Path, name: str, target: str) -> None:
    path = make_zip(tmp_path / "s.zip", lambda zf: add_link(zf, name, target))
    assert_invalid(path, text=(
        f"The app upload is invalid: Symlink '{name}' points outside the package: '{target}'."
    ))


def test_symlink_escaping_through_another_symlink(tmp_path: Path) -> None:
    # Each target is inside lexically; only following sub/up (-> root) makes `up/..` escape.
    path = make_zip(tmp_path / "s.zip", lambda zf: (
        add_link(zf, "sub/up", ".."),
        add_link(zf, "escape", "sub/up/.."),
    ))
    assert_invalid(path, text=(
        "The app upload is invalid: Symlink 'escape' points outside the package: 'sub/up/..'."
    ))


def test_symlink_placed_inside_a_linked_directory(tmp_path: Path) -> None:
    # `here` is the root, so `here/l -> ..` is created at the root and points above it.
    path = make_zip(tmp_path / "s.zip", lambda zf: (
        add_link(zf, "here", "."),
        add_link(zf, "here/l", ".."),
    ))
    with pytest.raises(AppBitsUploadInvalid, match="Symlink 'here/l' points outside"):
        scan_archive(path, LIMITS)


@pytest.mark.parametrize("target", ["", "a" * 5000, "x\0y"])
def test_symlink_with_unusable_target(tmp_path: Path, target: str) -> None:
    path = make_zip(tmp_path / "s.zip", lambda zf: add_link(zf, "link", target))
    assert_invalid(path, text="The app upload is invalid: Symlink 'link' has an invalid target.")


def test_symlinks_inside_are_fine(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "s.zip", lambda zf: (
        add_link(zf, "node_modules/.bin/mime", "../mime/cli.js"),
        add_link(zf, "a/b/c", "../../x/../y"),
        add_link(zf, "dangling", "nowhere/at/all"),
    ))
    assert [e.is_symlink for e in scan_archive(path, LIMITS)] == [True, True, True]


def test_bomb_by_ratio_fails_fast(tmp_path: Path) -> None:
    path = tmp_path / "bomb.zip"
    zeros = bytes(MiB)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        with zf.open("zeros", "w") as w:
            for _ in range(200):
                w.write(zeros)
    assert path.stat().st_size < 2 * MiB
    started = time.monotonic()
    with pytest.raises(AppPackageInvalid) as caught:
        scan_archive(path, ArchiveLimits(10 * MiB, 100))
    assert time.monotonic() - started < 2
    assert str(caught.value) == (
        "The app package is invalid: Package may not be larger than 10485760 bytes"
    )


@pytest.mark.parametrize("limit", [10 * MiB, 1 << 30])
def test_bomb_with_lying_header(tmp_path: Path, limit: int) -> None:
    path = tmp_path / "liar.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        with zf.open("zeros", "w") as w:
            for _ in range(50):
                w.write(bytes(MiB))
    # Claim 1000 bytes, with the CRC of those 1000 bytes, in both headers.
    crc = zlib.crc32(bytes(1000))
    cd = central_offset(path)
    patch(path, 14, "<I", crc)
    patch(path, 22, "<I", 1000)
    patch(path, cd + 16, "<I", crc)
    patch(path, cd + 24, "<I", 1000)
    started = time.monotonic()
    with pytest.raises(AppBitsUploadInvalid) as caught:
        scan_archive(path, ArchiveLimits(limit, 100))
    assert time.monotonic() - started < 1
    assert str(caught.value) == INVALID_ZIP


def test_bomb_by_overlapping_entries(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "o.zip", lambda zf: add_file(zf, "a", bytes(100000)))
    data = path.read_bytes()
    cd = central_offset(path)
    eocd = data.rfind(b"PK\x05\x06")
    record = data[cd:eocd]
    # Two directory records that share one local entry and its data.
    forged = data[:cd] + record + record + struct.pack(
        "<4sHHHHIIH", b"PK\x05\x06", 0, 0, 2, 2, 2 * len(record), cd, 0)
    path.write_bytes(forged)
    assert_invalid(path)


def test_too_many_entries(tmp_path: Path) -> None:
    def build(zf: zipfile.ZipFile) -> None:
        for i in range(20):
            add_file(zf, f"f{i}", b"x")
    path = make_zip(tmp_path / "n.zip", build)
    patch(path, 14, "<I", 0)  # a corrupt first entry: the count check must come first
    with pytest.raises(AppPackageInvalid) as caught:
        scan_archive(path, ArchiveLimits(1 << 20, 10))
    assert str(caught.value) == (
        "The app package is invalid: Package may not contain more than 10 entries"
    )
    assert len(scan_archive(make_zip(tmp_path / "ok.zip", build), ArchiveLimits(1 << 20, 20))) == 20


def test_header_declared_total_checked_first(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "big.zip", lambda zf: (
        add_file(zf, "a", bytes(6000)), add_file(zf, "b", bytes(6000))))
    with pytest.raises(AppPackageInvalid, match="larger than 10000 bytes"):
        scan_archive(path, ArchiveLimits(10000, 10))
    assert len(scan_archive(path, ArchiveLimits(12000, 10))) == 2


# --- fingerprints ----------------------------------------------------------------------------


def entry(name: str, size: int, mode: int = 0o644, sha1: str | None = None, *,
          is_dir: bool = False, is_symlink: bool = False) -> ScannedEntry:
    return ScannedEntry(name, is_dir, is_symlink, mode, size, sha1 or sha1_of(name.encode()),
                        "t" if is_symlink else None)


def test_pool_candidates_rules() -> None:
    entries = [
        entry("small", 9), entry("min", 10), entry("max", 100), entry("big", 101),
        entry("ro", 50, 0o444), entry("exact", 50, 0o600), entry("x700", 50, 0o700),
        entry("odd", 50, 0o577), entry("setuid", 50, 0o4644),
        entry("dir/", 50, is_dir=True), entry("link", 50, is_symlink=True),
        entry("same-content", 50, sha1=sha1_of(b"min")),
        entry("dup", 50, sha1="a" * 40), entry("dup", 50, sha1="b" * 40),
    ]
    names = [e.name for e in pool_candidates(entries, 10, 100)]
    # "same-content" repeats the sha1 of "min"; both "dup" entries are ambiguous by name.
    assert names == ["min", "max", "exact", "x700", "setuid"]
    assert Fingerprint.from_entry(entries[1]) == Fingerprint("min", entries[1].sha1, 10, 0o644)


def test_pool_candidates_dedupes_by_sha1() -> None:
    same = "c" * 40
    picked = pool_candidates([entry("a", 50, sha1=same), entry("b", 50, sha1=same)], 0, 100)
    assert [e.name for e in picked] == ["a"]


def test_extract_entry_streams_content(tmp_path: Path) -> None:
    content = os.urandom(3 * MiB + 17)
    path = make_zip(tmp_path / "x.zip", lambda zf: add_file(zf, "dir/blob", content))
    sink = io.BytesIO()
    assert extract_entry(path, "dir/blob", sink) == sha1_of(content)
    assert sink.getvalue() == content


# --- resources -------------------------------------------------------------------------------


def test_parse_resources_v2_and_v3_forms() -> None:
    resources = parse_resources([
        {"sha1": "A" * 40, "size": 10, "fn": "app/a.js", "mode": "0644"},
        {"checksum": {"value": "b" * 40}, "size_in_bytes": 20, "path": "./lib//b.js",
         "mode": "100755"},
        {"sha1": "c" * 40, "size": 0, "fn": "x/../c.txt"},
        {"checksum": {"value": "d" * 40}, "size_in_bytes": 5, "path": "d", "mode": "700"},
    ])
    assert resources == [
        CachedResource("app/a.js", "a" * 40, 10, 0o644),
        CachedResource("lib/b.js", "b" * 40, 20, 0o755),
        CachedResource("c.txt", "c" * 40, 0, 0o744),
        CachedResource("d", "d" * 40, 5, 0o700),
    ]


@pytest.mark.parametrize("fn", ["../x", "/etc/passwd", "a/../../x", "..", ".", ""])
def test_parse_resources_rejects_unsafe_paths(fn: str) -> None:
    if not fn:
        with pytest.raises(AppBitsUploadInvalid):
            parse_resources([{"sha1": "a" * 40, "size": 1, "fn": fn}])
        return
    with pytest.raises(FilePathInvalid) as caught:
        parse_resources([{"sha1": "a" * 40, "size": 1, "fn": fn, "mode": "644"}])
    assert str(caught.value) == f"The resource file path is invalid: File path '{fn}' is not safe."


@pytest.mark.parametrize("mode", ["0444", "0500", "1000", "0", "9", "rw"])
def test_parse_resources_rejects_weak_modes(mode: str) -> None:
    with pytest.raises(FileModeInvalid) as caught:
        parse_resources([{"sha1": "a" * 40, "size": 1, "fn": "app.rb", "mode": mode}])
    assert str(caught.value) == (
        f"The resource file mode is invalid: File mode '{mode}' with path 'app.rb' is invalid. "
        "Minimum file mode is '0600'"
    )


@pytest.mark.parametrize("mode", ["0644", "0653", "0700", "644", "100644", 644])
def test_parse_resources_accepts_modes(mode: object) -> None:
    assert parse_resources([{"sha1": "a" * 40, "size": 1, "fn": "f", "mode": mode}])[0].mode in (
        0o644, 0o653, 0o700)


@pytest.mark.parametrize("item", [
    "not an object",
    {"sha1": "a" * 40, "size": 1},
    {"sha1": "a" * 40, "size": 1, "fn": 7},
    {"sha1": "../../etc/passwd", "size": 1, "fn": "f"},
    {"sha1": None, "size": 1, "fn": "f"},
    {"sha1": "a" * 40, "size": "1", "fn": "f"},
    {"sha1": "a" * 40, "size": -1, "fn": "f"},
    {"checksum": "a" * 40, "size_in_bytes": 1, "path": "f"},
])
def test_parse_resources_rejects_malformed_items(item: object) -> None:
    with pytest.raises(AppBitsUploadInvalid) as caught:
        parse_resources([item])  # type: ignore[list-item]
    assert str(caught.value).startswith("The app upload is invalid: Resource")


# --- assembly --------------------------------------------------------------------------------


def test_round_trip_preserves_content_modes_methods_and_symlinks(tmp_path: Path) -> None:
    files = {
        "app/run.sh": (b"#!/bin/sh\necho hi\n" * 50, 0o755, zipfile.ZIP_DEFLATED),
        "app/secret": (b"s3cret", 0o600, zipfile.ZIP_STORED),
        "app/data.bin": (os.urandom(200000), 0o644, zipfile.ZIP_BZIP2),
        "empty": (b"", 0o640, zipfile.ZIP_DEFLATED),
    }

    def build(zf: zipfile.ZipFile) -> None:
        add_dir(zf, "app")
        for name, (data, mode, method) in files.items():
            add_file(zf, name, data, mode, method)
        add_link(zf, "app/current", "data.bin")

    upload = make_zip(tmp_path / "upload.zip", build)
    entries = scan_archive(upload, LIMITS)
    cached_a = os.urandom(3 * MiB)  # several chunks
    cached_b = b"module.exports = 1;\n"
    pool = Pool({sha1_of(cached_a): cached_a, sha1_of(cached_b): cached_b})
    cached = parse_resources([
        {"sha1": sha1_of(cached_a), "size": len(cached_a), "fn": "vendor/a.jar", "mode": "0755"},
        {"checksum": {"value": sha1_of(cached_b)}, "size_in_bytes": len(cached_b),
         "path": "lib/b.js", "mode": "0600"},
    ])
    out = tmp_path / "package.zip"
    checksums = build_package_zip(upload, entries, cached, pool, out, LIMITS.max_total_bytes)

    blob = out.read_bytes()
    assert checksums == PackageChecksums(hashlib.sha1(blob).hexdigest(),
                                         hashlib.sha256(blob).hexdigest(), len(blob))
    with zipfile.ZipFile(upload) as src, zipfile.ZipFile(out) as zf:
        assert zf.testzip() is None
        assert [i.filename for i in zf.infolist()] == [
            "app/run.sh", "app/secret", "app/data.bin", "empty", "app/current",
            "vendor/a.jar", "lib/b.js"]
        for name, (data, mode, method) in files.items():
            info, orig = zf.getinfo(name), src.getinfo(name)
            assert zf.read(name) == data
            assert mode_of(info) == mode
            assert (info.compress_type, info.CRC, info.compress_size) == (
                method, orig.CRC, orig.compress_size)
            assert info.date_time == orig.date_time
        link = zf.getinfo("app/current")
        assert stat.S_ISLNK(link.external_attr >> 16) and zf.read(link) == b"data.bin"
        for name, data, mode in [("vendor/a.jar", cached_a, 0o755), ("lib/b.js", cached_b, 0o600)]:
            info = zf.getinfo(name)
            assert zf.read(name) == data
            assert info.create_system == 3 and info.compress_type == zipfile.ZIP_DEFLATED
            assert info.external_attr >> 16 == stat.S_IFREG | mode
    unzip_test(out)


def test_raw_copy_keeps_compressed_bytes(tmp_path: Path) -> None:
    content = b"compress me please " * 1000
    upload = make_zip(tmp_path / "u.zip", lambda zf: add_file(zf, "f.txt", content))
    out = tmp_path / "out.zip"
    build_package_zip(upload, scan_archive(upload, LIMITS), [], Pool({}), out, 1 << 20)

    def raw_data(path: Path) -> bytes:
        with open(path, "rb") as f, zipfile.ZipFile(f) as zf:
            info = zf.getinfo("f.txt")
            f.seek(data_offset(f, info))
            return f.read(info.compress_size)

    assert raw_data(out) == raw_data(upload)
    assert len(raw_data(out)) < len(content)


class _Unseekable(io.RawIOBase):
    def __init__(self, sink: io.BytesIO) -> None:
        self.sink = sink

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:  # type: ignore[override]
        return self.sink.write(data)


def test_streamed_upload_with_data_descriptors(tmp_path: Path) -> None:
    sink = io.BytesIO()
    with zipfile.ZipFile(_Unseekable(sink), "w", zipfile.ZIP_DEFLATED) as zf:
        add_file(zf, "a.txt", b"streamed " * 500)
        add_file(zf, "b.txt", b"second", 0o600)
    upload = tmp_path / "streamed.zip"
    upload.write_bytes(sink.getvalue())
    with zipfile.ZipFile(upload) as zf:
        assert all(info.flag_bits & 0x08 for info in zf.infolist())
    out = tmp_path / "out.zip"
    build_package_zip(upload, scan_archive(upload, LIMITS), [], Pool({}), out, 1 << 20)
    with zipfile.ZipFile(out) as zf:
        assert not any(info.flag_bits & 0x08 for info in zf.infolist())
        assert zf.read("a.txt") == b"streamed " * 500 and mode_of(zf.getinfo("b.txt")) == 0o600
    unzip_test(out)


def test_upload_wins_over_cached_resource_with_same_path(tmp_path: Path) -> None:
    upload = make_zip(tmp_path / "u.zip", lambda zf: add_file(zf, "app/a.txt", b"uploaded"))
    pool = Pool({sha1_of(b"cached"): b"cached", sha1_of(b"other"): b"other"})
    cached = [CachedResource("app/a.txt", sha1_of(b"cached"), 6, 0o644),
              CachedResource("b.txt", sha1_of(b"other"), 5, 0o644)]
    out = tmp_path / "out.zip"
    build_package_zip(upload, scan_archive(upload, LIMITS), cached, pool, out, 1 << 20)
    with zipfile.ZipFile(out) as zf:
        assert zf.read("app/a.txt") == b"uploaded" and zf.read("b.txt") == b"other"
    assert pool.opened == [sha1_of(b"other")]


def test_resources_only_package(tmp_path: Path) -> None:
    pool = Pool({sha1_of(b"one"): b"one"})
    out = tmp_path / "out.zip"
    build_package_zip(None, [], [CachedResource("x/one", sha1_of(b"one"), 3, 0o644)], pool, out,
                      1 << 20)
    with zipfile.ZipFile(out) as zf:
        assert zf.namelist() == ["x/one"] and zf.read("x/one") == b"one"
    unzip_test(out)


def test_checksum_mismatch_collects_bad_sha1s_and_removes_output(tmp_path: Path) -> None:
    good, bad = sha1_of(b"good"), sha1_of(b"expected")
    pool = Pool({good: b"good", bad: b"tampered"})
    cached = [CachedResource("bad1", bad, 8, 0o644), CachedResource("good", good, 4, 0o644),
              CachedResource("bad2", bad, 8, 0o644)]
    out = tmp_path / "out.zip"
    with pytest.raises(ResourceChecksumMismatch) as caught:
        build_package_zip(None, [], cached, pool, out, 1 << 20)
    assert caught.value.mismatched == [bad]  # type: ignore[attr-defined]
    assert str(caught.value) == (
        "One or more cached resources did not match the given checksum. "
        "They have been deleted; please retry package upload."
    )
    assert not out.exists()


def test_total_size_limit_includes_cached_resources(tmp_path: Path) -> None:
    upload = make_zip(tmp_path / "u.zip", lambda zf: add_file(zf, "a", bytes(600)))
    blob = bytes(500)
    out = tmp_path / "out.zip"
    with pytest.raises(AppPackageInvalid) as caught:
        build_package_zip(upload, scan_archive(upload, LIMITS),
                          [CachedResource("b", sha1_of(blob), 500, 0o644)],
                          Pool({sha1_of(blob): blob}), out, 1000)
    assert str(caught.value) == (
        "The app package is invalid: Package may not be larger than 1000 bytes"
    )
    assert not out.exists()


def test_nothing_to_package_is_invalid(tmp_path: Path) -> None:
    dirs_only = make_zip(tmp_path / "d.zip", lambda zf: add_dir(zf, "app"))
    for uploaded in (None, dirs_only):
        entries = scan_archive(uploaded, LIMITS) if uploaded else []
        out = tmp_path / "out.zip"
        with pytest.raises(AppBitsUploadInvalid) as caught:
            build_package_zip(uploaded, entries, [], Pool({}), out, 1 << 20)
        assert str(caught.value) == INVALID_ZIP
        assert not out.exists()


def test_bits_package_imports_no_web_or_db_framework() -> None:
    code = ("import sys, capi_packages.bits.assembly, capi_packages.bits.fingerprints;"
            "assert not {'fastapi', 'sqlalchemy'} & set(sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True)
