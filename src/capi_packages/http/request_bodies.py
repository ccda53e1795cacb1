"""JSON Schemas of the request bodies the routes parse themselves: documentation, never a validator.

The feature's parser (`parse_package_create`, `validate_match_request`, ...) decides what is
accepted and words the refusal as CC does; these schemas tell readers and generated clients the
shape those parsers accept. Each is handed to `openapi.json_body` in a route's decorator.
"""

from __future__ import annotations

from typing import Any

from capi_packages.http.openapi import body

_GUID = {"type": "string", "description": "A resource guid"}


def _obj(properties: dict[str, Any], *, required: tuple[str, ...] = (), description: str = "") -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = list(required)
    if description:
        schema["description"] = description
    return schema


def to_one(description: str) -> dict[str, Any]:
    return _obj(
        {"data": {"anyOf": [_obj({"guid": _GUID}, required=("guid",)), {"type": "null"}]}}, description=description
    )


METADATA = _obj(
    {
        "labels": {"type": "object", "additionalProperties": {"type": ["string", "null"]}},
        "annotations": {"type": "object", "additionalProperties": {"type": ["string", "null"]}},
    },
    description="Labels and annotations; a null value removes the key",
)
_NAME = {"type": "string", "minLength": 1, "maxLength": 255}
_DOCKER_DATA = _obj(
    {
        "image": {"type": "string", "description": "The image reference, for type docker"},
        "username": {"type": ["string", "null"], "description": "Registry user name"},
        "password": {"type": ["string", "null"], "description": "Registry password (never shown back)"},
    }
)

PACKAGE_CREATE = _obj(
    {
        "type": {"type": "string", "enum": ["bits", "docker"]},
        "relationships": _obj({"app": to_one("The app the package belongs to")}, required=("app",)),
        "data": _DOCKER_DATA,
        "metadata": METADATA,
    },
    required=("type", "relationships"),
)
PACKAGE_COPY = _obj(
    {"relationships": _obj({"app": to_one("The app that receives the copy")}, required=("app",))},
    required=("relationships",),
)
PACKAGE_UPDATE = _obj(
    {
        "metadata": METADATA,
        "data": _obj(
            {"username": _DOCKER_DATA["properties"]["username"], "password": _DOCKER_DATA["properties"]["password"]}
        ),
    }
)
PACKAGE_CREATE_OR_COPY = {
    "description": "A new package, or with `?source_guid=` the app that receives a copy of that package",
    "anyOf": [PACKAGE_CREATE, PACKAGE_COPY],
}

_FINGERPRINT = _obj(
    {
        "checksum": _obj({"value": {"type": "string", "minLength": 40, "maxLength": 40}}, required=("value",)),
        "size_in_bytes": {"type": "integer", "minimum": 0},
        "path": {"type": "string"},
        "mode": {"type": ["string", "null"], "pattern": "^[0-7]+$", "description": "Octal file mode, e.g. 644"},
    },
    required=("checksum", "size_in_bytes"),
)
RESOURCE_MATCH = _obj(
    {"resources": {"type": "array", "minItems": 1, "maxItems": 5000, "items": _FINGERPRINT}}, required=("resources",)
)
UPLOAD = body(
    {
        "multipart/form-data": {
            "schema": _obj(
                {
                    "bits": {"type": "string", "format": "binary", "description": "A zip of the files not matched"},
                    "resources": {
                        "type": "string",
                        "description": "JSON array of fingerprints (as in resource_matches) to take from the cache",
                    },
                }
            )
        },
        "application/json": {"schema": _obj({"resources": {"type": "array", "items": _FINGERPRINT}})},
    }
)

ORGANIZATION = _obj({"name": _NAME, "suspended": {"type": "boolean"}, "metadata": METADATA})
ORGANIZATION_CREATE = {**ORGANIZATION, "required": ["name"]}
SPACE_CREATE = _obj(
    {
        "name": _NAME,
        "relationships": _obj({"organization": to_one("The space's organization")}, required=("organization",)),
        "metadata": METADATA,
    },
    required=("name", "relationships"),
)
SPACE_UPDATE = _obj({"name": _NAME, "metadata": METADATA})
_LIFECYCLE = _obj(
    {
        "type": {"type": "string", "enum": ["buildpack", "docker", "cnb"]},
        "data": _obj(
            {"buildpacks": {"type": "array", "items": {"type": "string"}}, "stack": {"type": ["string", "null"]}}
        ),
    }
)
ENVIRONMENT_VARIABLES = {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean", "null"]}}
APP_CREATE = _obj(
    {
        "name": _NAME,
        "relationships": _obj({"space": to_one("The app's space")}, required=("space",)),
        "lifecycle": _LIFECYCLE,
        "environment_variables": ENVIRONMENT_VARIABLES,
        "metadata": METADATA,
    },
    required=("name", "relationships"),
)
APP_UPDATE = _obj({"name": _NAME, "lifecycle": _LIFECYCLE, "metadata": METADATA})
ENVIRONMENT_VARIABLES_UPDATE = _obj(
    {"var": {**ENVIRONMENT_VARIABLES, "description": "Variables to set; a null value removes one"}}, required=("var",)
)
BUILD_CREATE = _obj({"package": _obj({"guid": _GUID}, required=("guid",))}, required=("package",))

_USER_BY_NAME = _obj({"username": {"type": "string"}, "origin": {"type": "string"}}, required=("username",))
_ROLE_USER = _obj({"data": {"anyOf": [_obj({"guid": _GUID}, required=("guid",)), _USER_BY_NAME]}}, required=("data",))
ROLE_CREATE = _obj(
    {
        "type": {"type": "string", "description": "e.g. space_developer, organization_manager"},
        "relationships": _obj(
            {"user": _ROLE_USER, "space": to_one("For a space role"), "organization": to_one("For an org role")},
            required=("user",),
        ),
    },
    required=("type", "relationships"),
)
USER_CREATE = _obj(
    {
        "guid": {"type": "string", "minLength": 1, "maxLength": 200},
        "username": {"type": "string"},
        "origin": {"type": "string"},
        "metadata": METADATA,
    },
    description="Either the user's guid, or a username with its origin",
)

_HEALTH_CHECK = _obj(
    {
        "type": {"type": "string", "enum": ["port", "process", "http"]},
        "data": _obj(
            {
                "timeout": {"type": ["integer", "null"], "minimum": 1},
                "invocation_timeout": {"type": ["integer", "null"], "minimum": 1},
                "interval": {"type": ["integer", "null"], "minimum": 1},
                "endpoint": {"type": ["string", "null"]},
            }
        ),
    }
)
PROCESS_UPDATE = _obj(
    {
        "command": {"type": ["string", "null"], "minLength": 1, "maxLength": 4096},
        "user": {"type": ["string", "null"], "minLength": 1, "maxLength": 255},
        "health_check": _HEALTH_CHECK,
        "readiness_health_check": _HEALTH_CHECK,
        "metadata": METADATA,
    }
)
PROCESS_SCALE = _obj(
    {
        "instances": {"type": "integer", "minimum": 0},
        "memory_in_mb": {"type": "integer", "exclusiveMinimum": 0},
        "disk_in_mb": {"type": "integer", "exclusiveMinimum": 0},
        "log_rate_limit_in_bytes_per_second": {"type": "integer", "minimum": -1},
    }
)

MANIFEST = body(
    {
        "application/x-yaml": {
            "schema": {"type": "string", "description": "A cf manifest: `applications:` and their settings"}
        }
    }
)
TOKEN_REQUEST = body(
    {
        "application/x-www-form-urlencoded": {
            "schema": {
                "type": "object",
                "properties": {
                    "grant_type": {"type": "string", "enum": ["password", "refresh_token", "client_credentials"]},
                    "username": {"type": "string"},
                    "password": {"type": "string"},
                    "refresh_token": {"type": "string"},
                    "client_id": {"type": "string"},
                    "client_secret": {"type": "string"},
                },
                "required": ["grant_type"],
            }
        }
    }
)
