"""The wire shape of an audit event (CC's EventPresenter): created_at and updated_at are one instant."""

from __future__ import annotations

from typing import Any

from capi_packages.audit_events.models import AuditEvent
from capi_packages.http.urls import UrlBuilder
from capi_packages.listing import ListSpec
from capi_packages.messages import timestamp

AUDIT_EVENTS_LIST = ListSpec(
    allowed=[
        "page",
        "per_page",
        "order_by",
        "created_ats",
        "updated_ats",
        "guids",
        "types",
        "target_guids",
        "space_guids",
        "organization_guids",
    ],
    array_filters={"guids", "types", "target_guids", "space_guids", "organization_guids"},
    label_selector=False,
    exclusion_filters=frozenset({"target_guids"}),
)


def audit_event_resource(event: AuditEvent, urls: UrlBuilder) -> dict[str, Any]:
    when = timestamp(event.created_at)
    return {
        "guid": event.guid,
        "created_at": when,
        "updated_at": when,
        "type": event.type,
        "actor": {"guid": event.actor_guid, "type": event.actor_type, "name": event.actor_name},
        "target": {"guid": event.target_guid, "type": event.target_type, "name": event.target_name},
        "data": event.data or {},
        "space": {"guid": event.space_guid} if event.space_guid else None,
        "organization": {"guid": event.organization_guid} if event.organization_guid else None,
        "links": {"self": urls.href(f"/audit_events/{event.guid}")},
    }
