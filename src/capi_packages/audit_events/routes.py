"""Thin HTTP handlers for /v3/audit_events."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from capi_packages.audit_events import service
from capi_packages.audit_events.schemas import audit_event_resource
from capi_packages.http import list_params
from capi_packages.http.dependencies import DbSession, Perms, Urls

router = APIRouter()


@router.get("/v3/audit_events")
def list_audit_events(request: Request, perms: Perms, session: DbSession, urls: Urls) -> Any:
    query = list_params.parse(request, list_params.AUDIT_EVENTS)
    rows, total = service.list_events(session, perms, query)
    return list_params.list_body(urls.v3("/audit_events"), query, rows, total, lambda e: audit_event_resource(e, urls))


@router.get("/v3/audit_events/{guid}")
def get_audit_event(guid: str, perms: Perms, session: DbSession, urls: Urls) -> Any:
    return audit_event_resource(service.get_event(session, perms, guid), urls)
