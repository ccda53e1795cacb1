"""Packages built from pooled files: framed blobs are copied as compressed, and checked on every use."""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path

import pytest

from capi_packages.bits.assembly import build_package_zip
from capi_packages.bits.pool_blob import HEADER
from capi_packages.bits.resources import CachedResource
from capi_packages.bits.zip_format import data_offset
from capi_packages.bits.zip_safety import scan_archive
from capi_packages.errors import ResourceChecksumMismatch
from tests.unit.bits_support import LIMITS, Pool, add_file, framed, make_zip, mode_of, sha1_of, unzip_test

TEXT = b"def handler(request):\n    return response\n" * 3000
BINARY = bytes(range(256)) * 400


def build(tmp_path: Path, blobs: dict[str, bytes], cached: list[CachedResource], upload: Path | None = None) -> Path:
    out = tmp_path / "out.zip"
    entries = scan_archive(upload, LIMITS) if upload else []
    build_package_zip(upload, entries, cached, Pool(blobs), out, 1 << 30)
    return out


def test_a_framed_blob_is_copied_into_the_package_byte_for_byte(tmp_path: Path) -> None:
    blob = framed(TEXT)
    out = build(tmp_path, {sha1_of(TEXT): blob}, [CachedResource("lib/handler.py", sha1_of(TEXT), len(TEXT), 0o640)])
    with zipfile.ZipFile(out) as zf:
        info = zf.getinfo("lib/handler.py")
        assert zf.read(info) == TEXT
        assert mode_of(info) == 0o640
        assert info.compress_type == zipfile.ZIP_DEFLATED and zlib.crc32(TEXT) == info.CRC
        assert not info.flag_bits & 0x08  # sizes known up front: no data descriptor
    with open(out, "rb") as f:
        f.seek(data_offset(f, info))
        assert f.read(info.compress_size) == blob[HEADER.size :]
    unzip_test(out)


def test_stored_and_deflated_blobs_mix_with_uploaded_entries(tmp_path: Path) -> None:
    upload = make_zip(tmp_path / "u.zip", lambda zf: add_file(zf, "own.txt", b"mine"))
    blobs = {sha1_of(TEXT): framed(TEXT), sha1_of(BINARY): framed(BINARY, zipfile.ZIP_STORED)}
    cached = [
        CachedResource("a.py", sha1_of(TEXT), len(TEXT), 0o644),
        CachedResource("b.bin", sha1_of(BINARY), len(BINARY), 0o600),
    ]
    out = build(tmp_path, blobs, cached, upload)
    with zipfile.ZipFile(out) as zf:
        assert [(i.filename, i.compress_type) for i in zf.infolist()] == [
            ("own.txt", zipfile.ZIP_DEFLATED),
            ("a.py", zipfile.ZIP_DEFLATED),
            ("b.bin", zipfile.ZIP_STORED),
        ]
        assert zf.read("a.py") == TEXT and zf.read("b.bin") == BINARY
        assert zf.testzip() is None
    unzip_test(out)


def corrupt_data(blob: bytes) -> bytes:
    damaged = bytearray(blob)
    damaged[HEADER.size + 10] ^= 0xFF
    return bytes(damaged)


def corrupt_header(blob: bytes) -> bytes:
    damaged = bytearray(blob)
    damaged[14] ^= 0x01  # the content CRC: the header's own check catches it
    return bytes(damaged)


@pytest.mark.parametrize(
    "damage",
    [corrupt_data, corrupt_header, lambda b: b[:-5], lambda b: b + b"extra", lambda b: b"Z" * len(b)],
    ids=["data", "header", "truncated", "trailing-bytes", "overwritten"],
)
def test_a_damaged_blob_is_a_checksum_mismatch_naming_its_sha1(tmp_path: Path, damage) -> None:
    good, bad = sha1_of(BINARY), sha1_of(TEXT)
    blobs = {good: framed(BINARY), bad: damage(framed(TEXT))}
    cached = [CachedResource("good", good, len(BINARY), 0o644), CachedResource("bad", bad, len(TEXT), 0o644)]
    with pytest.raises(ResourceChecksumMismatch) as caught:
        build(tmp_path, blobs, cached)
    assert caught.value.mismatched == [bad]
    assert not (tmp_path / "out.zip").exists()


def test_a_plain_blob_from_the_pools_first_format_is_deflated_and_its_sha1_checked(tmp_path: Path) -> None:
    out = build(tmp_path, {sha1_of(TEXT): TEXT}, [CachedResource("old.py", sha1_of(TEXT), len(TEXT), 0o644)])
    with zipfile.ZipFile(out) as zf:
        assert zf.read("old.py") == TEXT
    with pytest.raises(ResourceChecksumMismatch):
        build(tmp_path, {sha1_of(TEXT): TEXT[:-1]}, [CachedResource("old.py", sha1_of(TEXT), len(TEXT), 0o644)])
