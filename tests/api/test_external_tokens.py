"""Tokens from an external UAA: a PEM public key or a JWKS URL, with issuer and audience checks."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient

from capi_packages.app import create_app
from capi_packages.settings import Settings
from tests.conftest import BASE_URL
from tests.factories import assert_error

UAA = "https://uaa.example.org/oauth/token"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PEM = KEY.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def uaa_token(iss=UAA, aud=("cloud_controller",), kid="uaa-key", **extra):
    now = int(time.time())
    claims = {
        "user_id": "uaa-user",
        "user_name": "u",
        "scope": ["cloud_controller.read", "cloud_controller.admin"],
        "iss": iss,
        "aud": list(aud),
        "iat": now,
        "exp": now + 600,
        **extra,
    }
    return jwt.encode(claims, PEM, algorithm="RS256", headers={"kid": kid})


def client_for(settings: Settings) -> TestClient:
    return TestClient(create_app(settings), base_url=BASE_URL, raise_server_exceptions=False)


@pytest.fixture
def pem_settings(settings, tmp_path):
    path = tmp_path / "uaa.pem"
    path.write_bytes(
        KEY.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return settings.model_copy(
        update={"jwt_public_key_file": path, "jwt_issuer": UAA, "uaa_url": "https://uaa.example.org"}
    )


def test_a_token_signed_by_the_configured_uaa_key_is_accepted(pem_settings):
    client = client_for(pem_settings)
    r = client.get("/v3/packages", headers={"Authorization": f"Bearer {uaa_token()}"})
    assert r.status_code == 200, r.text
    assert client.get("/").json()["links"]["uaa"] == {"href": "https://uaa.example.org"}


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(lambda: uaa_token(iss="https://evil.example.org/oauth/token"), id="wrong issuer"),
        pytest.param(lambda: uaa_token(aud=("openid",)), id="wrong audience"),
        pytest.param(lambda: uaa_token(exp=int(time.time()) - 5), id="expired"),
    ],
)
def test_an_external_token_with_wrong_claims_is_an_invalid_auth_token(pem_settings, token):
    r = client_for(pem_settings).get("/v3/packages", headers={"Authorization": f"Bearer {token()}"})
    assert_error(r, 401, 1000, "CF-InvalidAuthToken", "Invalid Auth Token")


class _Jwks(BaseHTTPRequestHandler):
    def do_GET(self):
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key()))
        body = json.dumps({"keys": [{**jwk, "kid": "uaa-key", "alg": "RS256", "use": "sig"}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_a_token_whose_key_comes_from_the_uaa_jwks_is_accepted(settings):
    server = HTTPServer(("127.0.0.1", 0), _Jwks)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/token_keys"
        client = client_for(settings.model_copy(update={"jwks_url": url, "jwt_issuer": UAA}))
        ok = client.get("/v3/packages", headers={"Authorization": f"Bearer {uaa_token()}"})
        assert ok.status_code == 200, ok.text
        unknown_kid = client.get("/v3/packages", headers={"Authorization": f"Bearer {uaa_token(kid='other')}"})
        assert unknown_kid.status_code == 401
    finally:
        server.shutdown()
        server.server_close()


def test_local_tokens_are_refused_when_the_local_issuer_is_off(settings, api):
    client = client_for(settings.model_copy(update={"local_issuer_enabled": False}))
    r = client.get("/v3/packages", headers=api.admin)
    assert_error(r, 401, 1000, "CF-InvalidAuthToken", "Invalid Auth Token")
    assert client.post("/oauth/token", data={"grant_type": "password"}).status_code == 404


def test_an_unexpected_exception_is_an_unknown_error_without_internals(api, monkeypatch):
    from capi_packages.packages import service

    def boom(*_a, **_k):
        raise RuntimeError("secret internal detail /etc/passwd")

    monkeypatch.setattr(service, "get_visible", boom)
    world = api.world()
    pkg = api.create_package(world.app["guid"])
    r = api.client.get(f"/v3/packages/{pkg['guid']}", headers=api.admin)
    assert_error(r, 500, 10001, "UnknownError", "An unknown error occurred.")
    assert "secret" not in r.text
