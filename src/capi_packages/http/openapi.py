"""The served OpenAPI document: list filters, hand-parsed bodies, every status and CF's error envelope.

Routes parse their bodies and queries themselves (to answer with CC's exact texts), so FastAPI
sees neither. Route decorators describe them here instead, with `openapi_extra=` and
`responses=`: what is written here documents, it never validates. `install` then completes each
operation with the statuses every route of its kind can answer (a token refused, a guid not
found, a body that does not parse, a database or blobstore failure), all with CF's envelope.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, get_type_hints

from fastapi import FastAPI, Response
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts

from capi_packages.http.dependencies import get_claims
from capi_packages.listing import PAGE_DEFAULT, PER_PAGE_DEFAULT, PER_PAGE_MAX, ListSpec

ERROR_REF = "#/components/schemas/CfErrors"
OAUTH_ERROR_REF = "#/components/schemas/OAuthError"
RESOURCE_REF = "#/components/schemas/Resource"
LIST_REF = "#/components/schemas/ResourceList"
JSON = "application/json"

STATUS_TEXTS: dict[int, str] = {
    200: "OK",
    201: "Created",
    202: "Accepted: the work goes on in a job, whose URL is in `Location`",
    204: "No Content",
    206: "Partial Content: the requested byte range",
    302: "Found: the file is at the URL in `Location` (signed, no token needed)",
    400: "Bad request: the body does not parse (CF-MessageParseError), a list query is invalid "
    "(CF-BadQueryParameter), or the request is refused as CC refuses it (CF-InvalidRequest, ...)",
    401: "No token, or a token that is invalid or expired (CF-NotAuthenticated, CF-InvalidAuthToken)",
    403: "The token may not do this: a missing scope, a read-only role, a disabled feature (CF-NotAuthorized, ...)",
    404: "No such resource, or one the user may not see (CF-ResourceNotFound)",
    413: "The body is larger than the service accepts (CF-PayloadTooLarge)",
    415: "The body's content type is not one this operation reads",
    416: "The requested byte range is outside the file",
    422: "The request is understood but cannot be done (CF-UnprocessableEntity and relatives)",
    500: "An unexpected failure (UnknownError); the log has the details under the request id",
    502: "The blobstore is unavailable (CF-BlobstoreUnavailable)",
    503: "The database is unavailable (CF-ServiceUnavailable)",
}

_ERROR_SCHEMAS: dict[str, Any] = {
    "CfError": {
        "type": "object",
        "required": ["code", "title", "detail"],
        "properties": {
            "code": {"type": "integer", "description": "CF's numeric error code (errors/v2.yml)", "examples": [10010]},
            "title": {
                "type": "string",
                "description": "`CF-` and the error's name",
                "examples": ["CF-ResourceNotFound"],
            },
            "detail": {"type": "string", "examples": ["Package not found"]},
        },
    },
    "CfErrors": {
        "type": "object",
        "description": "Every error answer: CF's envelope, one entry per problem",
        "required": ["errors"],
        "properties": {"errors": {"type": "array", "minItems": 1, "items": {"$ref": "#/components/schemas/CfError"}}},
    },
    "OAuthError": {
        "type": "object",
        "description": "The token endpoint answers errors as UAA (RFC 6749) does, not with CF's envelope",
        "required": ["error", "error_description"],
        "properties": {
            "error": {"type": "string", "examples": ["invalid_grant"]},
            "error_description": {"type": "string"},
        },
    },
    "Link": {
        "type": "object",
        "required": ["href"],
        "properties": {"href": {"type": "string", "format": "uri"}, "method": {"type": "string"}},
    },
    "Resource": {
        "type": "object",
        "description": "A v3 resource: its guid, timestamps and links, and the fields of its kind",
        "properties": {
            "guid": {"type": "string"},
            "created_at": {"type": "string", "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time"},
            "links": {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/Link"}},
        },
        "additionalProperties": True,
    },
    "Pagination": {
        "type": "object",
        "required": ["total_results", "total_pages", "first", "last", "next", "previous"],
        "properties": {
            "total_results": {"type": "integer", "minimum": 0},
            "total_pages": {"type": "integer", "minimum": 1},
            "first": {"$ref": "#/components/schemas/Link"},
            "last": {"$ref": "#/components/schemas/Link"},
            "next": {"anyOf": [{"$ref": "#/components/schemas/Link"}, {"type": "null"}]},
            "previous": {"anyOf": [{"$ref": "#/components/schemas/Link"}, {"type": "null"}]},
        },
    },
    "ResourceList": {
        "type": "object",
        "required": ["pagination", "resources"],
        "properties": {
            "pagination": {"$ref": "#/components/schemas/Pagination"},
            "resources": {"type": "array", "items": {"$ref": "#/components/schemas/Resource"}},
        },
    },
}

_TIMESTAMP_HINT = "a timestamp YYYY-MM-DDThh:mm:ssZ, or a comma-separated list of them"


def _query(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema or {"type": "string"},
    }


def query_parameters(**descriptions: str) -> dict[str, Any]:
    """`openapi_extra` for scalar query parameters a route reads itself."""
    return {"parameters": [_query(name, text) for name, text in descriptions.items()]}


def list_parameters(spec: ListSpec) -> dict[str, Any]:
    """`openapi_extra` for a list route: pagination, order_by and each filter `spec` accepts."""
    refused = set(spec.nested_forbidden)
    params: list[dict[str, Any]] = []
    if "page" in spec.allowed:
        params.append(
            _query("page", "Page to show, from 1", {"type": "integer", "minimum": 1, "default": PAGE_DEFAULT})
        )
    if "per_page" in spec.allowed:
        per_page = {"type": "integer", "minimum": 1, "maximum": PER_PAGE_MAX, "default": PER_PAGE_DEFAULT}
        params.append(_query("per_page", "Results per page", per_page))
    if "order_by" in spec.allowed:
        orders = [f"{sign}{field}" for field in spec.order_by_fields for sign in ("", "+", "-")]
        params.append(
            _query("order_by", "Sort field; a leading `-` sorts descending", {"type": "string", "enum": orders})
        )
    for name in spec.allowed:
        if name in ("page", "per_page", "order_by") or name in refused:
            continue
        if name in spec.timestamp_filters:
            params.append(_query(name, f"Created or updated at {_TIMESTAMP_HINT}"))
            params += [
                _query(f"{name}[{op}]", f"`{op}` {_TIMESTAMP_HINT.split(',')[0]}") for op in ("lt", "lte", "gt", "gte")
            ]
        elif name == "label_selector":
            params.append(_query(name, "Kubernetes-style label selector, e.g. `env=prod,tier!=web,!deprecated`"))
        elif name in spec.array_filters:
            params.append(_query(name, "Comma-separated list of values to match"))
            if name in spec.exclusion_filters:
                params.append(_query(f"{name}[not]", "Comma-separated list of values to exclude"))
        else:
            params.append(_query(name, "Value to match"))
    # A list query CC refuses is a 400 (CF-BadQueryParameter) on every list.
    return {"parameters": params, "responses": {"400": responses(400)[400]}}


def json_body(schema: dict[str, Any], *, required: bool = True) -> dict[str, Any]:
    """`openapi_extra` for a JSON body the route parses itself; the schema only documents it."""
    return {"requestBody": {"required": required, "content": {JSON: {"schema": schema}}}}


def body(content: dict[str, Any], *, required: bool = True) -> dict[str, Any]:
    """`openapi_extra` for a body in another media type (multipart, YAML, a form)."""
    return {"requestBody": {"required": required, "content": content}}


def responses(*statuses: int, location: bool = False, media_type: str | None = None) -> dict[int | str, Any]:
    """`responses=` for statuses beyond the ones every route of its kind answers.

    `location` marks answers that carry a `Location` header; `media_type` names a success
    body that is not JSON (a zip, YAML)."""
    answers: dict[int | str, Any] = {}
    for status in statuses:
        answer: dict[str, Any] = {"description": STATUS_TEXTS[status]}
        if location:
            answer["headers"] = {"Location": {"schema": {"type": "string", "format": "uri"}}}
        if status >= 400:
            answer["content"] = {JSON: {"schema": {"$ref": ERROR_REF}}}
        elif media_type is not None:
            answer["content"] = {media_type: {"schema": {"type": "string", "format": "binary"}}}
        answers[status] = answer
    return answers


def oauth_errors(*statuses: int) -> dict[int | str, Any]:
    """`responses=` for the token endpoint's errors, in UAA's shape."""
    return {
        s: {"description": STATUS_TEXTS[s], "content": {JSON: {"schema": {"$ref": OAUTH_ERROR_REF}}}} for s in statuses
    }


def operation_id(route: APIRoute) -> str:
    """Operation ids are the handlers' names (`list_packages`, `upload_package_bits`): FastAPI's
    snake_case, without the path and method it appends by default."""
    return route.name


# Nested paths that CC's API reference files under the nested resource, not the parent.
_NESTED_TAGS = {
    "packages": "packages",
    "processes": "processes",
    "droplets": "droplets",
    "routes": "routes",
    "sidecars": "sidecars",
    "manifest": "manifests",
    "manifest_diff": "manifests",
    "apply_manifest": "manifests",
}


def _tag(path: str) -> str:
    parts = [p for p in path.split("/") if p and not p.startswith("{")]
    if not parts:
        return "root"
    if parts[0] == "blobs":
        return "packages"
    if parts[0] != "v3":
        return "login"
    if len(parts) == 1:
        return "root"
    return next((_NESTED_TAGS[p] for p in parts[2:] if p in _NESTED_TAGS), parts[1])


def install(app: FastAPI) -> None:
    """Serve FastAPI's document completed with the error envelope and the statuses of each route."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = generate()
            routes = iter_route_contexts(app.routes)
            complete(document, (r for r in routes if isinstance(r.original_route, APIRoute) and r.include_in_schema))
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]


def complete(document: dict[str, Any], routes: Iterable[RouteContext]) -> None:
    components = document.setdefault("components", {}).setdefault("schemas", {})
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    components.update(_ERROR_SCHEMAS)
    document.setdefault("components", {})["securitySchemes"] = {
        "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    }
    for route in routes:
        path = str(route.path_format)
        for method in route.methods or ():
            _complete_operation(document["paths"][path][method.lower()], route, path, method)


def _complete_operation(operation: dict[str, Any], route: RouteContext, path: str, method: str) -> None:
    parameters: list[dict[str, Any]] = operation.get("parameters", [])
    operation.setdefault("tags", [_tag(path)])
    answers: dict[str, Any] = operation.setdefault("responses", {})
    success = str(route.status_code or 200)
    listing = any(p.get("name") == "per_page" for p in operation.get("parameters", []))
    if success in answers and answers[success].get("description") == "Successful Response":
        answer = answers[success]
        answer["description"] = STATUS_TEXTS[int(success)]
        content = _json_content(answer)
        if success == "202" and _answers_itself(route):
            # A job was started: no body, the job's URL in Location (deletes, apply_manifest).
            answer.pop("content", None)
            answer["headers"] = {"Location": {"schema": {"type": "string", "format": "uri"}}}
        elif content is None:
            answer.pop("content", None)
        elif not _documented(content.get("schema")):
            content["schema"] = {"$ref": LIST_REF if listing else RESOURCE_REF}
    for status, answer in answers.items():
        content = answer.get("content", {})
        placeholder = [k for k, v in content.items() if k.startswith(JSON) and not _documented(v.get("schema"))]
        if int(status) < 400 and len(content) > len(placeholder) and placeholder:
            # A download's body is the file; FastAPI's placeholder JSON body would say otherwise.
            del content[placeholder[0]]
    # FastAPI adds a 422 (its validation-error schema) to every operation with parameters; ours
    # parse their own input, so a 422 is CF's envelope and only where a route can answer one.
    if answers.get("422", {}).get("description") == "Validation Error":
        del answers["422"]
    errors = {500, 503}
    if _needs_token(route.dependant):
        errors |= {401, 403}
        operation["security"] = [{"bearer": []}]
        # CC refuses business rules, bad list queries of some resources and includes with a 422;
        # a plain read of one resource by its guid is the only kind that never does.
        if "requestBody" in operation or method != "GET" or any(p["in"] == "query" for p in parameters):
            errors.add(422)
    if route.param_convertors:
        errors.add(404)
    if "requestBody" in operation:
        errors |= {400, 413}
    for error in sorted(errors):
        answers.setdefault(str(error), responses(error)[error])
    for answer in answers.values():
        content = answer.get("content", {})
        for media_type in [k for k in content if k.startswith(JSON) and k != JSON]:
            content[JSON] = content.pop(media_type)
    operation["responses"] = dict(sorted(answers.items()))


def _answers_itself(route: RouteContext) -> bool:
    """The handler builds its own Response rather than a body for the default JSON response."""
    return get_type_hints(route.endpoint).get("return") is Response


def _json_content(answer: dict[str, Any]) -> dict[str, Any] | None:
    return next((v for k, v in answer.get("content", {}).items() if k.startswith(JSON)), None)


def _documented(schema: Any) -> bool:
    # FastAPI's schema for a handler typed `-> Any` is empty but for its title.
    return bool(schema) and set(schema) != {"title"}


def _needs_token(dependant: Dependant) -> bool:
    return any(d.call is get_claims or _needs_token(d) for d in dependant.dependencies)
