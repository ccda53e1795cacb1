"""Thin HTTP handlers for /v3/roles."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session

from capi_packages.http.dependencies import DbSession, JsonBody, Perms, Urls
from capi_packages.http.pagination import list_body, list_query_unprocessable, raise_unprocessable
from capi_packages.http.responses import CFJSONResponse as JSONResponse
from capi_packages.http.urls import UrlBuilder
from capi_packages.orgs.models import Role
from capi_packages.orgs.schemas import organization_resource, space_resource
from capi_packages.roles import service
from capi_packages.roles.schemas import ROLES_LIST, include_messages, role_resource
from capi_packages.users.schemas import user_resource

router = APIRouter()


def _included(session: Session, roles: list[Role], include: list[str], urls: UrlBuilder) -> dict[str, Any]:
    included: dict[str, Any] = {}
    if "user" in include:
        included["users"] = [user_resource(u, urls) for u in service.users_of(session, roles)]
    if "organization" in include:
        orgs = {r.organization.guid: r.organization for r in roles if r.organization is not None}
        ordered = sorted(orgs.values(), key=lambda o: (o.created_at, o.guid))
        included["organizations"] = [organization_resource(o, urls) for o in ordered]
    if "space" in include:
        spaces = {r.space.guid: r.space for r in roles if r.space is not None}
        ordered_spaces = sorted(spaces.values(), key=lambda s: (s.created_at, s.guid))
        included["spaces"] = [space_resource(s, urls) for s in ordered_spaces]
    return included


def _include_param(request: Request) -> list[str]:
    raw = request.query_params.get("include")
    return [value for value in raw.split(",")] if raw else []


@router.post("/v3/roles", status_code=201)
def create_role(perms: Perms, body: JsonBody, session: DbSession, urls: Urls) -> Any:
    return JSONResponse(role_resource(service.create_role(session, perms, body), urls), status_code=201)


@router.get("/v3/roles")
def list_roles(request: Request, perms: Perms, session: DbSession, urls: Urls) -> Any:
    query = list_query_unprocessable(request, ROLES_LIST, lambda q: include_messages(q.filters.get("include")))
    page = service.list_roles(session, perms, query)
    body = list_body(urls.v3("/roles"), query, page, lambda r: role_resource(r, urls))
    include = query.filters.get("include") or []
    if include:
        body["included"] = _included(session, list(page.rows), include, urls)
    return body


@router.get("/v3/roles/{guid}")
def get_role(guid: str, request: Request, perms: Perms, session: DbSession, urls: Urls) -> Any:
    include = _include_param(request)
    raise_unprocessable(include_messages(include))
    role = service.get_role(session, perms, guid)
    body = role_resource(role, urls)
    if include:
        body["included"] = _included(session, [role], include, urls)
    return body


@router.delete("/v3/roles/{guid}", status_code=202)
def delete_role(guid: str, perms: Perms, session: DbSession, urls: Urls) -> Response:
    job = service.delete_role(session, perms, guid)
    return Response(status_code=202, headers={"Location": urls.v3(f"/jobs/{job.guid}")})
