"""Every status the in-process app answers during a test, checked against the served OpenAPI document.

The `app` fixture wraps each test's app with `StatusRecorder`; when the test ends, a status the
document does not list for the operation that answered it fails the test. So the document keeps
up with what the suite observes, operation by operation, without a list kept by hand."""

from __future__ import annotations

from typing import Any

from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

Observation = tuple[str, str, int]  # method, path template, status


class StatusRecorder:
    def __init__(self, app: ASGIApp, observed: set[Observation], routes: list[Any]) -> None:
        self.app, self.observed, self.routes = app, observed, routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def record(message: Message) -> None:
            if message["type"] == "http.response.start":
                operation = self.operation(scope)
                if operation is not None:
                    self.observed.add((*operation, message["status"]))
            await send(message)

        await self.app(scope, receive, record)

    def operation(self, scope: Scope) -> tuple[str, str] | None:
        method = "GET" if scope["method"] == "HEAD" else scope["method"]
        for route in self.routes:
            match, _ = route.matches({**scope, "method": method})
            if match is Match.FULL:
                return method, route.path_format
        return None


def documented_routes(app: Any) -> list[Any]:
    """The app's operations in the document, in routing order."""
    routes = iter_route_contexts(app.routes)
    return [r for r in routes if isinstance(r.original_route, APIRoute) and r.include_in_schema]


def undocumented(document: dict[str, Any], observed: set[Observation]) -> list[str]:
    statuses = {
        (method.upper(), path): {int(s) for s in operation.get("responses", {})}
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    }
    return sorted(
        f"{method} {path} answered {status}, which /openapi.json does not list for it"
        for method, path, status in observed
        if status not in statuses.get((method, path), set())
    )
