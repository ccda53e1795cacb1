"""Reading audit events: global readers see all; space auditors, developers and supporters see
their spaces' events, org auditors their organizations' (CC's readable_event_dataset)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from capi_packages.audit_events import repository
from capi_packages.audit_events.models import AuditEvent
from capi_packages.auth.permissions import Permissions
from capi_packages.errors import ResourceNotFound
from capi_packages.listing import ListQuery, Page


def get_event(session: Session, perms: Permissions, guid: str) -> AuditEvent:
    event = repository.find_visible(session, guid, perms.readable_event_scope())
    if event is None:
        raise ResourceNotFound("Event")
    return event


def list_events(session: Session, perms: Permissions, query: ListQuery) -> Page[AuditEvent]:
    return repository.list_events(session, perms.readable_event_scope(), query)
