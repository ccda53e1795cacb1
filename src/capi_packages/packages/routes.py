"""Thin HTTP handlers for /v3/packages and /v3/apps/{guid}/packages."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from capi_packages.http.dependencies import AppSettings, DbSession, JsonBody, Perms, Urls
from capi_packages.http.pagination import list_body, list_query
from capi_packages.listing import Page
from capi_packages.packages import service
from capi_packages.packages.models import Package
from capi_packages.packages.schemas import APP_PACKAGES_LIST, PACKAGE_DROPLETS_LIST, PACKAGES_LIST, package_resource

router = APIRouter()


def _render(request: Request, urls: Any) -> Any:
    upload_method = request.app.state.settings.links_upload_method
    return lambda pkg: package_resource(pkg, urls, upload_method=upload_method)


def _one(request: Request, pkg: Package, urls: Any, status: int = 200) -> Any:
    from capi_packages.http.responses import CFJSONResponse as JSONResponse

    return JSONResponse(_render(request, urls)(pkg), status_code=status)


@router.post("/v3/packages", status_code=201)
def create_package(
    request: Request, perms: Perms, body: JsonBody, session: DbSession, settings: AppSettings, urls: Urls
) -> Any:
    source_guid = request.query_params.get("source_guid")
    if source_guid is not None:
        pkg = service.copy(session, perms, settings, source_guid, body)
    else:
        pkg = service.create(session, perms, settings, request.app.state.secret_box, body)
    return _one(request, pkg, urls, 201)


@router.post("/v3/packages/{guid}/copy", status_code=201)
def copy_package(
    guid: str, request: Request, perms: Perms, body: JsonBody, session: DbSession, settings: AppSettings, urls: Urls
) -> Any:
    return _one(request, service.copy(session, perms, settings, guid, body), urls, 201)


@router.get("/v3/packages")
def list_packages(request: Request, perms: Perms, session: DbSession, urls: Urls) -> Any:
    query = list_query(request, PACKAGES_LIST)
    # CC quirk (§2.5): ?app_guid= on the top-level route acts as the nested app route.
    app_guid = request.query_params.get("app_guid")
    page = service.list_packages(session, perms, query, app_guid=app_guid)
    base = urls.v3(f"/apps/{app_guid}/packages") if app_guid is not None else urls.v3("/packages")
    return list_body(base, query, page, _render(request, urls))


@router.get("/v3/apps/{guid}/packages")
def list_app_packages(guid: str, request: Request, perms: Perms, session: DbSession, urls: Urls) -> Any:
    query = list_query(request, APP_PACKAGES_LIST)
    page = service.list_packages(session, perms, query, app_guid=guid)
    return list_body(urls.v3(f"/apps/{guid}/packages"), query, page, _render(request, urls))


@router.get("/v3/packages/{guid}")
def get_package(guid: str, request: Request, perms: Perms, session: DbSession, urls: Urls) -> Any:
    return _one(request, service.get(session, perms, guid), urls)


@router.patch("/v3/packages/{guid}")
def update_package(
    guid: str, request: Request, perms: Perms, body: JsonBody, session: DbSession, settings: AppSettings, urls: Urls
) -> Any:
    pkg = service.update(session, perms, settings, request.app.state.secret_box, guid, body)
    return _one(request, pkg, urls)


@router.delete("/v3/packages/{guid}", status_code=202)
def delete_package(guid: str, perms: Perms, session: DbSession, urls: Urls) -> Response:
    job = service.delete(session, perms, guid)
    return Response(status_code=202, headers={"Location": urls.v3(f"/jobs/{job.guid}")})


@router.get("/v3/packages/{guid}/droplets")
def list_package_droplets(guid: str, request: Request, perms: Perms, session: DbSession, urls: Urls) -> Any:
    query = list_query(request, PACKAGE_DROPLETS_LIST)
    service.get(session, perms, guid)
    # This service builds no droplets, so no droplet was ever staged from a package.
    return list_body(urls.v3(f"/packages/{guid}/droplets"), query, Page([], 0), lambda d: d)
