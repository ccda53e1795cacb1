"""Reading entries' data: inflate with CRC and size checks, big archives in several threads at once."""

from __future__ import annotations

import bz2
import hashlib
import os
import threading
import zipfile
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, BinaryIO

from capi_packages.bits.symlinks import MAX_LINK_TARGET, bad_link
from capi_packages.bits.zip_format import BZIP2, CHUNK, DEFLATED, STORED, invalid_zip


@dataclass(frozen=True)
class PlannedEntry:
    """What the scan knows of an entry before reading its data."""

    index: int
    info: zipfile.ZipInfo
    start: int
    is_dir: bool
    is_link: bool
    mode: int
    fingerprint: bool


@dataclass(frozen=True)
class Content:
    crc: int
    sha1: str | None
    link_raw: bytes | None


def read_entries(
    path: str | os.PathLike[str] | None, f: BinaryIO, work: list[PlannedEntry], threads: int
) -> list[Content]:
    """Decompress and check every entry; big archives in `threads` contiguous runs at once
    (zlib and hashlib let go of the GIL), with the first failure in file order reported.

    Each further thread opens the archive at `path`; without one, `f` is read in this thread."""
    runs = _split(work, threads if _worth_threads(work) else 1)
    if len(runs) == 1 or path is None:
        return [_read_entry(f, entry) for entry in work]
    archive = path  # what the threads open (a name mypy sees as set inside read_run)
    failed = _FirstFailure()

    def read_run(number: int, run: list[PlannedEntry]) -> list[Content]:
        with open(archive, "rb") as own:
            out = []
            for entry in run:
                if failed.before(number):
                    break  # an earlier run failed: that failure is the one reported
                try:
                    out.append(_read_entry(own, entry))
                except BaseException:
                    failed.note(number)
                    raise
            return out

    with ThreadPoolExecutor(max_workers=len(runs), thread_name_prefix="capi-scan") as pool:
        futures = [pool.submit(read_run, number, run) for number, run in enumerate(runs)]
        contents: list[Content] = []
        for future in futures:
            contents.extend(future.result())  # raises the earliest run's failure first
    return contents


# Inflating and hashing let go of the GIL, so a big archive is read on several cores.
DEFAULT_THREADS = min(4, len(os.sched_getaffinity(0)))
# Below this many compressed bytes one thread is quicker than starting more.
PARALLEL_FROM = 16 * 1024 * 1024
# Nor when entries are this small on average: then the time goes to Python's work per entry, which
# holds the GIL, and threads only add the hand-overs (a node_modules of 2 KB files scanned slower
# with two threads than with one).
PARALLEL_MEAN_SIZE = 32 * 1024


def _worth_threads(work: list[PlannedEntry]) -> bool:
    if not work or sum(entry.info.compress_size for entry in work) < PARALLEL_FROM:
        return False
    return sum(entry.info.file_size for entry in work) / len(work) >= PARALLEL_MEAN_SIZE


def _split(work: list[PlannedEntry], runs: int) -> list[list[PlannedEntry]]:
    if runs <= 1 or len(work) < 2:
        return [work]
    share = sum(e.info.compress_size for e in work) / runs
    out: list[list[PlannedEntry]] = [[]]
    done = 0
    for entry in work:
        if done >= share * len(out) and len(out) < runs:
            out.append([])
        out[-1].append(entry)
        done += entry.info.compress_size
    return [run for run in out if run]


class _FirstFailure:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._first: int | None = None

    def note(self, number: int) -> None:
        with self._lock:
            if self._first is None or number < self._first:
                self._first = number

    def before(self, number: int) -> bool:
        first = self._first
        return first is not None and first < number


def _read_entry(f: BinaryIO, entry: PlannedEntry) -> Content:
    info = entry.info
    digest = hashlib.sha1(usedforsecurity=False) if entry.fingerprint else None
    f.seek(entry.start)
    target: bytes | bytearray
    try:
        if info.compress_type != BZIP2 and info.compress_size <= CHUNK and info.file_size <= CHUNK:
            content = _inflate_small(f, info)
            crc = zlib.crc32(content)
            if digest is not None:
                digest.update(content)
            target = content if entry.is_link else b""
        else:
            crc, target = _inflate_streaming(f, info, digest, entry.is_link)
    except (zlib.error, OSError, EOFError):
        raise invalid_zip() from None
    if entry.is_link and len(target) > MAX_LINK_TARGET:
        raise bad_link(info.filename)
    if crc != info.CRC:
        raise invalid_zip()
    return Content(crc, digest.hexdigest() if digest is not None else None, bytes(target) if entry.is_link else None)


def _inflate_small(f: BinaryIO, info: zipfile.ZipInfo) -> bytes:
    """An entry of at most CHUNK bytes either way, in one read and one call."""
    data = f.read(info.compress_size)
    if len(data) != info.compress_size:
        raise invalid_zip()  # truncated archive
    if info.compress_type == STORED or (info.compress_size == 0 and info.file_size == 0):
        if len(data) != info.file_size:
            raise invalid_zip()
        return data
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    # One byte more than declared is enough to catch a header that understates the size.
    content = inflater.decompress(data, info.file_size + 1)
    if not inflater.eof or len(content) != info.file_size:
        raise invalid_zip()
    return content


def _inflate_streaming(f: BinaryIO, info: zipfile.ZipInfo, digest: Any, is_link: bool) -> tuple[int, bytearray]:
    crc = 0
    size = 0
    target = bytearray()
    for chunk in _decompress(f, info):
        size += len(chunk)
        # Headers may lie: stop at the first byte beyond what was declared.
        if size > info.file_size:
            raise invalid_zip()
        crc = zlib.crc32(chunk, crc)
        if digest is not None:
            digest.update(chunk)
        if is_link:
            target += chunk
            if len(target) > MAX_LINK_TARGET:
                raise bad_link(info.filename)
    if size != info.file_size:
        raise invalid_zip()
    return crc, target


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
