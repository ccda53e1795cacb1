"""Thin HTTP handlers for /v3/users."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from capi_packages.http.dependencies import AppSettings, DbSession, JsonBody, Perms, Urls
from capi_packages.http.pagination import list_body, list_query_unprocessable
from capi_packages.http.responses import CFJSONResponse as JSONResponse
from capi_packages.users import service
from capi_packages.users.schemas import USERS_LIST, filter_combination_messages, user_resource

router = APIRouter()


@router.get("/v3/users")
def list_users(request: Request, perms: Perms, session: DbSession, urls: Urls) -> Any:
    query = list_query_unprocessable(request, USERS_LIST, lambda q: filter_combination_messages(q.filters))
    page = service.list_users(session, perms, query)
    return list_body(urls.v3("/users"), query, page, lambda u: user_resource(u, urls))


@router.get("/v3/users/{guid}")
def get_user(guid: str, perms: Perms, session: DbSession, urls: Urls) -> Any:
    return user_resource(service.get_user(session, perms, guid), urls)


@router.post("/v3/users", status_code=201)
def create_user(perms: Perms, body: JsonBody, session: DbSession, settings: AppSettings, urls: Urls) -> Any:
    return JSONResponse(user_resource(service.create_user(session, perms, settings, body), urls), status_code=201)


@router.delete("/v3/users/{guid}", status_code=202)
def delete_user(guid: str, perms: Perms, session: DbSession, urls: Urls) -> Response:
    job = service.delete_user(session, perms, guid)
    return Response(status_code=202, headers={"Location": urls.v3(f"/jobs/{job.guid}")})
