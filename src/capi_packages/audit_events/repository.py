"""Audit event queries: one by guid and the filtered list, both within what the caller may see."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, delete, false, or_, select
from sqlalchemy.orm import Session

from capi_packages.audit_events.models import AuditEvent
from capi_packages.db.listing import fetch_page, filter_in, timestamp_clauses
from capi_packages.listing import ListQuery, Page

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


def list_events(session: Session, scope: tuple[set[str], set[str]] | None, query: ListQuery) -> Page[AuditEvent]:
    stmt = select(AuditEvent)
    visible = _visible(scope)
    if visible is not None:
        stmt = stmt.where(visible)
    stmt = filter_in(stmt, AuditEvent.guid, query.filters.get("guids"))
    stmt = filter_in(stmt, AuditEvent.type, query.filters.get("types"))
    stmt = filter_in(stmt, AuditEvent.target_guid, query.filters.get("target_guids"))
    stmt = filter_in(stmt, AuditEvent.space_guid, query.filters.get("space_guids"))
    stmt = filter_in(stmt, AuditEvent.organization_guid, query.filters.get("organization_guids"))
    if query.exclusions.get("target_guids") is not None:
        stmt = stmt.where(AuditEvent.target_guid.not_in(query.exclusions["target_guids"]))
    stmt = stmt.where(*timestamp_clauses(AuditEvent, query.timestamps))
    return fetch_page(session, stmt, AuditEvent, query)


def delete_older_than(session: Session, cutoff: datetime, limit: int) -> int:
    """Delete up to `limit` of the oldest events created before `cutoff`; returns how many went."""
    ids = session.scalars(
        select(AuditEvent.id).where(AuditEvent.created_at < cutoff).order_by(AuditEvent.id).limit(limit)
    ).all()
    if ids:
        session.execute(delete(AuditEvent).where(AuditEvent.id.in_(ids)))
    return len(ids)
