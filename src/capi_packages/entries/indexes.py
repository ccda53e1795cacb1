"""Package indexes read from the blobstore, kept for the packages looked at last (a READY zip never changes)."""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections import OrderedDict
from typing import BinaryIO

from capi_packages.bits.entry_data import DEFAULT_THREADS
from capi_packages.blobstore.base import BlobNotFound, Blobstore
from capi_packages.blobstore.keys import package_key
from capi_packages.entries.archive import Entry, PackageIndex, read_index

MiB = 1024 * 1024
# Hashing means inflating every file once; above this a first look would keep people waiting.
HASH_UP_TO = 512 * MiB
MAX_CACHED_ENTRIES = 400_000


class EntryIndexes:
    def __init__(
        self, blobstore: Blobstore, *, hash_up_to: int = HASH_UP_TO, max_cached_entries: int = MAX_CACHED_ENTRIES
    ) -> None:
        self.blobstore = blobstore
        self.hash_up_to = hash_up_to
        self.max_cached_entries = max_cached_entries
        self._cache: OrderedDict[str, PackageIndex] = OrderedDict()
        self._cached_entries = 0
        self._lock = threading.Lock()
        self._building: dict[str, threading.Lock] = {}

    def get(self, guid: str) -> PackageIndex:
        """The package's index; raises BlobNotFound when its zip is gone."""
        with self._lock:
            index = self._cache.get(guid)
            if index is not None:
                self._cache.move_to_end(guid)
                return index
            building = self._building.setdefault(guid, threading.Lock())
        # One build per package at a time; whoever waited finds it cached.
        try:
            with building:
                with self._lock:
                    index = self._cache.get(guid)
                if index is None:
                    index = self._build(guid)
                    self._remember(guid, index)
            return index
        finally:
            with self._lock:
                self._building.pop(guid, None)

    def _build(self, guid: str) -> PackageIndex:
        key = package_key(guid)
        path = self.blobstore.local_path(key)
        if path is not None:
            with open(path, "rb") as f:
                return read_index(f, hash_up_to=self.hash_up_to, threads=DEFAULT_THREADS)
        # A remote store streams; the central directory sits at the end, so spool the zip first.
        with tempfile.TemporaryFile(dir=self.blobstore.scratch_dir(), prefix=".index-") as spool:
            with self.blobstore.open(key) as blob:
                shutil.copyfileobj(blob, spool, MiB)
            spool.seek(0)
            return read_index(spool, hash_up_to=self.hash_up_to)

    def _remember(self, guid: str, index: PackageIndex) -> None:
        with self._lock:
            if guid in self._cache or len(index) > self.max_cached_entries:
                return
            self._cache[guid] = index
            self._cached_entries += len(index)
            while self._cached_entries > self.max_cached_entries:
                _, dropped = self._cache.popitem(last=False)
                self._cached_entries -= len(dropped)

    def open_entry(self, guid: str, entry: Entry) -> BinaryIO:
        """The package zip positioned at the entry's data; the caller closes it."""
        key = package_key(guid)
        path = self.blobstore.local_path(key)
        if path is None:
            blob = self.blobstore.open(key)
            _skip(blob, entry.data_offset)
            return blob
        f = open(path, "rb")  # noqa: SIM115 (returned open; the caller closes it)
        f.seek(entry.data_offset)
        return f


def _skip(blob: BinaryIO, count: int) -> None:
    while count > 0:
        data = blob.read(min(MiB, count))
        if not data:
            blob.close()
            raise BlobNotFound("the package zip ended early")
        count -= len(data)
