"""Filesystem blobstore: writes go to a temp name in the same directory, then os.replace.

Staged uploads are files under `<root>/staging`, scratch files under `<root>/tmp`: on the blobs'
filesystem, so that storing either is a hard link or a rename, never a copy.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Collection, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from capi_packages.blobstore.base import BlobNotFound, BlobstoreFailure, SweepResult
from capi_packages.blobstore.scratch import ScratchArea

STAGED_PREFIX = "upload-"


class LocalBlobstore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self._real_root = root.resolve()
        self.staging = LocalStaging(self, root / "staging")
        self.scratch = ScratchArea(root / "tmp")

    def _path(self, key: str) -> Path:
        # Checked by its spelling, not resolved: resolving costs a stat per path component, on
        # every one of the thousands of pool blobs a package can reuse.
        parts = key.split("/")
        if "\0" in key or "\\" in key or any(part in ("", ".", "..") for part in parts):
            raise ValueError(f"blob key escapes the store: {key!r}")
        return self._real_root.joinpath(*parts)

    @contextmanager
    def writer(self, key: str) -> Iterator[BinaryIO]:
        dest = self._path(key)
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                yield f
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, dest)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def put_file(self, key: str, source: Path) -> None:
        dest = self._path(key)
        dest.parent.mkdir(parents=True, exist_ok=True)
        # Blobs are replaced, never changed in place, so a hard link is as good as a copy and
        # costs no pass over the bytes; across filesystems we copy.
        tmp = dest.parent / f".tmp-link-{uuid.uuid4().hex}"
        try:
            with open(source, "rb") as src:
                os.fsync(src.fileno())
            os.link(source, tmp)
            os.replace(tmp, dest)
            return
        except OSError:
            tmp.unlink(missing_ok=True)
        with self.writer(key) as out, open(source, "rb") as src:
            shutil.copyfileobj(src, out, 1024 * 1024)

    def move_in(self, key: str, source: Path) -> None:
        """Adopt a finished local file (a rename when it is on the same filesystem)."""
        dest = self._path(key)
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(source, dest)
        except OSError:
            self.put_file(key, source)
            source.unlink(missing_ok=True)

    def open(self, key: str) -> BinaryIO:
        try:
            return open(self._path(key), "rb")
        except FileNotFoundError as e:
            raise BlobNotFound(key) from e

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def size(self, key: str) -> int:
        try:
            return self._path(key).stat().st_size
        except FileNotFoundError as e:
            raise BlobNotFound(key) from e

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def copy(self, source_key: str, dest_key: str) -> None:
        src = self._path(source_key)
        if not src.is_file():
            raise BlobNotFound(source_key)
        self.put_file(dest_key, src)

    def local_path(self, key: str) -> Path | None:
        path = self._path(key)
        return path if path.is_file() else None

    def scratch_dir(self) -> Path:
        return self.scratch.path

    def check(self, *, write: bool = False) -> None:
        if not self.root.is_dir():
            raise BlobstoreFailure(f"the blobstore directory {self.root} (under CAPI_DATA_DIR) does not exist")
        if not write:
            return
        probe = self.scratch_dir() / f".probe-{uuid.uuid4().hex}"
        try:
            probe.parent.mkdir(parents=True, exist_ok=True)
            probe.write_bytes(b"probe")
            probe.unlink()
        except OSError as e:
            raise BlobstoreFailure(
                f"the blobstore directory {self.root} (under CAPI_DATA_DIR) is not writable: {e.strerror or e}"
            ) from e

    def describe(self) -> str:
        return str(self.root)

    def close(self) -> None:
        self.scratch.close()


class _LocalUpload:
    """Written under a dot name, renamed to its staged name on finish: a half upload is never staged."""

    def __init__(self, path: Path) -> None:
        self.name = path.name
        self._path = path
        self._partial = path.with_name(f".{path.name}.part")
        self._file = open(self._partial, "wb")  # noqa: SIM115 (closed by finish or abort)

    def write(self, data: bytes) -> None:
        self._file.write(data)

    def backlog(self) -> Future[None] | None:
        return None

    def finish(self) -> None:
        self._file.close()
        os.replace(self._partial, self._path)

    def abort(self) -> None:
        self._file.close()
        self._partial.unlink(missing_ok=True)
        self._path.unlink(missing_ok=True)


class LocalStaging:
    def __init__(self, store: LocalBlobstore, directory: Path) -> None:
        self._store = store
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    def _path(self, name: str) -> Path:
        if not name.startswith(STAGED_PREFIX) or "/" in name or "\0" in name:
            raise ValueError(f"not a staged upload's name: {name!r}")
        return self.directory / name

    def open_upload(self) -> _LocalUpload:
        self.directory.mkdir(parents=True, exist_ok=True)
        return _LocalUpload(self.directory / f"{STAGED_PREFIX}{uuid.uuid4().hex}")

    def exists(self, name: str) -> bool:
        return self._path(name).is_file()

    @contextmanager
    def local_file(self, name: str) -> Iterator[Path]:
        yield self._path(name)

    def store_as(self, name: str, key: str) -> None:
        path = self._path(name)
        if not path.is_file():
            raise BlobNotFound(name)
        self._store.put_file(key, path)

    def discard(self, name: str) -> None:
        self._path(name).unlink(missing_ok=True)

    def sweep(self, keep: Collection[str], older_than_seconds: float) -> SweepResult:
        cutoff = time.time() - older_than_seconds
        return SweepResult(
            staged=remove_old_files(self.directory, cutoff, lambda p: p.name not in keep and p.name[0] != "."),
            # Uploads still being written are dot files; one untouched this long lost its request.
            incomplete=remove_old_files(self.directory, cutoff, lambda p: p.name[0] == "."),
            scratch=sweep_scratch(self._store.scratch, cutoff),
        )


def sweep_scratch(scratch: ScratchArea, cutoff: float) -> int:
    """A job's file left in this process's directory, and every directory a dead process left."""
    return remove_old_files(scratch.path, cutoff, lambda p: True) + scratch.reclaim()


def remove_old_files(directory: Path, cutoff: float, removable: Callable[[Path], bool]) -> int:
    if not directory.is_dir():
        return 0
    removed = 0
    for path in directory.iterdir():
        try:
            if removable(path) and path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except (FileNotFoundError, IsADirectoryError):
            continue
    return removed
