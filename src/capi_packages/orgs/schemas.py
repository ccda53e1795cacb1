"""Wire shapes of organizations, spaces, apps and roles (CC's presenters, trimmed to what we serve)."""

from __future__ import annotations

from typing import Any

from capi_packages.http.urls import UrlBuilder
from capi_packages.listing import ListSpec
from capi_packages.messages import timestamp
from capi_packages.orgs.models import App, Organization, Role, Space, Status

_PAGING = ["page", "per_page", "order_by", "created_ats", "updated_ats"]
# The order_by values are CC's valid_order_by_values of each list message, in its order.
ORGANIZATIONS_LIST = ListSpec(
    allowed=[*_PAGING, "names", "guids"],
    array_filters={"names", "guids"},
    order_by_fields=["created_at", "updated_at", "name"],
    label_selector=False,
)
SPACES_LIST = ListSpec(
    allowed=[*_PAGING, "names", "guids", "organization_guids"],
    array_filters={"names", "guids", "organization_guids"},
    order_by_fields=["created_at", "updated_at", "name"],
    label_selector=False,
)
APPS_LIST = ListSpec(
    allowed=[*_PAGING, "names", "guids", "space_guids", "organization_guids"],
    array_filters={"names", "guids", "space_guids", "organization_guids"},
    order_by_fields=["created_at", "updated_at", "name", "state"],
    label_selector=False,
)
# CC's roles list orders by created_at unless told otherwise, and says so in its links.
ROLES_LIST = ListSpec(
    allowed=[*_PAGING, "guids", "types", "user_guids", "space_guids", "organization_guids"],
    array_filters={"guids", "types", "user_guids", "space_guids", "organization_guids"},
    label_selector=False,
    default_order_by="created_at",
)

EMPTY_METADATA: dict[str, dict[str, str]] = {"labels": {}, "annotations": {}}


def _base(obj: Organization | Space | App | Role) -> dict[str, Any]:
    return {"guid": obj.guid, "created_at": timestamp(obj.created_at), "updated_at": timestamp(obj.updated_at)}


def organization_resource(org: Organization, urls: UrlBuilder) -> dict[str, Any]:
    return {
        **_base(org),
        "name": org.name,
        "suspended": org.status == Status.SUSPENDED,
        "relationships": {"quota": {"data": None}},
        "metadata": {"labels": {}, "annotations": {}},
        "links": {"self": urls.href(f"/organizations/{org.guid}")},
    }


def space_resource(space: Space, urls: UrlBuilder) -> dict[str, Any]:
    org_guid = space.organization.guid
    return {
        **_base(space),
        "name": space.name,
        "relationships": {"organization": {"data": {"guid": org_guid}}, "quota": {"data": None}},
        "metadata": {"labels": {}, "annotations": {}},
        "links": {
            "self": urls.href(f"/spaces/{space.guid}"),
            "organization": urls.href(f"/organizations/{org_guid}"),
        },
    }


def app_resource(app: App, urls: UrlBuilder) -> dict[str, Any]:
    space_guid = app.space.guid
    return {
        "guid": app.guid,
        "name": app.name,
        "state": app.state,
        "created_at": timestamp(app.created_at),
        "updated_at": timestamp(app.updated_at),
        "lifecycle": {"type": app.lifecycle_type, "data": app.lifecycle_data or {}},
        "relationships": {"space": {"data": {"guid": space_guid}}},
        "metadata": {"labels": {}, "annotations": {}},
        "links": {
            "self": urls.href(f"/apps/{app.guid}"),
            "space": urls.href(f"/spaces/{space_guid}"),
            "packages": urls.href(f"/apps/{app.guid}/packages"),
        },
    }


def role_resource(role: Role, urls: UrlBuilder) -> dict[str, Any]:
    org = {"guid": role.organization.guid} if role.organization else None
    space = {"guid": role.space.guid} if role.space else None
    links = {"self": urls.href(f"/roles/{role.guid}"), "user": urls.href(f"/users/{role.user_guid}")}
    if org:
        links["organization"] = urls.href(f"/organizations/{org['guid']}")
    if space:
        links["space"] = urls.href(f"/spaces/{space['guid']}")
    return {
        **_base(role),
        "type": role.type,
        "relationships": {
            "user": {"data": {"guid": role.user_guid}},
            "organization": {"data": org},
            "space": {"data": space},
        },
        "links": links,
    }
