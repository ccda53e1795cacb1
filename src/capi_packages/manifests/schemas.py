"""One application of a manifest, validated as CC's AppManifestMessage validates it.

Keys are read dasherized or underscored (`disk-quota` or `disk_quota`), as CC underscores them.
Unknown keys (`path`, which the cf CLI sends) are ignored, as in CC.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from capi_packages.manifests import units
from capi_packages.messages import env_var_messages
from capi_packages.metadata.validation import validate_metadata
from capi_packages.processes.models import WEB
from capi_packages.processes.schemas import HEALTH_CHECK_TYPES, MAX_DB_BIGINT, number_messages, uri_path_messages

APP_SCALE_KEYS = ("memory", "disk_quota", "log_rate_limit_per_second", "instances")
APP_UPDATE_KEYS = (
    "command",
    "health_check_http_endpoint",
    "timeout",
    "health_check_invocation_timeout",
    "health_check_interval",
    "readiness_health_check_invocation_timeout",
    "readiness_health_check_interval",
    "readiness_health_check_http_endpoint",
    "health_check_type",
    "readiness_health_check_type",
)
PROCESS_UPDATE_KEYS = (*APP_UPDATE_KEYS, "user", "health_check_timeout")
MAX_INSTANCES = 2_000_000
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def underscore(key: Any) -> str:
    """ActiveSupport's String#underscore, as CC applies it to manifest keys."""
    return _CAMEL.sub("_", str(key)).replace("-", "_").lower()


def _underscored(hash_: dict[Any, Any]) -> dict[str, Any]:
    return {underscore(k): v for k, v in hash_.items()}


@dataclass
class ProcessChange:
    """What a manifest asks of one process type: scale (CC's ManifestProcessScaleMessage) and
    settings (ManifestProcessUpdateMessage); `update` holds only the keys the manifest names."""

    type: str
    instances: int | None = None
    memory_in_mb: int | None = None
    disk_in_mb: int | None = None
    log_rate_limit: int | None = None
    update: dict[str, Any] = field(default_factory=dict)

    @property
    def has_scale(self) -> bool:
        return any(v is not None for v in (self.instances, self.memory_in_mb, self.disk_in_mb, self.log_rate_limit))


@dataclass
class AppManifest:
    name: Any
    attrs: dict[str, Any]
    processes: list[ProcessChange] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def requested(self, key: str) -> bool:
        return key in self.attrs

    @property
    def lifecycle_type(self) -> str | None:
        lifecycle = self.attrs.get("lifecycle")
        if lifecycle in ("cnb", "buildpack"):
            return str(lifecycle)
        return "docker" if self.requested("docker") else None

    @property
    def buildpacks(self) -> list[str] | None:
        if self.requested("buildpacks"):
            return list(self.attrs["buildpacks"] or [])
        if self.requested("buildpack"):
            value = self.attrs["buildpack"]
            return [] if value in (None, "default", "null") else [value]
        return None

    @property
    def env(self) -> dict[str, str] | None:
        env = self.attrs.get("env")
        return {str(k): units.ruby_to_s(v) for k, v in env.items()} if isinstance(env, dict) else None


def _scale_change(type_: str, source: dict[str, Any]) -> ProcessChange:
    return ProcessChange(
        type=type_,
        instances=source.get("instances"),
        memory_in_mb=_quiet(units.to_megabytes, source.get("memory")),
        disk_in_mb=_quiet(units.to_megabytes, source.get("disk_quota")),
        log_rate_limit=units.log_rate_to_bytes(source.get("log_rate_limit_per_second")),
    )


def _quiet(convert: Any, value: Any) -> Any:
    try:
        return convert(value)
    except ValueError:
        return None


def _update_from(source: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    update = {key: source[key] for key in keys if key in source}
    for key in ("health_check_type", "readiness_health_check_type"):
        # 'none' is the deprecated spelling of 'process'.
        if update.get(key) == "none":
            update[key] = "process"
    if "command" in update and update["command"] is None:
        update["command"] = "null"
    return update


def _process_changes(attrs: dict[str, Any]) -> list[ProcessChange]:
    """CC's process_*_attribute_mappings: app-level keys make the web process's change unless the
    `processes` list names web, which then replaces them."""
    app_level = _scale_change(WEB, attrs)
    app_level.update = _update_from(attrs, APP_UPDATE_KEYS)
    changes = [app_level] if app_level.has_scale or app_level.update else []
    listed = attrs.get("processes")
    if isinstance(listed, list) and all(isinstance(p, dict) for p in listed):
        entries = [_underscored(p) for p in listed]
        web = [p for p in entries if p.get("type") == WEB]
        others = [p for p in entries if p.get("type") != WEB]
        if web:
            changes = [_from_entry(web[0])]
        changes += [_from_entry(p) for p in others]
    return changes


def _from_entry(entry: dict[str, Any]) -> ProcessChange:
    change = _scale_change(str(entry.get("type")), entry)
    change.update = _update_from(entry, PROCESS_UPDATE_KEYS)
    return change


def _size_messages(source: dict[str, Any]) -> list[str]:
    msgs = []
    for key, label, unlimited in (
        ("memory", "Memory", False),
        ("disk_quota", "Disk quota", False),
        ("log_rate_limit_per_second", "Log rate limit per second", True),
    ):
        error = units.format_error(source.get(key), label, allow_unlimited=unlimited)
        if error:
            msgs.append(error)
    return msgs


def _scale_messages(change: ProcessChange) -> list[str]:
    msgs = number_messages("Instances", change.instances, minimum=0, maximum=MAX_INSTANCES)
    for label, value in (("Memory", change.memory_in_mb), ("Disk quota", change.disk_in_mb)):
        if value is not None and value <= 0:
            msgs.append(f"{label} must be greater than 0MB")
    if change.log_rate_limit is not None and not -1 <= change.log_rate_limit <= MAX_DB_BIGINT:
        msgs.append("Log rate limit must be an integer greater than or equal to -1")
    return msgs


def _update_messages(update: dict[str, Any]) -> list[str]:
    msgs = []
    command = update.get("command")
    if "command" in update and (not isinstance(command, str) or not 1 <= len(command) <= 4096):
        msgs.append(
            "Command must be a string"
            if not isinstance(command, str)
            else "Command must be between 1 and 4096 characters"
        )
    user = update.get("user")
    if user is not None and (not isinstance(user, str) or not 1 <= len(user) <= 255):
        msgs.append("User must be between 1 and 255 characters")
    for key, label in (
        ("health_check_type", "Health check type"),
        ("readiness_health_check_type", "Readiness health check type"),
    ):
        if key in update and update[key] not in HEALTH_CHECK_TYPES:
            msgs.append(f'{label} must be "port", "process", or "http"')
    if (
        "health_check_type" in update
        and "health_check_http_endpoint" in update
        and update["health_check_type"] != "http"
    ):
        msgs.append('Health check type must be "http" to set a health check HTTP endpoint')
    if (
        "readiness_health_check_type" in update
        and "readiness_health_check_http_endpoint" in update
        and update["readiness_health_check_type"] != "http"
    ):
        msgs.append('Readiness health check type must be "http" to set a health check HTTP endpoint')
    for key in ("health_check_http_endpoint", "readiness_health_check_http_endpoint"):
        msgs += uri_path_messages(key.replace("_", " ").capitalize(), update.get(key))
    for key in (
        "health_check_invocation_timeout",
        "health_check_interval",
        "readiness_health_check_invocation_timeout",
        "readiness_health_check_interval",
        "timeout",
    ):
        msgs += number_messages(key.replace("_", " ").capitalize(), update.get(key), minimum=1, maximum=2**31 - 1)
    return msgs


def _lifecycle_messages(manifest: AppManifest) -> list[str]:
    attrs = manifest.attrs
    msgs = []
    buildpacks = attrs.get("buildpacks")
    bad_list = not isinstance(buildpacks, list) or not all(isinstance(b, str) for b in buildpacks)
    if manifest.requested("buildpacks") and buildpacks is not None and bad_list:
        msgs.append("Buildpacks can only contain strings")
    if manifest.requested("buildpack") and attrs["buildpack"] is not None and not isinstance(attrs["buildpack"], str):
        msgs.append("Buildpack must be a string")
    if manifest.requested("stack") and attrs["stack"] is not None and not isinstance(attrs["stack"], str):
        msgs.append("Stack must be a string")
    if manifest.requested("buildpack") and manifest.requested("buildpacks"):
        msgs.append("Buildpack and Buildpacks fields cannot be used together.")
    docker = attrs.get("docker")
    if manifest.requested("docker"):
        if not isinstance(docker, dict) or not isinstance(docker.get("image"), str):
            msgs.append("Docker must be an object with an image")
        if manifest.requested("buildpack") or manifest.requested("buildpacks"):
            msgs.append("Cannot specify both buildpack(s) and docker keys")
    if manifest.requested("lifecycle") and attrs["lifecycle"] not in ("buildpack", "cnb", "docker"):
        msgs.append("Lifecycle must be 'buildpack', 'cnb' or 'docker'")
    return msgs


def _routes_messages(attrs: dict[str, Any]) -> list[str]:
    msgs = []
    routes = attrs.get("routes")
    if "routes" in attrs and (not isinstance(routes, list) or not all(isinstance(r, dict) for r in routes)):
        msgs.append("Routes must be a list of route objects")
    for key, label in (("no_route", "No-route"), ("random_route", "Random-route"), ("default_route", "Default-route")):
        if key in attrs and not isinstance(attrs[key], bool):
            msgs.append(f"{label} must be a boolean")
    if attrs.get("random_route") and attrs.get("default_route"):
        msgs.append("Random-route and default-route may not be used together")
    return msgs


def parse_app_manifest(raw: Any) -> AppManifest:
    """Validate one entry of `applications`; `errors` holds CC's full messages, unprefixed."""
    if not isinstance(raw, dict):
        return AppManifest(name=None, attrs={}, errors=["Name must not be empty"])
    attrs = _underscored(raw)
    name = attrs.get("name")
    manifest = AppManifest(name=name, attrs=attrs)
    msgs = manifest.errors
    if name is None or (isinstance(name, str) and not name.strip()):
        msgs.append("Name must not be empty")
    elif not isinstance(name, str):
        msgs.append("Name must be a string")
    msgs += [f'Process "{WEB}": {m}' for m in _size_messages(attrs)]
    listed = attrs.get("processes")
    if "processes" in attrs:
        if not isinstance(listed, list) or not all(isinstance(p, dict) for p in listed):
            msgs.append("Processes must be an array of process configurations")
        else:
            entries = [_underscored(p) for p in listed]
            if any(p.get("type") in (None, "") for p in entries):
                msgs.append("All Processes must specify a type")
            types = [p.get("type") for p in entries]
            for type_ in dict.fromkeys(t for t in types if types.count(t) > 1):
                msgs.append(f'Process "{type_}" may only be present once')
            for entry in entries:
                msgs += [f'Process "{entry.get("type")}": {m}' for m in _size_messages(entry)]
    if "sidecars" in attrs:
        msgs.append("Sidecars are not supported: this service runs no processes")
    manifest.processes = _process_changes(attrs)
    for change in manifest.processes:
        msgs += [f'Process "{change.type}": {m}' for m in _scale_messages(change)]
    for change in manifest.processes:
        msgs += [f'Process "{change.type}": {m}' for m in _update_messages(change.update)]
    msgs += _lifecycle_messages(manifest)
    if "metadata" in attrs:
        msgs += validate_metadata(attrs["metadata"])
    services = attrs.get("services")
    if "services" in attrs and services is not None and not isinstance(services, list):
        msgs.append("Services must be a list of service instance names")
    if "env" in attrs:
        env = attrs["env"]
        if not isinstance(env, dict):
            msgs.append("Env must be an object of keys and values")
        else:
            msgs += env_var_messages({str(k): v for k, v in env.items()}, "Env", string_values=False)
    msgs += _routes_messages(attrs)
    return manifest


def service_names(manifest: AppManifest) -> list[str]:
    names = []
    for entry in manifest.attrs.get("services") or []:
        names.append(str(entry.get("name")) if isinstance(entry, dict) else str(entry))
    return names
