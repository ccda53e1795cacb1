"""File responses that go out with sendfile(2) when the server offers `http.response.zerocopysend`.

Range requests (206) keep working: a single range is one zero-copy send of that slice. Without
the extension (the test client, another server) Starlette's chunked reads are used unchanged.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.responses import FileResponse
from starlette.types import Receive, Scope, Send

from capi_packages.http.edge_protocol import ZEROCOPY


class ZeroCopyFileResponse(FileResponse):
    _zerocopy = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self._zerocopy = ZEROCOPY in scope.get("extensions", {})
        await super().__call__(scope, receive, send)

    async def _handle_simple(self, send: Send, send_header_only: bool, send_pathsend: bool) -> None:
        if not self._zerocopy or send_header_only:
            await super()._handle_simple(send, send_header_only, send_pathsend)
            return
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        await self._send_slice(send, 0, None)

    async def _handle_single_range(
        self, send: Send, start: int, end: int, file_size: int, send_header_only: bool
    ) -> None:
        if not self._zerocopy or send_header_only:
            await super()._handle_single_range(send, start, end, file_size, send_header_only)
            return
        mutable = MutableHeaders(raw=list(self.raw_headers))
        mutable["content-range"] = f"bytes {start}-{end - 1}/{file_size}"
        mutable["content-length"] = str(end - start)
        await send({"type": "http.response.start", "status": 206, "headers": mutable.raw})
        await self._send_slice(send, start, end - start)

    async def _send_slice(self, send: Send, offset: int, count: int | None) -> None:
        with open(self.path, "rb") as file:
            await send({"type": ZEROCOPY, "file": file, "offset": offset, "count": count, "more_body": False})
