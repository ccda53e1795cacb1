"""Process queries: by guid, by app and type, and the filtered, visible list."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from capi_packages.orgs.models import App, Organization, Space
from capi_packages.processes.models import Process


def find_with_app(session: Session, guid: str) -> tuple[Process, App] | None:
    row = session.execute(
        select(Process, App).join(App, App.guid == Process.app_guid).where(Process.guid == guid)
    ).first()
    return (row[0], row[1]) if row else None


def find_by_type(session: Session, app_guid: str, type_: str) -> Process | None:
    return session.scalars(select(Process).where(Process.app_guid == app_guid, Process.type == type_)).first()


def for_app(session: Session, app_guid: str) -> list[Process]:
    return list(session.scalars(select(Process).where(Process.app_guid == app_guid).order_by(Process.type)))


def list_statement(visible_space_ids: set[int] | None, filters: dict[str, list[str]]) -> Select[Any]:
    stmt = (
        select(Process)
        .join(App, App.guid == Process.app_guid)
        .join(Space, Space.id == App.space_id)
        .join(Organization, Organization.id == Space.organization_id)
    )
    if visible_space_ids is not None:
        stmt = stmt.where(App.space_id.in_(visible_space_ids))
    columns = {
        "guids": Process.guid,
        "types": Process.type,
        "app_guids": App.guid,
        "app_guid": App.guid,
        "space_guids": Space.guid,
        "organization_guids": Organization.guid,
    }
    for key, column in columns.items():
        if filters.get(key) is not None:
            stmt = stmt.where(column.in_(filters[key]))
    return stmt


def apps_by_guid(session: Session, guids: set[str]) -> dict[str, App]:
    if not guids:
        return {}
    return {a.guid: a for a in session.scalars(select(App).where(App.guid.in_(guids)))}
