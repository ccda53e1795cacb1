"""How the resource pool stores a file: its zip-compressed bytes behind a small checked header.

Keeping the compressed form lets a package reuse a pooled file by copying bytes instead of
deflating it again. The header holds what a zip entry needs (method, CRC-32 and sizes of the
content), written after the upload's scan verified the content's sha1 and CRC; CRC-32s over the
header and over the compressed bytes catch any later corruption of the blob on every use.

A pool blob without the header is a plain copy of the file's content (the pool's first format).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import BinaryIO

from capi_packages.bits.codec import crc32

MAGIC = b"CAPIpool"
VERSION = 1
# magic, version, method, reserved, content crc32, content size, compressed size, crc32 of the
# compressed bytes, crc32 of everything before it in the header.
HEADER = struct.Struct("<8sBBHIQQII")
_UNCHECKED = struct.Struct("<8sBBHIQQI")


@dataclass(frozen=True)
class PoolBlobHeader:
    method: int
    crc: int
    size: int
    compressed_size: int
    data_crc: int

    def pack(self) -> bytes:
        head = _UNCHECKED.pack(MAGIC, VERSION, self.method, 0, self.crc, self.size, self.compressed_size, self.data_crc)
        return head + struct.pack("<I", crc32(head))


def read_header(f: BinaryIO) -> PoolBlobHeader | None:
    """The header at the start of `f`, leaving `f` at the compressed bytes; None for a plain blob
    (then `f` is back at its start). Raises ValueError for a header that fails its own check."""
    raw = f.read(HEADER.size)
    if len(raw) < HEADER.size or raw[: len(MAGIC)] != MAGIC:
        f.seek(0)
        return None
    _magic, version, method, _reserved, crc, size, csize, data_crc, head_crc = HEADER.unpack(raw)
    if version != VERSION or head_crc != crc32(raw[: _UNCHECKED.size]):
        raise ValueError("corrupted pool blob header")
    return PoolBlobHeader(method, crc, size, csize, data_crc)


class PoolBlobWriter:
    """Writes a pool blob into a file: the compressed bytes, then `finish` fills in the header.

    Writes at the file's current position; `start` and `length` say where the blob lies. The
    file stays open (its owner closes it).
    """

    def __init__(self, f: BinaryIO) -> None:
        self._f = f
        self.start = f.tell()
        self._f.write(b"\0" * HEADER.size)
        self._data_crc = 0
        self._compressed = 0

    @property
    def length(self) -> int:
        return HEADER.size + self._compressed

    def write(self, compressed: bytes) -> None:
        self._f.write(compressed)
        self._data_crc = crc32(compressed, self._data_crc)
        self._compressed += len(compressed)

    def finish(self, method: int, crc: int, size: int) -> None:
        header = PoolBlobHeader(method, crc, size, self._compressed, self._data_crc)
        end = self._f.tell()
        self._f.seek(self.start)
        self._f.write(header.pack())
        self._f.seek(end)
