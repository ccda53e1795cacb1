"""Console login and logout: this service's own users (the password grant for client `cf`) or a pasted token."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from capi_packages.auth.keys import SigningKey
from capi_packages.console.pages import CSRF_COOKIE, TOKEN_COOKIE, csrf_ok, render, secure, set_cookie
from capi_packages.errors import ApiError
from capi_packages.http.dependencies import AppSettings, Sessions, TokenSigningKey, Verifier
from capi_packages.login import service as login
from capi_packages.login.service import Issuer, OAuthError
from capi_packages.settings import Settings

router = APIRouter(prefix="/console", include_in_schema=False)
CLIENT_ID = "cf"


def _login_page(request: Request, settings: Settings, message: str | None = None, status: int = 200) -> Response:
    return render(request, "login.html", status=status, message=message, passwords=settings.local_issuer_enabled)


@router.get("/login")
def login_form(request: Request, settings: AppSettings) -> Response:
    return _login_page(request, settings)


def _password_grant(
    settings: Settings, signing_key: SigningKey, sessions: sessionmaker[Session], username: str, password: str
) -> tuple[str, int]:
    issuer = Issuer(
        signing_key,
        f"{settings.base_url}/oauth/token",
        settings.jwt_audience,
        settings.token_ttl_seconds,
    )
    with sessions() as session:
        answer = login.password_grant(session, issuer, CLIENT_ID, username, password)
    return str(answer["access_token"]), int(answer["expires_in"])


@router.post("/login")
async def log_in(
    request: Request,
    settings: AppSettings,
    signing_key: TokenSigningKey,
    sessions: Sessions,
    verifier: Verifier,
    csrf: str = Form(""),
    username: str = Form(""),
    password: str = Form(""),
    token: str = Form(""),
) -> Response:
    if not csrf_ok(request, csrf):
        return _login_page(request, settings, "The form expired. Please try again.", 400)
    max_age: int | None = None
    if token.strip():
        access = token.strip().removeprefix("bearer ").removeprefix("Bearer ").strip()
        try:
            claims = verifier.verify(access)
        except ApiError:
            return _login_page(request, settings, "That token is not valid here.", 401)
        if not claims.has_read_scope:
            return _login_page(request, settings, "That token may not read (it lacks cloud_controller.read).", 403)
    elif settings.local_issuer_enabled and username:
        try:
            access, max_age = await run_in_threadpool(
                _password_grant, settings, signing_key, sessions, username, password
            )
        except OAuthError:
            return _login_page(request, settings, "Wrong user name or password.", 401)
    else:
        return _login_page(request, settings, "Enter a user name and password, or paste a token.", 400)
    response = secure(RedirectResponse("/console", status_code=303))
    set_cookie(request, response, TOKEN_COOKIE, access, max_age)
    return response


@router.post("/logout")
def log_out(request: Request, settings: AppSettings, csrf: str = Form("")) -> Response:
    if not csrf_ok(request, csrf):
        return _login_page(request, settings, "The form expired. Please try again.", 400)
    response = secure(RedirectResponse("/console/login", status_code=303))
    response.delete_cookie(TOKEN_COOKIE, path="/console")
    response.delete_cookie(CSRF_COOKIE, path="/console")
    return response
