"""List queries of the runtime resources the cf CLI reads (all empty here), and the env presenter."""

from __future__ import annotations

from typing import Any

from capi_packages.listing import ListSpec
from capi_packages.orgs.models import App

_PAGING = ["page", "per_page", "order_by", "created_ats", "updated_ats", "guids"]

ROUTES_LIST = ListSpec(
    allowed=[
        *_PAGING,
        "space_guids",
        "organization_guids",
        "domain_guids",
        "hosts",
        "paths",
        "ports",
        "app_guids",
        "service_instance_guids",
        "include",
        "label_selector",
    ],
    array_filters={
        "guids",
        "space_guids",
        "organization_guids",
        "domain_guids",
        "hosts",
        "paths",
        "ports",
        "app_guids",
        "service_instance_guids",
        "include",
    },
)
APP_ROUTES_LIST = ListSpec(
    allowed=[
        *_PAGING,
        "space_guids",
        "organization_guids",
        "domain_guids",
        "hosts",
        "paths",
        "ports",
        "label_selector",
    ],
    array_filters={"guids", "space_guids", "organization_guids", "domain_guids", "hosts", "paths", "ports"},
)
DEPLOYMENTS_LIST = ListSpec(
    allowed=[*_PAGING, "app_guids", "states", "status_reasons", "status_values", "label_selector"],
    array_filters={"guids", "app_guids", "states", "status_reasons", "status_values"},
)
APP_DROPLETS_LIST = ListSpec(
    allowed=[*_PAGING, "states", "current", "label_selector"],
    array_filters={"guids", "states"},
)


def env_resource(app: App, vcap_application: dict[str, Any], *, show_system: bool) -> dict[str, Any]:
    system: dict[str, Any] = {"VCAP_SERVICES": {}} if show_system else {"redacted_message": "[PRIVATE DATA HIDDEN]"}
    return {
        "environment_variables": dict(app.environment_variables or {}),
        "staging_env_json": {},
        "running_env_json": {},
        "system_env_json": system,
        "application_env_json": {"VCAP_APPLICATION": vcap_application},
    }
