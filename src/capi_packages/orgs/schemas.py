"""Wire shapes of organizations, spaces and apps (CC's presenters, trimmed to what we serve)."""

from __future__ import annotations

from typing import Any

from capi_packages.http.urls import UrlBuilder
from capi_packages.listing import ListSpec
from capi_packages.messages import timestamp
from capi_packages.metadata.rows import present_metadata
from capi_packages.orgs.models import App, Organization, Space, Status

_PAGING = ["page", "per_page", "order_by", "created_ats", "updated_ats"]
# The order_by values are CC's valid_order_by_values of each list message, in its order.
ORGANIZATIONS_LIST = ListSpec(
    allowed=[*_PAGING, "names", "guids", "label_selector"],
    array_filters={"names", "guids"},
    order_by_fields=["created_at", "updated_at", "name"],
)
SPACES_LIST = ListSpec(
    allowed=[*_PAGING, "names", "guids", "organization_guids", "label_selector"],
    array_filters={"names", "guids", "organization_guids"},
    order_by_fields=["created_at", "updated_at", "name"],
)
APPS_LIST = ListSpec(
    allowed=[*_PAGING, "names", "guids", "space_guids", "organization_guids", "label_selector"],
    array_filters={"names", "guids", "space_guids", "organization_guids"},
    order_by_fields=["created_at", "updated_at", "name", "state"],
)


def _base(obj: Organization | Space | App) -> dict[str, Any]:
    return {"guid": obj.guid, "created_at": timestamp(obj.created_at), "updated_at": timestamp(obj.updated_at)}


def organization_resource(org: Organization, urls: UrlBuilder) -> dict[str, Any]:
    return {
        **_base(org),
        "name": org.name,
        "suspended": org.status == Status.SUSPENDED,
        "relationships": {"quota": {"data": None}},
        "metadata": present_metadata(org),
        "links": {"self": urls.href(f"/organizations/{org.guid}")},
    }


def space_resource(space: Space, urls: UrlBuilder) -> dict[str, Any]:
    org_guid = space.organization.guid
    return {
        **_base(space),
        "name": space.name,
        "relationships": {"organization": {"data": {"guid": org_guid}}, "quota": {"data": None}},
        "metadata": present_metadata(space),
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
        "metadata": present_metadata(app),
        "links": {
            "self": urls.href(f"/apps/{app.guid}"),
            "environment_variables": urls.href(f"/apps/{app.guid}/environment_variables"),
            "space": urls.href(f"/spaces/{space_guid}"),
            "processes": urls.href(f"/apps/{app.guid}/processes"),
            "packages": urls.href(f"/apps/{app.guid}/packages"),
            "current_droplet": urls.href(f"/apps/{app.guid}/droplets/current"),
            "droplets": urls.href(f"/apps/{app.guid}/droplets"),
        },
    }
