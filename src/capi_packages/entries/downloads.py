"""One entry of a stored zip as an HTTP download; the entries API and the console both serve files this way."""

from __future__ import annotations

import mimetypes
from collections.abc import Iterator

from fastapi import Request, Response

from capi_packages.entries.archive import Entry, entry_chunks
from capi_packages.entries.indexes import EntryIndexes
from capi_packages.http.streams import ranged_download


def read_start(indexes: EntryIndexes, guid: str, entry: Entry, limit: int) -> bytes:
    """The first `limit` bytes of the entry's content."""
    with indexes.open_entry(guid, entry) as f:
        return b"".join(entry_chunks(f, entry, 0, limit))


def entry_download(request: Request, indexes: EntryIndexes, guid: str, entry: Entry) -> Response:
    """The entry's bytes as an attachment named after it, Range honoured."""

    def chunks(start: int, end: int) -> Iterator[bytes]:
        with indexes.open_entry(guid, entry) as f:
            yield from entry_chunks(f, entry, start, end)

    media_type = mimetypes.guess_type(entry.path)[0] or "application/octet-stream"
    filename = entry.path.rsplit("/", 1)[-1]
    return ranged_download(request.headers.get("range"), entry.size, chunks, filename, media_type)
