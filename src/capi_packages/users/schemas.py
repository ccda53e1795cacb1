"""Users on the wire: the list query, the create message and CC's user presenter."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from capi_packages.listing import ListSpec
from capi_packages.messages import raise_if, require_object, timestamp, unknown_fields
from capi_packages.metadata.rows import present_metadata
from capi_packages.metadata.validation import validate_metadata
from capi_packages.urls import UrlBuilder
from capi_packages.users.models import LOCAL_ORIGIN, User

USERS_LIST = ListSpec(
    allowed=[
        "page",
        "per_page",
        "order_by",
        "created_ats",
        "updated_ats",
        "guids",
        "usernames",
        "partial_usernames",
        "origins",
        "label_selector",
    ],
    array_filters={"guids", "usernames", "partial_usernames", "origins"},
)


def filter_combination_messages(filters: dict[str, list[str]]) -> list[str]:
    """CC's UsersListMessage rules on which name filters go together."""
    msgs = []
    names = "usernames" in filters or "partial_usernames" in filters
    if "origins" in filters and not names:
        msgs.append("Origins filter cannot be provided without usernames or partial_usernames filter.")
    if "usernames" in filters and "partial_usernames" in filters:
        msgs.append("Usernames filter cannot be provided with both usernames and partial_usernames filter.")
    return msgs


@dataclass(frozen=True)
class UserCreate:
    guid: str | None
    username: str | None
    origin: str | None
    labels: dict[str, Any]
    annotations: dict[str, Any]


def parse_user_create(raw: Any) -> UserCreate:
    body = require_object(raw)
    msgs = validate_metadata(body["metadata"]) if "metadata" in body else []
    msgs += unknown_fields(body, ("guid", "origin", "username", "metadata"))
    guid, origin, username = body.get("guid"), body.get("origin"), body.get("username")
    if guid is not None and (not isinstance(guid, str) or not 1 <= len(guid) <= 200):
        msgs.append(
            "Guid must be a string" if not isinstance(guid, str) else "Guid must be between 1 and 200 characters"
        )
    if origin is not None and not isinstance(origin, str):
        msgs.append("Origin must be a string")
    if username is not None and not isinstance(username, str):
        msgs.append("Username must be a string")
    if guid is not None:
        if username is not None:
            msgs.append("Username cannot be provided with 'guid'")
        if origin is not None:
            msgs.append("Origin cannot be provided with 'guid'")
    elif username is not None or origin is not None:
        if username is None:
            msgs.append("Origin can only be provided together with 'username'")
        if origin is None:
            msgs.append("Username can only be provided together with 'origin'")
        if origin == LOCAL_ORIGIN:
            msgs.append(f"Origin cannot be '{LOCAL_ORIGIN}' when creating a user by username")
    else:
        msgs.append("Guid or 'username' and 'origin' must be provided")
    raise_if(msgs)
    metadata = body.get("metadata") or {}
    return UserCreate(
        guid, username, origin, dict(metadata.get("labels") or {}), dict(metadata.get("annotations") or {})
    )


def user_resource(user: User, urls: UrlBuilder) -> dict[str, Any]:
    return {
        "guid": user.guid,
        "created_at": timestamp(user.created_at),
        "updated_at": timestamp(user.updated_at),
        "username": user.username,
        "presentation_name": user.presentation_name,
        "origin": user.origin,
        "metadata": present_metadata(user),
        "links": {"self": urls.href(f"/users/{user.guid}")},
    }
