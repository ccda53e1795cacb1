"""Parsing a manifest body: PyYAML's safe loader with aliases refused, as CC's Psych.safe_load does."""

from __future__ import annotations

import json
from typing import Any

import yaml

from capi_packages.errors import BadRequest, MessageParseError, UnprocessableEntity

MAX_MANIFEST_BYTES = 1024 * 1024  # CC: "The maximum supported size is 1MB."
YAML_CONTENT_TYPES = ("application/x-yaml", "application/yaml", "text/yaml", "text/x-yaml")


class _NoAliasLoader(yaml.SafeLoader):
    """Refuses aliases before composing them, so a billion-laughs document never expands."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            raise _AliasFound()
        return super().compose_node(parent, index)


class _AliasFound(Exception):
    pass


# YAML 1.1 timestamps and sexagesimal numbers would turn strings into other types; CC's
# strict_integer reads only plain integers, so everything else that is not a bool/null/int/float
# stays a string.
for _tag in ("tag:yaml.org,2002:timestamp",):
    _NoAliasLoader.yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag != _tag]
        for first, resolvers in _NoAliasLoader.yaml_implicit_resolvers.copy().items()
    }


def check_content_type(content_type: str | None) -> None:
    media = (content_type or "").split(";")[0].strip().lower()
    if media not in YAML_CONTENT_TYPES:
        raise BadRequest("Content-Type must be yaml")


def load_manifest(body: bytes) -> dict[str, Any]:
    """The parsed document; a mapping with a supported version and a non-empty `applications`."""
    if len(body) > MAX_MANIFEST_BYTES:
        raise BadRequest("Manifest size is too large. The maximum supported size is 1MB.")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as e:
        raise MessageParseError("Invalid UTF-8 encoding in YAML data") from e
    try:
        document = yaml.load(text, Loader=_NoAliasLoader)  # noqa: S506 - a SafeLoader subclass
    except _AliasFound as e:
        raise BadRequest("Manifest does not support Anchors and Aliases") from e
    except (yaml.YAMLError, RecursionError, ValueError) as e:
        raise MessageParseError() from e
    if not isinstance(document, dict):
        raise MessageParseError()
    try:
        # Tags such as !!binary or !!set build values JSON (and the job that applies them) cannot hold.
        json.dumps(document)
    except (TypeError, ValueError) as e:
        raise MessageParseError() from e
    version = document.get("version")
    if version is not None and version != 1:
        raise UnprocessableEntity("Unsupported manifest schema version. Currently supported versions: [1].")
    applications = document.get("applications")
    if not applications:
        raise UnprocessableEntity("Cannot parse manifest with no 'applications' field.")
    if not isinstance(applications, list):
        raise UnprocessableEntity("Cannot parse manifest with no 'applications' field.")
    return document
