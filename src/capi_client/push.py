"""push_directory: `cf push` for bits (fingerprint, match, zip the rest, upload, wait)."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tempfile
import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

from capi_client.cfignore import CfIgnore
from capi_client.models import Package, Resource
from capi_client.transfer import CHUNK_SIZE, ProgressCallback

if TYPE_CHECKING:
    from capi_client.client import PackagesClient

# Zip's external attributes keep the Unix st_mode in their top 16 bits.
SYMLINK_ATTR = 0o120777 << 16
REGULAR_FILE = 0o100000


@dataclass(frozen=True)
class LocalFile:
    """A regular file or a symlink found under the pushed directory."""

    path: str  # relative to the pushed directory, `/`-separated
    abs_path: str
    mode: int  # permission bits only
    size: int
    mtime: float
    sha1: str = ""  # regular files only
    link_target: str | None = None  # symlinks only

    @property
    def is_symlink(self) -> bool:
        return self.link_target is not None

    def fingerprint(self) -> Resource:
        return Resource(path=self.path, sha1=self.sha1, size=self.size, mode=f"{self.mode:o}")


def _sha1(path: str) -> str:
    digest = hashlib.sha1(usedforsecurity=False)  # CF's resource cache is keyed by sha1
    with open(path, "rb") as fileobj:
        while chunk := fileobj.read(CHUNK_SIZE):
            digest.update(chunk)
    return digest.hexdigest()


def _local_file(full: str, rel: str) -> LocalFile | None:
    st = os.lstat(full)
    mode = stat.S_IMODE(st.st_mode) & 0o777
    if stat.S_ISLNK(st.st_mode):
        return LocalFile(rel, full, mode, st.st_size, st.st_mtime, link_target=os.readlink(full))
    if stat.S_ISREG(st.st_mode):
        return LocalFile(rel, full, mode, st.st_size, st.st_mtime, sha1=_sha1(full))
    return None  # sockets, fifos and devices have no place in a package


def collect_files(root: str | os.PathLike[str], ignore: CfIgnore | None = None) -> list[LocalFile]:
    """Every file and symlink under `root` that `ignore` keeps, in a stable order.

    Symlinks (to files or directories) are kept as links and never followed, as the cf CLI does.
    """
    base = os.fspath(root)
    rules = ignore if ignore is not None else CfIgnore.from_directory(base)
    found: list[LocalFile] = []
    for dirpath, dirnames, filenames in os.walk(base, topdown=True, followlinks=False):
        rel_dir = os.path.relpath(dirpath, base).replace(os.sep, "/")
        prefix = "" if rel_dir == "." else rel_dir + "/"
        descend = []
        for name in sorted(dirnames):
            full, rel = os.path.join(dirpath, name), prefix + name
            if os.path.islink(full):
                if not rules.is_ignored(rel) and (entry := _local_file(full, rel)):
                    found.append(entry)
            elif not rules.is_ignored(rel, is_dir=True):
                descend.append(name)
        # Pruning here keeps os.walk out of ignored trees (a big .git or node_modules).
        dirnames[:] = descend
        for name in sorted(filenames):
            full, rel = os.path.join(dirpath, name), prefix + name
            if not rules.is_ignored(rel) and (entry := _local_file(full, rel)):
                found.append(entry)
    return found


def _zip_time(mtime: float) -> tuple[int, int, int, int, int, int]:
    # Zip timestamps cover 1980..2107 only.
    year, month, day, hour, minute, second = time.localtime(mtime)[:6]
    if year < 1980:
        return (1980, 1, 1, 0, 0, 0)
    if year > 2107:
        return (2107, 12, 31, 23, 59, 58)
    return (year, month, day, hour, minute, second)


def write_zip(fileobj: IO[bytes], files: Sequence[LocalFile]) -> None:
    """Zip `files` into `fileobj`, streaming each one, keeping modes, storing symlinks as links."""
    with zipfile.ZipFile(fileobj, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        for entry in files:
            info = zipfile.ZipInfo(entry.path, date_time=_zip_time(entry.mtime))
            info.create_system = 3  # Unix, so that unzip reads the mode bits below
            if entry.link_target is not None:
                info.external_attr = SYMLINK_ATTR
                info.compress_type = zipfile.ZIP_STORED
                archive.writestr(info, os.fsencode(entry.link_target))
                continue
            info.external_attr = (REGULAR_FILE | entry.mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            info.file_size = entry.size  # lets zipfile choose zip64 before writing
            with open(entry.abs_path, "rb") as src, archive.open(info, "w") as dst:
                shutil.copyfileobj(src, dst, CHUNK_SIZE)


def push_directory(
    client: PackagesClient,
    app_guid: str,
    path: str | os.PathLike[str],
    *,
    wait: bool = True,
    progress: ProgressCallback | None = None,
    timeout: float = 600.0,
    interval: float = 3.0,
    report: Callable[[str], None] | None = None,
) -> Package:
    """Push a directory as a new bits package of `app_guid`, the way `cf push` does.

    Files the server's resource cache already holds are sent as `resources`, not as bits. Returns
    the READY package, or the PROCESSING_UPLOAD one when `wait` is false.
    """
    root = os.fspath(path)
    if not os.path.isdir(root):
        raise NotADirectoryError(root)
    say = report or (lambda _message: None)
    files = collect_files(root)
    if not files:
        raise ValueError(f"{root} holds nothing to push")

    # Only non-empty regular files can be matched; empty ones and links always travel in the zip.
    ours = {(f.path, f.sha1) for f in files if not f.is_symlink and f.size > 0}
    fingerprints = [f.fingerprint() for f in files if (f.path, f.sha1) in ours]
    matched = client.match_resources(fingerprints) if fingerprints else []
    # Trust a match only for a file we have with that very content.
    cached = [r for r in matched if (r.path, r.sha1) in ours]
    cached_paths = {r.path for r in cached}
    to_zip = [f for f in files if f.is_symlink or f.path not in cached_paths]
    say(f"{len(files)} files: {len(cached)} already cached, {len(to_zip)} to upload")

    package = client.create_package(app_guid, "bits")
    say(f"created package {package.guid}")
    if to_zip:
        with tempfile.TemporaryFile() as archive:
            write_zip(archive, to_zip)
            archive.seek(0)
            package = client.upload_bits(package.guid, archive, resources=cached, progress=progress)
    else:
        package = client.upload_bits(package.guid, None, resources=cached)
    if not wait:
        return package
    say(f"waiting for package {package.guid} to be READY")
    return client.wait_until_ready(package, timeout=timeout, interval=interval)
