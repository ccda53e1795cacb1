"""Getting a token: UAA password and refresh-token grants, and the cf CLI's saved config."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from capi_client.errors import CapiError, error_class_for, error_from_response
from capi_client.models import Tokens

# The cf CLI's public OAuth client: id `cf`, empty secret. UAA knows it out of the box.
CF_CLIENT_ID = "cf"
CF_CLIENT_SECRET = ""
DEFAULT_CF_CONFIG = Path("~/.cf/config.json")


@contextmanager
def _borrowed(http_client: httpx.Client | None, timeout: float) -> Iterator[httpx.Client]:
    if http_client is not None:
        yield http_client
        return
    with httpx.Client(timeout=timeout) as owned:
        yield owned


def token_endpoint(api_url: str, *, http_client: httpx.Client | None = None, timeout: float = 30.0) -> str:
    """The UAA URL the API's root document names: `links.login`, else `links.uaa` (as cf)."""
    with _borrowed(http_client, timeout) as http:
        response = http.get(api_url.rstrip("/") + "/", headers={"Accept": "application/json"})
        if response.is_error:
            raise error_from_response(response)
        links = response.json().get("links") or {}
    for name in ("login", "uaa"):
        href = (links.get(name) or {}).get("href")
        if href:
            return str(href).rstrip("/")
    detail = f"{api_url}/ names neither links.login nor links.uaa"
    raise CapiError(response.status_code, 0, "NoTokenEndpoint", detail)


def _grant(
    api_url: str,
    form: dict[str, str],
    http_client: httpx.Client | None,
    timeout: float,
    client_id: str,
    client_secret: str,
) -> Tokens:
    with _borrowed(http_client, timeout) as http:
        endpoint = token_endpoint(api_url, http_client=http)
        response = http.post(
            f"{endpoint}/oauth/token",
            data=form,
            auth=(client_id, client_secret),
            headers={"Accept": "application/json"},
        )
        if response.is_error:
            raise _oauth_error(response)
        return Tokens.from_json(response.json())


def _oauth_error(response: httpx.Response) -> CapiError:
    """UAA answers OAuth's `{"error", "error_description"}`, not CF's envelope; keep its words."""
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        status = response.status_code
        detail = str(body.get("error_description") or body["error"])
        return error_class_for(status)(status, 0, body["error"], detail, response=response)
    return error_from_response(response)


def login(
    api_url: str,
    username: str,
    password: str,
    *,
    http_client: httpx.Client | None = None,
    timeout: float = 30.0,
    client_id: str = CF_CLIENT_ID,
    client_secret: str = CF_CLIENT_SECRET,
) -> Tokens:
    """Password grant against the API's token endpoint, as `cf login` does it."""
    form = {"grant_type": "password", "username": username, "password": password}
    return _grant(api_url, form, http_client, timeout, client_id, client_secret)


def refresh(
    api_url: str,
    refresh_token: str,
    *,
    http_client: httpx.Client | None = None,
    timeout: float = 30.0,
    client_id: str = CF_CLIENT_ID,
    client_secret: str = CF_CLIENT_SECRET,
) -> Tokens:
    """Refresh-token grant: a new access token (and usually a new refresh token)."""
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    return _grant(api_url, form, http_client, timeout, client_id, client_secret)


def token_expiry(token: str) -> datetime | None:
    """The `exp` claim of a JWT, read without verifying it (the server does); None if unreadable.

    Only used to refresh a saved token before it is rejected, never to trust it.
    """
    raw = token.split(" ", 1)[-1]
    parts = raw.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
        return datetime.fromtimestamp(int(payload["exp"]), tz=UTC)
    except (ValueError, KeyError, TypeError):
        return None


def read_cf_config(path: str | os.PathLike[str] | None = None) -> tuple[str, str | None]:
    """`(Target, AccessToken)` from the cf CLI's config; the token already reads `bearer …`."""
    config_path = Path(path) if path is not None else DEFAULT_CF_CONFIG.expanduser()
    data = json.loads(config_path.read_text(encoding="utf-8"))
    target = data.get("Target")
    if not target:
        raise ValueError(f"{config_path} has no Target: run `cf api` first")
    return str(target), data.get("AccessToken") or None
