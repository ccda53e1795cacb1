"""The Blobstore protocol: what package and resource-pool code needs from storage, and its capabilities.

Every backend implements Blobstore. One that can presign its own download URLs (S3) also
implements PresignsDownloads, which callers test with isinstance.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable


class BlobNotFound(Exception):
    """The key holds no blob."""


class BlobstoreFailure(OSError):
    """The store could not be reached or written (network, disk full, permissions).

    An OSError, so a full local disk and an unreachable bucket are handled alike by callers."""


class Blobstore(Protocol):
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

    def staging_dir(self) -> Path:
        """Where in-flight uploads are written before their job processes them."""

    def check(self, *, write: bool = False) -> None:
        """Raise BlobstoreFailure, saying what is wrong in one line naming the setting, unless the
        store answers (and, with write, takes and removes a probe blob)."""

    def describe(self) -> str:
        """Where the blobs live, for messages: a directory or s3://bucket/prefix."""


@runtime_checkable
class PresignsDownloads(Protocol):
    """A store whose blobs clients fetch themselves through a URL it signs, needing no token."""

    def signed_url(self, key: str, ttl: int, filename: str) -> str:
        """A GET URL valid for ttl seconds that downloads the blob as `filename`."""
