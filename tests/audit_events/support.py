"""Helpers for the audit event tests: tokens with a distinct email and user_name, and reading events."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import select

from capi_packages.audit_events.models import AuditEvent
from capi_packages.auth.tokens import ADMIN, READ, WRITE
from tests.conftest import BASE_URL
from tests.factories import Api, bearer

TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


def actor_headers(api: Api, user_id: str, scopes: tuple[str, ...] = (READ, WRITE, ADMIN)) -> dict[str, str]:
    """A token whose email (the actor's `name`) and user_name (its `username`) differ from its id."""
    return bearer(api.token(user_id, scopes, user_name=f"{user_id}-login", extra={"email": f"{user_id}@example.com"}))


def events(api: Api, query: str = "", headers: dict[str, str] | None = None) -> list[dict[str, Any]]:
    r = api.client.get(f"/v3/audit_events{'?' + query if query else ''}", headers=headers or api.admin)
    assert r.status_code == 200, r.text
    return list(r.json()["resources"])


def events_of(api: Api, type_: str, target_guid: str | None = None) -> list[dict[str, Any]]:
    query = f"types={type_}" + (f"&target_guids={target_guid}" if target_guid else "")
    return events(api, query)


def the_event(api: Api, type_: str, target_guid: str | None = None) -> dict[str, Any]:
    found = events_of(api, type_, target_guid)
    assert len(found) == 1, found
    return found[0]


def stored(api: Api, guid: str) -> AuditEvent:
    """The row behind an event, for what the v3 answer does not show (actor_username)."""
    with api.app.state.sessionmaker() as session:
        row = session.scalars(select(AuditEvent).where(AuditEvent.guid == guid)).one()
        session.expunge(row)
        return row


def count_rows(api: Api) -> int:
    with api.app.state.sessionmaker() as session:
        return len(session.scalars(select(AuditEvent.id)).all())


def expected(
    event: dict[str, Any],
    *,
    type_: str,
    actor: tuple[str, str],
    target: tuple[str, str, str],
    data: dict[str, Any],
    space: str | None,
    org: str | None,
    actor_type: str = "user",
) -> dict[str, Any]:
    """The whole event as CC presents it; guid and time are taken from `event` after checking them."""
    assert TIMESTAMP.fullmatch(event["created_at"]), event
    assert event["updated_at"] == event["created_at"]
    return {
        "guid": event["guid"],
        "created_at": event["created_at"],
        "updated_at": event["created_at"],
        "type": type_,
        "actor": {"guid": actor[0], "type": actor_type, "name": actor[1]},
        "target": {"guid": target[0], "type": target[1], "name": target[2]},
        "data": data,
        "space": {"guid": space} if space else None,
        "organization": {"guid": org} if org else None,
        "links": {"self": {"href": f"{BASE_URL}/v3/audit_events/{event['guid']}"}},
    }


def parse_time(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")
