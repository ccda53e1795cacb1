"""manifest_diff: how a manifest would change the apps of a space, as JSON-patch-like operations.

Follows CC's SpaceDiffManifest: only keys CC recognises are compared; sizes are normalised to
megabytes; entries of `processes`, `sidecars` and `routes` are matched by type, name or route, and
fields a manifest leaves out are not reported; top-level memory and disk are never reported.
"""

from __future__ import annotations

from typing import Any

from capi_packages.manifests import units

RECOGNISED = {
    key.replace("_", "-")
    for key in [
        "buildpack",
        "buildpacks",
        "command",
        "disk_quota",
        "log_rate_limit_per_second",
        "docker",
        "env",
        "health_check_http_endpoint",
        "health_check_invocation_timeout",
        "health_check_interval",
        "health_check_timeout",
        "health_check_type",
        "readiness_health_check_http_endpoint",
        "readiness_health_check_type",
        "readiness_health_check_invocation_timeout",
        "readiness_health_check_interval",
        "instances",
        "metadata",
        "memory",
        "lifecycle",
        "name",
        "no_route",
        "processes",
        "random_route",
        "default_route",
        "routes",
        "services",
        "sidecars",
        "stack",
        "timeout",
        "cnb_credentials",
        "features",
    ]
}
IDENTIFIERS = {"processes": "type", "routes": "route", "sidecars": "name"}
PROCESS_KEYS = [
    "type",
    "command",
    "user",
    "disk_quota",
    "log-rate-limit-per-second",
    "health-check-http-endpoint",
    "health-check-invocation-timeout",
    "health-check-interval",
    "health-check-type",
    "readiness-health-check-http-endpoint",
    "readiness-health-check-invocation-timeout",
    "readiness-health-check-interval",
    "readiness-health-check-type",
    "instances",
    "memory",
    "timeout",
]


def _mb(value: Any, key: str) -> Any:
    try:
        return f"{units.to_megabytes(value)}M"
    except units.InvalidUnits:
        return f"{key} {units.UNITS_HINT}"
    except units.NonNumeric:
        return f"{key} is not a number"


def _normalise(entry: dict[str, Any]) -> dict[str, Any]:
    entry = dict(entry)
    for key in ("memory", "disk-quota", "disk_quota"):
        if entry.get(key) is not None:
            entry[key] = _mb(entry[key], key)
    return entry


def _filtered(app: dict[str, Any]) -> dict[str, Any]:
    app = _normalise(app)
    if isinstance(app.get("processes"), list):
        app["processes"] = [_normalise({k: v for k, v in p.items() if k in PROCESS_KEYS}) for p in app["processes"]]
    if isinstance(app.get("metadata"), dict):
        app["metadata"] = {k: v for k, v in app["metadata"].items() if k in ("labels", "annotations")}
    return app


def _prune(existing: list[Any], wanted: list[Any], ident: str) -> list[Any]:
    """Drop existing entries the manifest does not name, and fields its entries leave out."""
    kept = []
    for entry in existing:
        match = next((w for w in wanted if isinstance(w, dict) and w.get(ident) == entry.get(ident)), None)
        if match is not None:
            kept.append({k: v for k, v in entry.items() if match.get(k) is not None})
    return kept


def json_diff(before: Any, after: Any, path: str = "") -> list[dict[str, Any]]:
    if isinstance(before, dict) and isinstance(after, dict):
        ops: list[dict[str, Any]] = []
        for key in before:
            if key not in after:
                ops.append({"op": "remove", "path": f"{path}/{key}", "was": before[key]})
        for key, value in after.items():
            if key not in before:
                ops.append({"op": "add", "path": f"{path}/{key}", "value": value})
            else:
                ops += json_diff(before[key], value, f"{path}/{key}")
        return ops
    if isinstance(before, list) and isinstance(after, list):
        ops = []
        for index in range(max(len(before), len(after))):
            if index >= len(after):
                ops.append({"op": "remove", "path": f"{path}/{index}", "was": before[index]})
            elif index >= len(before):
                ops.append({"op": "add", "path": f"{path}/{index}", "value": after[index]})
            else:
                ops += json_diff(before[index], after[index], f"{path}/{index}")
        return ops
    if before == after:
        return []
    return [{"op": "replace", "path": path, "was": before, "value": after}]


def _ordered_like(existing: list[Any], wanted: list[Any], ident: str) -> list[Any]:
    by_id = {e.get(ident): e for e in existing if isinstance(e, dict)}
    ordered = [by_id.pop(w.get(ident)) for w in wanted if isinstance(w, dict) and w.get(ident) in by_id]
    return ordered + list(by_id.values())


def diff_app(index: int, wanted: dict[str, Any], existing: dict[str, Any] | None) -> list[dict[str, Any]]:
    wanted = _filtered(wanted)
    current: dict[str, Any] = {}
    if existing is not None:
        current = dict(existing)
        web = next((p for p in current.get("processes") or [] if p.get("type") == "web"), None)
        if web:
            current.update(web)
        if "disk-quota" in wanted:
            current["disk-quota"] = current.get("disk_quota")
    ops: list[dict[str, Any]] = []
    for key, value in wanted.items():
        if key not in RECOGNISED and key != "disk_quota":
            continue
        current_value = current.get(key)
        nested = (
            key in IDENTIFIERS and isinstance(current_value, list) and bool(current_value) and isinstance(value, list)
        )
        if nested and isinstance(current_value, list):
            current_value = _ordered_like(_prune(current_value, value, IDENTIFIERS[key]), value, IDENTIFIERS[key])
        if not nested and key in ("disk_quota", "disk-quota", "memory"):
            continue
        for op in json_diff(current_value, value):
            op["path"] = f"/applications/{index}/{key}" + op["path"]
            if op["op"] == "replace" and op.get("was") is None:
                op["op"] = "add"
            ops.append(op)
    return ops
