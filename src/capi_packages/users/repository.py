"""User lookups: by guid, by username and origin (as CC asks UAA), and the caller's visible users."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from capi_packages.orgs.models import Role
from capi_packages.users.models import User


def find_user(session: Session, guid: str) -> User | None:
    return session.scalars(select(User).where(User.guid == guid)).first()


def find_by_username(session: Session, username: str, origin: str | None = None) -> list[User]:
    # UAA compares usernames case-insensitively.
    stmt = select(User).where(func.lower(User.username) == username.lower())
    if origin is not None:
        stmt = stmt.where(User.origin == origin)
    return list(session.scalars(stmt.order_by(User.origin, User.id)))


def visible_users(member_org_ids: set[int] | None, own_guid: str) -> Select[Any]:
    """CC's readable_users_query: everyone for global readers, else the users holding an org role in
    an org where the caller holds one, and the caller."""
    stmt = select(User)
    if member_org_ids is None:
        return stmt
    in_my_orgs = select(Role.user_guid).where(Role.organization_id.in_(member_org_ids))
    return stmt.where(or_(User.guid.in_(in_my_orgs), User.guid == own_guid))


def name_filter(stmt: Select[Any], names: list[str], origins: list[str] | None, *, partial: bool) -> Select[Any]:
    lowered = [name.lower() for name in names]
    if partial:
        stmt = stmt.where(or_(*(func.lower(User.username).contains(name, autoescape=True) for name in lowered)))
    else:
        stmt = stmt.where(func.lower(User.username).in_(lowered))
    if origins is not None:
        stmt = stmt.where(User.origin.in_(origins))
    return stmt
