"""Package queries: lookups with the owning app, and the filtered, visible list."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, false, not_, or_, select
from sqlalchemy.orm import Session

from capi_packages.metadata.selector import Requirement
from capi_packages.metadata.validation import split_key
from capi_packages.orgs.models import App, Organization, Space
from capi_packages.packages.models import Package, PackageLabel


def find_package(session: Session, guid: str) -> Package | None:
    return session.scalars(select(Package).where(Package.guid == guid)).first()


def find_package_with_app(session: Session, guid: str) -> tuple[Package, App] | None:
    row = session.execute(
        select(Package, App).join(App, App.guid == Package.app_guid).where(Package.guid == guid)
    ).first()
    return (row[0], row[1]) if row else None


def lock_for_update(session: Session, guid: str) -> Package | None:
    # SQLite serialises writers with BEGIN IMMEDIATE; PostgreSQL needs the row lock, and the row as it
    # is once the lock is ours (populate_existing), not as this session loaded it before waiting.
    stmt = select(Package).where(Package.guid == guid).with_for_update().execution_options(populate_existing=True)
    return session.scalars(stmt).first()


def _label_match(req: Requirement) -> ColumnElement[bool]:
    prefix, name = split_key(req.key)
    base = [
        PackageLabel.resource_guid == Package.guid,
        PackageLabel.key_prefix == prefix,
        PackageLabel.key_name == name,
    ]
    if req.operator == "exists":
        return exists().where(*base)
    if req.operator == "not_exists":
        return not_(exists().where(*base))
    if not req.values:
        # `key=` and `key in ()` name no value, so nothing can match (CC behaves the same).
        return false() if req.operator in ("in", "equal") else not_(exists().where(*base, false()))
    valued = exists().where(*base, PackageLabel.value.in_(req.values))
    return valued if req.operator in ("in", "equal") else not_(valued)


def list_statement(
    visible_space_ids: set[int] | None,
    filters: dict[str, list[str]],
    requirements: list[Requirement] | None,
    timestamp_clauses: list[ColumnElement[bool]],
    app_guid: str | None = None,
) -> Select[Any]:
    stmt = select(Package).join(App, App.guid == Package.app_guid).join(Space, Space.id == App.space_id)
    if visible_space_ids is not None:
        stmt = stmt.where(App.space_id.in_(visible_space_ids))
    if app_guid is not None:
        stmt = stmt.where(Package.app_guid == app_guid)
    columns = {
        "guids": Package.guid,
        "states": Package.state,
        "types": Package.type,
        "app_guids": App.guid,
        "space_guids": Space.guid,
    }
    for key, column in columns.items():
        if filters.get(key) is not None:
            stmt = stmt.where(column.in_(filters[key]))
    if filters.get("organization_guids") is not None:
        stmt = stmt.join(Organization, Organization.id == Space.organization_id).where(
            Organization.guid.in_(filters["organization_guids"])
        )
    for req in requirements or []:
        stmt = stmt.where(_label_match(req))
    if timestamp_clauses:
        stmt = stmt.where(and_(*timestamp_clauses))
    return stmt


def lock_app_packages(session: Session, app_guid: str) -> None:
    """Serialise retention per app: the app row's lock on PostgreSQL (SQLite's writers are serial)."""
    session.execute(select(App.id).where(App.guid == app_guid).with_for_update())


def older_valid_packages(session: Session, app_guid: str, keep: int) -> list[Package]:
    """READY/FAILED packages of an app beyond the newest `keep` (CC's bits_expiration)."""
    from capi_packages.packages.models import PackageState

    rows = session.scalars(
        select(Package)
        .where(
            Package.app_guid == app_guid, or_(Package.state == PackageState.READY, Package.state == PackageState.FAILED)
        )
        .order_by(Package.created_at.desc(), Package.id.desc())
    ).all()
    return list(rows[keep:]) if len(rows) > keep else []
