"""Shared helpers for the bits unit tests: zips built in code, byte patching, a fake pool."""

from __future__ import annotations

import hashlib
import io
import shutil
import stat
import struct
import subprocess
import zipfile
import zlib
from pathlib import Path

from capi_packages.bits.pool_blob import PoolBlobWriter
from capi_packages.bits.zip_safety import ArchiveLimits

MiB = 1 << 20
LIMITS = ArchiveLimits(max_total_bytes=1 << 30, max_entries=1000)
INVALID_ZIP = "The app upload is invalid: Invalid zip archive."


# --- helpers ---------------------------------------------------------------------------------


def add_file(
    zf: zipfile.ZipFile, name: str, data: bytes, mode: int = 0o644, method: int = zipfile.ZIP_DEFLATED
) -> None:
    info = zipfile.ZipInfo(name, date_time=(2020, 5, 17, 12, 30, 44))
    info.create_system = 3
    info.external_attr = (stat.S_IFREG | mode) << 16
    info.compress_type = method
    zf.writestr(info, data)


def add_dir(zf: zipfile.ZipFile, name: str, mode: int = 0o755) -> None:
    info = zipfile.ZipInfo(name.rstrip("/") + "/")
    info.create_system = 3
    info.external_attr = ((stat.S_IFDIR | mode) << 16) | 0x10
    zf.writestr(info, b"")


def add_link(zf: zipfile.ZipFile, name: str, target: str) -> None:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    zf.writestr(info, target.encode())


def make_zip(path: Path, build) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        build(zf)
    return path


def sha1_of(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def patch(path: Path, offset: int, fmt: str, *values: int) -> None:
    data = bytearray(path.read_bytes())
    struct.pack_into(fmt, data, offset, *values)
    path.write_bytes(bytes(data))


def central_offset(path: Path) -> int:
    """Offset of the first central directory record (single-entry zips in these tests)."""
    return path.read_bytes().rfind(b"PK\x01\x02")


def central_record(path: Path, name: str) -> int:
    """Offset of the central directory record of `name`."""
    data = path.read_bytes()
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        name_len = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46 : at + 46 + name_len] == name.encode():
            return at
        at = data.find(b"PK\x01\x02", at + 46)
    raise KeyError(name)


def unzip_test(path: Path) -> None:
    if shutil.which("unzip") is None:
        return
    result = subprocess.run(["unzip", "-t", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


class Pool:
    def __init__(self, blobs: dict[str, bytes]) -> None:
        self.blobs = blobs
        self.opened: list[str] = []

    def __call__(self, sha1: str) -> io.BytesIO:
        self.opened.append(sha1)
        return io.BytesIO(self.blobs[sha1])


def mode_of(info: zipfile.ZipInfo) -> int:
    return (info.external_attr >> 16) & 0o777


def framed(content: bytes, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A pool blob as the scan writes it: the compressed content behind its checked header."""
    if method == zipfile.ZIP_DEFLATED:
        deflater = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
        compressed = deflater.compress(content) + deflater.flush()
    else:
        compressed = content
    buf = io.BytesIO()
    writer = PoolBlobWriter(buf)
    writer.write(compressed)
    writer.finish(method, zlib.crc32(content), len(content))
    return buf.getvalue()
