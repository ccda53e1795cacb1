"""Entries wire format: one entry, a page of entries, a comparison of two packages."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from capi_packages.entries.archive import Entry
from capi_packages.entries.diff import Change
from capi_packages.entries.service import Comparison
from capi_packages.urls import UrlBuilder


def entries_path(guid: str, path: str | None = None) -> str:
    base = f"/x/packages/{quote(guid, safe='')}/entries"
    return base if path is None else f"{base}/{quote(path, safe='/')}"


def mode_text(mode: int) -> str:
    """Octal without a prefix, as CF's resource fingerprints write modes ("644", "4755")."""
    return format(mode, "o")


def entry_resource(entry: Entry, guid: str, urls: UrlBuilder) -> dict[str, Any]:
    body: dict[str, Any] = {
        "path": entry.path,
        "type": entry.kind,
        "size": entry.size,
        "compressed_size": entry.compressed_size,
        "mode": mode_text(entry.mode),
        "crc32": format(entry.crc32, "08x"),
        "sha1": entry.sha1,
        "symlink_target": entry.link_target,
        "links": {},
    }
    if entry.kind != "directory":
        body["links"]["download"] = {"href": urls(entries_path(guid, entry.path))}
    return body


def _brief(entry: Entry) -> dict[str, Any]:
    return {
        "type": entry.kind,
        "size": entry.size,
        "mode": mode_text(entry.mode),
        "crc32": format(entry.crc32, "08x"),
        "sha1": entry.sha1,
        "symlink_target": entry.link_target,
    }


def _change(change: Change) -> dict[str, Any]:
    return {"path": change.path, "before": _brief(change.before), "after": _brief(change.after)}


def comparison_resource(comparison: Comparison, urls: UrlBuilder) -> dict[str, Any]:
    diff = comparison.diff
    guid, against = comparison.package.guid, comparison.against.guid
    return {
        "package": {"guid": guid},
        "against": {"guid": against},
        "summary": {
            "added": len(diff.added),
            "removed": len(diff.removed),
            "changed": len(diff.changed),
            "mode_changed": len(diff.mode_changed),
            "unchanged": diff.unchanged,
        },
        "added": [{"path": e.path, **_brief(e)} for e in diff.added],
        "removed": [{"path": e.path, **_brief(e)} for e in diff.removed],
        "changed": [_change(c) for c in diff.changed],
        "mode_changed": [_change(c) for c in diff.mode_changed],
        "links": {
            "self": {"href": urls(f"/x/packages/{quote(guid, safe='')}/diff?against={quote(against, safe='')}")},
            "package": urls.href(f"/packages/{quote(guid, safe='')}"),
            "against": urls.href(f"/packages/{quote(against, safe='')}"),
        },
    }
