"""The push's own zip writer: what it writes must read back, byte for byte and mode for mode, with
zipfile and Info-ZIP, including its zip64 forms."""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
import zlib
from pathlib import Path

import pytest

from capi_client.archive import hash_file, read_whole
from capi_client.zip_stream import DEFLATED, STORED, ZipStream, deflate, dos_stamp
from tests.unit.bits_support import unzip_test

STAMP = dos_stamp((2024, 5, 17, 13, 45, 30))
FILE = (0o100000 | 0o644) << 16


@pytest.mark.parametrize("size", [0, 1, 700, 4096, 40_000, 70_000, 300_000])
def test_deflate_sized_to_the_file_inflates_with_the_standard_window(size: int) -> None:
    data = (os.urandom(size // 2) + b"abc" * size)[:size]
    assert zlib.decompress(deflate(data, 1), -zlib.MAX_WBITS) == data


def test_members_read_back_with_their_bytes_modes_times_and_names(tmp_path: Path) -> None:
    path = tmp_path / "a.zip"
    text = b"function x() { return 1 }\n" * 100
    with open(path, "wb") as out:
        z = ZipStream(out)
        z.add_bytes("src/app.js", text, DEFLATED, STAMP, FILE)
        z.add_bytes("empty.txt", b"", DEFLATED, STAMP, FILE)
        z.add_bytes("logo.png", b"\x89PNG" + bytes(range(256)), STORED, STAMP, FILE)
        z.add_bytes("dir/", b"", STORED, STAMP, (0o100000 | 0o755) << 16)
        z.add_bytes("link", b"src/app.js", STORED, STAMP, 0o120777 << 16)
        z.add_bytes("ünïcödé/名前.txt", b"hi", DEFLATED, STAMP, FILE)
        member = z.open_member("big.bin", DEFLATED, STAMP, (0o100000 | 0o755) << 16, 3 << 20)
        chunks = [os.urandom(1 << 20), b"\0" * (1 << 20), b"tail"]
        for chunk in chunks:
            member.write(chunk)
        member.close()
        z.add_bytes("after-the-stream", b"still in place", DEFLATED, STAMP, FILE)
        z.close()
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
        infos = {info.filename: info for info in archive.infolist()}
        assert list(infos) == [
            "src/app.js",
            "empty.txt",
            "logo.png",
            "dir/",
            "link",
            "ünïcödé/名前.txt",
            "big.bin",
            "after-the-stream",
        ]
        assert archive.read("src/app.js") == text
        assert infos["src/app.js"].compress_type == zipfile.ZIP_DEFLATED
        assert infos["src/app.js"].compress_size < len(text) // 10
        assert infos["empty.txt"].file_size == 0 and infos["empty.txt"].compress_type == zipfile.ZIP_STORED
        assert infos["logo.png"].compress_type == zipfile.ZIP_STORED
        assert infos["dir/"].is_dir() and infos["dir/"].external_attr >> 16 == 0o100755
        assert infos["link"].external_attr >> 16 == 0o120777 and archive.read("link") == b"src/app.js"
        assert infos["ünïcödé/名前.txt"].flag_bits & 0x800
        assert not infos["src/app.js"].flag_bits & 0x800
        assert archive.read("big.bin") == b"".join(chunks)
        assert infos["big.bin"].external_attr >> 16 == 0o100755
        assert archive.read("after-the-stream") == b"still in place"
        assert infos["src/app.js"].date_time == (2024, 5, 17, 13, 45, 30)
        assert infos["src/app.js"].create_system == 3
    unzip_test(path)


def test_an_archive_written_after_other_bytes_counts_its_offsets_from_its_own_start() -> None:
    out = io.BytesIO()
    out.write(b"x" * 100)  # e.g. a stub in front of the archive
    z = ZipStream(out)
    z.add_bytes("a.txt", b"A" * 1000, DEFLATED, STAMP, FILE)
    member = z.open_member("b.txt", DEFLATED, STAMP, FILE, 10)
    member.write(b"B" * 5000)
    member.close()
    z.close()
    with zipfile.ZipFile(io.BytesIO(out.getvalue()[100:])) as archive:
        assert archive.read("a.txt") == b"A" * 1000
        assert archive.read("b.txt") == b"B" * 5000


def test_a_member_streamed_with_a_huge_size_hint_carries_zip64_sizes(tmp_path: Path) -> None:
    path = tmp_path / "z64.zip"
    with open(path, "wb") as out:
        z = ZipStream(out)
        member = z.open_member("huge-as-declared.bin", DEFLATED, STAMP, FILE, 5 << 30)
        member.write(b"not that huge after all" * 1000)
        member.close()
        z.close()
    raw = path.read_bytes()
    assert raw[4:6] == (45).to_bytes(2, "little")  # the local header needs zip64
    with zipfile.ZipFile(path) as archive:
        assert archive.read("huge-as-declared.bin") == b"not that huge after all" * 1000
    unzip_test(path)


def test_more_than_65535_members_get_a_zip64_end_of_directory(tmp_path: Path) -> None:
    path = tmp_path / "many.zip"
    count = 70_000
    with open(path, "wb") as out:
        z = ZipStream(out)
        for i in range(count):
            z.add_bytes(f"f/{i}", str(i).encode(), DEFLATED, STAMP, FILE)
        z.close()
    raw = path.read_bytes()
    assert b"PK\x06\x06" in raw[-200:] and b"PK\x06\x07" in raw[-200:]
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        assert len(names) == count
        assert archive.read("f/69999") == b"69999"
    unzip_test(path)


@pytest.mark.parametrize(("listed", "actual"), [(0, 0), (5, 5), (5, 300_000), (300_000, 7), (10, 0)])
def test_a_small_file_is_read_whole_even_when_it_changed_size_since_it_was_listed(
    tmp_path: Path, listed: int, actual: int
) -> None:
    path = tmp_path / "f"
    data = os.urandom(actual)
    path.write_bytes(data)
    assert read_whole(str(path), listed) == data
    assert hash_file(str(path), listed) == hashlib.sha1(data).hexdigest()


def test_a_streamed_member_that_outgrows_its_header_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    # A file listed small that grows past 4 GiB while it is zipped would need zip64 sizes its
    # local header did not reserve: refused rather than written wrong (the limit is shrunk here).
    from capi_client import zip_stream

    monkeypatch.setattr(zip_stream, "_MAX32", 4096)
    z = ZipStream(io.BytesIO())
    member = z.open_member("grew.bin", STORED, STAMP, FILE, 10)
    member.write(os.urandom(5000))
    with pytest.raises(zip_stream.ZipSizeError, match="grew past 4 GiB"):
        member.close()
