"""The resource pool's use cases: what it holds, filling it from an upload, reading and dropping blobs."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from sqlalchemy.orm import Session

from capi_packages.bits.pool_blob import PoolBlobWriter
from capi_packages.bits.pool_rules import PoolBounds, pool_candidates
from capi_packages.bits.zip_safety import ScannedEntry
from capi_packages.blobstore.base import BlobNotFound, Blobstore
from capi_packages.blobstore.keys import resource_key
from capi_packages.errors import CachedResourceMissing
from capi_packages.resource_pool import repository
from capi_packages.settings import Settings

_CHUNK = 1 << 20


def pool_bounds(settings: Settings) -> PoolBounds:
    return PoolBounds(settings.resource_pool_minimum_size, settings.resource_pool_maximum_size)


def known_sha1s(session: Session, sha1s: Iterable[str]) -> set[str]:
    """Which of these sha1s the pool holds, in one query."""
    return repository.known_sha1s(session, sha1s)


class ResourcePool:
    def __init__(self, session: Session, blobstore: Blobstore, settings: Settings) -> None:
        self.session = session
        self.blobstore = blobstore
        self.bounds = pool_bounds(settings)

    def known(self, sha1s: Iterable[str]) -> set[str]:
        return known_sha1s(self.session, sha1s)

    def add(self, sha1: str, size: int, blob: Path) -> None:
        """Adopt a finished pool blob (consumed) as the content with this sha1."""
        self.blobstore.move_in(resource_key(sha1), blob)
        repository.add_entry(self.session, sha1, size)

    def open(self, sha1: str) -> BinaryIO:
        try:
            return self.blobstore.open(resource_key(sha1))
        except BlobNotFound as e:
            raise CachedResourceMissing(sha1) from e

    def remove(self, sha1s: Iterable[str]) -> None:
        wanted = list(sha1s)
        for sha1 in wanted:
            self.blobstore.delete(resource_key(sha1))
        repository.delete_entries(self.session, wanted)


def fill_from_upload(pool: ResourcePool, upload: Path, entries: list[ScannedEntry], work_dir: Path) -> None:
    """Give the pool each pool-sized file of a scanned upload whose content it lacks, and commit.

    The scan verified each file's content (its sha1 is the key) and CRC; the pool keeps the
    upload's compressed bytes of it, copied straight from the archive.
    """
    candidates = pool_candidates(entries, pool.bounds)
    known = pool.known(e.sha1 for e in candidates if e.sha1 is not None)
    new = [e for e in candidates if e.sha1 is not None and e.sha1 not in known]
    if new:
        with open(upload, "rb") as src:
            for entry in new:  # one per sha1 already
                assert entry.sha1 is not None
                blob = work_dir / f"pool-{uuid.uuid4().hex}"
                try:
                    _write_blob(src, entry, blob)
                    pool.add(entry.sha1, entry.size, blob)
                finally:
                    blob.unlink(missing_ok=True)
    pool.session.commit()


def _write_blob(src: BinaryIO, entry: ScannedEntry, dest: Path) -> None:
    with open(dest, "wb") as out:
        writer = PoolBlobWriter(out)
        src.seek(entry.data_offset)
        left = entry.compressed_size
        while left > 0:
            chunk = src.read(min(_CHUNK, left))
            if not chunk:
                raise OSError(f"{entry.name}: the upload ended before its data did")
            writer.write(chunk)
            left -= len(chunk)
        writer.finish(entry.method, entry.crc, entry.size)


def pool_size(session: Session) -> tuple[int, int]:
    """Entries and bytes the resource pool holds (for the metrics)."""
    return repository.totals(session)
