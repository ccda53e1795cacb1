"""A generated body served as a download, with single-range requests (206) answered from it."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from urllib.parse import quote

from fastapi.responses import Response, StreamingResponse

_SINGLE_RANGE = re.compile(r"bytes=(\d*)-(\d*)", re.ASCII)
# Nothing served from a package may run or render as a page of this origin, whatever it holds.
DOWNLOAD_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cache-Control": "private, no-cache",
}


def byte_range(header: str | None, size: int) -> tuple[int, int] | bool | None:
    """(start, end) for one satisfiable range; None to send everything (no Range, several ranges or
    a malformed one, all of which a server may ignore); False when the range is unsatisfiable."""
    match = _SINGLE_RANGE.fullmatch(header.strip()) if header else None
    if match is None or (not match[1] and not match[2]):
        return None
    if not match[1]:  # the last N bytes
        suffix = int(match[2])
        return (max(0, size - suffix), size) if suffix > 0 and size > 0 else False
    start = int(match[1])
    end = min(int(match[2]) + 1, size) if match[2] else size
    if match[2] and int(match[2]) < start:
        return None
    return (start, end) if start < size else False


def content_disposition(filename: str, disposition: str = "attachment") -> str:
    ascii_name = filename.encode("ascii", "replace").decode("ascii").replace('"', "_").replace("\\", "_")
    ascii_name = "".join(c if c.isprintable() else "_" for c in ascii_name)
    return f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


def ranged_download(
    range_header: str | None,
    size: int,
    chunks: Callable[[int, int], Iterator[bytes]],
    filename: str,
    media_type: str,
) -> Response:
    """Serve `chunks(start, end)` as an attachment named `filename`; `size` is the whole length."""
    headers = {
        **DOWNLOAD_HEADERS,
        "Accept-Ranges": "bytes",
        "Content-Disposition": content_disposition(filename),
    }
    wanted = byte_range(range_header, size)
    if wanted is False:
        return Response(status_code=416, headers={**headers, "Content-Range": f"bytes */{size}"})
    start, end = wanted if isinstance(wanted, tuple) else (0, size)
    headers["Content-Length"] = str(end - start)
    status = 200
    if isinstance(wanted, tuple):
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
    return StreamingResponse(chunks(start, end), status_code=status, media_type=media_type, headers=headers)
