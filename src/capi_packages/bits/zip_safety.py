"""Single-pass streaming safety scan of an uploaded app zip (limits, paths, symlinks, CRC)."""

from __future__ import annotations

import bz2
import hashlib
import os
import re
import stat
import struct
import zipfile
import zlib
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

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
MAX_LINK_TARGET = 4096  # PATH_MAX: a longer target cannot be a usable link
MAX_LINK_HOPS = 40  # same budget as Linux's ELOOP limit

_EOCD = struct.Struct("<4sHHHHIIH")
_EOCD64_LOCATOR = struct.Struct("<4sIQI")
_EOCD64_SIZE = 56
_DRIVE = re.compile(r"^[A-Za-z]:")
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


@dataclass(frozen=True)
class ScannedEntry:
    name: str
    is_dir: bool
    is_symlink: bool
    mode: int
    size: int
    sha1: str
    link_target: str | None = None


class _SpoolFailed(Exception):
    """Writing a spooled copy failed (a full disk): the store's fault, not the archive's."""

    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.error = error


def _write_spooled(sink: BinaryIO, chunk: bytes) -> None:
    try:
        sink.write(chunk)
    except OSError as e:
        raise _SpoolFailed(e) from e


def invalid_zip() -> AppBitsUploadInvalid:
    return AppBitsUploadInvalid("Invalid zip archive.")


def too_large(max_total_bytes: int) -> AppPackageInvalid:
    return AppPackageInvalid(f"Package may not be larger than {max_total_bytes} bytes")


def member_parts(name: str, *, resolve_dotdot: bool = False) -> list[str] | None:
    """Normal path components of a member name; None when absolute or outside the root.

    Backslashes count as separators because Windows-made zips use them and unzip converts them;
    a leading drive letter ("C:") counts as absolute for the same reason, so a top-level name
    like "a:b" is refused too. Without resolve_dotdot any `..` component is refused outright.
    """
    path = name.replace("\\", "/")
    if path.startswith("/") or _DRIVE.match(path) or "\0" in path:
        return None
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not resolve_dotdot or not parts:
                return None
            parts.pop()
        else:
            parts.append(part)
    return parts


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
    sig, _ver, flags, method, _t, _d, _crc, _cs, _us, name_len, extra_len = LOCAL_HEADER.unpack(raw)
    # A local name differing from the central one is how extractors get fooled ("mismatching
    # local filename" in unzip), so insist on byte equality.
    if sig != LOCAL_SIG or flags & ENCRYPTION_FLAGS or method != info.compress_type:
        raise invalid_zip()
    if f.read(name_len) != encoded_name(info):
        raise invalid_zip()
    return int(info.header_offset + LOCAL_HEADER.size + name_len + extra_len)


Spool = Callable[[str, int, int], BinaryIO | None]


def scan_archive(path: str | os.PathLike[str], limits: ArchiveLimits, spool: Spool | None = None) -> list[ScannedEntry]:
    """Check and fingerprint every entry of the zip at `path`, in central-directory order.

    `spool(name, declared_size, mode)` may return a file that also receives the entry's content
    during this one decompression pass (the resource pool fills itself without a second pass);
    the scan closes it.
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
            _check_headers(infos)
            if sum(info.file_size for info in infos) > limits.max_total_bytes:
                raise too_large(limits.max_total_bytes)
            return _stream_entries(f, infos, limits, getattr(zf, "start_dir", None), spool)


def _too_many(max_entries: int) -> AppPackageInvalid:
    return AppPackageInvalid(f"Package may not contain more than {max_entries} entries")


def _outside(name: str) -> AppBitsUploadInvalid:
    return AppBitsUploadInvalid(f"Entry '{name}' has a path outside the package.")


def _link_outside(name: str, target: str) -> AppBitsUploadInvalid:
    return AppBitsUploadInvalid(f"Symlink '{name}' points outside the package: '{target}'.")


def _bad_link(name: str) -> AppBitsUploadInvalid:
    return AppBitsUploadInvalid(f"Symlink '{name}' has an invalid target.")


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


def _check_headers(infos: list[zipfile.ZipInfo]) -> None:
    for info in infos:
        if info.flag_bits & ENCRYPTION_FLAGS or info.compress_type not in SUPPORTED_METHODS:
            raise invalid_zip()
        if "\0" in info.orig_filename:
            raise invalid_zip()
        parts = member_parts(info.orig_filename)
        if parts is None:
            raise _outside(info.filename)
        if not parts and not is_dir_entry(info):
            raise invalid_zip()


def _stream_entries(
    f: BinaryIO,
    infos: list[zipfile.ZipInfo],
    limits: ArchiveLimits,
    cd_start: int | None,
    spool: Spool | None = None,
) -> list[ScannedEntry]:
    results: list[ScannedEntry | None] = [None] * len(infos)
    links: dict[tuple[str, ...], str] = {}
    total = 0
    data_end = 0
    # File order makes reads sequential and lets us spot entries sharing bytes (the
    # overlapping-entries bomb inflates one compressed kernel many times).
    for index in sorted(range(len(infos)), key=lambda i: infos[i].header_offset):
        info = infos[index]
        if info.header_offset < data_end:
            raise invalid_zip()
        start = data_offset(f, info)
        data_end = start + info.compress_size
        if cd_start is not None and data_end > cd_start:
            raise invalid_zip()
        is_link = is_symlink_entry(info)
        digest = hashlib.sha1(usedforsecurity=False)
        crc = 0
        size = 0
        target = bytearray()
        f.seek(start)
        sink = None
        if spool is not None and not is_link and not is_dir_entry(info):
            sink = spool(info.filename, info.file_size, entry_mode(info))
        try:
            for chunk in _decompress(f, info):
                size += len(chunk)
                total += len(chunk)
                # Headers may lie: stop at the first byte beyond what was declared.
                if size > info.file_size:
                    raise invalid_zip()
                if total > limits.max_total_bytes:
                    raise too_large(limits.max_total_bytes)
                digest.update(chunk)
                crc = zlib.crc32(chunk, crc)
                if sink is not None:
                    _write_spooled(sink, chunk)
                if is_link:
                    target += chunk
                    if len(target) > MAX_LINK_TARGET:
                        raise _bad_link(info.filename)
        except _SpoolFailed as e:
            raise e.error from None
        except (zlib.error, OSError, EOFError):
            raise invalid_zip() from None
        finally:
            if sink is not None:
                sink.close()
        if size != info.file_size or crc != info.CRC:
            raise invalid_zip()
        link_target = None
        if is_link:
            link_target = _check_link_target(info.filename, bytes(target))
            links[tuple(member_parts(info.orig_filename) or ())] = link_target
        results[index] = ScannedEntry(
            name=info.filename,
            is_dir=is_dir_entry(info),
            is_symlink=is_link,
            mode=entry_mode(info),
            size=size,
            sha1=digest.hexdigest(),
            link_target=link_target,
        )
    # Only now are all links known; a link may escape by going through another link.
    for info, entry in zip(infos, results, strict=True):
        assert entry is not None
        if entry.is_symlink and entry.link_target is not None:
            parts = member_parts(info.orig_filename) or []
            if not _resolves_inside(parts[:-1], entry.link_target, links):
                raise _link_outside(entry.name, entry.link_target)
    return [entry for entry in results if entry is not None]


def _check_link_target(name: str, raw: bytes) -> str:
    # Invalid UTF-8 bytes never decode to "/" or ".", so replacing them keeps the path shape.
    target = raw.decode("utf-8", "replace")
    if not target or "\0" in target:
        raise _bad_link(name)
    parts = member_parts(name) or []
    if not _resolves_inside(parts[:-1], target, {}):
        raise _link_outside(name, target)
    return target


def _resolves_inside(link_dir: list[str], target: str, links: dict[tuple[str, ...], str]) -> bool:
    """Resolve `target` from `link_dir` like the kernel would, expanding links found in `links`."""
    if target.replace("\\", "/").startswith("/") or _DRIVE.match(target):
        return False
    current: list[str] = []
    pending: deque[str] = deque(link_dir + target.replace("\\", "/").split("/"))
    hops = 0
    while pending:
        part = pending.popleft()
        if part in ("", "."):
            continue
        if part == "..":
            if not current:
                return False
            current.pop()
            continue
        current.append(part)
        next_target = links.get(tuple(current))
        if next_target is None:
            continue
        hops += 1
        if hops > MAX_LINK_HOPS:
            return False  # cannot prove it stays inside, so refuse
        if next_target.replace("\\", "/").startswith("/") or _DRIVE.match(next_target):
            return False
        current.pop()
        pending.extendleft(reversed(next_target.replace("\\", "/").split("/")))
    return True


def _decompress(f: BinaryIO, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """Yield the real content of `info` (f positioned at its data) in chunks of at most CHUNK."""
    left = info.compress_size

    def read_more() -> bytes:
        nonlocal left
        if left <= 0:
            return b""
        data = f.read(min(CHUNK, left))
        if not data:
            raise invalid_zip()  # truncated archive
        left -= len(data)
        return data

    if info.compress_size == 0 and info.file_size == 0:
        return  # some writers emit empty members with no compressed stream at all
    if info.compress_type == STORED:
        if info.compress_size != info.file_size:
            raise invalid_zip()
        while left > 0:
            yield read_more()
    elif info.compress_type == DEFLATED:
        inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        while not inflater.eof:
            data = inflater.unconsumed_tail or read_more()
            out = inflater.decompress(data, CHUNK)
            if out:
                yield out
            elif not data:
                raise invalid_zip()  # input exhausted before the deflate stream ended
    else:
        bunzip = bz2.BZ2Decompressor()
        while not bunzip.eof:
            data = read_more() if bunzip.needs_input else b""
            out = bunzip.decompress(data, CHUNK)
            if out:
                yield out
            elif not data:
                raise invalid_zip()
