"""Build the final package zip from raw-copied upload entries plus cached pool resources."""

from __future__ import annotations

import hashlib
import os
import re
import struct
import time
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from capi_packages.bits.zip_safety import (
    CHUNK,
    DEFLATED,
    LOCAL_HEADER,
    LOCAL_SIG,
    UTF8_FLAG,
    ScannedEntry,
    data_offset,
    encoded_name,
    invalid_zip,
    member_parts,
    too_large,
)
from capi_packages.errors import (
    AppBitsUploadInvalid,
    AppPackageInvalid,
    FileModeInvalid,
    FilePathInvalid,
    ResourceChecksumMismatch,
)

DEFAULT_MODE = 0o744
DATA_DESCRIPTOR_FLAG = 0x0008
UNIX = 3
ZIP64_VERSION = 45
DEFLATE_VERSION = 20
NEEDS_ZIP64 = 0xFFFFFFFF  # a 4-byte field holding this or more must move to the zip64 extra
# Deflate can grow incompressible data slightly, so switch cached files to zip64 well before 4 GiB.
CACHED_ZIP64_FROM = 0xF0000000
_CENTRAL = struct.Struct("<4sHHHHHHIIIHHHHHII")
_EOCD = struct.Struct("<4sHHHHIIH")
_EOCD64 = struct.Struct("<4sQHHIIQQQQ")
_EOCD64_LOCATOR = struct.Struct("<4sIQI")
_SHA1 = re.compile(r"[0-9a-fA-F]{40}")
_OCTAL = re.compile(r"(?:0[oO])?[0-7]+")


@dataclass(frozen=True)
class CachedResource:
    path: str
    sha1: str
    size: int
    mode: int


@dataclass(frozen=True)
class PackageChecksums:
    sha1: str
    sha256: str
    size: int


def parse_resources(raw: list[dict[str, Any]]) -> list[CachedResource]:
    """Translate v2/v3 resource dicts into CachedResource, applying CC's path and mode rules."""
    if not isinstance(raw, list):
        raise AppBitsUploadInvalid("Resources must be a list of objects.")
    return [_parse_resource(index, item) for index, item in enumerate(raw)]


def _parse_resource(index: int, item: Any) -> CachedResource:
    if not isinstance(item, dict):
        raise AppBitsUploadInvalid(f"Resource {index} must be an object.")
    if "checksum" in item and "size_in_bytes" in item:
        checksum = item["checksum"]
        sha1 = checksum.get("value") if isinstance(checksum, dict) else None
        size, fn, raw_mode = item["size_in_bytes"], item.get("path"), item.get("mode")
    else:
        sha1, size, fn = item.get("sha1"), item.get("size"), item.get("fn")
        raw_mode = item.get("mode")
    if not isinstance(fn, str) or not fn:
        raise AppBitsUploadInvalid(f"Resource {index} has no path.")
    parts = member_parts(fn, resolve_dotdot=True)
    if not parts:
        raise FilePathInvalid(f"File path '{fn}' is not safe.")
    mode = _parse_mode(raw_mode)
    if mode is None or mode & 0o600 != 0o600:
        raise FileModeInvalid(f"File mode '{raw_mode}' with path '{fn}' is invalid. Minimum file mode is '0600'")
    # The sha1 becomes a pool key, so anything but 40 hex digits is refused.
    if not isinstance(sha1, str) or not _SHA1.fullmatch(sha1):
        raise AppBitsUploadInvalid(f"Resource '{fn}' has an invalid sha1.")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise AppBitsUploadInvalid(f"Resource '{fn}' has an invalid size.")
    return CachedResource(path="/".join(parts), sha1=sha1.lower(), size=size, mode=mode & 0o7777)


def _parse_mode(raw_mode: Any) -> int | None:
    if raw_mode is None:
        return DEFAULT_MODE
    if isinstance(raw_mode, int) and not isinstance(raw_mode, bool):
        raw_mode = str(raw_mode)  # a JSON number like 644 can only mean the octal digits
    if not isinstance(raw_mode, str) or not _OCTAL.fullmatch(raw_mode.strip()):
        return None
    return int(raw_mode.strip().lower().removeprefix("0o"), 8)


class _HashingWriter:
    """Append-only writer that hashes and counts every byte it passes to the file."""

    def __init__(self, f: BinaryIO) -> None:
        self._f = f
        self.sha1 = hashlib.sha1(usedforsecurity=False)
        self.sha256 = hashlib.sha256()
        self.offset = 0

    def write(self, data: bytes) -> None:
        self._f.write(data)
        self.sha1.update(data)
        self.sha256.update(data)
        self.offset += len(data)


@dataclass
class _Central:
    name: bytes
    made_by: int
    needed: int
    flags: int
    method: int
    dos_time: int
    dos_date: int
    crc: int
    csize: int
    usize: int
    extra: bytes
    comment: bytes
    internal_attr: int
    external_attr: int
    offset: int


def build_package_zip(
    uploaded: str | os.PathLike[str] | None,
    entries: list[ScannedEntry],
    cached: list[CachedResource],
    open_cached: Callable[[str], BinaryIO],
    out_path: str | os.PathLike[str],
    max_total_bytes: int,
) -> PackageChecksums:
    """Write the package zip to `out_path` and return its checksums and size.

    `entries` must be scan_archive's result for `uploaded`. Raises ResourceChecksumMismatch
    (with `.mismatched`, the bad sha1s) when pool content does not hash to its key.
    """
    if uploaded is None and entries:
        raise ValueError("entries given without an uploaded archive")
    files = [entry for entry in entries if not entry.is_dir]
    taken = {"/".join(member_parts(entry.name) or []) for entry in files}
    # Later duplicates win, as when CC writes each resource into one directory in turn.
    by_path: dict[str, CachedResource] = {}
    for resource in cached:
        if resource.path not in taken:
            by_path[resource.path] = resource
    if not files and not by_path:
        raise invalid_zip()
    total = sum(entry.size for entry in files)
    if total > max_total_bytes:
        raise too_large(max_total_bytes)

    out = Path(out_path)
    try:
        with open(out, "wb") as raw_out:
            writer = _HashingWriter(raw_out)
            records: list[_Central] = []
            if uploaded is not None and files:
                _copy_uploaded(uploaded, entries, writer, records)
            mismatched: list[str] = []
            stamp = _dos_stamp(time.localtime())
            for resource in by_path.values():
                total = _append_cached(
                    resource, open_cached, writer, records, stamp, total, max_total_bytes, mismatched
                )
            if mismatched:
                error = ResourceChecksumMismatch()
                error.mismatched = list(dict.fromkeys(mismatched))  # type: ignore[attr-defined]
                raise error
            _write_central_directory(writer, records)
        return PackageChecksums(writer.sha1.hexdigest(), writer.sha256.hexdigest(), writer.offset)
    except BaseException:
        out.unlink(missing_ok=True)
        raise


def _copy_uploaded(
    uploaded: str | os.PathLike[str],
    entries: list[ScannedEntry],
    writer: _HashingWriter,
    records: list[_Central],
) -> None:
    with open(uploaded, "rb") as src, zipfile.ZipFile(src) as zf:
        infos = zf.infolist()
        if len(infos) != len(entries) or any(
            info.filename != entry.name for info, entry in zip(infos, entries, strict=True)
        ):
            raise ValueError("entries do not describe the uploaded archive")
        for info, entry in zip(infos, entries, strict=True):
            if entry.is_dir:
                continue  # CC strips directory entries from the stored package
            start = data_offset(src, info)
            # Sizes and CRC are known, so the copy needs no data descriptor.
            flags = info.flag_bits & ~DATA_DESCRIPTOR_FLAG
            dos_time, dos_date = _dos_stamp(info.date_time)
            record = _Central(
                name=encoded_name(info),
                made_by=(info.create_system << 8) | info.create_version,
                needed=info.extract_version,
                flags=flags,
                method=info.compress_type,
                dos_time=dos_time,
                dos_date=dos_date,
                crc=info.CRC,
                csize=info.compress_size,
                usize=info.file_size,
                extra=_strip_zip64(info.extra),
                comment=info.comment,
                internal_attr=info.internal_attr,
                external_attr=info.external_attr,
                offset=writer.offset,
            )
            zip64 = record.usize >= NEEDS_ZIP64 or record.csize >= NEEDS_ZIP64
            _write_local(writer, record, zip64, record.csize, record.usize, record.crc)
            src.seek(start)
            left = info.compress_size
            while left > 0:
                chunk = src.read(min(CHUNK, left))
                if not chunk:
                    raise invalid_zip()
                writer.write(chunk)
                left -= len(chunk)
            records.append(record)


def _append_cached(
    resource: CachedResource,
    open_cached: Callable[[str], BinaryIO],
    writer: _HashingWriter,
    records: list[_Central],
    stamp: tuple[int, int],
    total: int,
    max_total_bytes: int,
    mismatched: list[str],
) -> int:
    """Deflate one pool blob into the zip (data descriptor after it); return the new total."""
    name = resource.path.encode("utf-8")
    flags = DATA_DESCRIPTOR_FLAG | (0 if resource.path.isascii() else UTF8_FLAG)
    zip64 = resource.size >= CACHED_ZIP64_FROM
    version = ZIP64_VERSION if zip64 else DEFLATE_VERSION
    record = _Central(
        name=name,
        made_by=(UNIX << 8) | version,
        needed=version,
        flags=flags,
        method=DEFLATED,
        dos_time=stamp[0],
        dos_date=stamp[1],
        crc=0,
        csize=0,
        usize=0,
        extra=b"",
        comment=b"",
        internal_attr=0,
        external_attr=(0o100000 | resource.mode) << 16,
        offset=writer.offset,
    )
    _write_local(writer, record, zip64, 0, 0, 0)
    digest = hashlib.sha1(usedforsecurity=False)
    crc = csize = usize = 0
    deflater = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -zlib.MAX_WBITS)
    src = open_cached(resource.sha1)
    try:
        while chunk := src.read(CHUNK):
            usize += len(chunk)
            total += len(chunk)
            if total > max_total_bytes:
                raise too_large(max_total_bytes)
            digest.update(chunk)
            crc = zlib.crc32(chunk, crc)
            out = deflater.compress(chunk)
            csize += len(out)
            writer.write(out)
    finally:
        src.close()
    out = deflater.flush()
    csize += len(out)
    writer.write(out)
    if zip64:
        writer.write(struct.pack("<4sIQQ", b"PK\x07\x08", crc, csize, usize))
    elif csize >= NEEDS_ZIP64 or usize >= NEEDS_ZIP64:
        raise AppPackageInvalid("Error appending additional resources to package")
    else:
        writer.write(struct.pack("<4sIII", b"PK\x07\x08", crc, csize, usize))
    if digest.hexdigest() != resource.sha1:
        mismatched.append(resource.sha1)
    record.crc, record.csize, record.usize = crc, csize, usize
    records.append(record)
    return total


def _write_local(writer: _HashingWriter, rec: _Central, zip64: bool, csize: int, usize: int, crc: int) -> None:
    needed = rec.needed
    extra = rec.extra
    if zip64:
        extra = struct.pack("<HHQQ", 1, 16, usize, csize) + extra
        csize = usize = 0xFFFFFFFF
        needed = max(needed, ZIP64_VERSION)
    header = LOCAL_HEADER.pack(
        LOCAL_SIG,
        needed,
        rec.flags,
        rec.method,
        rec.dos_time,
        rec.dos_date,
        crc,
        csize,
        usize,
        len(rec.name),
        len(extra),
    )
    writer.write(header + rec.name + extra)


def _write_central_directory(writer: _HashingWriter, records: list[_Central]) -> None:
    cd_start = writer.offset
    for rec in records:
        fields = {"usize": rec.usize, "csize": rec.csize, "offset": rec.offset}
        big = [value for value in fields.values() if value >= NEEDS_ZIP64]
        made_by, needed, extra = rec.made_by, rec.needed, rec.extra
        if big:
            # zip64 extra carries only the overflowing fields, in usize, csize, offset order.
            extra = struct.pack(f"<HH{len(big)}Q", 1, 8 * len(big), *big) + extra
            made_by = (made_by & 0xFF00) | max(made_by & 0xFF, ZIP64_VERSION)
            needed = max(needed, ZIP64_VERSION)
        usize, csize, offset = (min(value, 0xFFFFFFFF) for value in fields.values())
        writer.write(
            _CENTRAL.pack(
                b"PK\x01\x02",
                made_by,
                needed,
                rec.flags,
                rec.method,
                rec.dos_time,
                rec.dos_date,
                rec.crc,
                csize,
                usize,
                len(rec.name),
                len(extra),
                len(rec.comment),
                0,
                rec.internal_attr,
                rec.external_attr,
                offset,
            )
            + rec.name
            + extra
            + rec.comment
        )
    cd_size = writer.offset - cd_start
    count = len(records)
    if count >= 0xFFFF or cd_size >= 0xFFFFFFFF or cd_start >= 0xFFFFFFFF:
        eocd64_at = writer.offset
        writer.write(
            _EOCD64.pack(
                b"PK\x06\x06", _EOCD64.size - 12, ZIP64_VERSION, ZIP64_VERSION, 0, 0, count, count, cd_size, cd_start
            )
        )
        writer.write(_EOCD64_LOCATOR.pack(b"PK\x06\x07", 0, eocd64_at, 1))
    writer.write(
        _EOCD.pack(
            b"PK\x05\x06",
            0,
            0,
            min(count, 0xFFFF),
            min(count, 0xFFFF),
            min(cd_size, 0xFFFFFFFF),
            min(cd_start, 0xFFFFFFFF),
            0,
        )
    )


def _strip_zip64(extra: bytes) -> bytes:
    """Drop zip64 extra fields (rewritten for the new offsets); keep the others verbatim."""
    kept = bytearray()
    pos = 0
    while pos + 4 <= len(extra):
        kind, length = struct.unpack_from("<HH", extra, pos)
        end = pos + 4 + length
        if end > len(extra):
            break
        if kind != 1:
            kept += extra[pos:end]
        pos = end
    return bytes(kept)


def _dos_stamp(date_time: tuple[int, ...] | time.struct_time) -> tuple[int, int]:
    year, month, day, hour, minute, second = tuple(date_time)[:6]
    year = min(max(year, 1980), 2107)
    return (hour << 11) | (minute << 5) | (second // 2), ((year - 1980) << 9) | (month << 5) | day
