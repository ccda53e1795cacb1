"""Roles on the wire: the create message (CC's RoleCreateMessage), the list query, the presenter."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from capi_packages.http.urls import UrlBuilder
from capi_packages.listing import ListSpec
from capi_packages.messages import APP_RELATIONSHIP_SHAPE, require_object, timestamp, unknown_fields
from capi_packages.orgs.models import Role, RoleType

ORG_ROLE_ORDER = ["organization_auditor", "organization_manager", "organization_billing_manager", "organization_user"]
SPACE_ROLE_ORDER = ["space_auditor", "space_manager", "space_developer", "space_supporter"]
INCLUDES = ("user", "organization", "space")

ROLES_LIST = ListSpec(
    allowed=[
        "page",
        "per_page",
        "order_by",
        "created_ats",
        "updated_ats",
        "guids",
        "organization_guids",
        "space_guids",
        "user_guids",
        "types",
        "include",
    ],
    array_filters={"guids", "organization_guids", "space_guids", "user_guids", "types", "include"},
    label_selector=False,
    # CC's roles list orders by created_at unless told otherwise, and says so in its links.
    default_order_by="created_at",
)


def include_messages(values: list[str] | None) -> list[str]:
    msgs: list[str] = []
    seen: set[str] = set()
    for value in values or []:
        if value not in INCLUDES:
            msgs.append(
                f"Invalid included resource: '{value}'. Valid included resources are: '" + "', '".join(INCLUDES) + "'"
            )
        elif value in seen:
            msgs.append(f"Duplicate included resource: '{value}'")
        seen.add(value)
    return msgs


@dataclass(frozen=True)
class RoleCreate:
    type: RoleType
    space_guid: str | None
    organization_guid: str | None
    user_guid: str | None
    username: str | None
    origin: str | None


def _data(rel: Any) -> Any:
    return rel.get("data") if isinstance(rel, dict) else None


def _to_one(rel: Any, name: str) -> list[str]:
    shape = f"Relationships {name.capitalize()} " + APP_RELATIONSHIP_SHAPE.format(name)
    if not isinstance(rel, dict) or list(rel) != ["data"]:
        return [shape]
    data = rel["data"]
    if data is None:
        return []
    if not isinstance(data, dict) or list(data) != ["guid"]:
        return [shape]
    guid = data["guid"]
    label = f"Relationships {name.capitalize()} guid"
    if not isinstance(guid, str):
        return [f"{label} must be a string", f"{label} must be between 1 and 200 characters"]
    if not 1 <= len(guid) <= 200:
        return [f"{label} must be between 1 and 200 characters"]
    return []


def _relationship_messages(role_type: Any, rels: dict[str, Any]) -> list[str]:
    """CC's RoleCreateMessage::Relationships validators, in their order."""
    msgs = [f"Relationships {m}" for m in unknown_fields(rels, ("space", "user", "organization"))]
    user, space, org = rels.get("user"), rels.get("space"), rels.get("organization")
    user_data = _data(user)
    has = {key: isinstance(user_data, dict) and key in user_data for key in ("guid", "username", "origin")}
    user_errors: list[str] = []
    if not user:
        user_errors.append("Relationships User can't be blank")
    if has["guid"] and has["username"]:
        user_errors.append("Relationships Username cannot be specified when identifying user by guid")
    if has["guid"] and has["origin"]:
        user_errors.append("Relationships User origin cannot be specified when identifying user by guid")
    if not has["username"] and has["origin"]:
        user_errors.append("Relationships User origin cannot be specified without specifying the username")
    if not has["username"] and not has["guid"]:
        user_errors.append("Relationships User must have a username or guid specified")
    place_errors: list[str] = []
    space_data, org_data = _data(space), _data(org)
    if space_data is None and org_data is None:
        place_errors.append("Relationships must specify either a space or an organization.")
    if space_data and role_type in ORG_ROLE_ORDER:
        place_errors.append(f"Relationships Space cannot be provided with the organization role type: '{role_type}'.")
    if org_data and role_type in SPACE_ROLE_ORDER:
        place_errors.append(f"Relationships Organization cannot be provided with the space role type: '{role_type}'.")
    if space_data and org_data:
        place_errors.append("Relationships cannot specify both an organization and a space.")
    msgs += user_errors + place_errors
    if not place_errors:
        if org is None:
            msgs += ["Relationships Space can't be blank"] if not space else _to_one(space, "space")
        if space is None:
            msgs += ["Relationships Organization can't be blank"] if not org else _to_one(org, "organization")
    if not user_errors:
        if has["guid"]:
            msgs += _to_one(user, "user")
        if has["username"] and not isinstance(user_data["username"], str):
            msgs.append("Relationships Username must be a string")
        if has["origin"] and user_data["origin"] is not None and not isinstance(user_data["origin"], str):
            msgs.append("Relationships User origin must be a string")
    return msgs


def parse_role_create(raw: Any) -> tuple[list[str], RoleCreate | None]:
    body = require_object(raw)
    msgs = unknown_fields(body, ("type", "relationships"))
    rels = body.get("relationships")
    if not isinstance(rels, dict):
        msgs.append("Relationships 'relationships' is not an object")
    elif not rels:
        msgs.append("Relationships 'relationships' must include one or more valid relationships")
    else:
        msgs += _relationship_messages(body.get("type"), rels)
    role_type = body.get("type")
    if role_type not in ORG_ROLE_ORDER + SPACE_ROLE_ORDER:
        msgs.append("Type must be one of the allowed types " + json.dumps(ORG_ROLE_ORDER + SPACE_ROLE_ORDER))
    if msgs:
        return msgs, None
    assert isinstance(rels, dict)
    user_data = _data(rels["user"])
    return [], RoleCreate(
        type=RoleType(str(role_type)),
        space_guid=(_data(rels.get("space")) or {}).get("guid"),
        organization_guid=(_data(rels.get("organization")) or {}).get("guid"),
        user_guid=user_data.get("guid"),
        username=user_data.get("username"),
        origin=user_data.get("origin"),
    )


def role_resource(role: Role, urls: UrlBuilder) -> dict[str, Any]:
    links = {"self": urls.href(f"/roles/{role.guid}"), "user": urls.href(f"/users/{role.user_guid}")}
    relationships: dict[str, Any] = {"user": {"data": {"guid": role.user_guid}}}
    if role.space is not None:
        links["space"] = urls.href(f"/spaces/{role.space.guid}")
        relationships["space"] = {"data": {"guid": role.space.guid}}
        relationships["organization"] = {"data": None}
    else:
        assert role.organization is not None
        links["organization"] = urls.href(f"/organizations/{role.organization.guid}")
        relationships["organization"] = {"data": {"guid": role.organization.guid}}
        relationships["space"] = {"data": None}
    return {
        "guid": role.guid,
        "created_at": timestamp(role.created_at),
        "updated_at": timestamp(role.updated_at),
        "type": role.type,
        "relationships": relationships,
        "links": links,
    }
