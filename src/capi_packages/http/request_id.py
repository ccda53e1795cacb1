"""X-VCAP-Request-ID: taken from the request or made up, echoed on the response, put in the logs."""

from __future__ import annotations

import contextvars
import logging
import random
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
HEADER = b"x-vcap-request-id"


def new_request_id() -> str:
    """A random (version 4) UUID from the random module's generator, reseeded in every forked child.

    uuid4() asks the kernel for its 16 bytes, and that call lets go of the GIL: under load the
    event loop then waited for a request thread to hand the GIL back (up to 5 ms) on every request
    without an id of its own. A request id needs to be unique, not unguessable.
    """
    return str(uuid.UUID(int=random.getrandbits(128), version=4))


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(HEADER, b"").decode("latin-1")
        rid = given[:255] if given else new_request_id()
        token = request_id.set(rid)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (HEADER, rid.encode("latin-1"))]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id.reset(token)


class RequestIdFilter(logging.Filter):
    def filter(self, record: Any) -> bool:
        record.request_id = request_id.get()
        return True
