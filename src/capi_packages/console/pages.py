"""What every console page shares: templates, the login cookie, security headers, errors shown as pages."""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import jinja2
from fastapi import Request, Response
from fastapi.responses import RedirectResponse
from fastapi.templating import Jinja2Templates

from capi_packages.auth.tokens import Claims, TokenVerifier
from capi_packages.console import views
from capi_packages.entries.schemas import mode_text
from capi_packages.errors import ApiError, InvalidAuthToken, NotAuthenticated, NotAuthorized

HERE = Path(__file__).parent
TOKEN_COOKIE = "capi_console_token"  # noqa: S105 (a cookie name)
CSRF_COOKIE = "capi_console_csrf"
# Everything from packages is hostile: no inline script or style, nothing from elsewhere, no framing.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True, undefined=jinja2.StrictUndefined
)
_env.filters["size"] = views.human_size
_env.filters["octal"] = mode_text
_env.filters["ls_mode"] = lambda entry: views.mode_string(entry.mode, entry.kind)
_env.filters["when"] = lambda value: value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else ""
templates = Jinja2Templates(env=_env)

F = TypeVar("F", bound=Callable[..., Any])


def secure(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    return response


def render(request: Request, template: str, status: int = 200, **context: Any) -> Response:
    claims = getattr(request.state, "console_claims", None)
    context.setdefault("user", (claims.user_name or claims.user_id) if claims else None)
    context.setdefault("csrf", csrf_token(request))
    response = templates.TemplateResponse(request, template, context, status_code=status)
    if request.cookies.get(CSRF_COOKIE) != context["csrf"]:
        set_cookie(request, response, CSRF_COOKIE, context["csrf"])
    return secure(response)


def csrf_token(request: Request) -> str:
    """The double-submit token: a random cookie that forms must echo back."""
    return request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf", None) or _new_csrf(request)


def _new_csrf(request: Request) -> str:
    request.state.new_csrf = secrets.token_urlsafe(32)
    return str(request.state.new_csrf)


def csrf_ok(request: Request, submitted: str | None) -> bool:
    cookie = request.cookies.get(CSRF_COOKIE)
    return bool(cookie and submitted and secrets.compare_digest(cookie, submitted))


def set_cookie(request: Request, response: Response, name: str, value: str, max_age: int | None = None) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/console",
        httponly=True,
        samesite="strict",
        # Behind a TLS-terminating proxy the request itself is plain http; the external URL says https.
        secure=request.url.scheme == "https" or request.app.state.settings.base_url.startswith("https:"),
    )


def current_claims(request: Request) -> Claims:
    """The logged-in user from the cookie; NotAuthenticated sends them to the login page."""
    token = request.cookies.get(TOKEN_COOKIE)
    if not token:
        raise NotAuthenticated()
    verifier: TokenVerifier = request.app.state.token_verifier
    claims = verifier.verify(token)
    if not claims.has_read_scope:
        raise NotAuthorized()
    request.state.console_claims = claims
    return claims


def page(func: F) -> F:
    """Turn API errors into pages: a missing or expired login goes to the login page."""

    @functools.wraps(func)
    def handler(*args: Any, **kwargs: Any) -> Any:
        request: Request = kwargs["request"]
        try:
            return func(*args, **kwargs)
        except (NotAuthenticated, InvalidAuthToken):
            if request.headers.get("hx-request"):
                return secure(Response(status_code=204, headers={"HX-Redirect": "/console/login"}))
            return secure(RedirectResponse("/console/login", status_code=303))
        except ApiError as error:
            return render(request, "error.html", status=error.status, error=error)

    return handler  # type: ignore[return-value]
