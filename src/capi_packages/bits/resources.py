"""An upload's `resources` (cached files it reuses), read with CC's path and mode rules."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from capi_packages.bits.names import member_parts
from capi_packages.errors import AppBitsUploadInvalid, FileModeInvalid, FilePathInvalid

DEFAULT_MODE = 0o744  # CC's mode for a resource that names none
_SHA1 = re.compile(r"[0-9a-fA-F]{40}")
_OCTAL = re.compile(r"(?:0[oO])?[0-7]+")


@dataclass(frozen=True)
class CachedResource:
    path: str
    sha1: str
    size: int
    mode: int


def parse_resources(raw: list[dict[str, Any]]) -> list[CachedResource]:
    """Translate v2/v3 resource dicts into CachedResource, applying CC's path and mode rules."""
    if not isinstance(raw, list):
        raise AppBitsUploadInvalid("Resources must be a list of objects.")
    return [_parse_resource(index, item) for index, item in enumerate(raw)]


def _parse_resource(index: int, item: Any) -> CachedResource:
    if not isinstance(item, dict):
        raise AppBitsUploadInvalid(f"Resource {index} must be an object.")
    if "checksum" in item and "size_in_bytes" in item:
        checksum = item["checksum"]
        sha1 = checksum.get("value") if isinstance(checksum, dict) else None
        size, fn, raw_mode = item["size_in_bytes"], item.get("path"), item.get("mode")
    else:
        sha1, size, fn = item.get("sha1"), item.get("size"), item.get("fn")
        raw_mode = item.get("mode")
    if not isinstance(fn, str) or not fn:
        raise AppBitsUploadInvalid(f"Resource {index} has no path.")
    parts = member_parts(fn, resolve_dotdot=True)
    if not parts:
        raise FilePathInvalid(f"File path '{fn}' is not safe.")
    mode = _parse_mode(raw_mode)
    if mode is None or mode & 0o600 != 0o600:
        raise FileModeInvalid(f"File mode '{raw_mode}' with path '{fn}' is invalid. Minimum file mode is '0600'")
    # The sha1 becomes a pool key, so anything but 40 hex digits is refused.
    if not isinstance(sha1, str) or not _SHA1.fullmatch(sha1):
        raise AppBitsUploadInvalid(f"Resource '{fn}' has an invalid sha1.")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise AppBitsUploadInvalid(f"Resource '{fn}' has an invalid size.")
    return CachedResource(path="/".join(parts), sha1=sha1.lower(), size=size, mode=mode & 0o7777)


def _parse_mode(raw_mode: Any) -> int | None:
    if raw_mode is None:
        return DEFAULT_MODE
    if isinstance(raw_mode, int) and not isinstance(raw_mode, bool):
        raw_mode = str(raw_mode)  # a JSON number like 644 can only mean the octal digits
    if not isinstance(raw_mode, str) or not _OCTAL.fullmatch(raw_mode.strip()):
        return None
    return int(raw_mode.strip().lower().removeprefix("0o"), 8)
