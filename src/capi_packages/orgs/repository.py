"""Lookups of organizations, spaces, apps and roles by guid, and their filtered, visible lists."""

from __future__ import annotations

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from capi_packages.db.listing import fetch_page, filter_in, label_clauses, timestamp_clauses
from capi_packages.listing import ListQuery, Page
from capi_packages.orgs.models import App, AppLabel, Organization, OrganizationLabel, Role, Space, SpaceLabel


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


def list_orgs(session: Session, readable_org_ids: set[int] | None, query: ListQuery) -> Page[Organization]:
    stmt = select(Organization)
    if readable_org_ids is not None:
        stmt = stmt.where(Organization.id.in_(readable_org_ids))
    stmt = filter_in(stmt, Organization.name, query.filters.get("names"))
    stmt = filter_in(stmt, Organization.guid, query.filters.get("guids"))
    stmt = stmt.where(*timestamp_clauses(Organization, query.timestamps))
    stmt = stmt.where(*label_clauses(OrganizationLabel, Organization.guid, query.label_selector or []))
    return fetch_page(session, stmt, Organization, query)


def list_spaces(session: Session, readable_space_ids: set[int] | None, query: ListQuery) -> Page[Space]:
    stmt = select(Space)
    if readable_space_ids is not None:
        stmt = stmt.where(Space.id.in_(readable_space_ids))
    stmt = filter_in(stmt, Space.name, query.filters.get("names"))
    stmt = filter_in(stmt, Space.guid, query.filters.get("guids"))
    if "organization_guids" in query.filters:
        orgs = select(Organization.id).where(Organization.guid.in_(query.filters["organization_guids"]))
        stmt = stmt.where(Space.organization_id.in_(orgs))
    stmt = stmt.where(*timestamp_clauses(Space, query.timestamps))
    stmt = stmt.where(*label_clauses(SpaceLabel, Space.guid, query.label_selector or []))
    return fetch_page(session, stmt, Space, query)


def list_apps(session: Session, readable_space_ids: set[int] | None, query: ListQuery) -> Page[App]:
    stmt = select(App)
    if readable_space_ids is not None:
        stmt = stmt.where(App.space_id.in_(readable_space_ids))
    stmt = filter_in(stmt, App.name, query.filters.get("names"))
    stmt = filter_in(stmt, App.guid, query.filters.get("guids"))
    if "space_guids" in query.filters:
        stmt = stmt.where(App.space_id.in_(select(Space.id).where(Space.guid.in_(query.filters["space_guids"]))))
    if "organization_guids" in query.filters:
        orgs = select(Organization.id).where(Organization.guid.in_(query.filters["organization_guids"]))
        stmt = stmt.where(App.space_id.in_(select(Space.id).where(Space.organization_id.in_(orgs))))
    stmt = stmt.where(*timestamp_clauses(App, query.timestamps))
    stmt = stmt.where(*label_clauses(AppLabel, App.guid, query.label_selector or []))
    return fetch_page(session, stmt, App, query)


def list_roles(session: Session, visibility: ColumnElement[bool] | None, query: ListQuery) -> Page[Role]:
    """Roles matching `visibility` (None: every role) and the query's filters."""
    stmt = select(Role)
    if visibility is not None:
        stmt = stmt.where(visibility)
    stmt = filter_in(stmt, Role.guid, query.filters.get("guids"))
    stmt = filter_in(stmt, Role.type, query.filters.get("types"))
    stmt = filter_in(stmt, Role.user_guid, query.filters.get("user_guids"))
    if "space_guids" in query.filters:
        stmt = stmt.where(Role.space_id.in_(select(Space.id).where(Space.guid.in_(query.filters["space_guids"]))))
    if "organization_guids" in query.filters:
        orgs = select(Organization.id).where(Organization.guid.in_(query.filters["organization_guids"]))
        stmt = stmt.where(Role.organization_id.in_(orgs))
    stmt = stmt.where(*timestamp_clauses(Role, query.timestamps))
    return fetch_page(session, stmt, Role, query)


def has_space_role_in_org(session: Session, user_guid: str, org_id: int) -> bool:
    spaces = select(Space.id).where(Space.organization_id == org_id)
    stmt = select(Role.id).where(Role.user_guid == user_guid, Role.space_id.in_(spaces))
    return session.scalars(stmt).first() is not None
