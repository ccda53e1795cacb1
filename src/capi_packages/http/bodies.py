"""Request bodies read with a limit fixed before the first byte: JSON, url-encoded forms, raw bytes.

A declared Content-Length over the limit is refused without reading; a chunked body is cut off
as soon as it passes the limit. Nothing is buffered beyond the limit.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request

from capi_packages.errors import MessageParseError, PayloadTooLarge
from capi_packages.jsonvalues import JsonRejected, loads_bounded

MAX_JSON_BODY = 15 * 1024 * 1024  # CC's nginx client_max_body_size for everything but uploads
MAX_FORM_FIELDS = 32


def too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"The request body may not be larger than {limit} bytes")


def declared_length(request: Request) -> int | None:
    value = request.headers.get("content-length")
    if value is None:
        return None
    if not value.isdigit():
        raise MessageParseError()
    return int(value)


def refuse_declared_over(request: Request, limit: int) -> None:
    declared = declared_length(request)
    if declared is not None and declared > limit:
        raise too_large(limit)


async def read_bounded(request: Request, limit: int) -> bytes:
    refuse_declared_over(request, limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json(request: Request, limit: int = MAX_JSON_BODY) -> Any:
    """The body parsed as JSON; an empty body is an empty object, as CC's parser treats it."""
    raw = await read_bounded(request, limit)
    if not raw.strip():
        return {}
    try:
        return loads_bounded(raw)
    except JsonRejected as e:
        raise MessageParseError() from e


def parse_urlencoded(raw: bytes) -> dict[str, str]:
    """A url-encoded form; the last of repeated keys wins, as in Rack."""
    try:
        pairs = parse_qsl(
            raw.decode("utf-8"), keep_blank_values=True, strict_parsing=False, max_num_fields=MAX_FORM_FIELDS
        )
    except (UnicodeDecodeError, ValueError) as e:
        raise MessageParseError() from e
    return dict(pairs)


async def read_urlencoded(request: Request, limit: int) -> dict[str, str]:
    return parse_urlencoded(await read_bounded(request, limit))
