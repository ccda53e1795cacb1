"""Filesystem blobstore: writes go to a temp name in the same directory, then os.replace."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from capi_packages.blobstore.base import BlobNotFound, BlobstoreFailure


class LocalBlobstore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self.staging_dir().mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError(f"blob key escapes the store: {key!r}")
        return path

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

    def staging_dir(self) -> Path:
        return self.root / "staging"

    def check(self, *, write: bool = False) -> None:
        if not self.root.is_dir():
            raise BlobstoreFailure(f"the blobstore directory {self.root} (under CAPI_DATA_DIR) does not exist")
        if not write:
            return
        probe = self.staging_dir() / f".probe-{uuid.uuid4().hex}"
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
