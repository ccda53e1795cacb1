"""Getting a client configured: env, cf CLI config, UAA grants, the saved login."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import httpx
import pytest

from capi_client import (
    CapiError,
    NotAuthenticatedError,
    PackagesClient,
    login,
    refresh,
    token_endpoint,
    token_expiry,
)
from capi_client.config import load_saved_login, save_login, saved_token
from tests.client.fake_api import API, TOKEN, FakeApi


def jwt(exp: float) -> str:
    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none'})}.{part({'exp': int(exp), 'user_name': 'alice'})}.sig"


def test_from_env_reads_url_and_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAPI_API_URL", "https://api.example.org/")
    monkeypatch.setenv("CAPI_TOKEN", "tok")
    client = PackagesClient.from_env()
    assert client.api_url == "https://api.example.org"
    assert client._authorization() == "bearer tok"
    monkeypatch.delenv("CAPI_API_URL")
    with pytest.raises(ValueError, match="CAPI_API_URL"):
        PackagesClient.from_env()


def test_from_cf_config_uses_target_and_the_bearer_token(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    saved = {"Target": "https://api.cf.example", "AccessToken": "bearer eyJ.x.y"}
    config.write_text(json.dumps(saved))
    client = PackagesClient.from_cf_config(config)
    assert client.api_url == "https://api.cf.example"
    assert client._authorization() == "bearer eyJ.x.y"
    config.write_text("{}")
    with pytest.raises(ValueError, match="Target"):
        PackagesClient.from_cf_config(config)


def test_login_discovers_the_token_endpoint_and_posts_a_password_grant() -> None:
    fake = FakeApi()
    tokens = login(API, "alice", "s3cr3t", http_client=fake.client())
    assert tokens.access_token == TOKEN and tokens.refresh_token == "refresh-1"
    assert tokens.authorization == f"bearer {TOKEN}"
    root, grant = fake.requests
    assert (root.method, str(root.url)) == ("GET", f"{API}/")
    assert "authorization" not in root.headers
    assert (grant.method, str(grant.url)) == ("POST", "http://uaa.test/oauth/token")
    assert grant.headers["content-type"] == "application/x-www-form-urlencoded"
    assert dict(httpx.QueryParams(grant.content.decode())) == {
        "grant_type": "password",
        "username": "alice",
        "password": "s3cr3t",
    }
    assert grant.headers["authorization"] == "Basic " + base64.b64encode(b"cf:").decode()


def test_refresh_posts_a_refresh_token_grant() -> None:
    fake = FakeApi()
    refresh(API, "refresh-0", http_client=fake.client())
    assert dict(httpx.QueryParams(fake.requests[-1].content.decode())) == {
        "grant_type": "refresh_token",
        "refresh_token": "refresh-0",
    }


def test_login_reports_uaa_errors_in_its_own_words() -> None:
    with pytest.raises(NotAuthenticatedError) as caught:
        login(API, "alice", "wrong", http_client=FakeApi().client())
    assert (caught.value.title, caught.value.detail) == ("unauthorized", "Bad credentials")


def test_token_endpoint_prefers_login_then_uaa() -> None:
    def root(links: dict[str, object]) -> httpx.Client:
        answer = httpx.Response(200, json={"links": links})
        return httpx.Client(transport=httpx.MockTransport(lambda _request: answer))

    both = {"login": {"href": "https://login.x/"}, "uaa": {"href": "https://uaa.x"}}
    assert token_endpoint(API, http_client=root(both)) == "https://login.x"
    uaa_only = {"uaa": {"href": "https://uaa.x"}}
    assert token_endpoint(API, http_client=root(uaa_only)) == "https://uaa.x"
    with pytest.raises(CapiError, match="neither"):
        token_endpoint(API, http_client=root({}))


def test_token_expiry_reads_exp_without_verifying() -> None:
    expiry = token_expiry("bearer " + jwt(1_700_000_000))
    assert expiry is not None and expiry.timestamp() == 1_700_000_000
    assert token_expiry("not-a-jwt") is None
    assert token_expiry("a.!!!.c") is None


def test_saved_login_is_private_and_only_used_for_its_api(tmp_path: Path) -> None:
    path = tmp_path / "dir" / "config.json"
    save_login({"api_url": API, "access_token": "bearer abc"}, path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_saved_login(path)["access_token"] == "bearer abc"
    assert saved_token(API, path=path) == "bearer abc"
    assert saved_token("https://elsewhere.example", path=path) is None
    assert load_saved_login(tmp_path / "missing.json") == {}


def test_saved_token_is_refreshed_when_about_to_expire(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    saved = {"api_url": API, "refresh_token": "r0"}
    save_login({**saved, "access_token": "bearer " + jwt(time.time() + 5)}, path)
    fake = FakeApi()
    assert saved_token(API, http_client=fake.client(), path=path) == f"bearer {TOKEN}"
    assert load_saved_login(path)["access_token"] == f"bearer {TOKEN}"
    assert load_saved_login(path)["refresh_token"] == "refresh-1"
    # A fresh token is used as it is, without asking UAA.
    save_login({**saved, "access_token": "bearer " + jwt(time.time() + 3600)}, path)
    fake.requests.clear()
    saved_token(API, http_client=fake.client(), path=path)
    assert fake.requests == []
