"""Scanning archives: sizes, modes, links, and every malformed or hostile zip."""

from __future__ import annotations

import os
import struct
import time
import zipfile
import zlib
from pathlib import Path

import pytest

from capi_packages.bits import entry_data, zip_format
from capi_packages.bits.assembly import (
    build_package_zip,
)
from capi_packages.bits.zip_safety import ArchiveLimits, scan_archive
from capi_packages.errors import (
    AppBitsUploadInvalid,
    AppPackageInvalid,
)
from tests.unit.bits_support import (
    INVALID_ZIP,
    LIMITS,
    MiB,
    Pool,
    add_dir,
    add_file,
    add_link,
    central_offset,
    central_record,
    make_zip,
    patch,
    unzip_test,
)

# --- scan: happy paths -----------------------------------------------------------------------


def test_scan_reports_real_sizes_modes_and_links(tmp_path: Path) -> None:
    path = make_zip(
        tmp_path / "a.zip",
        lambda zf: (
            add_dir(zf, "app"),
            add_file(zf, "app/run.sh", b"#!/bin/sh\n", 0o755),
            add_file(zf, "app/data.txt", b"x" * 5000, 0o600, zipfile.ZIP_STORED),
            add_file(zf, "app/big.bin", b"y" * 70000, 0o644, zipfile.ZIP_BZIP2),
            add_link(zf, "app/current", "data.txt"),
            add_link(zf, "dangling", "app/missing"),
        ),
    )
    entries = scan_archive(path, LIMITS)
    by_name = {e.name: e for e in entries}
    assert [e.name for e in entries] == ["app/", "app/run.sh", "app/data.txt", "app/big.bin", "app/current", "dangling"]
    assert by_name["app/"].is_dir and not by_name["app/"].is_symlink
    assert by_name["app/run.sh"].mode == 0o755
    # Nothing asked for fingerprints, so no entry has one.
    data = by_name["app/data.txt"]
    assert (data.name, data.is_dir, data.is_symlink, data.mode, data.size, data.sha1) == (
        "app/data.txt",
        False,
        False,
        0o600,
        5000,
        None,
    )
    assert (data.method, data.compressed_size, data.crc) == (zipfile.ZIP_STORED, 5000, zlib.crc32(b"x" * 5000))
    assert by_name["app/big.bin"].size == 70000
    link = by_name["app/current"]
    assert link.is_symlink and link.link_target == "data.txt" and link.sha1 is None
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
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf,
        zf.open("zeros", "w", force_zip64=True) as w,
    ):
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


@pytest.mark.parametrize("size", [5_000, MiB + 100_000], ids=["read-whole", "streamed"])
def test_an_invalid_deflate_stream_is_an_invalid_zip(tmp_path: Path, size: int) -> None:
    """ISA-L raises errors of its own (not zlib.error): they must still read as a bad archive."""
    path = make_zip(tmp_path / "d.zip", lambda zf: add_file(zf, "a", os.urandom(size)))
    data = bytearray(path.read_bytes())
    start = 30 + len("a")  # the only entry's data follows its local header
    data[start : start + 16] = b"\xff" * 16  # block type 3: invalid in any deflate stream
    path.write_bytes(bytes(data))
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


@pytest.mark.parametrize("name", ["../x", "a/../../x", "a/../b", "/etc/x", "C:\\x", "\\x", "a\\..\\..\\x"])
def test_entry_outside_package(tmp_path: Path, name: str) -> None:
    path = tmp_path / "p.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(name, b"evil")
    with pytest.raises(AppBitsUploadInvalid) as caught:
        scan_archive(path, LIMITS)
    with zipfile.ZipFile(path) as zf:
        stored = zf.infolist()[0].filename
    assert str(caught.value) == (f"The app upload is invalid: Entry '{stored}' has a path outside the package.")


@pytest.mark.parametrize(
    ("name", "target"),
    [
        ("link", "../../etc"),
        ("sub/link", "../../etc"),
        ("link", "/etc/passwd"),
        ("a/b/link", "../../../x"),
    ],
)
def test_symlink_escaping(tmp_path: Path, name: str, target: str) -> None:
    path = make_zip(tmp_path / "s.zip", lambda zf: add_link(zf, name, target))
    assert_invalid(path, text=(f"The app upload is invalid: Symlink '{name}' points outside the package: '{target}'."))


def test_symlink_escaping_through_another_symlink(tmp_path: Path) -> None:
    # Each target is inside lexically; only following sub/up (-> root) makes `up/..` escape.
    path = make_zip(
        tmp_path / "s.zip",
        lambda zf: (
            add_link(zf, "sub/up", ".."),
            add_link(zf, "escape", "sub/up/.."),
        ),
    )
    assert_invalid(path, text=("The app upload is invalid: Symlink 'escape' points outside the package: 'sub/up/..'."))


def test_an_entry_placed_inside_a_symlink_is_refused(tmp_path: Path) -> None:
    # Extracting `here/l` would write through the link `here` (here: to the root, one level too high).
    path = make_zip(
        tmp_path / "s.zip",
        lambda zf: (
            add_link(zf, "here", "."),
            add_link(zf, "here/l", ".."),
        ),
    )
    assert_invalid(
        path,
        text="The app upload is invalid: Entry 'here/l' needs 'here' to be a directory, but entry 'here' is a symlink.",
    )


@pytest.mark.parametrize("target", ["", "a" * 5000, "x\0y"])
def test_symlink_with_unusable_target(tmp_path: Path, target: str) -> None:
    path = make_zip(tmp_path / "s.zip", lambda zf: add_link(zf, "link", target))
    assert_invalid(path, text="The app upload is invalid: Symlink 'link' has an invalid target.")


def test_symlinks_inside_are_fine(tmp_path: Path) -> None:
    path = make_zip(
        tmp_path / "s.zip",
        lambda zf: (
            add_link(zf, "node_modules/.bin/mime", "../mime/cli.js"),
            add_link(zf, "a/b/c", "../../x/../y"),
            add_link(zf, "dangling", "nowhere/at/all"),
        ),
    )
    assert [e.is_symlink for e in scan_archive(path, LIMITS)] == [True, True, True]


def test_bomb_by_ratio_fails_fast(tmp_path: Path) -> None:
    path = tmp_path / "bomb.zip"
    zeros = bytes(MiB)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf, zf.open("zeros", "w") as w:
        for _ in range(200):
            w.write(zeros)
    assert path.stat().st_size < 2 * MiB
    started = time.monotonic()
    with pytest.raises(AppPackageInvalid) as caught:
        scan_archive(path, ArchiveLimits(10 * MiB, 100))
    assert time.monotonic() - started < 2
    assert str(caught.value) == ("The app package is invalid: Package may not be larger than 10485760 bytes")


@pytest.mark.parametrize("limit", [10 * MiB, 1 << 30])
def test_bomb_with_lying_header(tmp_path: Path, limit: int) -> None:
    path = tmp_path / "liar.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf, zf.open("zeros", "w") as w:
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
    # Entry `b` (a whole local entry) hides inside the stored data of `a`; both are listed.
    inner = make_zip(tmp_path / "b.zip", lambda zf: add_file(zf, "b", bytes(100000)))
    inner_data = inner.read_bytes()
    inner_cd = central_offset(inner)
    b_record = bytearray(inner_data[inner_cd : inner_data.rfind(b"PK\x05\x06")])
    path = make_zip(tmp_path / "o.zip", lambda zf: add_file(zf, "a", inner_data[:inner_cd], method=zipfile.ZIP_STORED))
    data = path.read_bytes()
    cd = central_offset(path)
    a_record = data[cd : data.rfind(b"PK\x05\x06")]
    struct.pack_into("<I", b_record, 42, 30 + len("a"))  # b's local header: the start of a's data
    records = a_record + bytes(b_record)
    forged = data[:cd] + records + struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 2, 2, len(records), cd, 0)
    path.write_bytes(forged)
    assert_invalid(path)


def test_two_directory_records_for_one_entry_are_a_duplicate_name(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "o.zip", lambda zf: add_file(zf, "a", bytes(100000)))
    data = path.read_bytes()
    cd = central_offset(path)
    eocd = data.rfind(b"PK\x05\x06")
    record = data[cd:eocd]
    forged = data[:cd] + record + record + struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 2, 2, 2 * len(record), cd, 0)
    path.write_bytes(forged)
    assert_invalid(path, text="The app upload is invalid: Entry 'a' occurs more than once.")


def test_too_many_entries(tmp_path: Path) -> None:
    def build(zf: zipfile.ZipFile) -> None:
        for i in range(20):
            add_file(zf, f"f{i}", b"x")

    path = make_zip(tmp_path / "n.zip", build)
    patch(path, 14, "<I", 0)  # a corrupt first entry: the count check must come first
    with pytest.raises(AppPackageInvalid) as caught:
        scan_archive(path, ArchiveLimits(1 << 20, 10))
    assert str(caught.value) == ("The app package is invalid: Package may not contain more than 10 entries")
    assert len(scan_archive(make_zip(tmp_path / "ok.zip", build), ArchiveLimits(1 << 20, 20))) == 20


def test_header_declared_total_checked_first(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "big.zip", lambda zf: (add_file(zf, "a", bytes(6000)), add_file(zf, "b", bytes(6000))))
    with pytest.raises(AppPackageInvalid, match="larger than 10000 bytes"):
        scan_archive(path, ArchiveLimits(10000, 10))
    assert len(scan_archive(path, ArchiveLimits(12000, 10))) == 2


# --- several threads -------------------------------------------------------------------------


def many_files(zf: zipfile.ZipFile) -> None:
    for i in range(40):
        add_file(zf, f"f{i:02}.bin", os.urandom(20_000) + bytes(30_000), method=zipfile.ZIP_DEFLATED)


def test_scanning_in_threads_gives_what_one_thread_gives(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(entry_data, "PARALLEL_FROM", 0)
    path = make_zip(tmp_path / "m.zip", many_files)
    assert scan_archive(path, LIMITS, lambda size, mode: True, threads=3) == scan_archive(
        path, LIMITS, lambda size, mode: True
    )


def test_pages_handed_back_while_reading_are_read_again_intact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The scan drops the pages of the mapped archive behind it (a 1 GB upload must not stay
    resident); a page dropped while another thread still reads near it maps in again."""
    path = make_zip(tmp_path / "m.zip", many_files)
    whole = scan_archive(path, LIMITS, lambda size, mode: True)
    monkeypatch.setattr(zip_format, "RELEASE_EVERY", 1)  # after every entry, and every chunk
    monkeypatch.setattr(entry_data, "PARALLEL_FROM", 0)
    assert scan_archive(path, LIMITS, lambda size, mode: True, threads=3) == whole
    assert scan_archive(path, LIMITS, lambda size, mode: True) == whole


def test_scanning_in_threads_reports_the_first_failure_in_file_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(entry_data, "PARALLEL_FROM", 0)

    def build(zf: zipfile.ZipFile) -> None:
        many_files(zf)
        add_link(zf, "late-link", "x" * 5000)  # fails in the last thread's run

    path = make_zip(tmp_path / "m.zip", build)
    bad_link = "The app upload is invalid: Symlink 'late-link' has an invalid target."
    assert_invalid(path, text=bad_link)
    with pytest.raises(AppBitsUploadInvalid, match="invalid target"):
        scan_archive(path, LIMITS, threads=3)
    with zipfile.ZipFile(path) as zf:
        first = zf.getinfo("f01.bin")
    patch(path, first.header_offset + 14, "<I", first.CRC ^ 1)  # local CRC (unchecked)
    patch(path, central_record(path, "f01.bin") + 16, "<I", first.CRC ^ 1)  # the CRC the scan checks
    for threads in (1, 3):
        with pytest.raises(AppBitsUploadInvalid) as caught:
            scan_archive(path, LIMITS, threads=threads)
        assert str(caught.value) == INVALID_ZIP
