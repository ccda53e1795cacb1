"""A zip writer for pushes: one pass, no seeking back for small files, deflate sized to each file.

zipfile writes every member's local header twice (a placeholder, then the real one after a seek
back) and starts each member's deflate with a 32 KiB window and zlib's default memory level.
For the thousands of 1-4 KB files of a node_modules those set-ups cost three times the
compression itself. Here a file read whole is compressed in one call with a window just big
enough for it (any deflate stream inflates with the standard 32 KiB window, so readers see no
difference) and written after a header that already holds its sizes. Only a file too big to
read whole is streamed, and its header patched afterwards. The fast levels (1-3) deflate with
ISA-L instead of zlib, which costs less again.

What comes out is a plain PKZIP archive (zip64 where sizes, offsets or the entry count need it)
that zipfile, Info-ZIP and Go's archive/zip read.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from typing import IO, Any, NamedTuple

from isal import isal_zlib

STORED, DEFLATED = 0, 8
_LOCAL = struct.Struct("<4sHHHHHIIIHH")
_CENTRAL = struct.Struct("<4sHHHHHHIIIHHHHHII")
_EOCD = struct.Struct("<4sHHHHIIH")
_EOCD64 = struct.Struct("<4sQHHIIQQQQ")
_EOCD64_LOCATOR = struct.Struct("<4sIQI")
_ZIP64_EXTRA = 0x0001
_MAX32 = 0xFFFFFFFF
_MAX16 = 0xFFFF
_UTF8 = 0x800
_VERSION, _ZIP64_VERSION = 20, 45
_UNIX = 3
# A streamed file this big might pass 4 GiB once deflated (incompressible data grows a little):
# its local header reserves zip64 sizes.
_STREAM_ZIP64_FROM = 0xF0000000
# zlib's default memory level costs more to set up than a small file costs to compress; the
# smaller hash table finds the same matches in a file this short.
_SMALL_FILE = 64 * 1024
_SMALL_MEM_LEVEL = 5
# The fast levels go to ISA-L (python-isal): at level 1 it deflates a 2 KB file in 60 % of zlib's
# time and a big one 3 times as fast, to a slightly smaller size, and computes CRC-32 12 times as
# fast. Its levels stop at 3; higher ones, asked for a smaller zip, stay with zlib.
_ISAL_LEVELS = frozenset({1, 2, 3})
_COPY_CHUNK = 1 << 20


class ZipSizeError(OSError):
    """A streamed file grew past what its local header could describe."""


class _Member(NamedTuple):
    name: bytes
    flags: int
    method: int
    dos_time: int
    dos_date: int
    crc: int
    compressed: int
    size: int
    offset: int
    external_attr: int


def dos_stamp(date_time: tuple[int, int, int, int, int, int]) -> tuple[int, int]:
    year, month, day, hour, minute, second = date_time
    return (hour << 11) | (minute << 5) | (second // 2), ((year - 1980) << 9) | (month << 5) | day


def deflate(data: bytes, level: int) -> bytes:
    """Raw deflate of a whole file, set up for its size."""
    if level in _ISAL_LEVELS:
        return isal_zlib.compress(data, level, -zlib.MAX_WBITS)
    if len(data) > _SMALL_FILE:
        return zlib.compress(data, level, -zlib.MAX_WBITS)
    window = max(9, min(zlib.MAX_WBITS, (len(data) - 1).bit_length()))
    compressor = zlib.compressobj(level, zlib.DEFLATED, -window, _SMALL_MEM_LEVEL)
    return compressor.compress(data) + compressor.flush()


def _compressor(level: int) -> Any:
    if level in _ISAL_LEVELS:
        return isal_zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS)
    return zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS)


class ZipStream:
    """Members appended in order; `close()` writes the central directory."""

    def __init__(self, fileobj: IO[bytes], compresslevel: int = 1) -> None:
        self._out = fileobj
        self._level = compresslevel
        # Offsets in the archive count from where it starts in `fileobj`.
        self._start = fileobj.tell()
        self._offset = 0
        self._members: list[_Member] = []

    @property
    def count(self) -> int:
        return len(self._members)

    @property
    def members(self) -> list[_Member]:
        return self._members

    @property
    def offset(self) -> int:
        """Bytes written so far, from the archive's start."""
        return self._offset

    def adopt(self, part: IO[bytes], members: Sequence[_Member], length: int) -> None:
        """Append the `length` bytes at the start of `part`, where another ZipStream wrote `members`."""
        base = self._offset
        part.seek(0)
        left = length
        while left > 0:
            chunk = part.read(min(left, _COPY_CHUNK))
            if not chunk:
                raise OSError("the zipped part ended early")
            self._out.write(chunk)
            left -= len(chunk)
        self._members.extend(m._replace(offset=m.offset + base) for m in members)
        self._offset = base + length

    def add_bytes(self, name: str, data: bytes, method: int, stamp: tuple[int, int], external_attr: int) -> None:
        """A member whose content is all in `data`."""
        crc = isal_zlib.crc32(data)
        body = deflate(data, self._level) if method == DEFLATED and data else data
        method = method if data else STORED
        encoded, flags = _encode(name)
        member = _Member(encoded, flags, method, *stamp, crc, len(body), len(data), self._offset, external_attr)
        header = _local_header(member, zip64=False)
        self._out.write(header)
        self._out.write(body)
        self._offset += len(header) + len(body)
        self._members.append(member)

    def open_member(
        self, name: str, method: int, stamp: tuple[int, int], external_attr: int, size_hint: int
    ) -> _MemberWriter:
        """A member streamed chunk by chunk; its header is patched when it ends (needs a seekable file)."""
        encoded, flags = _encode(name)
        zip64 = size_hint >= _STREAM_ZIP64_FROM
        member = _Member(encoded, flags, method, *stamp, 0, 0, 0, self._offset, external_attr)
        header = _local_header(member, zip64=zip64)
        self._out.write(header)
        return _MemberWriter(self, member, len(header), zip64, self._level)

    def _ended(self, member: _Member, header_len: int, zip64: bool) -> None:
        if not zip64 and (member.size >= _MAX32 or member.compressed >= _MAX32):
            raise ZipSizeError(f"{member.name.decode(errors='replace')} grew past 4 GiB while it was zipped")
        end = member.offset + header_len + member.compressed
        self._out.seek(self._start + member.offset)
        self._out.write(_local_header(member, zip64=zip64))
        self._out.seek(self._start + end)
        self._offset = end
        self._members.append(member)

    def close(self) -> None:
        cd_start = self._offset
        for m in self._members:
            self._out.write(_central_record(m))
        cd_end = self._out.tell() - self._start
        cd_size, count = cd_end - cd_start, len(self._members)
        cd_offset = cd_start
        if count > _MAX16 or cd_size >= _MAX32 or cd_offset >= _MAX32:
            record_size = _EOCD64.size - 12  # what follows the size field itself
            versions = (_ZIP64_VERSION, _ZIP64_VERSION)
            self._out.write(_EOCD64.pack(b"PK\x06\x06", record_size, *versions, 0, 0, count, count, cd_size, cd_offset))
            self._out.write(_EOCD64_LOCATOR.pack(b"PK\x06\x07", 0, cd_end, 1))
            self._out.write(_EOCD.pack(b"PK\x05\x06", 0, 0, _MAX16, _MAX16, _MAX32, _MAX32, 0))
        else:
            self._out.write(_EOCD.pack(b"PK\x05\x06", 0, 0, count, count, cd_size, cd_offset, 0))


class _MemberWriter:
    def __init__(self, stream: ZipStream, member: _Member, header_len: int, zip64: bool, level: int) -> None:
        self._stream, self._member, self._header_len, self._zip64 = stream, member, header_len, zip64
        deflates = member.method == DEFLATED
        self._compressor = _compressor(level) if deflates else None
        self._crc = 0
        self._size = 0
        self._compressed = 0

    def write(self, chunk: bytes) -> None:
        self._crc = isal_zlib.crc32(chunk, self._crc)
        self._size += len(chunk)
        self._emit(self._compressor.compress(chunk) if self._compressor is not None else chunk)

    def _emit(self, data: bytes) -> None:
        if data:
            self._stream._out.write(data)
            self._compressed += len(data)

    def close(self) -> None:
        if self._compressor is not None:
            self._emit(self._compressor.flush())
        ended = self._member._replace(crc=self._crc, compressed=self._compressed, size=self._size)
        self._stream._ended(ended, self._header_len, self._zip64)


def _encode(name: str) -> tuple[bytes, int]:
    try:
        return name.encode("ascii"), 0
    except UnicodeEncodeError:
        return name.encode("utf-8"), _UTF8


def _local_header(m: _Member, *, zip64: bool) -> bytes:
    if zip64:
        extra = struct.pack("<HHQQ", _ZIP64_EXTRA, 16, m.size, m.compressed)
        sizes = (_MAX32, _MAX32)
    else:
        extra, sizes = b"", (m.compressed, m.size)
    version = _ZIP64_VERSION if zip64 else _VERSION
    return (
        _LOCAL.pack(
            b"PK\x03\x04", version, m.flags, m.method, m.dos_time, m.dos_date, m.crc, *sizes, len(m.name), len(extra)
        )
        + m.name
        + extra
    )


def _central_record(m: _Member) -> bytes:
    # Zip64 fields come in this order, each only when its 32-bit slot overflows.
    wide = [value for value in (m.size, m.compressed, m.offset) if value >= _MAX32]
    extra = struct.pack(f"<HH{len(wide)}Q", _ZIP64_EXTRA, 8 * len(wide), *wide) if wide else b""
    version = _ZIP64_VERSION if wide else _VERSION
    return (
        _CENTRAL.pack(
            b"PK\x01\x02",
            (_UNIX << 8) | _VERSION,
            version,
            m.flags,
            m.method,
            m.dos_time,
            m.dos_date,
            m.crc,
            min(m.compressed, _MAX32),
            min(m.size, _MAX32),
            len(m.name),
            len(extra),
            0,
            0,
            0,
            m.external_attr,
            min(m.offset, _MAX32),
        )
        + m.name
        + extra
    )
