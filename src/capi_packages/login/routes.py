"""UAA-compatible endpoints the CF clients log in with: /login, /oauth/token, /token_keys."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from capi_packages.errors import MessageParseError, NotFound, PayloadTooLarge
from capi_packages.http import request_bodies as bodies
from capi_packages.http.bodies import read_urlencoded
from capi_packages.http.dependencies import AppSettings, Sessions, TokenSigningKey
from capi_packages.http.openapi import oauth_errors, responses
from capi_packages.http.responses import CFJSONResponse as JSONResponse
from capi_packages.login import service
from capi_packages.login.service import Issuer, OAuthError
from capi_packages.settings import Settings

router = APIRouter(tags=["login"])


def _require_enabled(settings: Settings) -> None:
    if not settings.local_issuer_enabled:
        raise NotFound()


@router.get("/login", responses=responses(404))
def login_info(settings: AppSettings) -> dict[str, Any]:
    _require_enabled(settings)
    base = settings.base_url
    return {
        "app": {"version": "capi-packages"},
        "links": {"uaa": base, "passwd": f"{base}/forgot_password", "login": base},
        "zone_name": "uaa",
        "entityID": base,
        "prompts": {"username": ["text", "Email"], "password": ["password", "Password"]},
        "idpDefinitions": {},
    }


@router.get("/token_keys", responses=responses(404))
def token_keys(settings: AppSettings, signing_key: TokenSigningKey) -> dict[str, Any]:
    _require_enabled(settings)
    return {"keys": [signing_key.jwk()]}


@router.get("/token_key", responses=responses(404))
def token_key(settings: AppSettings, signing_key: TokenSigningKey) -> dict[str, Any]:
    _require_enabled(settings)
    return dict(signing_key.jwk())


# UAA's token endpoint takes a small url-encoded form; nothing else is read, so an anonymous
# client cannot make the server hold or spool a large body.
MAX_TOKEN_REQUEST = 64 * 1024
FORM_TYPE = "application/x-www-form-urlencoded"


def _oauth_error(status: int, error: str, description: str) -> JSONResponse:
    return JSONResponse(
        {"error": error, "error_description": description}, status_code=status, headers={"Cache-Control": "no-store"}
    )


async def _token_form(request: Request) -> dict[str, str]:
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != FORM_TYPE:
        raise OAuthError(415, "invalid_request", f"Content type '{media_type or 'none'}' not supported")
    try:
        return await read_urlencoded(request, MAX_TOKEN_REQUEST)
    except PayloadTooLarge as e:
        raise OAuthError(413, "invalid_request", "Request body too large") from e
    except MessageParseError as e:
        raise OAuthError(400, "invalid_request", "Malformed request body") from e


@router.post(
    "/oauth/token",
    openapi_extra=bodies.TOKEN_REQUEST,
    responses=oauth_errors(400, 401, 413, 415) | responses(404),
)
async def oauth_token(
    request: Request, settings: AppSettings, signing_key: TokenSigningKey, sessions: Sessions
) -> JSONResponse:
    _require_enabled(settings)
    try:
        form = await _token_form(request)
    except OAuthError as e:
        return _oauth_error(e.status, e.error, e.description)
    issuer = Issuer(
        signing_key,
        settings.local_token_issuer,
        settings.jwt_audience,
        settings.token_ttl_seconds,
    )
    try:
        client_id, secret = service.client_credentials_from(request.headers.get("authorization"), form)
        answer = await run_in_threadpool(_grant, sessions, issuer, form, client_id, secret)
    except OAuthError as e:
        return _oauth_error(e.status, e.error, e.description)
    return JSONResponse(answer, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


def _grant(
    sessions: sessionmaker[Session], issuer: Issuer, form: dict[str, str], client_id: str, secret: str
) -> dict[str, Any]:
    grant = form.get("grant_type")
    with sessions() as session:
        if grant == "password":
            return service.password_grant(
                session, issuer, client_id, form.get("username", ""), form.get("password", "")
            )
        if grant == "refresh_token":
            return service.refresh_grant(session, issuer, client_id, form.get("refresh_token", ""))
        if grant == "client_credentials":
            return service.client_credentials_grant(session, issuer, client_id, secret)
    raise OAuthError(400, "unsupported_grant_type", f"Unsupported grant type: {grant}")
