"""Every token passes the same claim checks, whether our data-dir key or an external UAA signed it."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient

from capi_packages.app import create_app
from capi_packages.auth.tokens import ADMIN, READ, WRITE
from tests.conftest import BASE_URL
from tests.factories import assert_error, bearer

UAA_URL = "https://uaa.example.org"
UAA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
UAA_PEM = UAA_KEY.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
)
INVALID = (401, 1000, "CF-InvalidAuthToken", "Invalid Auth Token")
DAY = 24 * 3600


class Issuer:
    """Signs tokens the way one issuer does: our data-dir key, or the external UAA's key."""

    def __init__(self, kind: str, client: TestClient, iss: str, key: bytes, kid: str) -> None:
        self.kind, self.client, self.iss, self.key, self.kid = kind, client, iss, key, kid

    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        base: dict[str, Any] = {
            "jti": uuid.uuid4().hex,
            "sub": "u-1",
            "user_id": "u-1",
            "user_name": "u",
            "client_id": "cf",
            "scope": [READ, WRITE, ADMIN],
            "iat": now,
            "exp": now + 600,
            "iss": self.iss,
            "aud": ["cloud_controller"],
        }
        base.update(overrides)
        return {k: v for k, v in base.items() if v is not DROP}

    def token(self, **overrides: Any) -> str:
        # Signed as raw JSON: PyJWT's encoder would refuse some of the malformed claims tested here.
        payload = json.dumps(self.claims(**overrides)).encode()
        return jwt.api_jws.encode(payload, self.key, algorithm="RS256", headers={"kid": self.kid})

    def get(self, token: str) -> Any:
        return self.client.get("/v3/packages", headers=bearer(token))


DROP = object()


@pytest.fixture(params=["local", "external"])
def issuer(request, settings, tmp_path) -> Issuer:
    if request.param == "local":
        app = create_app(settings)
        key = app.state.signing_key
        return Issuer("local", _client(app), f"{BASE_URL}/oauth/token", key.private_pem, key.kid)
    pem_path = tmp_path / "uaa.pem"
    pem_path.write_bytes(
        UAA_KEY.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    # No CAPI_JWT_ISSUER: the expected issuer follows from CAPI_UAA_URL, as UAA names itself.
    external = settings.model_copy(update={"jwt_public_key_file": pem_path, "uaa_url": UAA_URL})
    return Issuer("external", _client(create_app(external)), f"{UAA_URL}/oauth/token", UAA_PEM, "uaa-key")


def _client(app: Any) -> TestClient:
    return TestClient(app, base_url=BASE_URL, raise_server_exceptions=False)


def test_a_well_formed_token_is_accepted(issuer):
    r = issuer.get(issuer.token())
    assert r.status_code == 200, r.text


def test_a_client_credentials_token_without_a_user_is_accepted(issuer):
    r = issuer.get(issuer.token(user_id=DROP, user_name=DROP, sub="ci-bot", client_id="ci-bot"))
    assert r.status_code == 200, r.text


def test_a_fractional_numeric_date_is_a_number_and_accepted(issuer):
    now = time.time()
    assert issuer.get(issuer.token(iat=now - 1.5, exp=now + 600.25)).status_code == 200


def test_a_token_accepted_before_is_refused_once_it_expires(issuer):
    # Verified tokens are remembered; a remembered one must still expire on time.
    token = issuer.token(exp=int(time.time()) + 2)
    assert issuer.get(token).status_code == 200
    assert issuer.get(token).status_code == 200
    time.sleep(2.2)
    assert_error(issuer.get(token), *INVALID)


def test_a_remembered_token_does_not_vouch_for_a_forged_one(issuer):
    token = issuer.token()
    assert issuer.get(token).status_code == 200
    head, payload, signature = token.split(".")
    forged = ".".join((head, payload, signature[:-4] + ("AAAA" if signature[-4:] != "AAAA" else "BBBB")))
    assert_error(issuer.get(forged), *INVALID)


BAD_CLAIMS = {
    "no iss": {"iss": DROP},
    "empty iss": {"iss": ""},
    "iss of another issuer": {"iss": "https://evil.example.org/oauth/token"},
    "iss not a string": {"iss": 42},
    "no exp": {"exp": DROP},
    "exp as a string": {"exp": "9999999999"},
    "exp of 1e300": {"exp": 1e300},
    "exp as a boolean": {"exp": True},
    "exp as an object": {"exp": {"n": 1}},
    "exp past": {"exp": int(time.time()) - 5},
    "exp more than a year away": {"exp": int(time.time()) + 400 * DAY},
    "no iat": {"iat": DROP},
    "iat as a string": {"iat": str(int(time.time()))},
    "iat in the future": {"iat": int(time.time()) + 3600},
    "iat after exp": {"iat": int(time.time()) + 30, "exp": int(time.time()) + 20},
    "nbf in the future": {"nbf": int(time.time()) + 3600},
    "nbf as a string": {"nbf": "0"},
    "no user and no client": {"user_id": DROP, "client_id": DROP, "sub": DROP},
    "wrong audience": {"aud": ["openid"]},
}


@pytest.mark.parametrize("overrides", BAD_CLAIMS.values(), ids=BAD_CLAIMS.keys())
def test_a_token_with_bad_claims_is_an_invalid_auth_token(issuer, overrides):
    assert_error(issuer.get(issuer.token(**overrides)), *INVALID)


def test_a_local_token_naming_the_external_issuer_is_refused(settings):
    # The data-dir key only vouches for this service's own issuer name.
    app = create_app(settings)
    key = app.state.signing_key
    local = Issuer("local", _client(app), f"{BASE_URL}/oauth/token", key.private_pem, key.kid)
    assert_error(local.get(local.token(iss=f"{UAA_URL}/oauth/token")), *INVALID)


def test_an_explicit_jwt_issuer_wins_over_the_uaa_url(settings, tmp_path):
    pem_path = tmp_path / "uaa.pem"
    pem_path.write_bytes(
        UAA_KEY.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    custom = "https://login.example.org/oauth/token"
    app = create_app(
        settings.model_copy(update={"jwt_public_key_file": pem_path, "uaa_url": UAA_URL, "jwt_issuer": custom})
    )
    external = Issuer("external", _client(app), custom, UAA_PEM, "uaa-key")
    assert external.get(external.token()).status_code == 200
    assert_error(external.get(external.token(iss=f"{UAA_URL}/oauth/token")), *INVALID)
