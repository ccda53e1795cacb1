"""Audit events (`/v3/audit_events`): their filters, their typed copy, and the client calls."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict, Unpack
from urllib.parse import quote

import httpx

from capi_client.filters import Filter, format_value, to_query
from capi_client.models import ResourceList, _dict_field, _dig, _hrefs, parse_timestamp


class AuditEventFilters(TypedDict, total=False):
    """Query filters of `GET /v3/audit_events`; a list is sent joined with commas.

    `target_guids={"not": [guid, ...]}` leaves those targets out (`target_guids[not]=`).
    """

    guids: Filter
    types: Filter
    target_guids: Filter
    space_guids: Filter
    organization_guids: Filter
    page: int
    per_page: int
    order_by: str
    # A string or list means equality; a mapping such as {"gt": t} sends created_ats[gt]=t.
    created_ats: Filter
    updated_ats: Filter


def _joined(value: Any) -> Any:
    """Values under an operator (`target_guids[not]`) may be a list too: join it as CC reads it."""
    if isinstance(value, str | int | datetime):
        return value
    return ",".join(format_value(v) for v in value)


def audit_event_query(filters: Mapping[str, Any]) -> list[tuple[str, str]]:
    unknown = sorted(set(filters) - set(AuditEventFilters.__annotations__))
    if unknown:
        raise TypeError(f"unknown audit event filter(s): {', '.join(unknown)}")
    normal = {
        name: {op: _joined(v) for op, v in value.items()} if isinstance(value, Mapping) else value
        for name, value in filters.items()
    }
    return to_query(normal, AuditEventFilters.__annotations__)


@dataclass(frozen=True)
class AuditEvent:
    """Who (`actor_*`) did what (`type`) to which resource (`target_*`), where and when."""

    guid: str
    type: str
    created_at: datetime | None = None
    actor_guid: str | None = None
    actor_type: str | None = None
    actor_name: str | None = None
    target_guid: str | None = None
    target_type: str | None = None
    target_name: str | None = None
    space_guid: str | None = None
    organization_guid: str | None = None
    data: dict[str, Any] = _dict_field()
    links: dict[str, str] = _dict_field()
    raw: dict[str, Any] = _dict_field()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AuditEvent:
        details = data.get("data")
        return cls(
            guid=str(data["guid"]),
            type=str(data.get("type") or ""),
            created_at=parse_timestamp(data.get("created_at")),
            actor_guid=_dig(data, "actor", "guid"),
            actor_type=_dig(data, "actor", "type"),
            actor_name=_dig(data, "actor", "name"),
            target_guid=_dig(data, "target", "guid"),
            target_type=_dig(data, "target", "type"),
            target_name=_dig(data, "target", "name"),
            space_guid=_dig(data, "space", "guid"),
            organization_guid=_dig(data, "organization", "guid"),
            data=dict(details) if isinstance(details, Mapping) else {},
            links=_hrefs(data.get("links")),
            raw=dict(data),
        )


@dataclass(frozen=True)
class AuditEventList(ResourceList[AuditEvent]):
    """One page of audit events; `next_url` is the server's `pagination.next.href`, used verbatim."""

    @classmethod
    def _parse(cls, data: Mapping[str, Any]) -> AuditEvent:
        return AuditEvent.from_json(data)


class AuditEventCalls:
    """The audit event calls of PackagesClient, which provides `_json`."""

    def _json(self, method: str, path_or_url: str | httpx.URL, **kwargs: Any) -> Any:
        raise NotImplementedError

    def list_audit_events(self, **filters: Unpack[AuditEventFilters]) -> AuditEventList:
        """One page of `GET /v3/audit_events`: the events the token may see, oldest first by default."""
        answer = self._json("GET", "/v3/audit_events", params=audit_event_query(filters))
        return AuditEventList.from_json(answer)

    def iter_audit_events(self, **filters: Unpack[AuditEventFilters]) -> Iterator[AuditEvent]:
        """Every audit event matching `filters`, across all pages (following the server's links)."""
        page = self.list_audit_events(**filters)
        while True:
            yield from page.resources
            if not page.next_url:
                return
            page = AuditEventList.from_json(self._json("GET", page.next_url))

    def get_audit_event(self, guid: str) -> AuditEvent:
        return AuditEvent.from_json(self._json("GET", f"/v3/audit_events/{quote(str(guid), safe='')}"))
