"""The server's HTTP/1.1 protocol: uvicorn's httptools protocol plus the limits an exposed edge needs.

- a cap on open connections (503 at once beyond it), so idle sockets cannot use up descriptors;
- a header timeout from a request's first byte, and a body timeout while the app waits for bytes
  that do not come (a stalled upload); uvicorn's own keep-alive timeout covers idle connections;
- a cap on request line plus headers (431);
- after an early answer (the body was refused unread) the rest of the body is drained for a
  bounded time only, then the connection is closed;
- the ASGI extension `http.response.zerocopysend`: file bytes go out with sendfile(2).

Every answer the server writes itself carries CC's error envelope. The class attributes are the
limits; `protocol_class(limits)` makes a subclass carrying them for uvicorn's Config(http=...).
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any, ClassVar

import httptools
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol, RequestResponseCycle

from capi_packages.errors import (
    ApiError,
    InvalidRequest,
    RequestHeadersTooLarge,
    RequestTimeout,
    ServiceUnavailable,
)

log = logging.getLogger("capi_packages.http")
ZEROCOPY = "http.response.zerocopysend"
# After an early answer, a client still sending its body gets this long to finish (it then reads
# our answer cleanly, as nginx's lingering close allows) before the connection is closed.
LINGER_SECONDS = 5.0


@dataclass(frozen=True)
class EdgeLimits:
    max_connections: int
    max_header_bytes: int
    header_timeout: float
    body_timeout: float


class _Refused(Exception):
    def __init__(self, error: ApiError) -> None:
        super().__init__(error.detail)
        self.error = error


def error_bytes(error: ApiError, extra_headers: tuple[tuple[bytes, bytes], ...] = ()) -> bytes:
    body = json.dumps({"errors": [error.to_dict()]}).encode()
    head = [STATUS_LINE[error.status]]
    for name, value in (
        (b"content-type", b"application/json; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
        *extra_headers,
    ):
        head.extend([name, b": ", value, b"\r\n"])
    return b"".join([*head, b"\r\n", body])


class EdgeProtocol(HttpToolsProtocol):
    limits: ClassVar[EdgeLimits]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._refused = False
        self._header_bytes = 0
        self._header_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None
        self._linger_timer: asyncio.TimerHandle | None = None

    # --- connections ----------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.limits.max_connections:
            log.warning("connection limit (%d) reached: answering 503", self.limits.max_connections)
            self._refuse(
                ServiceUnavailable("The server has too many open connections; retry shortly"),
                ((b"retry-after", b"1"),),
            )
            return
        # A connection that sends nothing at all is cut as one that sends its headers too slowly.
        self._header_timer = self.loop.call_later(self.limits.header_timeout, self._on_header_timeout)

    def connection_lost(self, exc: Exception | None) -> None:
        for timer in (self._header_timer, self._body_timer, self._linger_timer):
            if timer is not None:
                timer.cancel()
        super().connection_lost(exc)

    def _refuse(self, error: ApiError, extra_headers: tuple[tuple[bytes, bytes], ...] = ()) -> None:
        """Answer from the server itself and close; the app never sees this request."""
        self._refused = True
        if not self.transport.is_closing():
            self.transport.write(error_bytes(error, extra_headers))
            self.transport.close()

    def send_400_response(self, msg: str) -> None:
        self._refuse(InvalidRequest())

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserCallbackError as e:
            if isinstance(e.__context__, _Refused):
                self._refuse(e.__context__.error)
            else:
                log.warning("invalid HTTP request: %s", e)
                self._refuse(InvalidRequest())
        except httptools.HttpParserError as e:
            log.warning("invalid HTTP request: %s", e)
            self._refuse(InvalidRequest())
        except httptools.HttpParserUpgrade:
            self._unsupported_upgrade_warning()

    # --- request line and headers ---------------------------------------------------------------
    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._header_bytes = 0
        if self._header_timer is None:
            self._header_timer = self.loop.call_later(self.limits.header_timeout, self._on_header_timeout)

    def _count_header_bytes(self, n: int) -> None:
        self._header_bytes += n
        if self._header_bytes > self.limits.max_header_bytes:
            raise _Refused(
                RequestHeadersTooLarge(
                    f"The request line and headers may not be larger than {self.limits.max_header_bytes} bytes"
                )
            )

    def on_url(self, url: bytes) -> None:
        self._count_header_bytes(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count_header_bytes(len(name) + len(value) + 4)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        if self._refused:
            return
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None
        self.scope["extensions"] = {ZEROCOPY: {}}
        super().on_headers_complete()
        # uvicorn builds its own cycle class; ours adds zero-copy sends. The cycle's task has not
        # started yet, so the methods it will call are looked up on the new class.
        self.cycle.__class__ = EdgeCycle
        self._arm_body_timer()

    def _on_header_timeout(self) -> None:
        self._header_timer = None
        if self.cycle is not None and not self.cycle.response_complete:
            return  # a request is being served; its headers arrived in time
        self._refuse(RequestTimeout("The request headers were not received in time"))

    # --- request body ---------------------------------------------------------------------------
    def _arm_body_timer(self) -> None:
        if self._body_timer is not None:
            self._body_timer.cancel()
        self._body_timer = self.loop.call_later(self.limits.body_timeout, self._on_body_timeout)

    def on_body(self, body: bytes) -> None:
        if self._refused or self.cycle is None:
            return
        self._arm_body_timer()
        super().on_body(body)

    def on_message_complete(self) -> None:
        if self._refused or self.cycle is None:
            return
        for timer in (self._body_timer, self._linger_timer):
            if timer is not None:
                timer.cancel()
        self._body_timer = self._linger_timer = None
        super().on_message_complete()

    def _on_body_timeout(self) -> None:
        self._body_timer = None
        cycle = self.cycle
        if cycle is None or not cycle.more_body:
            return
        if self.flow.read_paused and not cycle.response_complete:
            # The app is not reading (it is busy); the silence is ours, not the client's.
            self._arm_body_timer()
            return
        log.warning("request body stalled for %ss: closing the connection", self.limits.body_timeout)
        if not cycle.response_started:
            self.transport.write(error_bytes(RequestTimeout("The request body stopped arriving")))
        cycle.disconnected = True
        cycle.message_event.set()
        self._refused = True
        self.transport.close()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.cycle is not None and self.cycle.more_body and not self.transport.is_closing():
            self._linger_timer = self.loop.call_later(LINGER_SECONDS, self._on_linger_timeout)

    def _on_linger_timeout(self) -> None:
        self._linger_timer = None
        if not self.transport.is_closing():
            self.transport.close()


class EdgeCycle(RequestResponseCycle):
    """uvicorn's request/response cycle plus `http.response.zerocopysend` (file, offset, count)."""

    async def send(self, message: Any) -> None:
        if message["type"] != ZEROCOPY:
            await super().send(message)
            return
        if self.flow.write_paused and not self.disconnected:
            await self.flow.drain()
        if self.disconnected:
            return  # the client went away (uvicorn then drops the response start as well)
        if not self.response_started or self.response_complete or self.chunked_encoding:
            raise RuntimeError("zerocopysend needs a started response with a Content-Length")
        count = message.get("count")
        if self.scope["method"] != "HEAD":
            try:
                sent = await asyncio.get_running_loop().sendfile(
                    self.transport, message["file"], message.get("offset", 0), count
                )
            except (ConnectionError, OSError, RuntimeError):
                # The client went away mid-transfer (or the transport closed under us).
                self.disconnected = True
                self.transport.close()
                return
            if sent > self.expected_content_length:
                raise RuntimeError("Response content longer than Content-Length")
            self.expected_content_length -= sent
        else:
            self.expected_content_length = 0
        if not message.get("more_body", False):
            await super().send({"type": "http.response.body", "body": b"", "more_body": False})


def protocol_class(limits: EdgeLimits) -> type[EdgeProtocol]:
    return type("ConfiguredEdgeProtocol", (EdgeProtocol,), {"limits": limits})
