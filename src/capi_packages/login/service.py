"""Users, password checks (argon2) and the OAuth grants the cf CLI and CF libraries use."""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from capi_packages.auth.keys import SigningKey
from capi_packages.auth.tokens import ADMIN, DEFAULT_SCOPES, mint_token
from capi_packages.login.models import Login
from capi_packages.users.service import create_local_user, delete_user_now

_hasher = PasswordHasher()
PUBLIC_CLIENT = "cf"
USER_SCOPES = (*DEFAULT_SCOPES, "openid", "uaa.user")
REFRESH_TTL = 30 * 24 * 3600


class OAuthError(Exception):
    """An RFC 6749 error answer: {"error": …, "error_description": …}."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status, self.error, self.description = status, error, description


@dataclass(frozen=True)
class Issuer:
    key: SigningKey
    issuer: str
    audience: str
    ttl: int


# --- user management ---------------------------------------------------------------------------
def add_user(session: Session, username: str, password: str, *, admin: bool = False, kind: str = "user") -> Login:
    """A login; a user login is also a Cloud Foundry user (origin `uaa`) with the same guid."""
    if session.scalars(select(Login).where(Login.username == username)).first():
        raise ValueError(f"user {username!r} already exists")
    login = Login(username=username, password_hash=_hasher.hash(password), admin=admin, kind=kind)
    session.add(login)
    session.flush()
    if kind == "user":
        create_local_user(session, login.guid, username)
    return login


def list_users(session: Session) -> list[Login]:
    return list(session.scalars(select(Login).order_by(Login.id)))


def find_login(session: Session, username: str) -> Login | None:
    return session.scalars(select(Login).where(Login.username == username)).first()


def delete_user(session: Session, username: str) -> bool:
    """Removes the login; a user login takes its Cloud Foundry user and that user's roles along."""
    login = find_login(session, username)
    if login is None:
        return False
    if login.kind == "user":
        delete_user_now(session, login.guid)
    else:
        session.delete(login)
    return True


def _check_password(session: Session, username: str, password: str, kind: str) -> Login | None:
    user = session.scalars(select(Login).where(Login.username == username, Login.kind == kind)).first()
    if user is None:
        _hasher.hash(password)  # same cost whether or not the name exists
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    return user


# --- grants --------------------------------------------------------------------------------------
def client_credentials_from(authorization: str | None, form: dict[str, str]) -> tuple[str, str]:
    """HTTP Basic first (the cf CLI sends `cf:`), then client_id/client_secret form fields."""
    if authorization and authorization.lower().startswith("basic "):
        try:
            raw = base64.b64decode(authorization[6:].strip()).decode()
        except ValueError as e:
            raise OAuthError(401, "unauthorized", "Bad client credentials") from e
        client_id, _, secret = raw.partition(":")
        return client_id, secret
    return form.get("client_id", PUBLIC_CLIENT), form.get("client_secret", "")


def _token_answer(
    issuer: Issuer,
    user_id: str,
    user_name: str,
    scopes: list[str],
    client_id: str,
    grant_type: str,
    *,
    refresh: bool,
    origin: str = "uaa",
) -> dict[str, Any]:
    access = mint_token(
        issuer.key,
        issuer=issuer.issuer,
        audience=issuer.audience,
        user_id=user_id,
        user_name=user_name,
        scopes=scopes,
        ttl=issuer.ttl,
        client_id=client_id,
        origin=origin,
        grant_type=grant_type,
    )
    claims = jwt.decode(access, options={"verify_signature": False})
    answer: dict[str, Any] = {
        "access_token": access,
        "token_type": "bearer",
        "expires_in": issuer.ttl,
        "scope": " ".join(scopes),
        "jti": claims["jti"],
    }
    if refresh:
        now = int(time.time())
        answer["refresh_token"] = jwt.encode(
            {
                "jti": claims["jti"] + "-r",
                "sub": user_id,
                "user_id": user_id,
                "user_name": user_name,
                "scope": scopes,
                "client_id": client_id,
                "cid": client_id,
                "iat": now,
                "exp": now + REFRESH_TTL,
                "iss": issuer.issuer,
                "aud": [client_id],
                "grant_type": "refresh_token",
                "origin": origin,
            },
            issuer.key.private_pem,
            algorithm="RS256",
            headers={"kid": issuer.key.kid},
        )
    return answer


def _user_scopes(user: Login) -> list[str]:
    return [*USER_SCOPES, *([ADMIN] if user.admin else [])]


def password_grant(session: Session, issuer: Issuer, client_id: str, username: str, password: str) -> dict[str, Any]:
    user = _check_password(session, username, password, "user")
    if user is None:
        raise OAuthError(401, "unauthorized", "Bad credentials")
    return _token_answer(issuer, user.guid, user.username, _user_scopes(user), client_id, "password", refresh=True)


def refresh_grant(session: Session, issuer: Issuer, client_id: str, refresh_token: str) -> dict[str, Any]:
    try:
        claims = jwt.decode(
            refresh_token,
            issuer.key.public_key,
            algorithms=["RS256"],
            issuer=issuer.issuer,
            options={"verify_aud": False, "require": ["exp", "iat", "iss"]},
        )
    except jwt.PyJWTError as e:
        raise OAuthError(401, "invalid_token", "Invalid refresh token") from e
    if claims.get("grant_type") != "refresh_token":
        raise OAuthError(401, "invalid_token", "Invalid refresh token")
    user = session.scalars(select(Login).where(Login.guid == claims.get("user_id"), Login.kind == "user")).first()
    if user is None:
        raise OAuthError(401, "invalid_token", "Invalid refresh token (user no longer exists)")
    return _token_answer(issuer, user.guid, user.username, _user_scopes(user), client_id, "refresh_token", refresh=True)


def client_credentials_grant(session: Session, issuer: Issuer, client_id: str, secret: str) -> dict[str, Any]:
    client = _check_password(session, client_id, secret, "client")
    if client is None:
        raise OAuthError(401, "unauthorized", "Bad credentials")
    scopes = [*DEFAULT_SCOPES, *([ADMIN] if client.admin else [])]
    answer = _token_answer(
        issuer, client.username, client.username, scopes, client.username, "client_credentials", refresh=False
    )
    return answer
