"""Thin handlers for /x/packages/{guid}/entries, /entries/{path} and /diff (outside CC's /v3)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from capi_packages.entries import service
from capi_packages.entries.downloads import entry_download, indexes_of
from capi_packages.entries.schemas import comparison_resource, entries_path, entry_resource
from capi_packages.errors import BadQueryParameter
from capi_packages.http.dependencies import DbSession, Perms, Urls
from capi_packages.http.pagination import list_query, pagination_block
from capi_packages.listing import ListSpec

router = APIRouter(prefix="/x/packages", tags=["package entries"])

ENTRIES_LIST = ListSpec(
    allowed=["page", "per_page", "prefix"],
    array_filters=set(),
    timestamp_filters=set(),
    order_by_fields=["path"],
    label_selector=False,
)
DIFF_QUERY = ListSpec(
    allowed=["against"], array_filters=set(), timestamp_filters=set(), order_by_fields=["path"], label_selector=False
)


@router.get("/{guid}/entries")
def list_package_entries(guid: str, request: Request, perms: Perms, session: DbSession, urls: Urls) -> Any:
    """A page of the package's entries in tree order; `prefix` keeps the paths starting with it."""
    query = list_query(request, ENTRIES_LIST)
    rows, total = service.list_entries(session, perms, indexes_of(request), guid, query)
    return {
        "pagination": pagination_block(urls(entries_path(guid)), query, total),
        "resources": [entry_resource(entry, guid, urls) for entry in rows],
    }


@router.get("/{guid}/entries/{path:path}")
def download_package_entry(guid: str, path: str, request: Request, perms: Perms, session: DbSession) -> Response:
    """One file of the package, streamed from the stored zip; symlinks are followed inside it."""
    entry = service.find_entry(session, perms, indexes_of(request), guid, path)
    return entry_download(request, guid, entry)


@router.get("/{guid}/diff")
def diff_packages(guid: str, request: Request, perms: Perms, session: DbSession, urls: Urls) -> Any:
    """What changed in this package against `against` (usually the app's previous package)."""
    query = list_query(request, DIFF_QUERY)
    against = (query.filters.get("against") or [""])[0]
    if not against:
        raise BadQueryParameter("Against can't be blank")
    return comparison_resource(service.diff_packages(session, perms, indexes_of(request), guid, against), urls)
