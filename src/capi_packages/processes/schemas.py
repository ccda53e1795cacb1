"""Processes on the wire: list query, update and scale messages, CC's process and stats presenters."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from capi_packages.listing import ListSpec
from capi_packages.messages import raise_if, require_object, timestamp, unknown_fields
from capi_packages.metadata.rows import present_metadata
from capi_packages.metadata.validation import validate_metadata
from capi_packages.orgs.models import App
from capi_packages.processes.models import HealthCheckType, Process
from capi_packages.urls import UrlBuilder

MAX_DB_INT = 2**31 - 1
MAX_DB_BIGINT = 2**63 - 1
HIDDEN_IN_LISTS = "[PRIVATE DATA HIDDEN IN LISTS]"
HEALTH_CHECK_TYPES = tuple(t.value for t in HealthCheckType)

PROCESSES_LIST = ListSpec(
    allowed=[
        "page",
        "per_page",
        "order_by",
        "created_ats",
        "updated_ats",
        "guids",
        "app_guid",
        "types",
        "space_guids",
        "organization_guids",
        "app_guids",
        "embed",
        "label_selector",
    ],
    array_filters={"guids", "types", "space_guids", "organization_guids", "app_guids", "embed"},
)
APP_PROCESSES_LIST = replace(PROCESSES_LIST, nested_forbidden=["app_guids", "organization_guids", "space_guids"])
SIDECARS_LIST = ListSpec(allowed=["page", "per_page", "order_by", "created_ats", "updated_ats"], array_filters=set())


def number_messages(
    label: str, value: Any, *, minimum: int, maximum: int, strict_minimum: bool = False, minimum_text: str | None = None
) -> list[str]:
    """ActiveModel numericality with only_integer, as CC's messages word it."""
    if value is None:
        return []
    if isinstance(value, bool) or not isinstance(value, int | float):
        return [f"{label} is not a number"]
    if isinstance(value, float):
        return [f"{label} must be an integer"]
    if strict_minimum and value <= minimum:
        return [f"{label} {minimum_text or f'must be greater than {minimum}'}"]
    if not strict_minimum and value < minimum:
        return [f"{label} {minimum_text or f'must be greater than or equal to {minimum}'}"]
    if value > maximum:
        return [f"{label} must be less than or equal to {maximum}"]
    return []


def _string_messages(label: str, value: Any, low: int, high: int) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, str):
        return [f"{label} must be a string"]
    if not low <= len(value) <= high:
        return [f"{label} must be between {low} and {high} characters"]
    return []


def uri_path_messages(label: str, value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, str) or not value.startswith("/") or any(c.isspace() for c in value):
        return [f"{label} must be a valid URI path"]
    return []


def _health_check_messages(value: Any, *, readiness: bool) -> list[str]:
    label = "Readiness health check" if readiness else "Health check"
    if not isinstance(value, dict):
        return [f"{label} must be an object"]
    msgs = []
    if "type" in value and value["type"] not in HEALTH_CHECK_TYPES:
        msgs.append(f'{label} type must be "port", "process", or "http"')
    data = value.get("data") or {}
    if not isinstance(data, dict):
        return [*msgs, f"{label} data must be an object"]
    numbers = ("invocation_timeout", "interval") if readiness else ("timeout", "invocation_timeout", "interval")
    for key in numbers:
        msgs += number_messages(f"{label} {key.replace('_', ' ')}", data.get(key), minimum=1, maximum=MAX_DB_INT)
    endpoint = data.get("endpoint")
    if isinstance(endpoint, str) and len(endpoint) > 255:
        msgs.append(f"{label} endpoint is too long (maximum is 255 characters)")
    msgs += uri_path_messages(f"{label} endpoint", endpoint)
    return msgs


def parse_process_update(raw: Any) -> dict[str, Any]:
    """A validated PATCH body (CC's ProcessUpdateMessage)."""
    body = require_object(raw)
    msgs = validate_metadata(body["metadata"]) if "metadata" in body else []
    msgs += unknown_fields(body, ("command", "user", "health_check", "readiness_health_check", "metadata"))
    msgs += _string_messages("Command", body.get("command"), 1, 4096)
    msgs += _string_messages("User", body.get("user"), 1, 255)
    if "health_check" in body:
        msgs += _health_check_messages(body["health_check"], readiness=False)
    if "readiness_health_check" in body:
        msgs += _health_check_messages(body["readiness_health_check"], readiness=True)
    raise_if(msgs)
    return body


def parse_process_scale(raw: Any) -> dict[str, Any]:
    body = require_object(raw)
    msgs = unknown_fields(body, ("instances", "memory_in_mb", "disk_in_mb", "log_rate_limit_in_bytes_per_second"))
    msgs += number_messages("Instances", body.get("instances"), minimum=0, maximum=MAX_DB_INT)
    msgs += number_messages(
        "Memory in mb", body.get("memory_in_mb"), minimum=0, maximum=MAX_DB_INT, strict_minimum=True
    )
    msgs += number_messages("Disk in mb", body.get("disk_in_mb"), minimum=0, maximum=MAX_DB_INT, strict_minimum=True)
    msgs += number_messages(
        "Log rate limit in bytes per second",
        body.get("log_rate_limit_in_bytes_per_second"),
        minimum=-1,
        maximum=MAX_DB_BIGINT,
    )
    raise_if(msgs)
    return body


def run_user(process: Process, app: App) -> str:
    return process.user or ("root" if app.is_docker else "vcap")


def process_resource(process: Process, app: App, urls: UrlBuilder, *, show_command: bool = True) -> dict[str, Any]:
    health_data: dict[str, Any] = {
        "timeout": process.health_check_timeout,
        "invocation_timeout": process.health_check_invocation_timeout,
        "interval": process.health_check_interval,
    }
    if process.health_check_type == HealthCheckType.HTTP:
        health_data["endpoint"] = process.health_check_endpoint
    readiness_data: dict[str, Any] = {
        "invocation_timeout": process.readiness_health_check_invocation_timeout,
        "interval": process.readiness_health_check_interval,
    }
    if process.readiness_health_check_type == HealthCheckType.HTTP:
        readiness_data["endpoint"] = process.readiness_health_check_endpoint
    # No droplet is ever staged here, so there is no detected start command to fall back on.
    command = process.command or ""
    return {
        "guid": process.guid,
        "created_at": timestamp(process.created_at),
        "updated_at": timestamp(process.updated_at),
        "version": process.version,
        "type": process.type,
        "command": command if show_command else HIDDEN_IN_LISTS,
        "user": run_user(process, app),
        "instances": process.instances,
        "memory_in_mb": process.memory_in_mb,
        "disk_in_mb": process.disk_in_mb,
        "log_rate_limit_in_bytes_per_second": process.log_rate_limit,
        "health_check": {"type": process.health_check_type, "data": health_data},
        "readiness_health_check": {"type": process.readiness_health_check_type, "data": readiness_data},
        "relationships": {"app": {"data": {"guid": app.guid}}, "revision": None},
        "metadata": present_metadata(process),
        "links": {
            "self": urls.href(f"/processes/{process.guid}"),
            "scale": urls.href(f"/processes/{process.guid}/actions/scale"),
            "app": urls.href(f"/apps/{app.guid}"),
            "space": urls.href(f"/spaces/{app.space.guid}"),
            "stats": urls.href(f"/processes/{process.guid}/stats"),
            "process_instances": urls.href(f"/processes/{process.guid}/process_instances"),
        },
    }


def stats_resource(process: Process) -> dict[str, Any]:
    """What CC reports when Diego has no instance: every desired instance DOWN."""
    return {
        "resources": [
            {
                "type": process.type,
                "index": index,
                "state": "DOWN",
                "routable": None,
                "uptime": 0,
                "isolation_segment": None,
                "details": None,
            }
            for index in range(process.instances)
        ]
    }
