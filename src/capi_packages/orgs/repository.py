"""Lookups of organizations, spaces, apps and roles by guid and by visibility."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from capi_packages.orgs.models import App, Organization, Role, Space


def find_org(session: Session, guid: str) -> Organization | None:
    return session.scalars(select(Organization).where(Organization.guid == guid)).first()


def find_space(session: Session, guid: str) -> Space | None:
    return session.scalars(select(Space).where(Space.guid == guid)).first()


def find_app(session: Session, guid: str) -> App | None:
    return session.scalars(select(App).where(App.guid == guid)).first()


def find_role(session: Session, guid: str) -> Role | None:
    return session.scalars(select(Role).where(Role.guid == guid)).first()


def find_org_by_name(session: Session, name: str) -> Organization | None:
    return session.scalars(select(Organization).where(Organization.name == name)).first()


def has_org_role(session: Session, user_guid: str, org_id: int) -> bool:
    stmt = select(Role.id).where(Role.user_guid == user_guid, Role.organization_id == org_id)
    return session.scalars(stmt).first() is not None


def role_exists(session: Session, type_: str, user_guid: str, org_id: int | None, space_id: int | None) -> bool:
    stmt = select(Role.id).where(
        Role.type == type_,
        Role.user_guid == user_guid,
        Role.organization_id.is_(None) if org_id is None else Role.organization_id == org_id,
        Role.space_id.is_(None) if space_id is None else Role.space_id == space_id,
    )
    return session.scalars(stmt).first() is not None


def filter_in(stmt: Select[Any], column: Any, values: list[str] | None) -> Select[Any]:
    return stmt if values is None else stmt.where(column.in_(values))


def has_space_role_in_org(session: Session, user_guid: str, org_id: int) -> bool:
    spaces = select(Space.id).where(Space.organization_id == org_id)
    stmt = select(Role.id).where(Role.user_guid == user_guid, Role.space_id.in_(spaces))
    return session.scalars(stmt).first() is not None
