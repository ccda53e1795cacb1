"""Local login: UAA-compatible password, refresh and client-credentials grants."""

from __future__ import annotations

import base64

import jwt
import pytest

from capi_packages.login.service import add_user

CF_BASIC = {"Authorization": "Basic " + base64.b64encode(b"cf:").decode()}


@pytest.fixture
def alice(app):
    with app.state.sessionmaker() as s:
        user = add_user(s, "alice", "s3cret")
        add_user(s, "ci-bot", "bot-secret", admin=True, kind="client")
        s.commit()
        return user.guid


def token(client, **form):
    return client.post("/oauth/token", data=form, headers=CF_BASIC)


def test_password_grant_answers_a_uaa_shaped_token_the_api_accepts(client, alice):
    r = token(client, grant_type="password", username="alice", password="s3cret")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer"
    assert set(body) >= {"access_token", "refresh_token", "expires_in", "scope", "jti"}
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["user_id"] == alice and claims["user_name"] == "alice" and claims["origin"] == "uaa"
    assert claims["client_id"] == "cf" and "cloud_controller.read" in claims["scope"]
    assert {"exp", "iat", "iss"} <= set(claims)
    listed = client.get("/v3/packages", headers={"Authorization": f"bearer {body['access_token']}"})
    assert listed.status_code == 200


def test_wrong_password_is_a_uaa_unauthorized_error(client, alice):
    r = token(client, grant_type="password", username="alice", password="nope")
    assert r.status_code == 401
    assert r.json() == {"error": "unauthorized", "error_description": "Bad credentials"}


def test_refresh_grant_issues_a_new_access_token(client, alice):
    first = token(client, grant_type="password", username="alice", password="s3cret").json()
    r = token(client, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert r.status_code == 200, r.text
    assert r.json()["access_token"] != first["access_token"]
    bad = token(client, grant_type="refresh_token", refresh_token=first["access_token"])
    assert bad.status_code == 401 and bad.json()["error"] == "invalid_token"


def test_client_credentials_grant_uses_the_client_secret(client, alice):
    basic = {"Authorization": "Basic " + base64.b64encode(b"ci-bot:bot-secret").decode()}
    r = client.post("/oauth/token", data={"grant_type": "client_credentials"}, headers=basic)
    assert r.status_code == 200, r.text
    claims = jwt.decode(r.json()["access_token"], options={"verify_signature": False})
    assert claims["client_id"] == "ci-bot" and "cloud_controller.admin" in claims["scope"]
    assert "refresh_token" not in r.json()
    wrong = {"Authorization": "Basic " + base64.b64encode(b"ci-bot:nope").decode()}
    assert client.post("/oauth/token", data={"grant_type": "client_credentials"}, headers=wrong).status_code == 401


def test_unknown_grant_type_is_rejected(client):
    r = token(client, grant_type="implicit")
    assert r.status_code == 400 and r.json()["error"] == "unsupported_grant_type"


def test_login_prompts_and_token_keys_are_served(client, app):
    prompts = client.get("/login").json()["prompts"]
    assert prompts["username"][0] == "text" and prompts["password"][0] == "password"
    keys = client.get("/token_keys").json()["keys"]
    assert keys[0]["kid"] == app.state.signing_key.kid and keys[0]["alg"] == "RS256"
