"""A list response: the query read from the request, and CC's `pagination` block with its links."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import quote_plus

from starlette.requests import Request

from capi_packages.errors import BadQueryParameter, UnprocessableEntity
from capi_packages.listing import ListQuery, ListSpec, Page, parse_list_query

T = TypeVar("T")


def list_query(request: Request, spec: ListSpec) -> ListQuery:
    """The request's query string as a ListQuery for `spec`, within the configured maximum result."""
    settings = request.app.state.settings
    return parse_list_query(request.url.query, spec, max_total_results=settings.max_total_results)


def _to_query(params: dict[str, str], lists: dict[str, list[str]] | None = None) -> str:
    # Rails Hash#to_query: CGI-escaped pairs sorted as whole "key=value" strings; an array value
    # is one piece of `key[]=value` pairs, kept in their order.
    pairs = [f"{quote_plus(key, safe='')}={quote_plus(value, safe='')}" for key, value in params.items()]
    for key, values in (lists or {}).items():
        prefix = quote_plus(f"{key}[]", safe="")
        pairs.append("&".join(f"{prefix}={quote_plus(value, safe='')}" for value in values))
    return "&".join(sorted(pairs))


def pagination_block(
    base_url: str,
    query: ListQuery,
    total_results: int,
    link_params: dict[str, str | int | None] | None = None,
) -> dict[str, object]:
    """CC's `pagination` block; `link_params` adds or overrides link parameters, None drops one."""
    total_pages = max(1, -(-total_results // query.per_page))
    params: dict[str, str] = {"per_page": str(query.per_page)}
    if query.order_by_given and query.order_by is not None:
        column, descending = query.order_by
        params["order_by"] = ("-" if descending else "+") + column
    params.update(query.link_filters)
    for key, value in (link_params or {}).items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = str(value)

    def link(page: int) -> dict[str, str]:
        return {"href": f"{base_url}?{_to_query({**params, 'page': str(page)}, query.link_lists)}"}

    return {
        "total_results": total_results,
        "total_pages": total_pages,
        "first": link(1),
        "last": link(total_pages),
        "next": link(query.page + 1) if query.page + 1 <= total_pages else None,
        "previous": link(query.page - 1) if query.page - 1 > 0 else None,
    }


def list_body(base_url: str, query: ListQuery, page: Page[T], present: Callable[[T], dict[str, Any]]) -> dict[str, Any]:
    """The whole list answer: `pagination` first, then `resources` in page order."""
    return {"pagination": pagination_block(base_url, query, page.total), "resources": [present(r) for r in page.rows]}


def list_query_unprocessable(request: Request, spec: ListSpec, extra: Callable[[ListQuery], list[str]]) -> ListQuery:
    """For list endpoints whose controller reports query problems as 422 (users, roles), not 400."""
    try:
        query = list_query(request, spec)
    except BadQueryParameter as error:
        raise UnprocessableEntity(error.messages) from error
    raise_unprocessable(extra(query))
    return query


def raise_unprocessable(messages: list[str]) -> None:
    if messages:
        raise UnprocessableEntity(messages)
