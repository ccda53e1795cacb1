"""Reading entries' data: inflate with CRC and size checks, big archives in several threads at once."""

from __future__ import annotations

import bz2
import hashlib
import os
import threading
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NamedTuple

from capi_packages.bits.codec import INFLATE_ERRORS, crc32
from capi_packages.bits.codec import inflater as new_inflater
from capi_packages.bits.symlinks import MAX_LINK_TARGET, bad_link
from capi_packages.bits.zip_format import BZIP2, CHUNK, DEFLATED, STORED, ArchiveView, PageRelease, invalid_zip


class PlannedEntry(NamedTuple):
    """What the scan knows of an entry before reading its data (a tuple: one per entry, made fast)."""

    number: int  # its place in the central directory
    info: zipfile.ZipInfo
    start: int
    is_dir: bool
    is_link: bool
    mode: int
    fingerprint: bool


class Content(NamedTuple):
    crc: int
    sha1: str | None
    link_raw: bytes | None


def read_entries(view: ArchiveView, work: list[PlannedEntry], threads: int) -> list[Content]:
    """Decompress and check every entry of the archive mapped at `view`; big archives in `threads`
    contiguous runs at once (ISA-L and hashlib let go of the GIL), with the first failure in file
    order reported."""
    runs = _split(work, threads if _worth_threads(work) else 1)
    if len(runs) == 1:
        return _read_run(view, work)
    failed = _FirstFailure()

    def read_run(number: int, run: list[PlannedEntry]) -> list[Content]:
        try:
            return _read_run(view, run, lambda: failed.before(number))
        except BaseException:
            failed.note(number)
            raise

    with ThreadPoolExecutor(max_workers=len(runs), thread_name_prefix="capi-scan") as pool:
        futures = [pool.submit(read_run, number, run) for number, run in enumerate(runs)]
        contents: list[Content] = []
        for future in futures:
            contents.extend(future.result())  # raises the earliest run's failure first
    return contents


def _read_run(view: ArchiveView, run: list[PlannedEntry], stop: Callable[[], bool] | None = None) -> list[Content]:
    """Read entries in file order until `stop()` says an earlier run failed (its failure is the one
    reported), handing the pages read back as it goes."""
    out: list[Content] = []
    if not run:
        return out
    pages = PageRelease(view, run[0].start)
    try:
        for entry in run:
            if stop is not None and stop():
                break
            out.append(_read_entry(view, entry, pages))
            pages.reached(entry.start + entry.info.compress_size)
    finally:
        pages.release(run[-1].start + run[-1].info.compress_size)
    return out


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


# What bad bytes in an entry raise while it is read.
_READ_ERRORS: tuple[type[Exception], ...] = (*INFLATE_ERRORS, OSError, EOFError)


def _read_entry(view: ArchiveView, entry: PlannedEntry, pages: PageRelease | None = None) -> Content:
    info = entry.info
    digest = hashlib.sha1(usedforsecurity=False) if entry.fingerprint else None
    start, end = entry.start, entry.start + info.compress_size
    if end > len(view):
        raise invalid_zip()  # truncated archive
    target: bytes | bytearray
    try:
        if info.compress_type != BZIP2 and info.compress_size <= CHUNK and info.file_size <= CHUNK:
            content = _inflate_small(view[start:end], info)
            crc = crc32(content)
            if digest is not None:
                digest.update(content)
            target = content if entry.is_link else b""
        else:
            crc, target = _inflate_streaming(view, start, info, digest, entry.is_link, pages)
    except _READ_ERRORS:
        raise invalid_zip() from None
    if entry.is_link and len(target) > MAX_LINK_TARGET:
        raise bad_link(info.filename)
    if crc != info.CRC:
        raise invalid_zip()
    return Content(crc, digest.hexdigest() if digest is not None else None, bytes(target) if entry.is_link else None)


def _inflate_small(data: bytes, info: zipfile.ZipInfo) -> bytes:
    """An entry of at most CHUNK bytes either way, in one call."""
    if info.compress_type == STORED or (info.compress_size == 0 and info.file_size == 0):
        if len(data) != info.file_size:
            raise invalid_zip()
        return data
    inflater = new_inflater()
    # One byte more than declared is enough to catch a header that understates the size.
    content = inflater.decompress(data, info.file_size + 1)
    if not inflater.eof or len(content) != info.file_size:
        raise invalid_zip()
    return content


def _inflate_streaming(
    view: ArchiveView, start: int, info: zipfile.ZipInfo, digest: Any, is_link: bool, pages: PageRelease | None
) -> tuple[int, bytearray]:
    crc = 0
    size = 0
    target = bytearray()
    for chunk in _decompress(view, start, info, pages):
        size += len(chunk)
        # Headers may lie: stop at the first byte beyond what was declared.
        if size > info.file_size:
            raise invalid_zip()
        crc = crc32(chunk, crc)
        if digest is not None:
            digest.update(chunk)
        if is_link:
            target += chunk
            if len(target) > MAX_LINK_TARGET:
                raise bad_link(info.filename)
    if size != info.file_size:
        raise invalid_zip()
    return crc, target


def _decompress(
    view: ArchiveView, start: int, info: zipfile.ZipInfo, pages: PageRelease | None = None
) -> Iterator[bytes]:
    """Yield the real content of `info` (its data at `start`; the caller checked it lies inside
    `view`) in chunks of at most CHUNK."""
    at, end = start, start + info.compress_size

    def read_more() -> bytes:
        nonlocal at
        data = view[at : min(at + CHUNK, end)]
        at += len(data)
        if pages is not None:
            pages.reached(at)  # one entry may be gigabytes
        return data

    if info.compress_size == 0 and info.file_size == 0:
        return  # some writers emit empty members with no compressed stream at all
    if info.compress_type == STORED:
        if info.compress_size != info.file_size:
            raise invalid_zip()
        while at < end:
            yield read_more()
    elif info.compress_type == DEFLATED:
        inflater = new_inflater()
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
