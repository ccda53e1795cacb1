"""The push zip: the pushed tree in the cf CLI's order, and a writer that hashes while it zips."""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any

from capi_client.cfignore import CfIgnore
from capi_client.forked import can_fork, forked, halves
from capi_client.models import Resource
from capi_client.zip_stream import DEFLATED, STORED, ZipStream, dos_stamp

CHUNK_SIZE = 256 * 1024
# The cf CLI's sharedaction.DefaultFolderPermissions, written on every directory entry.
DIR_MODE = 0o755
# Zip's external attributes keep the Unix st_mode in their top 16 bits.
SYMLINK_ATTR = 0o120777 << 16
REGULAR_FILE = 0o100000
# Read whole below this; stream (hashing chunk by chunk) above it.
WHOLE_READ_LIMIT = 1024 * 1024
# Already compressed: deflating them again costs time and saves nothing.
STORED_SUFFIXES = frozenset(
    {".zip", ".jar", ".war", ".ear", ".gz", ".tgz", ".bz2", ".xz", ".zst", ".7z"}
    | {".png", ".jpg", ".jpeg", ".gif", ".webp", ".woff", ".woff2", ".mp3", ".mp4"}
)


class FileChangedError(OSError):
    """A file changed between its fingerprint and its zipping: the package would not match it."""


@dataclass(frozen=True)
class LocalFile:
    """A directory, regular file or symlink found under the pushed directory."""

    path: str  # relative to the pushed directory, `/`-separated, no trailing slash
    abs_path: str
    mode: int  # permission bits only
    size: int
    mtime: float
    sha1: str = ""  # regular files, once hashed
    link_target: str | None = None  # symlinks only
    is_dir: bool = False
    stamp: tuple[int, int, int] = (0, 0, 0)  # mtime and ctime in ns, inode: what shows a change

    @property
    def is_symlink(self) -> bool:
        return self.link_target is not None

    @property
    def is_regular(self) -> bool:
        return not self.is_dir and self.link_target is None

    def hashed(self, sha1: str) -> LocalFile:
        """This file with its sha1 (made directly: dataclasses.replace costs three times as much,
        which a tree of 30,000 files notices)."""
        return LocalFile(
            self.path, self.abs_path, self.mode, self.size, self.mtime, sha1, self.link_target, self.is_dir, self.stamp
        )

    def fingerprint(self) -> Resource:
        return Resource(path=self.path, sha1=self.sha1, size=self.size, mode=f"{self.mode:o}")


def _entry(full: str, rel: str, st: os.stat_result) -> LocalFile | None:
    # Positional arguments: this runs once per entry of the tree.
    kind = st.st_mode
    stamp = (st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
    if stat.S_ISREG(kind):
        return LocalFile(rel, full, kind & 0o777, st.st_size, st.st_mtime, "", None, False, stamp)
    if stat.S_ISDIR(kind):
        return LocalFile(rel, full, DIR_MODE, 0, st.st_mtime, "", None, True, stamp)
    if stat.S_ISLNK(kind):
        return LocalFile(rel, full, kind & 0o777, st.st_size, st.st_mtime, "", os.readlink(full), False, stamp)
    return None  # sockets, fifos and devices have no place in a package


def _children(directory: str) -> Iterator[os.DirEntry[str]]:
    with os.scandir(directory) as listing:
        return iter(sorted(listing, key=lambda child: child.name))


def walk_tree(root: str | os.PathLike[str], ignore: CfIgnore | None = None) -> Iterator[LocalFile]:
    """Every directory, file and symlink under `root` that `ignore` keeps, unhashed.

    The order is the cf CLI's (Go's filepath.Walk): depth first, names sorted, each directory
    before what it holds. Symlinks are kept as links and never followed. An ignored directory is
    not entered at all, which keeps a big `.git` from costing anything.
    """
    base = os.path.realpath(os.fspath(root))
    rules = ignore if ignore is not None else CfIgnore.from_directory(base)
    # A stack of listings rather than nested generators: every entry of a deep tree went up
    # through one `yield from` per level.
    stack = [(_children(base), "")]
    while stack:
        children, prefix = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            continue
        rel = prefix + child.name
        st = child.stat(follow_symlinks=False)
        is_dir = stat.S_ISDIR(st.st_mode)
        if rules.matches(rel, is_dir=is_dir):
            continue
        entry = _entry(child.path, rel, st)
        if entry is None:
            continue
        yield entry
        if is_dir:
            stack.append((_children(child.path), rel + "/"))


def read_whole(path: str, size: int) -> bytes:
    """A small file's bytes in one read of the size stat gave (plus one, to see it grew).

    For the thousands of small files of a node_modules, a file object, its buffer and the second
    read that finds the end cost more than the hashing: plain descriptor calls here.
    """
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        data = os.read(fd, size + 1)
        if len(data) == size:
            return data
        # Grown or shrunk since it was listed (or a short read): read on to the end.
        parts = [data]
        while chunk := os.read(fd, CHUNK_SIZE):
            parts.append(chunk)
        return b"".join(parts)
    finally:
        os.close(fd)


def hash_file(path: str, size: int | None = None) -> str:
    """The sha1 of the file's bytes (CF's resource cache is keyed by sha1); `size` is a hint."""
    if size is not None and size <= WHOLE_READ_LIMIT:
        return hashlib.sha1(read_whole(path, size), usedforsecurity=False).hexdigest()
    digest = hashlib.sha1(usedforsecurity=False)
    with open(path, "rb") as fileobj:
        while chunk := fileobj.read(CHUNK_SIZE):
            digest.update(chunk)
    return digest.hexdigest()


def hash_all(files: Sequence[LocalFile], progress: Callable[[int], None] | None = None) -> list[str]:
    """`hash_file` of each file in order; `progress(files_hashed)` as it goes. Many files are
    shared with a forked process, as `ZipBuilder.add_all` shares its zipping."""

    def sha1(f: LocalFile) -> str:
        return hash_file(f.abs_path, f.size)

    if not _worth_forking(files):
        return _each(sha1, files, progress)
    first, second = halves(files, _weight)
    with forked(lambda: _each(sha1, second, None)) as pending:
        sha1s = _each(sha1, first, progress)
        sha1s += pending.result()
    if progress is not None:
        progress(len(files))
    return sha1s


def _each(
    work: Callable[[LocalFile], str], files: Sequence[LocalFile], progress: Callable[[int], None] | None
) -> list[str]:
    out = []
    for done, f in enumerate(files, 1):
        out.append(work(f))
        if progress is not None:
            progress(done)
    return out


def _zip_time(mtime: float) -> tuple[int, int, int, int, int, int]:
    # Zip timestamps cover 1980..2107 only.
    year, month, day, hour, minute, second = time.localtime(mtime)[:6]
    if year < 1980:
        return (1980, 1, 1, 0, 0, 0)
    if year > 2107:
        return (2107, 12, 31, 23, 59, 58)
    return (year, month, day, hour, minute, second)


class ZipBuilder:
    """Writes push entries as the cf CLI does: modes kept, directories as `name/` entries with mode
    0755 (unless `directories` is false), symlinks as links. Files are hashed in the same read
    that zips them."""

    def __init__(self, fileobj: IO[bytes], compresslevel: int = 1, *, directories: bool = True) -> None:
        self._level = compresslevel
        self._zip = ZipStream(fileobj, compresslevel)
        self.directories = directories
        self.file_bytes = 0

    @property
    def entries(self) -> int:
        return self._zip.count

    def add(self, entry: LocalFile) -> str:
        """Add one entry; returns the sha1 of a regular file's bytes as zipped ("" for the rest)."""
        stamp = dos_stamp(_zip_time(entry.mtime))
        if entry.is_dir:
            if self.directories:
                # The cf CLI sets the permission bits without the directory type, as here.
                self._zip.add_bytes(entry.path + "/", b"", STORED, stamp, (REGULAR_FILE | DIR_MODE) << 16)
            return ""
        if entry.link_target is not None:
            self._zip.add_bytes(entry.path, os.fsencode(entry.link_target), STORED, stamp, SYMLINK_ATTR)
            return ""
        attr = (REGULAR_FILE | entry.mode) << 16
        suffix = os.path.splitext(entry.path)[1].lower()
        method = STORED if suffix in STORED_SUFFIXES else DEFLATED
        if entry.size <= WHOLE_READ_LIMIT:
            data = read_whole(entry.abs_path, entry.size)
            sha1 = hashlib.sha1(data, usedforsecurity=False).hexdigest()
            self._zip.add_bytes(entry.path, data, method, stamp, attr)
            self.file_bytes += len(data)
        else:
            digest = hashlib.sha1(usedforsecurity=False)
            with open(entry.abs_path, "rb") as src:
                member = self._zip.open_member(entry.path, method, stamp, attr, entry.size)
                while chunk := src.read(CHUNK_SIZE):
                    digest.update(chunk)
                    member.write(chunk)
                    self.file_bytes += len(chunk)
                member.close()
            sha1 = digest.hexdigest()
        if entry.sha1 and entry.sha1 != sha1:
            raise FileChangedError(f"{entry.abs_path} changed while it was being pushed")
        return sha1

    def add_all(self, entries: Sequence[LocalFile], progress: Callable[[int], None] | None = None) -> list[str]:
        """`add` each entry in order, returning their sha1s; `progress(entries_added)` as it goes.

        A big run is shared with a forked process on a machine with cores to spare: the second
        half is zipped there into a file of its own and copied in after the first."""
        if not _worth_forking(entries):
            return _each(self.add, entries, progress)
        first, second = halves(entries, _weight)
        with tempfile.TemporaryFile(prefix="capi-push-part-") as part:

            def zip_second() -> tuple[list[Any], list[str], int, int]:
                builder = ZipBuilder(part, self._level, directories=self.directories)
                sha1s = _each(builder.add, second, None)
                part.flush()
                return builder._zip.members, sha1s, builder._zip.offset, builder.file_bytes

            with forked(zip_second) as pending:
                sha1s = _each(self.add, first, progress)
                members, more, length, file_bytes = pending.result()
            self._zip.adopt(part, members, length)
        self.file_bytes += file_bytes
        if progress is not None:
            progress(len(entries))
        return sha1s + more

    def close(self) -> None:
        self._zip.close()


# Below this much work (bytes, plus a few KB a file for what each costs besides its bytes) a
# second process costs more than it saves.
FORK_FROM = 16 * 1024 * 1024
PER_FILE_WEIGHT = 4096


def _weight(entry: LocalFile) -> int:
    return entry.size + PER_FILE_WEIGHT


def _worth_forking(entries: Sequence[LocalFile]) -> bool:
    return can_fork() and sum(_weight(entry) for entry in entries) >= FORK_FROM
