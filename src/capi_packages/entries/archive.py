"""A stored package zip read without unpacking it: its entries from the central directory, one entry's bytes."""

from __future__ import annotations

import bz2
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from capi_packages.bits.codec import crc32
from capi_packages.bits.codec import inflater as new_inflater
from capi_packages.bits.entry_data import Content, PlannedEntry, read_entries
from capi_packages.bits.names import member_parts
from capi_packages.bits.zip_format import (
    BZIP2,
    DEFLATED,
    STORED,
    ArchiveView,
    PageRelease,
    entry_mode,
    is_dir_entry,
    is_symlink_entry,
    local_data_start,
    map_archive,
)
from capi_packages.errors import AppBitsUploadInvalid

CHUNK = 256 * 1024
FILE, DIRECTORY, SYMLINK = "file", "directory", "symlink"
MAX_LINK_HOPS = 40


class ArchiveUnreadable(Exception):
    """The stored zip is not what processing left there (truncated, replaced, corrupt)."""


@dataclass(frozen=True)
class Entry:
    path: str  # normalised: "/"-separated, no "." or empty parts, no trailing "/"
    kind: str
    size: int
    compressed_size: int
    mode: int
    crc32: int
    sha1: str | None
    link_target: str | None
    data_offset: int
    method: int

    @property
    def sort_key(self) -> tuple[str, ...]:
        return tuple(self.path.split("/"))


class PackageIndex:
    """Every entry of one package zip, in tree order (a directory's contents follow it)."""

    def __init__(self, entries: list[Entry]) -> None:
        self.entries = sorted(entries, key=lambda e: e.sort_key)
        # A name stored twice resolves to its last copy, as extracting the zip would leave it.
        self.by_path = {e.path: e for e in entries}

    def __len__(self) -> int:
        return len(self.entries)

    def with_prefix(self, prefix: str) -> list[Entry]:
        return [e for e in self.entries if e.path.startswith(prefix)] if prefix else self.entries

    def resolve(self, path: str) -> Entry | None:
        """The entry at `path`, following symlinks inside the package (they were checked at upload)."""
        entry = self.by_path.get(path)
        for _ in range(MAX_LINK_HOPS):
            if entry is None or entry.kind != SYMLINK or entry.link_target is None:
                return entry
            parent = entry.path.split("/")[:-1]
            parts = member_parts("/".join([*parent, entry.link_target]), resolve_dotdot=True)
            entry = self.by_path.get("/".join(parts)) if parts else None
        return None


def normalise(name: str) -> str | None:
    """A requested or stored name as an index key; None when it is absolute or leaves the root."""
    parts = member_parts(name)
    return "/".join(parts) if parts else None


def read_index(f: BinaryIO, *, hash_up_to: int, threads: int = 1) -> PackageIndex:
    """Index the zip in `f` (seekable). File sha1s are computed when the package inflates to at
    most `hash_up_to` bytes; above that only the central directory is read and sha1 stays unknown.

    The files are read as an upload's scan reads them (one pass inflating, checking the CRC and
    hashing), in up to `threads` threads.
    """
    try:
        with zipfile.ZipFile(f) as zf:
            infos = zf.infolist()
            hash_files = sum(i.file_size for i in infos) <= hash_up_to
            if not infos:
                return PackageIndex([])
            with map_archive(f) as view:
                pages = PageRelease(view, 0)  # the pages each header read maps in around it
                found = []
                for index, info in enumerate(infos):
                    if located := _locate(view, index, info, hash_files):
                        found.append(located)
                        pages.reached(located[2].start)
                pages.release(len(view))
                # Links are read for their targets, files only when hashed; directories never.
                work = [planned for _path, _kind, planned in found if planned.is_link or planned.fingerprint]
                contents = read_entries(view, work, threads)
            read = {planned.number: content for planned, content in zip(work, contents, strict=True)}
            return PackageIndex([_entry(p, kind, planned, read.get(planned.number)) for p, kind, planned in found])
    except AppBitsUploadInvalid as e:  # a CRC, a size or a local header that disagrees
        raise ArchiveUnreadable(str(e)) from e
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, ValueError, OSError, EOFError) as e:
        raise ArchiveUnreadable(str(e)) from e


def _locate(
    view: ArchiveView, index: int, info: zipfile.ZipInfo, hash_files: bool
) -> tuple[str, str, PlannedEntry] | None:
    path = normalise(info.filename)
    if path is None:
        return None  # the root directory itself ("./"); uploads with any other such name were refused
    kind = DIRECTORY if is_dir_entry(info) else SYMLINK if is_symlink_entry(info) else FILE
    try:
        start = local_data_start(view, info)
    except AppBitsUploadInvalid as e:  # a local header that disagrees with the central directory
        raise ArchiveUnreadable(f"entry {info.filename!r} has a bad local header") from e
    is_dir, is_link = kind == DIRECTORY, kind == SYMLINK
    return path, kind, PlannedEntry(index, info, start, is_dir, is_link, entry_mode(info), kind == FILE and hash_files)


def _entry(path: str, kind: str, planned: PlannedEntry, content: Content | None) -> Entry:
    info = planned.info
    link_raw = content.link_raw if content is not None else None
    return Entry(
        path=path,
        kind=kind,
        size=info.file_size,
        compressed_size=info.compress_size,
        mode=planned.mode,
        crc32=info.CRC,
        sha1=content.sha1 if content is not None else None,
        link_target=link_raw.decode("utf-8", "replace") if link_raw is not None else None,
        data_offset=planned.start,
        method=info.compress_type,
    )


def entry_chunks(f: BinaryIO, entry: Entry, start: int = 0, end: int | None = None) -> Iterator[bytes]:
    """Bytes [start, end) of the entry's content; `f` is positioned at the entry's data.

    Only the requested part leaves; what precedes it is inflated and dropped (deflate cannot seek).
    A full read checks size and CRC, and raises ArchiveUnreadable when they disagree."""
    end = entry.size if end is None else min(end, entry.size)
    position, crc = 0, 0
    for chunk in _inflate(f, entry):
        crc = crc32(chunk, crc)
        chunk_end = position + len(chunk)
        if chunk_end > start and position < end:
            yield chunk[max(0, start - position) : end - position]
        position = chunk_end
        if position >= end and (start > 0 or end < entry.size):
            return  # a range: no need to inflate the rest
    if position != entry.size or crc != entry.crc32:
        raise ArchiveUnreadable(f"entry {entry.path!r} does not match its CRC")


def _inflate(f: BinaryIO, entry: Entry) -> Iterator[bytes]:
    left = entry.compressed_size

    def read() -> bytes:
        nonlocal left
        data = f.read(min(CHUNK, left)) if left > 0 else b""
        left -= len(data)
        return data

    if entry.method == STORED:
        while data := read():
            yield data
    elif entry.method == DEFLATED:
        inflater = new_inflater()
        while not inflater.eof and (data := inflater.unconsumed_tail or read()):
            if out := inflater.decompress(data, CHUNK):
                yield out
    elif entry.method == BZIP2:
        bunzip = bz2.BZ2Decompressor()
        while not bunzip.eof:
            data = b""
            if bunzip.needs_input and not (data := read()):
                break  # truncated: the CRC check reports it
            if out := bunzip.decompress(data, CHUNK):
                yield out
    else:
        raise ArchiveUnreadable(f"entry {entry.path!r} uses compression method {entry.method}")
