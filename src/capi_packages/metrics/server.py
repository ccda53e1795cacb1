"""A worker process's own metrics endpoint: a small threaded WSGI server beside the job loop."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import make_wsgi_app
from prometheus_client.exposition import ThreadingWSGIServer

from capi_packages.metrics.access import has_metrics_token
from capi_packages.metrics.registry import Metrics
from capi_packages.settings import Settings


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass  # scrapes every few seconds would drown the worker's log


def metrics_app(metrics: Metrics, settings: Settings) -> Callable[..., Iterable[bytes]]:
    exposition = make_wsgi_app(metrics.registry)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") not in ("/metrics", "/internal/v4/metrics"):
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found\n"]
        if settings.metrics_need_token and not has_metrics_token(settings, environ.get("HTTP_AUTHORIZATION")):
            # A worker has no token verifier of its own: only CAPI_METRICS_TOKEN opens it.
            start_response("401 Unauthorized", [("Content-Type", "text/plain"), ("WWW-Authenticate", "Bearer")])
            return [b"metrics need CAPI_METRICS_TOKEN as a bearer token\n"]
        return exposition(environ, start_response)  # type: ignore[no-any-return]

    return app


def start_metrics_server(metrics: Metrics, settings: Settings, port: int) -> WSGIServer:
    """Serve /metrics on settings.host:port in a daemon thread; shut it down with .shutdown()."""
    server = make_server(
        settings.host, port, metrics_app(metrics, settings), ThreadingWSGIServer, handler_class=_QuietHandler
    )
    threading.Thread(target=server.serve_forever, name="capi-metrics", daemon=True).start()
    return server
