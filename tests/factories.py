"""Typed helpers: real tokens, and orgs/spaces/apps/roles/packages created over the real API."""

from __future__ import annotations

import io
import uuid
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient

from capi_packages.auth.tokens import (
    ADMIN,
    ADMIN_READ_ONLY,
    GLOBAL_AUDITOR,
    READ,
    WRITE,
    mint_token,
)

ORG_ROLES = ("organization_user", "organization_manager", "organization_auditor", "organization_billing_manager")
SPACE_ROLES = ("space_developer", "space_manager", "space_auditor", "space_supporter")
GLOBAL_ROLES = {"admin": ADMIN, "admin_read_only": ADMIN_READ_ONLY, "global_auditor": GLOBAL_AUDITOR}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"bearer {token}"}


@dataclass
class World:
    org: dict[str, Any]
    space: dict[str, Any]
    app: dict[str, Any]


class Api:
    """Drives the app over HTTP with real tokens signed by the app's own key."""

    def __init__(self, app: Any, client: TestClient) -> None:
        self.app = app
        self.client = client

    # --- tokens ---------------------------------------------------------------------------
    def token(self, user_id: str, scopes: Iterable[str] = (READ, WRITE), **kw: Any) -> str:
        settings = self.app.state.settings
        return mint_token(
            self.app.state.signing_key,
            issuer=settings.local_token_issuer,
            audience=settings.jwt_audience,
            user_id=user_id,
            scopes=scopes,
            **kw,
        )

    def headers(self, user_id: str = "admin-user", scopes: Iterable[str] = (READ, WRITE, ADMIN)) -> dict[str, str]:
        return bearer(self.token(user_id, scopes))

    @property
    def admin(self) -> dict[str, str]:
        return self.headers()

    def user(self, role: str, world: World | None = None) -> dict[str, str]:
        """Headers for a user holding `role` (one of the 11 roles, or 'no_role') in `world`."""
        user_id = f"{role}-{uuid.uuid4().hex[:6]}"
        if role in GLOBAL_ROLES:
            return self.headers(user_id, (READ, WRITE, GLOBAL_ROLES[role]))
        if role != "no_role":
            assert world is not None
            self.grant(user_id, "organization_user", org=world.org["guid"])
            if role in SPACE_ROLES:
                self.grant(user_id, role, space=world.space["guid"])
            elif role != "organization_user":
                self.grant(user_id, role, org=world.org["guid"])
        return self.headers(user_id, (READ, WRITE))

    # --- resources ------------------------------------------------------------------------
    def ok(self, method: str, path: str, status: int, **kw: Any) -> Any:
        kw.setdefault("headers", self.admin)
        r = self.client.request(method, path, **kw)
        assert r.status_code == status, (r.status_code, r.text)
        return r.json() if r.content else r

    def create_org(self, name: str | None = None) -> dict[str, Any]:
        return self.ok("POST", "/v3/organizations", 201, json={"name": name or f"org-{uuid.uuid4().hex[:8]}"})

    def create_space(self, org_guid: str, name: str | None = None) -> dict[str, Any]:
        body = {
            "name": name or f"space-{uuid.uuid4().hex[:8]}",
            "relationships": {"organization": {"data": {"guid": org_guid}}},
        }
        return self.ok("POST", "/v3/spaces", 201, json=body)

    def create_app(self, space_guid: str, name: str | None = None, lifecycle: str = "buildpack") -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": name or f"app-{uuid.uuid4().hex[:8]}",
            "relationships": {"space": {"data": {"guid": space_guid}}},
        }
        if lifecycle != "buildpack":
            body["lifecycle"] = {"type": lifecycle, "data": {}}
        return self.ok("POST", "/v3/apps", 201, json=body)

    def world(self, lifecycle: str = "buildpack") -> World:
        org = self.create_org()
        space = self.create_space(org["guid"])
        return World(org, space, self.create_app(space["guid"], lifecycle=lifecycle))

    def grant(self, user_id: str, role: str, *, org: str | None = None, space: str | None = None) -> dict[str, Any]:
        rels: dict[str, Any] = {"user": {"data": {"guid": user_id}}}
        if org:
            rels["organization"] = {"data": {"guid": org}}
        if space:
            rels["space"] = {"data": {"guid": space}}
        return self.ok("POST", "/v3/roles", 201, json={"type": role, "relationships": rels})

    def create_package(
        self, app_guid: str, type_: str = "bits", headers: dict[str, str] | None = None, **extra: Any
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"type": type_, "relationships": {"app": {"data": {"guid": app_guid}}}, **extra}
        if type_ == "docker" and "data" not in extra:
            body["data"] = {"image": "registry/image:latest"}
        return self.ok("POST", "/v3/packages", 201, json=body, headers=headers or self.admin)


def make_zip(files: dict[str, bytes | str], modes: dict[str, int] | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in files.items():
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.create_system = 3
            info.external_attr = (0o100000 | (modes or {}).get(name, 0o644)) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, content)
    return buf.getvalue()


def assert_error(response: Any, status: int, code: int, title: str, detail: str) -> None:
    assert response.status_code == status, (response.status_code, response.text)
    assert response.json() == {"errors": [{"detail": detail, "title": title, "code": code}]}, response.text
