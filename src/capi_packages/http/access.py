"""What each request was: counted and timed by method, route template and status, and logged.

Pure ASGI and cheap: it is on every request's path.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from capi_packages.metrics.registry import Metrics

# Paths no route matched share one label: a scanner must not mint a series per URL it tries.
UNMATCHED = "unmatched"
# Where get_claims leaves the token's user for the access line (the scope outlives the handler).
USER_GUID = "capi.user_guid"
access_log = logging.getLogger("capi_packages.access")


class AccessMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics, log_requests: bool = True) -> None:
        self.app = app
        self.metrics = metrics
        self.log_requests = log_requests
        # Labelled children by (method, route, status): labels() takes a lock and builds a tuple
        # per call, a dict lookup does not.
        self._children: dict[tuple[str, str, str], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        self.metrics.requests_outstanding.inc()
        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            elapsed = time.perf_counter() - started
            self.metrics.requests_outstanding.dec()
            self.metrics.requests_completed.inc()
            route = scope.get("route")
            template = getattr(route, "path_format", None) or getattr(route, "path", None) or UNMATCHED
            key = (scope["method"], template, str(status))
            children = self._children.get(key)
            if children is None:
                children = (self.metrics.requests.labels(*key), self.metrics.request_duration.labels(*key))
                self._children[key] = children
            children[0].inc()
            children[1].observe(elapsed)
            if self.log_requests and access_log.isEnabledFor(logging.INFO):
                # The path without its query: a signed URL's signature lives there.
                access_log.info(
                    "%s %s %s %.1f ms",
                    key[0],
                    scope.get("path", ""),
                    status,
                    elapsed * 1000,
                    extra={
                        "method": key[0],
                        "route": template,
                        "path": scope.get("path", ""),
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 2),
                        "user_guid": scope.get(USER_GUID),
                    },
                )
