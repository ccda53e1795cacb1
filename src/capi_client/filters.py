"""Query filters of the package lists, and how they go on the wire."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, TypedDict

Filter = str | int | datetime | Iterable[str | datetime] | Mapping[str, str | datetime]


class AppPackageFilters(TypedDict, total=False):
    """Query filters of `GET /v3/apps/{guid}/packages`; a list is sent joined with commas."""

    guids: Filter
    states: Filter
    types: Filter
    label_selector: Filter
    page: int
    per_page: int
    order_by: str
    # A string or list means equality; a mapping such as {"gt": t} sends created_ats[gt]=t.
    created_ats: Filter
    updated_ats: Filter


class PackageFilters(AppPackageFilters, total=False):
    """Query filters of `GET /v3/packages`: the app route's, plus the three guid filters."""

    app_guids: Filter
    space_guids: Filter
    organization_guids: Filter


def format_value(value: Any) -> str:
    if isinstance(value, datetime):
        # CC only accepts whole-second UTC timestamps with a Z.
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return str(value.strftime("%Y-%m-%dT%H:%M:%SZ"))
    return str(value)


def to_query(filters: Mapping[str, Any], allowed: Iterable[str]) -> list[tuple[str, str]]:
    unknown = sorted(set(filters) - set(allowed))
    if unknown:
        raise TypeError(f"unknown package filter(s): {', '.join(unknown)}")
    params: list[tuple[str, str]] = []
    for name in sorted(filters):
        value = filters[name]
        if value is None:
            continue
        if isinstance(value, Mapping):
            params.extend((f"{name}[{op}]", format_value(v)) for op, v in value.items())
        elif isinstance(value, str | int | datetime):
            params.append((name, format_value(value)))
        else:
            params.append((name, ",".join(format_value(v) for v in value)))
    return params
