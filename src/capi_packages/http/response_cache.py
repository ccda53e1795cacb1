"""Rendered list pages kept in memory, keyed by the change counter they were read under.

An entry's key holds the counter the request read before its rows, so an entry is found only while
nothing behind it has changed; a write moves the counter, and the old entries are never asked for
again and age out of the LRU. No write path needs to know this cache exists.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable

from starlette.responses import Response

from capi_packages.db.changes import SharedReads
from capi_packages.http.responses import CFJSONResponse

MAX_ENTRIES = 512
MAX_ENTRY_BYTES = 2 * 1024 * 1024
MAX_TOTAL_BYTES = 64 * 1024 * 1024


class ResponseCache:
    def __init__(
        self, max_entries: int = MAX_ENTRIES, max_entry_bytes: int = MAX_ENTRY_BYTES, max_bytes: int = MAX_TOTAL_BYTES
    ) -> None:
        self.max_entries = max_entries
        self.max_entry_bytes = max_entry_bytes
        self.max_bytes = max_bytes
        self._entries: OrderedDict[Hashable, bytes] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0  # what the tests read to tell a page from memory from a rendered one
        # The counter the entries are keyed by, read once for all the requests that want it at once.
        self.counter_reads: SharedReads[int | None] = SharedReads()

    def get(self, key: Hashable) -> Response | None:
        with self._lock:
            body = self._entries.get(key)
            if body is None:
                return None
            self._entries.move_to_end(key)
            self.hits += 1
        return Response(body, media_type=CFJSONResponse.media_type)

    def render(self, key: Hashable | None, content: object) -> Response:
        """The JSON response for content, remembered under key (None: not remembered)."""
        response = CFJSONResponse(content)
        body = bytes(response.body)
        if key is None or len(body) > self.max_entry_bytes:
            return response
        with self._lock:
            previous = self._entries.pop(key, None)
            if previous is not None:
                self._bytes -= len(previous)
            self._entries[key] = body
            self._bytes += len(body)
            while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
                _, dropped = self._entries.popitem(last=False)
                self._bytes -= len(dropped)
        return response
