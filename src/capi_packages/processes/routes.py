"""Thin HTTP handlers for /v3/processes and the app-scoped process routes the cf CLI uses."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from capi_packages.http.dependencies import AppSettings, DbSession, JsonBody, Perms, Urls
from capi_packages.http.pagination import list_body, list_query
from capi_packages.http.responses import CFJSONResponse as JSONResponse
from capi_packages.http.urls import UrlBuilder
from capi_packages.listing import Page
from capi_packages.orgs.models import App
from capi_packages.processes import service
from capi_packages.processes.models import Process
from capi_packages.processes.schemas import (
    APP_PROCESSES_LIST,
    PROCESSES_LIST,
    SIDECARS_LIST,
    process_resource,
    stats_resource,
)

router = APIRouter()


def _listed(urls: UrlBuilder) -> Any:
    return lambda row: process_resource(row[0], row[1], urls, show_command=False)


def _shown(perms: Any, process: Process, app: App, urls: UrlBuilder) -> dict[str, Any]:
    return process_resource(process, app, urls, show_command=perms.can_read_secrets_in_space(app.space))


@router.get("/v3/processes")
def list_processes(request: Request, perms: Perms, session: DbSession, urls: Urls) -> Any:
    query = list_query(request, PROCESSES_LIST)
    page = service.list_processes(session, perms, query)
    return list_body(urls.v3("/processes"), query, page, _listed(urls))


@router.get("/v3/apps/{guid}/processes")
def list_app_processes(guid: str, request: Request, perms: Perms, session: DbSession, urls: Urls) -> Any:
    query = list_query(request, APP_PROCESSES_LIST)
    page = service.list_processes(session, perms, query, app_guid=guid)
    return list_body(urls.v3(f"/apps/{guid}/processes"), query, page, _listed(urls))


@router.get("/v3/processes/{guid}")
def get_process(guid: str, perms: Perms, session: DbSession, urls: Urls) -> Any:
    return _shown(perms, *service.get_process(session, perms, guid), urls)


@router.get("/v3/apps/{guid}/processes/{type_}")
def get_app_process(guid: str, type_: str, perms: Perms, session: DbSession, urls: Urls) -> Any:
    return _shown(perms, *service.get_app_process(session, perms, guid, type_), urls)


@router.patch("/v3/processes/{guid}")
def update_process(
    guid: str, perms: Perms, body: JsonBody, session: DbSession, settings: AppSettings, urls: Urls
) -> Any:
    process, app = service.get_process(session, perms, guid)
    return process_resource(service.update_process(session, perms, settings, process, app, body), app, urls)


@router.patch("/v3/apps/{guid}/processes/{type_}")
def update_app_process(
    guid: str, type_: str, perms: Perms, body: JsonBody, session: DbSession, settings: AppSettings, urls: Urls
) -> Any:
    process, app = service.get_app_process(session, perms, guid, type_)
    return process_resource(service.update_process(session, perms, settings, process, app, body), app, urls)


@router.post("/v3/processes/{guid}/actions/scale", status_code=202)
def scale_process(guid: str, perms: Perms, body: JsonBody, session: DbSession, urls: Urls) -> Any:
    process, app = service.get_process(session, perms, guid)
    scaled = service.scale_process(session, perms, process, app, body)
    return JSONResponse(process_resource(scaled, app, urls), status_code=202)


@router.post("/v3/apps/{guid}/processes/{type_}/actions/scale", status_code=202)
def scale_app_process(guid: str, type_: str, perms: Perms, body: JsonBody, session: DbSession, urls: Urls) -> Any:
    process, app = service.get_app_process(session, perms, guid, type_)
    scaled = service.scale_process(session, perms, process, app, body)
    return JSONResponse(process_resource(scaled, app, urls), status_code=202)


@router.get("/v3/processes/{guid}/stats")
def process_stats(guid: str, perms: Perms, session: DbSession) -> Any:
    return stats_resource(service.get_process(session, perms, guid)[0])


@router.get("/v3/apps/{guid}/processes/{type_}/stats")
def app_process_stats(guid: str, type_: str, perms: Perms, session: DbSession) -> Any:
    return stats_resource(service.get_app_process(session, perms, guid, type_)[0])


@router.get("/v3/processes/{guid}/sidecars")
def process_sidecars(guid: str, request: Request, perms: Perms, session: DbSession, urls: Urls) -> Any:
    query = list_query(request, SIDECARS_LIST)
    service.get_process(session, perms, guid)
    # Sidecars are never recorded here (a manifest's sidecars are refused), so the list is empty.
    return list_body(urls.v3(f"/processes/{guid}/sidecars"), query, Page([], 0), lambda s: s)
