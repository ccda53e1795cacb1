"""Request-message checks shared by every resource, worded as CC's message validators word them."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from capi_packages.errors import UnprocessableEntity

APP_RELATIONSHIP_SHAPE = 'must be structured like this: "{0}: {{"data": {{"guid": "valid-guid"}}}}"'


def timestamp(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def require_object(body: Any) -> dict[str, Any]:
    """A JSON body that is not an object cannot carry any field; report it as CC's parser does."""
    if not isinstance(body, dict):
        raise UnprocessableEntity("Request body must be an object")
    return body


def unknown_fields(body: dict[str, Any], allowed: tuple[str, ...]) -> list[str]:
    extra = [k for k in body if k not in allowed]
    if not extra:
        return []
    return ["Unknown field(s): " + ", ".join(f"'{k}'" for k in extra)]


def to_one_relationship(
    relationships: Any, name: str, *, prefix: str = "Relationships", allowed: tuple[str, ...] | None = None
) -> tuple[list[str], str | None]:
    """Validate relationships.<name>.data.guid; returns (messages, guid)."""
    label = name.capitalize()
    if not isinstance(relationships, dict):
        return [f"{prefix} 'relationships' is not an object"], None
    if not relationships:
        return [f"{prefix} 'relationships' must include one or more valid relationships"], None
    msgs: list[str] = []
    extra = [k for k in relationships if k not in (allowed or (name,))]
    if extra:
        msgs.append(f"{prefix} Unknown field(s): " + ", ".join(f"'{k}'" for k in extra))
    shape = f"{prefix} {label} " + APP_RELATIONSHIP_SHAPE.format(name)
    if name not in relationships or relationships[name] is None:
        msgs += [f"{prefix} {label} can't be blank", shape]
        return msgs, None
    rel = relationships[name]
    if not isinstance(rel, dict) or set(rel) != {"data"}:
        return [*msgs, shape], None
    data = rel["data"]
    if data is None:
        return msgs, None
    if not isinstance(data, dict) or set(data) != {"guid"}:
        return [*msgs, shape], None
    guid = data["guid"]
    if not isinstance(guid, str):
        msgs += [
            f"{prefix} {label} guid must be a string",
            f"{prefix} {label} guid must be between 1 and 200 characters",
        ]
        return msgs, None
    if not 1 <= len(guid) <= 200:
        msgs.append(f"{prefix} {label} guid must be between 1 and 200 characters")
        return msgs, None
    return msgs, guid


def name_field(body: dict[str, Any], *, required: bool = True, max_len: int = 255) -> list[str]:
    if "name" not in body or body["name"] is None:
        return ["Name can't be blank"] if required else []
    name = body["name"]
    if not isinstance(name, str):
        return ["Name must be a string"]
    if not name.strip():
        return ["Name can't be blank"]
    if len(name) > max_len:
        return [f"Name is too long (maximum is {max_len} characters)"]
    return []


def raise_if(messages: list[str]) -> None:
    if messages:
        raise UnprocessableEntity(messages)


_RESERVED_ENV = (("VCAP_", "cannot start with VCAP_"), ("VMC", "cannot start with VMC_"))


def env_var_messages(value: Any, label: str, *, string_values: bool) -> list[str]:
    """CC's environment variable validators: keys only, or keys and string values."""
    if not isinstance(value, dict):
        return [f"{label} must be an object"]
    msgs: list[str] = []
    for key, inner in value.items():
        if not isinstance(key, str):
            msgs.append(f"{label} key must be a string")
        elif not key:
            msgs.append(f"{label} key must be a minimum length of 1")
        elif reserved := next((m for prefix, m in _RESERVED_ENV if key.upper().startswith(prefix)), None):
            msgs.append(f"{label} {reserved}")
        elif key.upper() == "PORT":
            msgs.append(f"{label} cannot set PORT")
        elif string_values and inner is not None and not isinstance(inner, str):
            shown = json.dumps(inner, separators=(",", ":"))
            msgs.append(f"Non-string value in environment variable for key '{key}', value '{shown}'")
    return msgs
