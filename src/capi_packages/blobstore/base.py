"""The Blobstore protocol: what package and resource-pool code needs from storage, and its capabilities.

Every backend stores blobs under keys and stages uploads (`Staging`); a backend that can presign its
own download URLs also implements `PresignsDownloads`, which callers test with isinstance.
"""

from __future__ import annotations

from collections.abc import Collection
from concurrent.futures import Future
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable


class BlobNotFound(Exception):
    """The key holds no blob."""


class BlobstoreFailure(OSError):
    """The store could not be reached or written (network, disk full, permissions).

    An OSError, so a full local disk and an unreachable bucket are handled alike by callers."""


@dataclass(frozen=True)
class SweepResult:
    staged: int = 0
    incomplete: int = 0
    scratch: int = 0


class StagedUpload(Protocol):
    """An upload written into staging as it arrives; it becomes a staged upload named `name` on finish().

    Until then nothing is visible; abort() (a failed or vanished request) leaves nothing behind."""

    name: str

    def write(self, data: bytes) -> None: ...

    def backlog(self) -> Future[None] | None:
        """A transfer to wait for before writing more, so that memory stays bounded; None when there is none."""

    def finish(self) -> None: ...

    def abort(self) -> None: ...


class Staging(Protocol):
    """Uploads waiting for their job, kept where any worker of the deployment can read them."""

    def open_upload(self) -> StagedUpload: ...

    def exists(self, name: str) -> bool: ...

    def local_file(self, name: str) -> AbstractContextManager[Path]:
        """The staged upload as a file on this machine while the block runs (a path that does not
        exist when the upload is gone: the job says what that means)."""

    def store_as(self, name: str, key: str) -> None:
        """Make the staged upload the blob under key, as it is (the staged upload stays until discarded)."""

    def discard(self, name: str) -> None:
        """Remove a staged upload; a missing one is not an error."""

    def sweep(self, keep: Collection[str], older_than_seconds: float) -> SweepResult:
        """Remove staged uploads (and unfinished ones) older than the age whose names are not in keep."""


class Blobstore(Protocol):
    @property
    def staging(self) -> Staging:
        """Where uploads wait for their job: on this store, so that a worker on any host reads them."""

    def put_file(self, key: str, source: Path) -> None:
        """Store a copy of a local file under key, atomically (readers never see half a blob)."""

    def writer(self, key: str) -> AbstractContextManager[BinaryIO]:
        """A file to stream into; the blob appears under key only when the block exits cleanly."""

    def move_in(self, key: str, source: Path) -> None:
        """Store a finished local file under key, consuming it."""

    def open(self, key: str) -> BinaryIO:
        """Read a blob; raises BlobNotFound."""

    def exists(self, key: str) -> bool: ...

    def size(self, key: str) -> int: ...

    def delete(self, key: str) -> None:
        """Delete a blob; deleting a missing key is not an error."""

    def copy(self, source_key: str, dest_key: str) -> None:
        """Copy a blob server-side; raises BlobNotFound."""

    def local_path(self, key: str) -> Path | None:
        """The blob's file on this machine, when the backend has one (for sendfile and Range)."""

    def scratch_dir(self) -> Path:
        """This process's own directory on this machine for a job's or a request's temporary files
        (on the blobs' filesystem where there is one, so that move_in is a rename). It goes when the
        store is closed; a killed process's is removed by the next store opened on the host."""

    def check(self, *, write: bool = False) -> None:
        """Raise BlobstoreFailure, saying what is wrong in one line, unless the store answers (and,
        with write, takes and removes a probe blob)."""

    def describe(self) -> str:
        """Where the blobs live, for messages: a directory or s3://bucket/prefix."""

    def close(self) -> None:
        """Finish background transfers (dropped uploads) and release connections."""


@runtime_checkable
class PresignsDownloads(Protocol):
    """A store whose blobs clients fetch themselves through a URL it signs (S3), needing no token."""

    def signed_url(self, key: str, ttl: int, filename: str) -> str:
        """A GET URL valid for ttl seconds that downloads the blob as `filename`."""
