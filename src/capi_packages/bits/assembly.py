"""Build the final package zip from raw-copied upload entries plus cached pool resources."""

from __future__ import annotations

import hashlib
import os
import time
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from capi_packages.bits.codec import crc32
from capi_packages.bits.names import PackagePath, check_conflicts, member_parts
from capi_packages.bits.pool_blob import PoolBlobHeader, read_header
from capi_packages.bits.resources import CachedResource
from capi_packages.bits.zip_format import CHUNK, DEFLATED, UTF8_FLAG, data_offset, encoded_name, invalid_zip, too_large
from capi_packages.bits.zip_safety import ScannedEntry
from capi_packages.bits.zip_writer import (
    DATA_DESCRIPTOR_FLAG,
    METHOD_VERSION,
    NEEDS_ZIP64,
    UNIX,
    ZIP64_VERSION,
    CentralRecord,
    HashingWriter,
    RunningCrc,
    data_descriptor,
    dos_stamp,
    strip_zip64,
    write_central_directory,
    write_local_header,
)
from capi_packages.errors import AppPackageInvalid, ResourceChecksumMismatch

# Deflate can grow incompressible data slightly, so switch deflated files to zip64 well before 4 GiB.
DEFLATED_ZIP64_FROM = 0xF0000000


@dataclass(frozen=True)
class PackageChecksums:
    sha1: str
    sha256: str
    size: int


class _Budget:
    """The uncompressed bytes the package may still take."""

    def __init__(self, max_total_bytes: int, used: int) -> None:
        self.max_total_bytes = max_total_bytes
        self.used = used

    def take(self, size: int) -> None:
        self.used += size
        if self.used > self.max_total_bytes:
            raise too_large(self.max_total_bytes)


def build_package_zip(
    uploaded: str | os.PathLike[str] | None,
    entries: list[ScannedEntry],
    cached: list[CachedResource],
    open_cached: Callable[[str], BinaryIO],
    out_path: str | os.PathLike[str],
    max_total_bytes: int,
    *,
    fold_case: bool = False,
) -> PackageChecksums:
    """Write the package zip to `out_path` and return its checksums and size.

    `entries` must be scan_archive's result for `uploaded`. An uploaded file wins over a cached
    resource at its path; of resources sharing a path the last wins, as when CC writes each into
    one directory in turn. Raises ResourceChecksumMismatch (its `mismatched` are the bad sha1s)
    when pooled content is not what its key promises.
    """
    if uploaded is None and entries:
        raise ValueError("entries given without an uploaded archive")
    files = [entry for entry in entries if not entry.is_dir]
    resources = _resources_to_add(files, cached, fold_case)
    if not files and not resources:
        raise invalid_zip()
    budget = _Budget(max_total_bytes, 0)
    budget.take(sum(entry.size for entry in files))

    out = Path(out_path)
    try:
        with open(out, "wb") as raw_out:
            writer = HashingWriter(raw_out)
            try:
                records: list[CentralRecord] = []
                if uploaded is not None and files:
                    _copy_uploaded(uploaded, entries, writer, records)
                stamp = dos_stamp(time.localtime())
                checks = [_append_cached(r, open_cached, writer, records, stamp, budget) for r in resources]
                write_central_directory(writer, records)
                sha1, sha256 = writer.hexdigests()
            finally:
                writer.close()
        # Only now, with every byte hashed, are the framed blobs' CRCs final.
        mismatched = [r.sha1 for r, check in zip(resources, checks, strict=True) if not check.passed()]
        if mismatched:
            raise ResourceChecksumMismatch(list(dict.fromkeys(mismatched)))
        return PackageChecksums(sha1, sha256, writer.offset)
    except BaseException:
        out.unlink(missing_ok=True)
        raise


def _resources_to_add(files: list[ScannedEntry], cached: list[CachedResource], fold_case: bool) -> list[CachedResource]:
    def key(parts: list[str] | tuple[str, ...]) -> tuple[str, ...]:
        return tuple(p.casefold() for p in parts) if fold_case else tuple(parts)

    uploaded = {key(member_parts(entry.name) or []): entry for entry in files}
    by_path: dict[tuple[str, ...], CachedResource] = {}
    for resource in cached:
        path_key = key(resource.path.split("/"))
        if path_key not in uploaded:
            by_path.pop(path_key, None)  # the last one wins, in the last one's place
            by_path[path_key] = resource
    # The upload's own names were checked by the scan; this finds what the resources add.
    check_conflicts(
        [
            *(
                PackagePath(e.name, tuple(member_parts(e.name) or ()), is_symlink=e.is_symlink)
                for e in uploaded.values()
            ),
            *(PackagePath(r.path, tuple(r.path.split("/")), is_resource=True) for r in by_path.values()),
        ],
        fold_case=fold_case,
    )
    return list(by_path.values())


def _copy_uploaded(
    uploaded: str | os.PathLike[str],
    entries: list[ScannedEntry],
    writer: HashingWriter,
    records: list[CentralRecord],
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
            dos_time, dos_date = dos_stamp(info.date_time)
            record = CentralRecord(
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
                extra=strip_zip64(info.extra),
                comment=info.comment,
                internal_attr=info.internal_attr,
                external_attr=info.external_attr,
                offset=writer.offset,
            )
            zip64 = record.usize >= NEEDS_ZIP64 or record.csize >= NEEDS_ZIP64
            write_local_header(writer, record, zip64, record.csize, record.usize, record.crc)
            src.seek(start)
            if not _copy_exactly(src, writer, info.compress_size):
                raise invalid_zip()
            records.append(record)


def _copy_exactly(src: BinaryIO, writer: HashingWriter, length: int, crc: RunningCrc | None = None) -> bool:
    """Copy `length` bytes (folding them into `crc`); False when the source ends early."""
    left = length
    while left > 0:
        chunk = src.read(min(CHUNK, left))
        if not chunk:
            return False
        writer.write(chunk, crc)
        left -= len(chunk)
    return True


@dataclass(frozen=True)
class _Check:
    """Whether a pooled file was what its key promises; a framed blob's CRC is known at the end."""

    intact: bool
    crc: RunningCrc | None = None
    expected_crc: int = 0

    def passed(self) -> bool:
        return self.intact and (self.crc is None or self.crc.value == self.expected_crc)


def _cached_record(
    resource: CachedResource, method: int, zip64: bool, stamp: tuple[int, int], offset: int
) -> CentralRecord:
    version = ZIP64_VERSION if zip64 else METHOD_VERSION.get(method, 10)
    return CentralRecord(
        name=resource.path.encode("utf-8"),
        made_by=(UNIX << 8) | max(version, 20),
        needed=version,
        flags=0 if resource.path.isascii() else UTF8_FLAG,
        method=method,
        dos_time=stamp[0],
        dos_date=stamp[1],
        crc=0,
        csize=0,
        usize=0,
        extra=b"",
        comment=b"",
        internal_attr=0,
        external_attr=(0o100000 | resource.mode) << 16,
        offset=offset,
    )


def _append_cached(
    resource: CachedResource,
    open_cached: Callable[[str], BinaryIO],
    writer: HashingWriter,
    records: list[CentralRecord],
    stamp: tuple[int, int],
    budget: _Budget,
) -> _Check:
    """Add one pooled file to the zip, and say how to tell whether its blob was sound."""
    src = open_cached(resource.sha1)
    try:
        try:
            header = read_header(src)
        except ValueError:
            return _Check(intact=False)
        if header is None:
            return _deflate_plain(resource, src, writer, records, stamp, budget)
        return _copy_framed(resource, header, src, writer, records, stamp, budget)
    finally:
        src.close()


def _copy_framed(
    resource: CachedResource,
    header: PoolBlobHeader,
    src: BinaryIO,
    writer: HashingWriter,
    records: list[CentralRecord],
    stamp: tuple[int, int],
    budget: _Budget,
) -> _Check:
    """Copy the pooled compressed bytes as they are: no inflating, no deflating, no hashing of the
    content. The frame's CRC-32s vouch that the blob is what the upload's scan verified."""
    budget.take(header.size)
    zip64 = header.size >= NEEDS_ZIP64 or header.compressed_size >= NEEDS_ZIP64
    record = _cached_record(resource, header.method, zip64, stamp, writer.offset)
    record.crc, record.csize, record.usize = header.crc, header.compressed_size, header.size
    write_local_header(writer, record, zip64, record.csize, record.usize, record.crc)
    crc = RunningCrc()
    complete = _copy_exactly(src, writer, header.compressed_size, crc)
    records.append(record)
    return _Check(complete and not src.read(1), crc, header.data_crc)


def _deflate_plain(
    resource: CachedResource,
    src: BinaryIO,
    writer: HashingWriter,
    records: list[CentralRecord],
    stamp: tuple[int, int],
    budget: _Budget,
) -> _Check:
    """A blob holding the plain content: deflate it, checking its sha1 as CC's packer does."""
    zip64 = resource.size >= DEFLATED_ZIP64_FROM
    record = _cached_record(resource, DEFLATED, zip64, stamp, writer.offset)
    record.flags |= DATA_DESCRIPTOR_FLAG
    write_local_header(writer, record, zip64, 0, 0, 0)
    digest = hashlib.sha1(usedforsecurity=False)
    crc = csize = usize = 0
    deflater = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -zlib.MAX_WBITS)
    while chunk := src.read(CHUNK):
        usize += len(chunk)
        budget.take(len(chunk))
        digest.update(chunk)
        crc = crc32(chunk, crc)
        out = deflater.compress(chunk)
        csize += len(out)
        writer.write(out)
    out = deflater.flush()
    csize += len(out)
    writer.write(out)
    if not zip64 and (csize >= NEEDS_ZIP64 or usize >= NEEDS_ZIP64):
        raise AppPackageInvalid("Error appending additional resources to package")
    writer.write(data_descriptor(crc, csize, usize, zip64))
    record.crc, record.csize, record.usize = crc, csize, usize
    records.append(record)
    return _Check(digest.hexdigest() == resource.sha1)
