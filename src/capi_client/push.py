"""push: `cf push` for bits (scan and zip, ask which files the server holds, upload, wait).

Against a Cloud Controller the tree is read once: while it is walked, every file too small to be
cached on the server goes straight into the zip, hashed in the same read. Only files a matcher
might find on the server are hashed first and zipped after its answer. The matcher is one
swappable step (`Matcher`).

A server that answers push matches (ours, under `/x/`) is first asked, with the digest of the
hashed tree, whether the app already holds exactly this tree; then the new package is a copy made
on the server and nothing is zipped or sent. Otherwise the push goes on as against CC.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import IO, TYPE_CHECKING, Any, Protocol

from capi_client.archive import LocalFile, ZipBuilder, hash_all, hash_file, walk_tree
from capi_client.cfignore import CfIgnore
from capi_client.errors import PackageFailedError
from capi_client.models import Package, Resource
from capi_client.transfer import ProgressCallback
from capi_client.tree_cache import TreeCache, listing_key
from capi_client.trees import tree_digest

if TYPE_CHECKING:
    from capi_client.client import PackagesClient

# CC's default resource_pool.minimum_size: the pool holds no smaller file, so asking about one
# could never spare its upload.
POOL_MINIMUM_SIZE = 65536
# scan_progress(entries_done, bytes_read)
ScanCallback = Callable[[int, int], None]


class Matcher(Protocol):
    """Asks the server which of the pushed files it already holds."""

    # Files smaller than this are zipped during the scan without being asked about.
    min_size: int

    def __call__(self, fingerprints: Sequence[Resource]) -> list[Resource]: ...


@dataclass
class ResourcePoolMatcher:
    """The cf CLI's way: `POST /v3/resource_matches` with the files the pool could hold."""

    client: PackagesClient
    min_size: int = POOL_MINIMUM_SIZE

    def __call__(self, fingerprints: Sequence[Resource]) -> list[Resource]:
        return self.client.match_resources(fingerprints)


@dataclass(frozen=True)
class PushSummary:
    """What a push sent: counts and bytes, for people and for scripts."""

    files: int  # regular files and symlinks
    directories: int
    file_bytes: int  # bytes of all pushed files
    cached_files: int
    cached_bytes: int  # bytes the server already held, not sent
    uploaded_files: int
    bytes_sent: int  # size of the uploaded zip
    # The app's package that already held this very tree and was copied on the server, if any.
    copied_from: str | None = None

    def to_json(self) -> dict[str, int | str | None]:
        return dict(self.__dict__)

    def describe(self) -> str:
        head = f"{self.files} files, {self.directories} directories ({format_bytes(self.file_bytes)}): "
        if self.copied_from is not None:
            return head + f"unchanged since package {self.copied_from}, copied on the server; 0 B sent"
        return head + (
            f"{self.cached_files} already cached ({format_bytes(self.cached_bytes)}), "
            f"{self.uploaded_files} uploaded in a {format_bytes(self.bytes_sent)} zip"
        )


@dataclass(frozen=True)
class PushResult:
    package: Package
    summary: PushSummary


def format_bytes(size: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("not reached")


def collect_files(root: str | os.PathLike[str], ignore: CfIgnore | None = None) -> list[LocalFile]:
    """Every directory, file and symlink a push of `root` sends, regular files hashed, in the
    cf CLI's order."""
    return [f.hashed(hash_file(f.abs_path)) if f.is_regular else f for f in walk_tree(root, ignore)]


def write_zip(fileobj: IO[bytes], files: Sequence[LocalFile], compresslevel: int = 1) -> None:
    """Zip `files` into `fileobj` as a push does (modes, directory entries, links as links)."""
    builder = ZipBuilder(fileobj, compresslevel)
    try:
        for entry in files:
            builder.add(entry)
    finally:
        builder.close()


@dataclass
class _Scan:
    entries: list[LocalFile]
    candidates: list[LocalFile]  # hashed, zipped only if the server lacks them


def _scan_into(
    builder: ZipBuilder, files: Iterable[LocalFile], min_size: int, on_progress: ScanCallback | None
) -> _Scan:
    listed = list(files)
    asked = [entry.is_regular and entry.size >= min_size and entry.size > 0 for entry in listed]

    def zipped(done: int) -> None:
        if on_progress is not None:
            on_progress(done, builder.file_bytes)

    sha1s = iter(builder.add_all([entry for entry, ask in zip(listed, asked, strict=True) if not ask], zipped))
    entries: list[LocalFile] = []
    candidates: list[LocalFile] = []
    hashed = 0
    for entry, ask in zip(listed, asked, strict=True):
        if ask:
            entry = entry if entry.sha1 else entry.hashed(hash_file(entry.abs_path))
            candidates.append(entry)
            hashed += entry.size
            if on_progress is not None:
                on_progress(len(entries) + 1, builder.file_bytes + hashed)
        else:
            sha1 = next(sha1s)  # a file hashed before must still have that content (add checks it)
            entry = entry.hashed(sha1) if sha1 else entry
        entries.append(entry)
    return _Scan(entries, candidates)


def push(
    client: PackagesClient,
    app_guid: str,
    path: str | os.PathLike[str],
    *,
    wait: bool = True,
    progress: ProgressCallback | None = None,
    timeout: float = 600.0,
    report: Callable[[str], None] | None = None,
    scan_progress: ScanCallback | None = None,
    matcher: Matcher | None = None,
    compresslevel: int = 1,
    tree_cache: TreeCache | None = None,
) -> PushResult:
    """Push a directory as a new bits package of `app_guid`, the way `cf push` does.

    Files the server already holds are sent as `resources`, not as bits. The package is READY,
    or PROCESSING_UPLOAD when `wait` is false. With a `tree_cache`, a tree whose listing has not
    changed since a push that hashed it is not read again to learn its digest.
    """
    root = os.fspath(path)
    if not os.path.isdir(root):
        raise NotADirectoryError(f"{root} is not a directory")
    say = report or (lambda _message: None)
    ask = matcher if matcher is not None else ResourcePoolMatcher(client)
    if next(iter(walk_tree(root)), None) is None:
        raise ValueError(f"{root} holds nothing to push")
    read_from = time.time_ns()
    files: Iterable[LocalFile] = walk_tree(root)
    # Hashing the tree before zipping it reads small files twice: only worth it when a package
    # of the app might hold the tree.
    if matcher is None and (client.known_trees(app_guid) or 0) > 0:
        listed = list(files)
        listing = known = None
        if tree_cache is not None:
            listing = listing_key(listed)
            known = tree_cache.digest(root, listing)
        if known is not None:
            copied = _push_copy(client, app_guid, listed, known, wait=wait, timeout=timeout, say=say)
            if copied is not None:
                return copied
            files = listed  # no package holds it: the zip hashes what it reads
        else:
            hashed = _hash_tree(listed, scan_progress)
            digest = tree_digest(hashed)
            if tree_cache is not None:
                tree_cache.remember(root, hashed, digest, read_from, listing)
            copied = _push_copy(client, app_guid, hashed, digest, wait=wait, timeout=timeout, say=say)
            if copied is not None:
                return copied
            files = hashed
    with tempfile.TemporaryFile(prefix="capi-push-") as archive:
        # No directory entries: the package keeps none (CC removes them), and a zip without them
        # is one our server can store as uploaded.
        builder = ZipBuilder(archive, compresslevel, directories=False)
        try:
            scan = _scan_into(builder, files, max(ask.min_size, 1), scan_progress)
            if not scan.entries:
                raise ValueError(f"{root} holds nothing to push")
            ours = {(f.path, f.sha1) for f in scan.candidates}
            matched = ask([f.fingerprint() for f in scan.candidates]) if scan.candidates else []
            # Trust a match only for a file we have with that very content.
            cached = [r for r in matched if (r.path, r.sha1) in ours]
            cached_paths = {r.path for r in cached}
            builder.add_all([entry for entry in scan.candidates if entry.path not in cached_paths])
            if not builder.entries and not cached:
                # Only empty directories: send them as the cf CLI would, for the server's answer to it.
                builder.directories = True
                for entry in scan.entries:
                    builder.add(entry)
            zipped = builder.entries
        finally:
            builder.close()
        size = archive.tell()
        summary = _summary(scan.entries, cached, size if zipped else 0)
        say(summary.describe())

        package = client.create_package(app_guid, "bits")
        say(f"created package {package.guid}")
        archive.seek(0)
        bits: Any = archive if zipped else None
        package = client.upload_bits(package.guid, bits, resources=cached, progress=progress if zipped else None)
    if tree_cache is not None:
        # Every file was hashed on the way into the zip (or before it): remember what the tree was,
        # while the server processes it.
        tree_cache.remember(root, scan.entries, tree_digest(scan.entries), read_from)
    if wait:
        say(f"waiting for package {package.guid} to be READY")
        package = client.wait_until_ready(package, timeout=timeout)
    return PushResult(package, summary)


def _hash_tree(listed: list[LocalFile], on_progress: ScanCallback | None) -> list[LocalFile]:
    regular = [entry for entry in listed if entry.is_regular]
    counted, read = 0, 0

    def hashed(done: int) -> None:
        nonlocal counted, read
        read += sum(f.size for f in regular[counted:done])
        counted = done
        if on_progress is not None:
            on_progress(done, read)

    sha1s = iter(hash_all(regular, hashed if on_progress is not None else None))
    return [entry.hashed(next(sha1s)) if entry.is_regular else entry for entry in listed]


def _push_copy(
    client: PackagesClient,
    app_guid: str,
    files: list[LocalFile],
    digest: str,
    *,
    wait: bool,
    timeout: float,
    say: Callable[[str], None],
) -> PushResult | None:
    """The push as a server-side copy of the app's package holding this exact tree; None when
    there is none, or when the copy failed (its source's zip gone): then the tree is uploaded."""
    if not files:
        return None
    source = client.match_pushed_tree(app_guid, digest)
    if source is None:
        return None
    summary = replace(_summary(files, [], 0), uploaded_files=0, copied_from=source)
    say(summary.describe())
    package = client.duplicate_package(source)
    say(f"created package {package.guid}")
    if wait:
        say(f"waiting for package {package.guid} to be READY")
        try:
            package = client.wait_until_ready(package, timeout=timeout)
        except PackageFailedError as e:
            say(f"copying package {source} failed ({e.detail}); uploading the tree instead")
            return None
    return PushResult(package, summary)


def _summary(entries: list[LocalFile], cached: list[Resource], bytes_sent: int) -> PushSummary:
    files = [e for e in entries if not e.is_dir]
    return PushSummary(
        files=len(files),
        directories=len(entries) - len(files),
        file_bytes=sum(e.size for e in files if e.is_regular),
        cached_files=len(cached),
        cached_bytes=sum(r.size for r in cached),
        uploaded_files=len(files) - len(cached),
        bytes_sent=bytes_sent,
    )


def push_directory(
    client: PackagesClient,
    app_guid: str,
    path: str | os.PathLike[str],
    *,
    wait: bool = True,
    progress: ProgressCallback | None = None,
    timeout: float = 600.0,
    report: Callable[[str], None] | None = None,
) -> Package:
    """`push`, returning only the package."""
    return push(client, app_guid, path, wait=wait, progress=progress, timeout=timeout, report=report).package
