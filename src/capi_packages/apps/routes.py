"""Thin HTTP handlers for app updates, environment, and the runtime resources the cf CLI reads."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from capi_packages.apps import service
from capi_packages.apps.schemas import (
    APP_DROPLETS_LIST,
    APP_ROUTES_LIST,
    DEPLOYMENTS_LIST,
    ROUTES_LIST,
    env_resource,
)
from capi_packages.errors import UnprocessableEntity
from capi_packages.http.dependencies import AppSettings, DbSession, JsonBody, Perms, Urls, writes_on_get
from capi_packages.http.pagination import list_body, list_query
from capi_packages.listing import Page
from capi_packages.orgs.schemas import app_resource

router = APIRouter()


def _empty(request: Request, spec: Any, path: str, urls: Any) -> dict[str, Any]:
    query = list_query(request, spec)
    return list_body(urls.v3(path), query, Page([], 0), lambda r: r)


@router.patch("/v3/apps/{guid}")
def update_app(guid: str, perms: Perms, body: JsonBody, session: DbSession, settings: AppSettings, urls: Urls) -> Any:
    return app_resource(service.update_app(session, perms, settings, guid, body), urls)


@router.get("/v3/apps/{guid}/env")
@writes_on_get
def app_env(guid: str, perms: Perms, session: DbSession, settings: AppSettings) -> Any:
    app = service.show_env(session, perms, guid)
    vcap = service.vcap_application(session, app, f"{settings.base_url}")
    return env_resource(app, vcap, show_system=perms.can_read_secrets_in_space(app.space))


@router.get("/v3/apps/{guid}/environment_variables")
@writes_on_get
def app_environment_variables(guid: str, perms: Perms, session: DbSession, urls: Urls) -> Any:
    app = service.show_environment_variables(session, perms, guid)
    return _env_vars_body(app, urls)


@router.patch("/v3/apps/{guid}/environment_variables")
def update_app_environment_variables(guid: str, perms: Perms, body: JsonBody, session: DbSession, urls: Urls) -> Any:
    return _env_vars_body(service.update_environment_variables(session, perms, guid, body), urls)


def _env_vars_body(app: Any, urls: Any) -> dict[str, Any]:
    return {
        "var": dict(app.environment_variables or {}),
        "links": {"self": urls.href(f"/apps/{app.guid}/environment_variables"), "app": urls.href(f"/apps/{app.guid}")},
    }


@router.get("/v3/apps/{guid}/droplets/current")
def current_droplet(guid: str, perms: Perms, session: DbSession) -> Any:
    service.require_droplet(session, perms, guid)


@router.get("/v3/apps/{guid}/droplets")
def app_droplets(guid: str, request: Request, perms: Perms, session: DbSession, urls: Urls) -> Any:
    body = _empty(request, APP_DROPLETS_LIST, f"/apps/{guid}/droplets", urls)
    service.get_app(session, perms, guid)
    return body


@router.get("/v3/apps/{guid}/routes")
def app_routes(guid: str, request: Request, perms: Perms, session: DbSession, urls: Urls) -> Any:
    body = _empty(request, APP_ROUTES_LIST, f"/apps/{guid}/routes", urls)
    service.get_app(session, perms, guid)
    return body


@router.get("/v3/routes")
def list_routes(request: Request, _perms: Perms, urls: Urls) -> Any:
    # This service routes nothing: routes in a manifest are validated and accepted, never recorded.
    return _empty(request, ROUTES_LIST, "/routes", urls)


@router.get("/v3/deployments")
def list_deployments(request: Request, _perms: Perms, urls: Urls) -> Any:
    return _empty(request, DEPLOYMENTS_LIST, "/deployments", urls)


@router.post("/v3/builds")
def create_build(_perms: Perms, _body: JsonBody) -> Any:
    raise UnprocessableEntity(service.STAGING_NOT_OFFERED)


@router.post("/v3/apps/{guid}/actions/start")
def start_app(guid: str, perms: Perms, session: DbSession) -> Any:
    app = service.get_app(session, perms, guid)
    perms.require_write(app.space)
    raise UnprocessableEntity(service.STAGING_NOT_OFFERED)


@router.post("/v3/apps/{guid}/actions/stop")
def stop_app(guid: str, perms: Perms, session: DbSession, urls: Urls) -> Any:
    app = service.get_app(session, perms, guid)
    perms.require_write(app.space)
    return app_resource(app, urls)
