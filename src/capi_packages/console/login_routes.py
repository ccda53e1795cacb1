"""Console login and logout: this service's own users (the password grant for client `cf`) or a pasted token."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from capi_packages.console.pages import CSRF_COOKIE, TOKEN_COOKIE, csrf_ok, render, secure, set_cookie
from capi_packages.errors import ApiError
from capi_packages.login import service as login
from capi_packages.login.service import Issuer, OAuthError

router = APIRouter(prefix="/console", include_in_schema=False)
CLIENT_ID = "cf"


def _login_page(request: Request, message: str | None = None, status: int = 200) -> Response:
    settings = request.app.state.settings
    return render(request, "login.html", status=status, message=message, passwords=settings.local_issuer_enabled)


@router.get("/login")
def login_form(request: Request) -> Response:
    return _login_page(request)


def _password_grant(request: Request, username: str, password: str) -> tuple[str, int]:
    settings = request.app.state.settings
    issuer = Issuer(
        request.app.state.signing_key,
        f"{settings.base_url}/oauth/token",
        settings.jwt_audience,
        settings.token_ttl_seconds,
    )
    with request.app.state.sessionmaker() as session:
        answer = login.password_grant(session, issuer, CLIENT_ID, username, password)
    return str(answer["access_token"]), int(answer["expires_in"])


@router.post("/login")
async def log_in(
    request: Request,
    csrf: str = Form(""),
    username: str = Form(""),
    password: str = Form(""),
    token: str = Form(""),
) -> Response:
    if not csrf_ok(request, csrf):
        return _login_page(request, "The form expired. Please try again.", 400)
    max_age: int | None = None
    if token.strip():
        access = token.strip().removeprefix("bearer ").removeprefix("Bearer ").strip()
        try:
            claims = request.app.state.token_verifier.verify(access)
        except ApiError:
            return _login_page(request, "That token is not valid here.", 401)
        if not claims.has_read_scope:
            return _login_page(request, "That token may not read (it lacks cloud_controller.read).", 403)
    elif request.app.state.settings.local_issuer_enabled and username:
        try:
            access, max_age = await run_in_threadpool(_password_grant, request, username, password)
        except OAuthError:
            return _login_page(request, "Wrong user name or password.", 401)
    else:
        return _login_page(request, "Enter a user name and password, or paste a token.", 400)
    response = secure(RedirectResponse("/console", status_code=303))
    set_cookie(request, response, TOKEN_COOKIE, access, max_age)
    return response


@router.post("/logout")
def log_out(request: Request, csrf: str = Form("")) -> Response:
    if not csrf_ok(request, csrf):
        return _login_page(request, "The form expired. Please try again.", 400)
    response = secure(RedirectResponse("/console/login", status_code=303))
    response.delete_cookie(TOKEN_COOKIE, path="/console")
    response.delete_cookie(CSRF_COOKIE, path="/console")
    return response
