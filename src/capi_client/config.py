"""The saved login `capi-packages login` writes: API URL and tokens, private to the user."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from capi_client.auth import refresh, token_expiry
from capi_client.errors import CapiError

CONFIG_ENV = "CAPI_CONFIG"
DEFAULT_CONFIG = Path("~/.capi-packages/config.json")
# Refresh a saved token this long before it expires, so a slow command does not die half-way.
REFRESH_MARGIN = timedelta(seconds=60)


def config_path() -> Path:
    """`$CAPI_CONFIG`, else ~/.capi-packages/config.json."""
    return Path(os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG).expanduser()


def load_saved_login(path: Path | None = None) -> dict[str, Any]:
    """The saved keys (`api_url`, `access_token`, `refresh_token`, `username`); {} if none."""
    try:
        data = json.loads((path or config_path()).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def save_login(data: dict[str, Any], path: Path | None = None) -> None:
    target = path or config_path()
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # The file holds tokens: create it readable by its owner only.
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fileobj:
        json.dump(data, fileobj, indent=2)


def saved_token(api_url: str, *, http_client: httpx.Client | None = None, path: Path | None = None) -> str | None:
    """The saved `bearer …` token for `api_url`, refreshed (and re-saved) when about to expire.

    None when the saved login is for another API: a token only ever goes where it was issued.
    """
    config = load_saved_login(path)
    if config.get("api_url", "").rstrip("/") != api_url.rstrip("/"):
        return None
    token: str | None = config.get("access_token")
    refresh_token = config.get("refresh_token")
    expiry = token_expiry(token) if token else None
    if not (token and expiry and refresh_token and expiry - datetime.now(UTC) < REFRESH_MARGIN):
        return token
    try:
        tokens = refresh(api_url, refresh_token, http_client=http_client)
    except (CapiError, httpx.HTTPError):
        return token  # let the API say what is wrong with it
    config["access_token"] = tokens.authorization
    config["refresh_token"] = tokens.refresh_token or refresh_token
    save_login(config, path)
    return tokens.authorization
