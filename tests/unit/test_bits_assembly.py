"""Pool candidates, resource parsing and building the final package zip."""

from __future__ import annotations

import hashlib
import io
import os
import stat
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import pytest

from capi_packages.bits.assembly import PackageChecksums, build_package_zip
from capi_packages.bits.pool_blob import PoolBlobHeader, read_header
from capi_packages.bits.pool_rules import PoolBounds, pool_candidates
from capi_packages.bits.resources import CachedResource, parse_resources
from capi_packages.bits.zip_format import data_offset
from capi_packages.bits.zip_safety import ScannedEntry, scan_archive
from capi_packages.errors import (
    AppBitsUploadInvalid,
    AppPackageInvalid,
    FileModeInvalid,
    FilePathInvalid,
    ResourceChecksumMismatch,
)
from tests.unit.bits_support import (
    INVALID_ZIP,
    LIMITS,
    MiB,
    Pool,
    add_dir,
    add_file,
    add_link,
    make_zip,
    mode_of,
    sha1_of,
    unzip_test,
)

# --- fingerprints ----------------------------------------------------------------------------


def entry(
    name: str, size: int, mode: int = 0o644, sha1: str | None = None, *, is_dir: bool = False, is_symlink: bool = False
) -> ScannedEntry:
    return ScannedEntry(
        name, is_dir, is_symlink, mode, size, sha1 or sha1_of(name.encode()), "t" if is_symlink else None
    )


def test_pool_candidates_rules() -> None:
    entries = [
        entry("small", 9),
        entry("min", 10),
        entry("max", 100),
        entry("big", 101),
        entry("ro", 50, 0o444),
        entry("exact", 50, 0o600),
        entry("x700", 50, 0o700),
        entry("odd", 50, 0o577),
        entry("setuid", 50, 0o4644),
        entry("dir/", 50, is_dir=True),
        entry("link", 50, is_symlink=True),
        entry("same-content", 50, sha1=sha1_of(b"min")),
        entry("dup", 50, sha1="a" * 40),
        entry("dup", 50, sha1="b" * 40),
    ]
    names = [e.name for e in pool_candidates(entries, PoolBounds(10, 100))]
    # "same-content" repeats the sha1 of "min"; both "dup" entries are ambiguous by name.
    assert names == ["min", "max", "exact", "x700", "setuid"]


def test_pool_candidates_dedupes_by_sha1() -> None:
    same = "c" * 40
    picked = pool_candidates([entry("a", 50, sha1=same), entry("b", 50, sha1=same)], PoolBounds(0, 100))
    assert [e.name for e in picked] == ["a"]


def test_scan_fingerprints_only_what_it_is_asked_to_and_says_where_each_entrys_data_lies(tmp_path: Path) -> None:
    content = os.urandom(3 * MiB + 17) + b"z" * MiB

    def build(zf: zipfile.ZipFile) -> None:
        add_file(zf, "dir/blob", content)
        add_file(zf, "small", b"tiny", method=zipfile.ZIP_STORED)
        add_link(zf, "link", "dir/blob")

    path = make_zip(tmp_path / "x.zip", build)
    asked: list[tuple[int, int]] = []

    def fingerprint(size: int, mode: int) -> bool:
        asked.append((size, mode))
        return size > 100

    entries = scan_archive(path, LIMITS, fingerprint)
    assert asked == [(len(content), 0o644), (4, 0o644)]  # never for links
    # Only the chosen entry is fingerprinted: nothing else needs a sha1.
    assert [e.sha1 for e in entries] == [sha1_of(content), None, None]
    with zipfile.ZipFile(path) as zf, open(path, "rb") as f:
        for entry, info in zip(entries, zf.infolist(), strict=True):
            assert (entry.method, entry.crc, entry.compressed_size) == (
                info.compress_type,
                info.CRC,
                info.compress_size,
            )
            assert entry.data_offset == data_offset(f, info)
    blob = entries[0]
    with open(path, "rb") as f:
        f.seek(blob.data_offset)
        assert zlib.decompress(f.read(blob.compressed_size), -zlib.MAX_WBITS) == content


def test_a_pool_blob_without_a_header_is_plain_content_and_a_damaged_header_is_refused() -> None:
    plain = io.BytesIO(b"just the content of a file")
    assert read_header(plain) is None
    assert plain.tell() == 0
    framed = bytearray(PoolBlobHeader(8, 1, 2, 3, 4).pack())
    assert read_header(io.BytesIO(bytes(framed))) == PoolBlobHeader(8, 1, 2, 3, 4)
    framed[12] ^= 1
    with pytest.raises(ValueError, match="corrupted pool blob header"):
        read_header(io.BytesIO(bytes(framed)))


# --- resources -------------------------------------------------------------------------------


def test_parse_resources_v2_and_v3_forms() -> None:
    resources = parse_resources(
        [
            {"sha1": "A" * 40, "size": 10, "fn": "app/a.js", "mode": "0644"},
            {"checksum": {"value": "b" * 40}, "size_in_bytes": 20, "path": "./lib//b.js", "mode": "100755"},
            {"sha1": "c" * 40, "size": 0, "fn": "x/../c.txt"},
            {"checksum": {"value": "d" * 40}, "size_in_bytes": 5, "path": "d", "mode": "700"},
        ]
    )
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
    assert parse_resources([{"sha1": "a" * 40, "size": 1, "fn": "f", "mode": mode}])[0].mode in (0o644, 0o653, 0o700)


@pytest.mark.parametrize(
    "item",
    [
        "not an object",
        {"sha1": "a" * 40, "size": 1},
        {"sha1": "a" * 40, "size": 1, "fn": 7},
        {"sha1": "../../etc/passwd", "size": 1, "fn": "f"},
        {"sha1": None, "size": 1, "fn": "f"},
        {"sha1": "a" * 40, "size": "1", "fn": "f"},
        {"sha1": "a" * 40, "size": -1, "fn": "f"},
        {"checksum": "a" * 40, "size_in_bytes": 1, "path": "f"},
    ],
)
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
    cached = parse_resources(
        [
            {"sha1": sha1_of(cached_a), "size": len(cached_a), "fn": "vendor/a.jar", "mode": "0755"},
            {
                "checksum": {"value": sha1_of(cached_b)},
                "size_in_bytes": len(cached_b),
                "path": "lib/b.js",
                "mode": "0600",
            },
        ]
    )
    out = tmp_path / "package.zip"
    checksums = build_package_zip(upload, entries, cached, pool, out, LIMITS.max_total_bytes)

    blob = out.read_bytes()
    assert checksums == PackageChecksums(hashlib.sha1(blob).hexdigest(), hashlib.sha256(blob).hexdigest(), len(blob))
    with zipfile.ZipFile(upload) as src, zipfile.ZipFile(out) as zf:
        assert zf.testzip() is None
        assert [i.filename for i in zf.infolist()] == [
            "app/run.sh",
            "app/secret",
            "app/data.bin",
            "empty",
            "app/current",
            "vendor/a.jar",
            "lib/b.js",
        ]
        for name, (data, mode, method) in files.items():
            info, orig = zf.getinfo(name), src.getinfo(name)
            assert zf.read(name) == data
            assert mode_of(info) == mode
            assert (info.compress_type, info.CRC, info.compress_size) == (method, orig.CRC, orig.compress_size)
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
    cached = [
        CachedResource("app/a.txt", sha1_of(b"cached"), 6, 0o644),
        CachedResource("b.txt", sha1_of(b"other"), 5, 0o644),
    ]
    out = tmp_path / "out.zip"
    build_package_zip(upload, scan_archive(upload, LIMITS), cached, pool, out, 1 << 20)
    with zipfile.ZipFile(out) as zf:
        assert zf.read("app/a.txt") == b"uploaded" and zf.read("b.txt") == b"other"
    assert pool.opened == [sha1_of(b"other")]


def test_resources_only_package(tmp_path: Path) -> None:
    pool = Pool({sha1_of(b"one"): b"one"})
    out = tmp_path / "out.zip"
    build_package_zip(None, [], [CachedResource("x/one", sha1_of(b"one"), 3, 0o644)], pool, out, 1 << 20)
    with zipfile.ZipFile(out) as zf:
        assert zf.namelist() == ["x/one"] and zf.read("x/one") == b"one"
    unzip_test(out)


def test_checksum_mismatch_collects_bad_sha1s_and_removes_output(tmp_path: Path) -> None:
    good, bad = sha1_of(b"good"), sha1_of(b"expected")
    pool = Pool({good: b"good", bad: b"tampered"})
    cached = [
        CachedResource("bad1", bad, 8, 0o644),
        CachedResource("good", good, 4, 0o644),
        CachedResource("bad2", bad, 8, 0o644),
    ]
    out = tmp_path / "out.zip"
    with pytest.raises(ResourceChecksumMismatch) as caught:
        build_package_zip(None, [], cached, pool, out, 1 << 20)
    assert caught.value.mismatched == [bad]
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
        build_package_zip(
            upload,
            scan_archive(upload, LIMITS),
            [CachedResource("b", sha1_of(blob), 500, 0o644)],
            Pool({sha1_of(blob): blob}),
            out,
            1000,
        )
    assert str(caught.value) == ("The app package is invalid: Package may not be larger than 1000 bytes")
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
    code = (
        "import sys, capi_packages.bits.assembly, capi_packages.bits.pool_rules;"
        "assert not {'fastapi', 'sqlalchemy'} & set(sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
