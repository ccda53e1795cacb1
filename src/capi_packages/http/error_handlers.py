"""The only code that renders CF's error envelope {"errors": [{detail, title, code}]}."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from capi_packages.errors import (
    ApiError,
    BlobstoreUnavailable,
    CompoundError,
    InvalidAuthToken,
    InvalidRequest,
    NotAuthenticated,
    NotFound,
    ServiceUnavailable,
    UnknownError,
    UnprocessableEntity,
)
from capi_packages.http.request_id import request_id
from capi_packages.http.responses import CFJSONResponse as JSONResponse

log = logging.getLogger("capi_packages.http")


def envelope(err: ApiError) -> dict[str, Any]:
    if isinstance(err, CompoundError):
        return {"errors": [e.to_dict() for e in err.errors]}
    return {"errors": [err.to_dict()]}


def error_response(err: ApiError) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(err, NotAuthenticated | InvalidAuthToken) else None
    return JSONResponse(envelope(err), status_code=err.status, headers=headers)


async def _api_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc)


async def _http_exception(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    # Rails answers both an unknown path and an unknown method on a known path with CF-NotFound.
    if exc.status_code in (404, 405):
        return error_response(NotFound())
    return error_response(UnprocessableEntity(str(exc.detail)))


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    messages = [str(e.get("msg", "invalid")) for e in exc.errors()]
    return error_response(UnprocessableEntity(messages or ["invalid request"]))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, ClientDisconnect):
        # Nobody is left to read an answer; not a server error either.
        log.info("client went away during %s %s", request.method, request.url.path)
        return error_response(InvalidRequest())
    if isinstance(exc, OperationalError):
        log.error("database failure on %s %s: %s", request.method, request.url.path, exc)
        return error_response(ServiceUnavailable("Database connection failure"))
    if isinstance(exc, OSError):
        # A request's files are the blobstore's (or its staging area's): a full disk, a vanished
        # mount or an unreachable bucket (BlobstoreFailure is an OSError too).
        log.error("blobstore failure on %s %s: %s", request.method, request.url.path, exc)
        return error_response(BlobstoreUnavailable())
    log.exception("unhandled error on %s %s (request %s)", request.method, request.url.path, request_id.get())
    return error_response(UnknownError())


def install(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(StarletteHTTPException, _http_exception)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected)
