"""Single-pass streaming safety scan of an uploaded app zip (limits, paths, symlinks, CRC)."""

from __future__ import annotations

import os
import stat
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO, NamedTuple

from capi_packages.bits.entry_data import PlannedEntry, read_entries
from capi_packages.bits.names import PackagePath, check_conflicts, member_parts
from capi_packages.bits.symlinks import check_link_target, check_links
from capi_packages.bits.zip_format import (
    ENCRYPTION_FLAGS,
    STORED,
    SUPPORTED_METHODS,
    ArchiveView,
    PageRelease,
    entry_mode,
    invalid_zip,
    is_dir_entry,
    is_symlink_entry,
    local_data_start,
    map_archive,
    too_large,
)
from capi_packages.errors import AppBitsUploadInvalid, AppPackageInvalid

_EOCD = struct.Struct("<4sHHHHIIH")
_EOCD64_LOCATOR = struct.Struct("<4sIQI")
_EOCD64_SIZE = 56
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    NotImplementedError,
    ValueError,
    EOFError,
    struct.error,
    OSError,
)


@dataclass(frozen=True)
class ArchiveLimits:
    max_total_bytes: int
    max_entries: int


class ScannedEntry(NamedTuple):
    # A tuple, not a dataclass: one is made per entry, and a frozen dataclass costs three times as
    # much to make (30,000 entries, 70 ms).
    name: str
    is_dir: bool
    is_symlink: bool
    mode: int
    size: int
    sha1: str | None  # only for the entries the scan was asked to fingerprint
    link_target: str | None = None
    # Where the entry's compressed bytes lie in the archive, and what they decompress with.
    method: int = STORED
    crc: int = 0
    data_offset: int = 0
    compressed_size: int = 0


# fingerprint(declared_size, mode): should this entry's sha1 be computed?
Fingerprint = Callable[[int, int], bool]


def scan_archive(
    path: str | os.PathLike[str],
    limits: ArchiveLimits,
    fingerprint: Fingerprint | None = None,
    *,
    fold_case: bool = False,
    threads: int = 1,
) -> list[ScannedEntry]:
    """Check every entry of the zip at `path` and describe it, in central-directory order.

    Regular files for which `fingerprint(declared_size, mode)` holds also get their sha1, in the
    same single decompression pass (the resource pool needs it; nothing else does). `fold_case`
    compares names ignoring case, for stacks whose file systems do. A big archive is read by up
    to `threads` threads at once.
    """
    with open(path, "rb") as f:
        # Refuse huge entry counts before zipfile materialises the whole central directory.
        declared = _eocd_entry_count(f)
        if declared is not None and declared > limits.max_entries:
            raise _too_many(limits.max_entries)
        try:
            zf = zipfile.ZipFile(f)
        except (*_ZIP_ERRORS, UnicodeDecodeError):
            raise invalid_zip() from None
        with zf:
            infos = zf.infolist()
            if len(infos) > limits.max_entries:
                raise _too_many(limits.max_entries)
            _check_headers(infos, fold_case)
            if sum(info.file_size for info in infos) > limits.max_total_bytes:
                raise too_large(limits.max_total_bytes)
            with map_archive(f) as view:
                return _stream_entries(view, infos, getattr(zf, "start_dir", None), fingerprint, threads)


def _too_many(max_entries: int) -> AppPackageInvalid:
    return AppPackageInvalid(f"Package may not contain more than {max_entries} entries")


def _outside(name: str) -> AppBitsUploadInvalid:
    return AppBitsUploadInvalid(f"Entry '{name}' has a path outside the package.")


def _eocd_entry_count(f: BinaryIO) -> int | None:
    """Total entries as the end-of-central-directory record claims; None when unreadable."""
    f.seek(0, os.SEEK_END)
    size = f.tell()
    tail_len = min(size, _EOCD.size + 0xFFFF)
    f.seek(size - tail_len)
    tail = f.read(tail_len)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or tail_len - at < _EOCD.size:
        return None
    count = _EOCD.unpack_from(tail, at)[4]
    if count != 0xFFFF:
        return int(count)
    locator_at = size - tail_len + at - _EOCD64_LOCATOR.size
    if locator_at - _EOCD64_SIZE < 0:
        return None
    f.seek(locator_at - _EOCD64_SIZE)
    record = f.read(_EOCD64_SIZE + _EOCD64_LOCATOR.size)
    if record[:4] != b"PK\x06\x06" or record[_EOCD64_SIZE : _EOCD64_SIZE + 4] != b"PK\x06\x07":
        return None
    return int(struct.unpack_from("<Q", record, 32)[0])


def _check_headers(infos: list[zipfile.ZipInfo], fold_case: bool) -> None:
    paths: list[PackagePath] = []
    for info in infos:
        if info.flag_bits & ENCRYPTION_FLAGS or info.compress_type not in SUPPORTED_METHODS:
            raise invalid_zip()
        if "\0" in info.orig_filename:
            raise invalid_zip()
        parts = member_parts(info.orig_filename)
        if parts is None:
            raise _outside(info.filename)
        is_dir = is_dir_entry(info)
        if not parts and not is_dir:
            raise invalid_zip()
        if parts:
            paths.append(PackagePath(info.filename, tuple(parts), is_dir, is_symlink_entry(info)))
    check_conflicts(paths, fold_case=fold_case)


def _stream_entries(
    view: ArchiveView,
    infos: list[zipfile.ZipInfo],
    cd_start: int | None,
    fingerprint: Fingerprint | None,
    threads: int,
) -> list[ScannedEntry]:
    work = _locate(view, infos, cd_start, fingerprint)
    contents = read_entries(view, work, threads)
    links: dict[tuple[str, ...], str] = {}
    placed: list[tuple[str, list[str], str]] = []
    order = {info.filename: i for i, info in enumerate(infos)}  # links are checked in directory order
    results: list[ScannedEntry | None] = [None] * len(infos)
    for entry, content in zip(work, contents, strict=True):
        info = entry.info
        link_target = None
        if content.link_raw is not None:
            link_target = check_link_target(info.filename, content.link_raw)
            parts = member_parts(info.orig_filename) or []
            links[tuple(parts)] = link_target
            placed.append((info.filename, parts, link_target))
        results[entry.number] = ScannedEntry(
            name=info.filename,
            is_dir=entry.is_dir,
            is_symlink=entry.is_link,
            mode=entry.mode,
            size=info.file_size,
            sha1=content.sha1,
            link_target=link_target,
            method=info.compress_type,
            crc=content.crc,
            data_offset=entry.start,
            compressed_size=info.compress_size,
        )
    # Only now are all links known; a link may escape by going through another link.
    check_links(links, sorted(placed, key=lambda link: order[link[0]]))
    return [entry for entry in results if entry is not None]


def _locate(
    view: ArchiveView, infos: list[zipfile.ZipInfo], cd_start: int | None, fingerprint: Fingerprint | None
) -> list[PlannedEntry]:
    """Every entry's data offset, in file order, refusing entries that share bytes (the
    overlapping-entries bomb inflates one compressed kernel many times)."""
    work: list[PlannedEntry] = []
    data_end = 0
    # Each header read maps in the pages around it too (the kernel's fault-around): let them go.
    pages = PageRelease(view, 0)
    for index in sorted(range(len(infos)), key=lambda i: infos[i].header_offset):
        info = infos[index]
        if info.header_offset < data_end:
            raise invalid_zip()
        start = local_data_start(view, info)
        pages.reached(start)
        data_end = start + info.compress_size
        if cd_start is not None and data_end > cd_start:
            raise invalid_zip()
        is_dir = is_dir_entry(info)
        is_link = not is_dir and stat.S_ISLNK(info.external_attr >> 16)
        mode = entry_mode(info)
        wanted = fingerprint is not None and not is_link and not is_dir and fingerprint(info.file_size, mode)
        work.append(PlannedEntry(index, info, start, is_dir, is_link, mode, wanted))
    pages.release(data_end)
    return work
