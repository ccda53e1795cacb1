"""Thin HTTP handlers for /v3/packages and /v3/apps/{guid}/packages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request, Response

from capi_packages.http import request_bodies as bodies
from capi_packages.http.dependencies import AppSettings, DbSession, JsonBody, ListCache, Perms, Secrets, Urls
from capi_packages.http.openapi import json_body, list_parameters, query_parameters
from capi_packages.http.pagination import list_body, list_query
from capi_packages.listing import Page
from capi_packages.packages import service
from capi_packages.packages.models import Package
from capi_packages.packages.schemas import APP_PACKAGES_LIST, PACKAGE_DROPLETS_LIST, PACKAGES_LIST, package_resource

router = APIRouter()


def _render(settings: Any, urls: Any) -> Any:
    upload_method = settings.links_upload_method
    return lambda pkg: package_resource(pkg, urls, upload_method=upload_method)


def _one(settings: Any, pkg: Package, urls: Any, status: int = 200) -> Any:
    from capi_packages.http.responses import CFJSONResponse as JSONResponse

    return JSONResponse(_render(settings, urls)(pkg), status_code=status)


@router.post(
    "/v3/packages",
    status_code=201,
    openapi_extra=json_body(bodies.PACKAGE_CREATE_OR_COPY)
    | query_parameters(source_guid="Copy the bits or image of this package (the body names the receiving app)"),
)
def create_package(
    request: Request,
    perms: Perms,
    body: JsonBody,
    session: DbSession,
    settings: AppSettings,
    urls: Urls,
    secrets: Secrets,
) -> Any:
    source_guid = request.query_params.get("source_guid")
    if source_guid is not None:
        pkg = service.copy(session, perms, settings, source_guid, body)
    else:
        pkg = service.create(session, perms, settings, secrets, body)
    return _one(settings, pkg, urls, 201)


@router.post("/v3/packages/{guid}/copy", status_code=201, openapi_extra=json_body(bodies.PACKAGE_COPY))
def copy_package(guid: str, perms: Perms, body: JsonBody, session: DbSession, settings: AppSettings, urls: Urls) -> Any:
    return _one(settings, service.copy(session, perms, settings, guid, body), urls, 201)


def _cached(request: Request, session: Any, perms: Perms, cache: ListCache, page_body: Callable[[], Any]) -> Any:
    """The list page from the cache while nothing behind it changed, else rendered and remembered.

    Looked up before the query string is even parsed: only a page that was answered is kept, so a
    hit is a query that parsed, and a query that does not parse still gets its error."""
    # The version (its counter first) is read before any row: see http/response_cache.py.
    version = service.list_version(session, perms, cache.counter_reads)
    key = None if version is None else (version, request.scope["path"], request.scope["query_string"])
    if key is not None and (hit := cache.get(key)) is not None:
        return hit
    return cache.render(key, page_body())


@router.get("/v3/packages", openapi_extra=list_parameters(PACKAGES_LIST))
def list_packages(
    request: Request, perms: Perms, session: DbSession, settings: AppSettings, urls: Urls, cache: ListCache
) -> Any:
    def page_body() -> Any:
        query = list_query(request, PACKAGES_LIST)
        # CC quirk (§2.5): ?app_guid= on the top-level route acts as the nested app route.
        app_guid = request.query_params.get("app_guid")
        base = urls.v3(f"/apps/{app_guid}/packages") if app_guid is not None else urls.v3("/packages")
        page = service.list_packages(session, perms, query, app_guid=app_guid)
        return list_body(base, query, page, _render(settings, urls))

    return _cached(request, session, perms, cache, page_body)


@router.get("/v3/apps/{guid}/packages", openapi_extra=list_parameters(APP_PACKAGES_LIST))
def list_app_packages(
    guid: str, request: Request, perms: Perms, session: DbSession, settings: AppSettings, urls: Urls, cache: ListCache
) -> Any:
    def page_body() -> Any:
        query = list_query(request, APP_PACKAGES_LIST)
        page = service.list_packages(session, perms, query, app_guid=guid)
        return list_body(urls.v3(f"/apps/{guid}/packages"), query, page, _render(settings, urls))

    return _cached(request, session, perms, cache, page_body)


@router.get("/v3/packages/{guid}")
def get_package(guid: str, perms: Perms, session: DbSession, settings: AppSettings, urls: Urls) -> Any:
    return _one(settings, service.get(session, perms, guid), urls)


@router.patch("/v3/packages/{guid}", openapi_extra=json_body(bodies.PACKAGE_UPDATE))
def update_package(
    guid: str,
    perms: Perms,
    body: JsonBody,
    session: DbSession,
    settings: AppSettings,
    urls: Urls,
    secrets: Secrets,
) -> Any:
    pkg = service.update(session, perms, settings, secrets, guid, body)
    return _one(settings, pkg, urls)


@router.delete("/v3/packages/{guid}", status_code=202)
def delete_package(guid: str, perms: Perms, session: DbSession, urls: Urls) -> Response:
    job = service.delete(session, perms, guid)
    return Response(status_code=202, headers={"Location": urls.v3(f"/jobs/{job.guid}")})


@router.get("/v3/packages/{guid}/droplets", openapi_extra=list_parameters(PACKAGE_DROPLETS_LIST))
def list_package_droplets(guid: str, request: Request, perms: Perms, session: DbSession, urls: Urls) -> Any:
    query = list_query(request, PACKAGE_DROPLETS_LIST)
    service.get(session, perms, guid)
    # This service builds no droplets, so no droplet was ever staged from a package.
    return list_body(urls.v3(f"/packages/{guid}/droplets"), query, Page([], 0), lambda d: d)
