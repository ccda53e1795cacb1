"""Writing a zip record by record: local headers, raw data, the central directory, zip64 when due."""

from __future__ import annotations

import hashlib
import queue
import struct
import threading
import time
from dataclasses import dataclass
from typing import Any, BinaryIO

from capi_packages.bits.codec import crc32
from capi_packages.bits.zip_format import BZIP2, DEFLATED, LOCAL_HEADER, LOCAL_SIG

DATA_DESCRIPTOR_FLAG = 0x0008
UNIX = 3
ZIP64_VERSION = 45
NEEDS_ZIP64 = 0xFFFFFFFF  # a 4-byte field holding this or more must move to the zip64 extra
# The "version needed to extract" of each compression method (APPNOTE 4.4.3.2).
METHOD_VERSION = {DEFLATED: 20, BZIP2: 46}
_CENTRAL = struct.Struct("<4sHHHHHHIIIHHHHHII")
_EOCD = struct.Struct("<4sHHHHIIH")
_EOCD64 = struct.Struct("<4sQHHIIQQQQ")
_EOCD64_LOCATOR = struct.Struct("<4sIQI")


class RunningCrc:
    """A CRC-32 that a HashingWriter keeps of some of the bytes written (final once it is closed)."""

    def __init__(self) -> None:
        self.value = 0


class _Hasher(threading.Thread):
    """Folds every piece it is handed into one digest (and the CRC-32s tagged onto pieces)."""

    def __init__(self, digest: Any, with_crcs: bool) -> None:
        super().__init__(name="capi-zip-hash", daemon=True)
        self.digest = digest
        self.with_crcs = with_crcs
        self.pieces: queue.Queue[tuple[bytes, RunningCrc | None] | None] = queue.Queue(HashingWriter.IN_FLIGHT)
        self.error: BaseException | None = None

    def run(self) -> None:
        while (item := self.pieces.get()) is not None:
            if self.error is not None:
                continue  # keep draining, so that a writer never blocks on a dead thread
            data, crc = item
            try:
                self.digest.update(data)
                if crc is not None and self.with_crcs:
                    crc.value = crc32(data, crc.value)
            except BaseException as e:  # handed to the writing thread by hexdigests()
                self.error = e


class HashingWriter:
    """Append-only writer that hashes (sha1, sha256) and counts every byte it passes to the file.

    Each digest is computed on a thread of its own, overlapping the reads and writes (hashlib
    and zlib let go of the GIL on big buffers); small writes are gathered first. `close` waits.
    """

    GATHER = 256 * 1024
    IN_FLIGHT = 16  # pieces queued per digest: a bounded amount of memory held at once

    def __init__(self, f: BinaryIO) -> None:
        self._f = f
        self.offset = 0
        self._gathered = bytearray()
        self._hashers = (
            _Hasher(hashlib.sha1(usedforsecurity=False), with_crcs=True),
            _Hasher(hashlib.sha256(), with_crcs=False),
        )
        for hasher in self._hashers:
            hasher.start()
        self._closed = False

    def write(self, data: bytes, crc: RunningCrc | None = None) -> None:
        """Write `data`; with `crc`, also fold it into that CRC-32."""
        self.offset += len(data)
        if crc is None and len(data) < self.GATHER:
            self._gathered += data
            if len(self._gathered) >= self.GATHER:
                self._flush()
            return
        self._flush()
        self._send(data, crc)

    def _flush(self) -> None:
        if self._gathered:
            data = bytes(self._gathered)
            self._gathered.clear()
            self._send(data, None)

    def _send(self, data: bytes, crc: RunningCrc | None) -> None:
        self._f.write(data)
        for hasher in self._hashers:
            hasher.pieces.put((data, crc))

    def close(self) -> None:
        """Write what is gathered and wait until every byte is hashed."""
        if self._closed:
            return
        self._closed = True
        try:
            self._flush()
        finally:
            for hasher in self._hashers:
                hasher.pieces.put(None)
            for hasher in self._hashers:
                hasher.join()

    def hexdigests(self) -> tuple[str, str]:
        self.close()
        for hasher in self._hashers:
            if hasher.error is not None:
                raise hasher.error
        sha1, sha256 = (hasher.digest.hexdigest() for hasher in self._hashers)
        return sha1, sha256


@dataclass
class CentralRecord:
    """One entry's central directory record, filled in as the entry is written."""

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


def write_local_header(
    writer: HashingWriter, rec: CentralRecord, zip64: bool, csize: int, usize: int, crc: int
) -> None:
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


def data_descriptor(crc: int, csize: int, usize: int, zip64: bool) -> bytes:
    if zip64:
        return struct.pack("<4sIQQ", b"PK\x07\x08", crc, csize, usize)
    return struct.pack("<4sIII", b"PK\x07\x08", crc, csize, usize)


def write_central_directory(writer: HashingWriter, records: list[CentralRecord]) -> None:
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


def strip_zip64(extra: bytes) -> bytes:
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


def dos_stamp(date_time: tuple[int, ...] | time.struct_time) -> tuple[int, int]:
    year, month, day, hour, minute, second = tuple(date_time)[:6]
    year = min(max(year, 1980), 2107)
    return (hour << 11) | (minute << 5) | (second // 2), ((year - 1980) << 9) | (month << 5) | day
