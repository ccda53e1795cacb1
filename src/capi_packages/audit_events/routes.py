"""Thin HTTP handlers for /v3/audit_events."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from capi_packages.audit_events import service
from capi_packages.audit_events.schemas import AUDIT_EVENTS_LIST, audit_event_resource
from capi_packages.http.dependencies import DbSession, Perms, Urls
from capi_packages.http.pagination import list_body, list_query

router = APIRouter()


@router.get("/v3/audit_events")
def list_audit_events(request: Request, perms: Perms, session: DbSession, urls: Urls) -> Any:
    query = list_query(request, AUDIT_EVENTS_LIST)
    page = service.list_events(session, perms, query)
    return list_body(urls.v3("/audit_events"), query, page, lambda e: audit_event_resource(e, urls))


@router.get("/v3/audit_events/{guid}")
def get_audit_event(guid: str, perms: Perms, session: DbSession, urls: Urls) -> Any:
    return audit_event_resource(service.get_event(session, perms, guid), urls)
