"""Errors the client raises, rebuilt from CF's `{"errors": [{detail, title, code}]}` envelope.

CapiError
 ├── BadRequestError (400)
 ├── NotAuthenticatedError (401)
 ├── NotAuthorizedError (403)
 ├── NotFoundError (404)
 ├── UnprocessableEntityError (422)
 ├── ServerError (5xx)
 ├── PackageFailedError (a package ended FAILED or EXPIRED)
 ├── JobFailedError (a job ended FAILED)
 └── WaitTimeoutError (also a TimeoutError)
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from capi_client.models import Job, Package


class CapiError(Exception):
    """An error the API answered (or polling found), as CF describes it: code, title, detail.

    `status` is the HTTP status, or None for failures seen while polling (a FAILED package or job).
    `errors` holds every entry of the envelope; the first one fills code, title and detail.
    """

    def __init__(
        self,
        status: int | None,
        code: int,
        title: str,
        detail: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        response: httpx.Response | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.errors = errors or [{"code": code, "title": title, "detail": detail}]
        self.response = response
        super().__init__(f"{title}: {detail}")

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, code={self.code!r}, "
            f"title={self.title!r}, detail={self.detail!r})"
        )


class BadRequestError(CapiError):
    """400: a bad query parameter, a bad body, or bits uploaded twice."""


class NotAuthenticatedError(CapiError):
    """401: no token, or an invalid or expired one."""


class NotAuthorizedError(CapiError):
    """403: the token lacks the scope or role, or a feature flag is off."""


class NotFoundError(CapiError):
    """404: the resource is missing or invisible to this user."""


class UnprocessableEntityError(CapiError):
    """422: the request was understood but breaks a rule."""


class ServerError(CapiError):
    """5xx: the service or its blobstore failed."""


class PackageFailedError(CapiError):
    """The package ended FAILED or EXPIRED while we waited; `detail` is its `data.error`."""

    def __init__(self, package: Package) -> None:
        self.package = package
        detail = package.error or f"package {package.guid} is {package.state}"
        super().__init__(None, 0, f"Package{package.state.title()}", detail)


class JobFailedError(CapiError):
    """The job ended FAILED; code, title and detail come from its first error."""

    def __init__(self, job: Job) -> None:
        self.job = job
        first = job.errors[0] if job.errors else {}
        super().__init__(
            None,
            int(first.get("code") or 0),
            str(first.get("title") or "JobFailed"),
            str(first.get("detail") or f"job {job.guid} ({job.operation}) failed"),
            errors=[dict(e) for e in job.errors],
        )


class WaitTimeoutError(CapiError, TimeoutError):
    """The package or job did not reach a final state in time."""

    def __init__(self, detail: str) -> None:
        super().__init__(None, 0, "Timeout", detail)


_BY_STATUS: dict[int, type[CapiError]] = {
    400: BadRequestError,
    401: NotAuthenticatedError,
    403: NotAuthorizedError,
    404: NotFoundError,
    422: UnprocessableEntityError,
}

# Titles decide only when the status alone does not (say, a proxy rewrote it to 500).
_BY_TITLE: dict[str, type[CapiError]] = {
    "CF-InvalidAuthToken": NotAuthenticatedError,
    "CF-NotAuthenticated": NotAuthenticatedError,
    "CF-NotAuthorized": NotAuthorizedError,
    "CF-FeatureDisabled": NotAuthorizedError,
    "CF-ResourceNotFound": NotFoundError,
    "CF-NotFound": NotFoundError,
    "CF-UnprocessableEntity": UnprocessableEntityError,
    "CF-BadQueryParameter": BadRequestError,
}


def error_class_for(status: int, title: str = "") -> type[CapiError]:
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if status >= 500:
        return ServerError
    return _BY_TITLE.get(title, CapiError)


def parse_envelope(body: Any) -> list[dict[str, Any]] | None:
    """The `errors` list of a CF error envelope, or None when `body` is not one."""
    if not isinstance(body, dict):
        return None
    errors = body.get("errors")
    if not isinstance(errors, list) or not errors or not all(isinstance(e, dict) for e in errors):
        return None
    return errors


def error_from_response(response: httpx.Response) -> CapiError:
    """Build the matching CapiError subclass from an error response (its body must be read)."""
    status = response.status_code
    try:
        errors = parse_envelope(response.json())
    except (json.JSONDecodeError, UnicodeDecodeError):
        errors = None
    if errors is None:
        return error_class_for(status)(status, 0, f"HTTP {status}", response.text, response=response)
    first = errors[0]
    title = str(first.get("title", f"HTTP {status}"))
    try:
        code = int(first.get("code", 0))
    except (TypeError, ValueError):
        code = 0
    return error_class_for(status, title)(
        status, code, title, str(first.get("detail", "")), errors=errors, response=response
    )
