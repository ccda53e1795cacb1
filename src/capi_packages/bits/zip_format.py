"""The zip format as the bits code reads and writes it: constants, header fields, the usual errors."""

from __future__ import annotations

import mmap
import stat
import struct
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, BinaryIO

from capi_packages.errors import AppBitsUploadInvalid, AppPackageInvalid

CHUNK = 1 << 20
DEFAULT_MODE = 0o744  # what CC assumes for files that carry no unix mode
STORED, DEFLATED, BZIP2 = 0, 8, 12
SUPPORTED_METHODS = frozenset({STORED, DEFLATED, BZIP2})
# bit 0: traditional/AES encryption, bit 6: strong encryption, bit 13: masked local headers.
ENCRYPTION_FLAGS = 0x0001 | 0x0040 | 0x2000
UTF8_FLAG = 0x0800
LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")
LOCAL_SIG = b"PK\x03\x04"


def invalid_zip() -> AppBitsUploadInvalid:
    return AppBitsUploadInvalid("Invalid zip archive.")


def too_large(max_total_bytes: int) -> AppPackageInvalid:
    return AppPackageInvalid(f"Package may not be larger than {max_total_bytes} bytes")


def encoded_name(info: zipfile.ZipInfo) -> bytes:
    """The member name exactly as stored (zipfile decodes cp437 or UTF-8 losslessly)."""
    return info.orig_filename.encode("utf-8" if info.flag_bits & UTF8_FLAG else "cp437")


def is_dir_entry(info: zipfile.ZipInfo) -> bool:
    return info.orig_filename.replace("\\", "/").endswith("/")


def entry_mode(info: zipfile.ZipInfo) -> int:
    high = info.external_attr >> 16
    return high & 0o7777 if high else DEFAULT_MODE


def is_symlink_entry(info: zipfile.ZipInfo) -> bool:
    return not is_dir_entry(info) and stat.S_ISLNK(info.external_attr >> 16)


def data_offset(f: BinaryIO, info: zipfile.ZipInfo) -> int:
    """Validate the local header of `info` and return where its compressed data starts."""
    f.seek(info.header_offset)
    raw = f.read(LOCAL_HEADER.size)
    if len(raw) != LOCAL_HEADER.size:
        raise invalid_zip()
    fields = LOCAL_HEADER.unpack(raw)
    return _checked_data_start(info, fields, f.read(fields[9]))


def _checked_data_start(info: zipfile.ZipInfo, fields: tuple[Any, ...], stored_name: bytes) -> int:
    sig, _ver, flags, method, _t, _d, _crc, _cs, _us, name_len, extra_len = fields
    # A local name differing from the central one is how extractors get fooled ("mismatching
    # local filename" in unzip), so insist on byte equality.
    if sig != LOCAL_SIG or flags & ENCRYPTION_FLAGS or method != info.compress_type:
        raise invalid_zip()
    if stored_name != encoded_name(info):
        raise invalid_zip()
    return int(info.header_offset + LOCAL_HEADER.size + name_len + extra_len)


# An archive in memory: mapped from its file, or bytes when it never had one.
ArchiveView = mmap.mmap | bytes


@contextmanager
def map_archive(f: BinaryIO) -> Iterator[ArchiveView]:
    """The whole archive as read-only memory: each entry is then a slice, with no seek or read call
    per entry. An archive with no file behind it (a BytesIO) is in memory already: its bytes."""
    try:
        descriptor = f.fileno()
    except (OSError, AttributeError):
        f.seek(0)
        yield f.read()
        return
    with mmap.mmap(descriptor, 0, access=mmap.ACCESS_READ) as view:
        yield view


# A scan hands pages it has read back to the kernel this often, so that its resident memory stays
# small however big the archive (the file stays in the page cache; the mapping just lets go).
RELEASE_EVERY = 8 * 1024 * 1024


class PageRelease:
    """Tracks how far a reader of a mapped archive has come, and drops the pages behind it."""

    def __init__(self, view: ArchiveView, start: int) -> None:
        self._view = view
        self._since = start

    def reached(self, position: int) -> None:
        if position - self._since >= RELEASE_EVERY:
            self.release(position)

    def release(self, position: int) -> None:
        """Drop the pages from where the last release ended up to `position`. Dropping a page some
        other reader still uses is harmless: its next access maps it in again from the file."""
        view, since = self._view, self._since
        self._since = max(since, position)
        if position <= since or not isinstance(view, mmap.mmap) or not hasattr(mmap, "MADV_DONTNEED"):
            return
        first = since - since % mmap.PAGESIZE
        length = min(position, len(view)) - first
        if length > 0:
            view.madvise(mmap.MADV_DONTNEED, first, length)


def local_data_start(view: ArchiveView, info: zipfile.ZipInfo) -> int:
    """data_offset for an archive in memory."""
    at = info.header_offset
    if at + LOCAL_HEADER.size > len(view):
        raise invalid_zip()
    fields = LOCAL_HEADER.unpack_from(view, at)
    name_at = at + LOCAL_HEADER.size
    return _checked_data_start(info, fields, view[name_at : name_at + fields[9]])
