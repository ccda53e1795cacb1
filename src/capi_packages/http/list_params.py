"""The list endpoints' query specs, and the paginated list body built from a page of rows."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from fastapi import Request

from capi_packages.errors import BadQueryParameter, UnprocessableEntity
from capi_packages.listing import (
    APP_PACKAGES_LIST,
    PACKAGES_LIST,
    ListQuery,
    ListSpec,
    pagination_block,
    parse_list_query,
)

PAGING = ["page", "per_page", "order_by", "created_ats", "updated_ats"]

PACKAGES = PACKAGES_LIST
APP_PACKAGES = APP_PACKAGES_LIST
DROPLETS = ListSpec(
    allowed=[*PAGING, "guids", "states", "app_guids", "space_guids", "organization_guids", "label_selector", "current"],
    array_filters={"guids", "states", "app_guids", "space_guids", "organization_guids"},
    # `current` is a droplet filter elsewhere, refused (without the valid list) on a package's droplets.
    nested_forbidden=["current"],
)
ORGANIZATIONS = ListSpec(allowed=[*PAGING, "names", "guids"], array_filters={"names", "guids"}, label_selector=False)
SPACES = ListSpec(
    allowed=[*PAGING, "names", "guids", "organization_guids"],
    array_filters={"names", "guids", "organization_guids"},
    label_selector=False,
)
APPS = ListSpec(
    allowed=[*PAGING, "names", "guids", "space_guids", "organization_guids"],
    array_filters={"names", "guids", "space_guids", "organization_guids"},
    label_selector=False,
)


def parse(request: Request, spec: ListSpec) -> ListQuery:
    settings = request.app.state.settings
    return parse_list_query(request.url.query, spec, max_total_results=settings.max_total_results)


def list_body(
    base_url: str, query: ListQuery, rows: Iterable[Any], total: int, render: Callable[[Any], dict[str, Any]]
) -> dict[str, Any]:
    return {"pagination": pagination_block(base_url, query, total), "resources": [render(r) for r in rows]}


def parse_as_unprocessable(request: Request, spec: ListSpec, extra: Callable[[ListQuery], list[str]]) -> ListQuery:
    """For list endpoints whose controller reports query problems as 422 (users, roles), not 400."""
    try:
        query = parse(request, spec)
    except BadQueryParameter as error:
        raise UnprocessableEntity(error.messages) from error
    messages = extra(query)
    if messages:
        raise UnprocessableEntity(messages)
    return query


def raise_unprocessable(messages: list[str]) -> None:
    if messages:
        raise UnprocessableEntity(messages)
