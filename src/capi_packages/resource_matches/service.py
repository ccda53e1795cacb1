"""POST /v3/resource_matches: CC's validation of the fingerprints, and its answer from the pool."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.orm import Session

from capi_packages.errors import UnprocessableEntity
from capi_packages.features import resource_matching_enabled
from capi_packages.resource_pool.service import known_sha1s, pool_bounds
from capi_packages.settings import Settings

MAX_RESOURCES = 5000
_OCTAL = re.compile(r"^[0-7]+$")
_PREFIX = "Resources array contains at least one resource with "
# Per-entry messages in the order CC's validator adds them; each is reported once.
_ENTRY_MESSAGES = (
    "a non-object checksum",
    "a non-string checksum value",
    "a non-SHA1 checksum value",
    "a non-integer size_in_bytes",
    "a negative size_in_bytes",
    "a non-string mode",
    "an incorrect mode",
)
# CC groups its answer by these size buckets, in order of first appearance (resource_match.rb).
_BUCKETS = (1024, 100 * 1024, 1024**2, 100 * 1024**2, 1024**3)


def _entry_problems(entry: Any) -> set[str]:
    if not isinstance(entry, dict):
        # CC crashes on these (500); we name the problem.
        return {"a non-object resource"}
    problems: set[str] = set()
    checksum = entry.get("checksum")
    if not isinstance(checksum, dict):
        problems.add("a non-object checksum")
    else:
        value = checksum.get("value")
        if not isinstance(value, str):
            problems.add("a non-string checksum value")
        elif len(value) != 40:
            problems.add("a non-SHA1 checksum value")
    size = entry.get("size_in_bytes")
    if not isinstance(size, int) or isinstance(size, bool):
        problems.add("a non-integer size_in_bytes")
    elif size < 0:
        problems.add("a negative size_in_bytes")
    if "mode" in entry and entry["mode"] is not None:
        if not isinstance(entry["mode"], str):
            problems.add("a non-string mode")
        elif not _OCTAL.match(entry["mode"]):
            problems.add("an incorrect mode")
    return problems


def validate_match_request(body: Any) -> list[dict[str, Any]]:
    resources = body.get("resources") if isinstance(body, dict) else None
    msgs: list[str] = []
    if not isinstance(resources, list):
        msgs = ["Resources must be an array", "Resources must have at least 1 resource"]
        raise UnprocessableEntity(msgs)
    if len(resources) < 1:
        msgs.append("Resources must have at least 1 resource")
    if len(resources) > MAX_RESOURCES:
        msgs.append(f"Resources array can have at most {MAX_RESOURCES} resources")
    problems: set[str] = set()
    for entry in resources:
        problems |= _entry_problems(entry)
    for text in (*_ENTRY_MESSAGES, "a non-object resource"):
        if text in problems:
            msgs.append(_PREFIX + text)
    if msgs:
        raise UnprocessableEntity(msgs)
    return resources


def _bucket(size: int) -> int:
    for i, bound in enumerate(_BUCKETS):
        if size < bound:
            return i
    return len(_BUCKETS)


def match(session: Session, settings: Settings, resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if not resource_matching_enabled(settings):
        return []
    bounds = pool_bounds(settings)
    candidates = [
        e for e in resources if bounds.matches(e["size_in_bytes"], int(e["mode"], 8) if e.get("mode") else None)
    ]
    known = known_sha1s(session, (e["checksum"]["value"].lower() for e in candidates))
    matched = [e for e in candidates if e["checksum"]["value"].lower() in known]
    buckets: dict[int, list[dict[str, Any]]] = {}
    for entry in matched:
        buckets.setdefault(_bucket(entry["size_in_bytes"]), []).append(entry)
    return [
        {
            "checksum": {"value": e["checksum"]["value"]},
            "size_in_bytes": e["size_in_bytes"],
            "path": e.get("path"),
            "mode": e["mode"],
        }
        for group in buckets.values()
        for e in group
    ]
