"""Runs the app under uvicorn with the edge protocol, its limits and a bounded graceful shutdown.

The server was chosen by measurement (README, "The server"): uvicorn's httptools protocol on the
standard asyncio loop, whose transports support sendfile(2) for zero-copy downloads.
"""

from __future__ import annotations

import resource
from typing import Any

import uvicorn

from capi_packages.http.edge_protocol import EdgeLimits, protocol_class
from capi_packages.settings import Settings

# Descriptors kept back from the connection cap for the database pool, blobs, staging files and logs.
FD_RESERVE = 64
# asyncio accepts up to `backlog` sockets in one go before any of them reaches the protocol (and its
# cap): the listen backlog is also how far one burst can go past the cap, so both are reserved.
BACKLOG = 128


def connection_cap(settings: Settings) -> int:
    """The configured cap, lowered so that cap + one accept burst + the reserve fit the fd limit."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return settings.http_max_connections
    return max(1, min(settings.http_max_connections, soft - FD_RESERVE - BACKLOG))


def edge_limits(settings: Settings) -> EdgeLimits:
    return EdgeLimits(
        max_connections=connection_cap(settings),
        max_header_bytes=settings.http_max_header_bytes,
        header_timeout=settings.http_header_timeout_seconds,
        body_timeout=settings.http_body_timeout_seconds,
    )


def server_config(app: Any, settings: Settings) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        http=protocol_class(edge_limits(settings)),
        # The standard loop: its socket transports send files with sendfile(2); uvloop's do not.
        loop="asyncio",
        ws="none",
        backlog=BACKLOG,
        lifespan="on",
        timeout_keep_alive=settings.http_keep_alive_timeout_seconds,
        timeout_graceful_shutdown=settings.shutdown_timeout_seconds,
        log_level=settings.log_level.lower(),
        # uvicorn's own lines go through the root handler, in the format CAPI_LOG_FORMAT chose.
        log_config=None,
        access_log=False,
        server_header=False,
    )


def serve(app: Any, settings: Settings) -> None:
    """Serve until SIGINT/SIGTERM: stop accepting, let in-flight requests finish (bounded), then
    run the app's lifespan shutdown (the in-process worker stops there)."""
    uvicorn.Server(server_config(app, settings)).run()
