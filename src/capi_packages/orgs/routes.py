"""Thin HTTP handlers for organizations, spaces, apps and roles."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from capi_packages.http.dependencies import AppSettings, DbSession, JsonBody, Perms, Urls
from capi_packages.http.pagination import list_body, list_query
from capi_packages.http.responses import CFJSONResponse as JSONResponse
from capi_packages.orgs import service
from capi_packages.orgs.schemas import (
    APPS_LIST,
    ORGANIZATIONS_LIST,
    SPACES_LIST,
    app_resource,
    organization_resource,
    space_resource,
)

router = APIRouter()


def _accepted(urls: Any, job_guid: str) -> Response:
    return Response(status_code=202, headers={"Location": urls.v3(f"/jobs/{job_guid}")})


# --- organizations ----------------------------------------------------------------------------
@router.post("/v3/organizations", status_code=201)
def create_organization(perms: Perms, body: JsonBody, session: DbSession, settings: AppSettings, urls: Urls) -> Any:
    org = service.create_org(session, perms, settings, body)
    return JSONResponse(organization_resource(org, urls), status_code=201)


@router.get("/v3/organizations")
def list_organizations(request: Request, perms: Perms, session: DbSession, urls: Urls) -> Any:
    query = list_query(request, ORGANIZATIONS_LIST)
    page = service.list_orgs(session, perms, query)
    return list_body(urls.v3("/organizations"), query, page, lambda o: organization_resource(o, urls))


@router.get("/v3/organizations/{guid}")
def get_organization(guid: str, perms: Perms, session: DbSession, urls: Urls) -> Any:
    return organization_resource(service.get_org(session, perms, guid), urls)


@router.patch("/v3/organizations/{guid}")
def update_organization(
    guid: str, perms: Perms, body: JsonBody, session: DbSession, settings: AppSettings, urls: Urls
) -> Any:
    return organization_resource(service.update_org(session, perms, settings, guid, body), urls)


@router.delete("/v3/organizations/{guid}", status_code=202)
def delete_organization(guid: str, perms: Perms, session: DbSession, urls: Urls) -> Response:
    return _accepted(urls, service.delete_org(session, perms, guid).guid)


# --- spaces -----------------------------------------------------------------------------------
@router.post("/v3/spaces", status_code=201)
def create_space(perms: Perms, body: JsonBody, session: DbSession, settings: AppSettings, urls: Urls) -> Any:
    return JSONResponse(space_resource(service.create_space(session, perms, settings, body), urls), status_code=201)


@router.get("/v3/spaces")
def list_spaces(request: Request, perms: Perms, session: DbSession, urls: Urls) -> Any:
    query = list_query(request, SPACES_LIST)
    page = service.list_spaces(session, perms, query)
    return list_body(urls.v3("/spaces"), query, page, lambda s: space_resource(s, urls))


@router.get("/v3/spaces/{guid}")
def get_space(guid: str, perms: Perms, session: DbSession, urls: Urls) -> Any:
    return space_resource(service.get_space(session, perms, guid), urls)


@router.patch("/v3/spaces/{guid}")
def update_space(guid: str, perms: Perms, body: JsonBody, session: DbSession, settings: AppSettings, urls: Urls) -> Any:
    return space_resource(service.update_space(session, perms, settings, guid, body), urls)


@router.delete("/v3/spaces/{guid}", status_code=202)
def delete_space(guid: str, perms: Perms, session: DbSession, urls: Urls) -> Response:
    return _accepted(urls, service.delete_space(session, perms, guid).guid)


# --- apps -------------------------------------------------------------------------------------
@router.post("/v3/apps", status_code=201)
def create_app(perms: Perms, body: JsonBody, session: DbSession, settings: AppSettings, urls: Urls) -> Any:
    return JSONResponse(app_resource(service.create_app(session, perms, settings, body), urls), status_code=201)


@router.get("/v3/apps")
def list_apps(request: Request, perms: Perms, session: DbSession, urls: Urls) -> Any:
    query = list_query(request, APPS_LIST)
    page = service.list_apps(session, perms, query)
    return list_body(urls.v3("/apps"), query, page, lambda a: app_resource(a, urls))


@router.get("/v3/apps/{guid}")
def get_app(guid: str, perms: Perms, session: DbSession, urls: Urls) -> Any:
    return app_resource(service.get_app(session, perms, guid), urls)


@router.delete("/v3/apps/{guid}", status_code=202)
def delete_app(guid: str, perms: Perms, session: DbSession, urls: Urls) -> Response:
    return _accepted(urls, service.delete_app(session, perms, guid).guid)
