"""Bearer tokens: mint the service's own RS256 JWTs and verify ours or an external UAA's."""

from __future__ import annotations

import contextlib
import math
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import jwt

from capi_packages.auth.keys import SigningKey
from capi_packages.errors import InvalidAuthToken, NotAuthenticated

ADMIN = "cloud_controller.admin"
ADMIN_READ_ONLY = "cloud_controller.admin_read_only"
GLOBAL_AUDITOR = "cloud_controller.global_auditor"
READ = "cloud_controller.read"
WRITE = "cloud_controller.write"
DEFAULT_SCOPES = (READ, WRITE)


@dataclass(frozen=True)
class Claims:
    user_id: str
    user_name: str | None = None
    email: str | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)
    client_id: str | None = None
    # The user's identity provider (UAA's `origin`); None for a client acting as itself.
    origin: str | None = None

    @property
    def is_client(self) -> bool:
        return self.origin is None

    @property
    def is_admin(self) -> bool:
        return ADMIN in self.scopes

    @property
    def is_admin_read_only(self) -> bool:
        return ADMIN_READ_ONLY in self.scopes

    @property
    def is_global_auditor(self) -> bool:
        return GLOBAL_AUDITOR in self.scopes

    @property
    def can_read_globally(self) -> bool:
        return self.is_admin or self.is_admin_read_only or self.is_global_auditor

    @property
    def has_read_scope(self) -> bool:
        return bool(self.scopes & {ADMIN, ADMIN_READ_ONLY, GLOBAL_AUDITOR, READ})

    @property
    def has_write_scope(self) -> bool:
        return bool(self.scopes & {ADMIN, WRITE})


def mint_token(
    key: SigningKey,
    *,
    issuer: str,
    audience: str,
    user_id: str,
    user_name: str | None = None,
    scopes: Iterable[str] = DEFAULT_SCOPES,
    ttl: int = 3600,
    client_id: str = "cf",
    origin: str = "uaa",
    grant_type: str = "password",
    extra: dict[str, Any] | None = None,
) -> str:
    now = int(time.time())
    scope_list = list(dict.fromkeys(scopes))
    claims: dict[str, Any] = {
        "jti": uuid.uuid4().hex,
        "sub": user_id,
        "scope": scope_list,
        "client_id": client_id,
        "cid": client_id,
        "azp": client_id,
        "grant_type": grant_type,
        "user_id": user_id,
        "origin": origin,
        "user_name": user_name or user_id,
        "email": user_name or user_id,
        "iat": now,
        "exp": now + ttl,
        "iss": issuer,
        "zid": "uaa",
        "aud": [audience, *sorted({s.split(".")[0] for s in scope_list} - {audience})],
    }
    if extra:
        claims.update(extra)
    return jwt.encode(claims, key.private_pem, algorithm="RS256", headers={"kid": key.kid})


# A token living longer than this is not one UAA or this service would issue (UAA's longest refresh
# tokens live 30 days); `exp: 1e300` and friends are refused instead of trusted for ever.
MAX_TOKEN_LIFETIME = 366 * 24 * 3600
CLOCK_SKEW = 60  # seconds a token's iat/nbf may lie in the future (clock drift between hosts)
# Verified tokens remembered, so that a client's every request does not pay an RSA verification
# (the largest fixed cost of an authenticated request). A remembered token is still refused once
# it expires, and forgotten after VERIFIED_TTL so that an external issuer's rotated-out key stops
# counting soon.
VERIFIED_TOKENS = 4096
VERIFIED_TTL = 300.0


class TokenVerifier:
    """Accepts RS256 tokens signed by our own key, or by an external issuer's PEM key / JWKS.

    Both kinds pass the same claim checks: numeric `exp`, `iat` (and `nbf` when present), an `iss`
    equal to the issuer of the key that signed the token, the audience, and a user or client.
    """

    def __init__(
        self,
        *,
        audience: str,
        local_key: SigningKey | None = None,
        local_issuer: str | None = None,
        external_pem: bytes | None = None,
        jwks_url: str | None = None,
        external_issuer: str | None = None,
    ) -> None:
        self.audience = audience
        self.local_key = local_key
        self.local_issuer = local_issuer
        self.external_pem = external_pem
        self.external_issuer = external_issuer
        self._jwks = jwt.PyJWKClient(jwks_url, cache_keys=True) if jwks_url else None
        # token -> (claims, its exp, when it was verified)
        self._verified: OrderedDict[str, tuple[Claims, float, float]] = OrderedDict()
        self._verified_lock = threading.Lock()

    def verify_header(self, authorization: str | None) -> Claims:
        return self.verify(_bearer_token(authorization))

    def remembered(self, authorization: str | None) -> Claims | None:
        """The claims of a bearer token verified before and still valid; None for any other header."""
        try:
            return self._remembered(_bearer_token(authorization), time.time())
        except (NotAuthenticated, InvalidAuthToken):
            return None

    def _remembered(self, token: str, now: float) -> Claims | None:
        with self._verified_lock:
            known = self._verified.get(token)
        if known is None:
            return None
        claims, exp, verified_at = known
        return claims if exp > now and now - verified_at < VERIFIED_TTL else None

    def verify(self, token: str) -> Claims:
        now = time.time()
        if (claims := self._remembered(token, now)) is not None:
            return claims
        claims, exp = self._verify_signed(token, now)
        with self._verified_lock:
            self._verified[token] = (claims, exp, now)
            self._verified.move_to_end(token)
            while len(self._verified) > VERIFIED_TOKENS:
                self._verified.popitem(last=False)
        return claims

    def _verify_signed(self, token: str, now: float) -> tuple[Claims, float]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as e:
            raise InvalidAuthToken() from e
        if header.get("alg") != "RS256":
            raise InvalidAuthToken()
        for key, issuer in self._candidate_keys(header.get("kid")):
            try:
                payload = jwt.decode(
                    token,
                    key,
                    algorithms=["RS256"],
                    audience=self.audience,
                    # The time claims are checked below, strictly typed; PyJWT would take "123" too.
                    options={"verify_exp": False, "verify_iat": False, "verify_nbf": False, "verify_iss": False},
                )
            except jwt.InvalidSignatureError:
                continue
            except jwt.PyJWTError as e:
                raise InvalidAuthToken() from e
            check_claims(payload, issuer, now)
            return _claims_from(payload), float(payload["exp"])
        raise InvalidAuthToken()

    def _candidate_keys(self, kid: str | None) -> list[tuple[Any, str | None]]:
        keys: list[tuple[Any, str | None]] = []
        if self.local_key is not None and (kid is None or kid == self.local_key.kid):
            keys.append((self.local_key.public_key, self.local_issuer))
        if self.external_pem is not None:
            keys.append((self.external_pem, self.external_issuer))
        if self._jwks is not None and (self.local_key is None or kid != self.local_key.kid):
            # A kid the JWKS does not know leaves no key to try, and verification then fails.
            with contextlib.suppress(jwt.PyJWTError):
                keys.append((self._jwks.get_signing_key(kid).key if kid else None, self.external_issuer))
        return [(k, i) for k, i in keys if k is not None]


def _bearer_token(authorization: str | None) -> str:
    if authorization is None or not authorization.strip():
        raise NotAuthenticated()
    scheme, _, token = authorization.strip().partition(" ")
    # The cf CLI sends "bearer"; RFC 6750 schemes are case-insensitive.
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidAuthToken()
    return token.strip()


def _numeric_date(payload: dict[str, Any], name: str, *, required: bool) -> float | None:
    value = payload.get(name)
    if value is None:
        if required:
            raise InvalidAuthToken()
        return None
    # RFC 7519 NumericDate: a JSON number. Strings, booleans, NaN and infinities are not dates.
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise InvalidAuthToken()
    return float(value)


def check_claims(payload: dict[str, Any], issuer: str | None, now: float) -> None:
    """The claim checks every accepted token passes, whoever signed it."""
    exp = _numeric_date(payload, "exp", required=True)
    iat = _numeric_date(payload, "iat", required=True)
    nbf = _numeric_date(payload, "nbf", required=False)
    assert exp is not None and iat is not None
    if exp <= now or exp > now + MAX_TOKEN_LIFETIME:
        raise InvalidAuthToken()
    if iat > now + CLOCK_SKEW or iat >= exp:
        raise InvalidAuthToken()
    if nbf is not None and nbf > now + CLOCK_SKEW:
        raise InvalidAuthToken()
    iss = payload.get("iss")
    if not isinstance(iss, str) or not iss or (issuer is not None and iss != issuer):
        raise InvalidAuthToken()


def _claims_from(payload: dict[str, Any]) -> Claims:
    scope = payload.get("scope") or []
    if isinstance(scope, str):
        scope = scope.split()
    # Client-credentials tokens carry no user: CC acts as the client itself.
    user_id = payload.get("user_id") or payload.get("client_id") or payload.get("sub")
    if not isinstance(user_id, str) or not user_id:
        raise InvalidAuthToken()
    return Claims(
        user_id=user_id,
        user_name=payload.get("user_name"),
        email=payload.get("email"),
        scopes=frozenset(s for s in scope if isinstance(s, str)),
        client_id=payload.get("client_id"),
        origin=_origin(payload),
    )


def _origin(payload: dict[str, Any]) -> str | None:
    if payload.get("grant_type") == "client_credentials" or not payload.get("user_id"):
        return None
    origin = payload.get("origin")
    # UAA always names the origin of a user token; `uaa` is its own user store.
    return origin if isinstance(origin, str) and origin else "uaa"
