"""GET /internal/v4/metrics (the Cloud Controller's path) and GET /metrics: the text exposition format."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from capi_packages.http.dependencies import AppMetrics, AppSettings, Verifier
from capi_packages.metrics.access import require_metrics_access

router = APIRouter(include_in_schema=False)


@router.get("/internal/v4/metrics")
@router.get("/metrics")
def metrics(request: Request, settings: AppSettings, verifier: Verifier, metrics: AppMetrics) -> Response:
    # A plain def: the database-backed values are read in the thread pool, off the event loop.
    require_metrics_access(settings, verifier, request.headers.get("authorization"))
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)
