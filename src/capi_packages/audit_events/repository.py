"""Audit event queries: one by guid and the filtered list, both within what the caller may see."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, delete, false, or_, select
from sqlalchemy.orm import Session

from capi_packages.audit_events.models import AuditEvent

# Deleting in slices keeps each statement (and the lock it holds) short, as CC's batch delete does.
PRUNE_BATCH = 1000


def _visible(scope: tuple[set[str], set[str]] | None) -> ColumnElement[bool] | None:
    if scope is None:
        return None
    spaces, orgs = scope
    clauses = []
    if spaces:
        clauses.append(AuditEvent.space_guid.in_(spaces))
    if orgs:
        clauses.append(AuditEvent.organization_guid.in_(orgs))
    return or_(*clauses) if clauses else false()


def find_visible(session: Session, guid: str, scope: tuple[set[str], set[str]] | None) -> AuditEvent | None:
    stmt = select(AuditEvent).where(AuditEvent.guid == guid)
    visible = _visible(scope)
    if visible is not None:
        stmt = stmt.where(visible)
    return session.scalars(stmt).first()


def list_statement(
    scope: tuple[set[str], set[str]] | None,
    filters: dict[str, list[str]],
    exclusions: dict[str, list[str]],
    timestamp_clauses: list[ColumnElement[bool]],
) -> Select[Any]:
    stmt = select(AuditEvent)
    visible = _visible(scope)
    if visible is not None:
        stmt = stmt.where(visible)
    columns = {
        "guids": AuditEvent.guid,
        "types": AuditEvent.type,
        "target_guids": AuditEvent.target_guid,
        "space_guids": AuditEvent.space_guid,
        "organization_guids": AuditEvent.organization_guid,
    }
    for key, column in columns.items():
        if filters.get(key) is not None:
            stmt = stmt.where(column.in_(filters[key]))
    if exclusions.get("target_guids") is not None:
        stmt = stmt.where(AuditEvent.target_guid.not_in(exclusions["target_guids"]))
    if timestamp_clauses:
        stmt = stmt.where(and_(*timestamp_clauses))
    return stmt


def delete_older_than(session: Session, cutoff: datetime, limit: int) -> int:
    """Delete up to `limit` of the oldest events created before `cutoff`; returns how many went."""
    ids = session.scalars(
        select(AuditEvent.id).where(AuditEvent.created_at < cutoff).order_by(AuditEvent.id).limit(limit)
    ).all()
    if ids:
        session.execute(delete(AuditEvent).where(AuditEvent.id.in_(ids)))
    return len(ids)
