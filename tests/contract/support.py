"""Reading the two OpenAPI documents beside the project, and checking our answers against them.

Both documents live in `../shared` (read-only; never copied into the project):
- `reference/cc-openapi/`: the Cloud Controller's OpenAPI 3.1, split over many YAML files whose
  `$ref`s point across files (`../components/schemas/Package.yaml`);
- `seed/openapi.yaml`: the community spec (CAPI 3.195.0) the seed's Go client was generated from.

`OpenApi` resolves `$ref`s itself (file + JSON pointer) to find an operation's response, and hands
jsonschema a `referencing.Registry` that loads any YAML file by URI, so schemas validate with
their cross-file references intact. `shape_problems` walks a schema the way a strict generated
client decodes: a key the schema does not describe, a missing required key, a wrong JSON type or
a malformed date-time/uri/uuid is a problem.
"""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urldefrag, urljoin, urlsplit
from urllib.request import url2pathname

import pytest
import yaml
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
CC_OPENAPI = SHARED / "reference" / "cc-openapi" / "openapi.yaml"
SEED_OPENAPI = SHARED / "seed" / "openapi.yaml"


def require_file(path: Path) -> None:
    """Skip the calling test module when `path` (beside the project, in ../shared) is missing."""
    if not path.is_file():
        pytest.skip(f"{path} is not present beside the project", allow_module_level=True)


# --- formats, asserted (jsonschema only annotates them unless told) ------------------------------
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})", re.ASCII)


def is_rfc3339(value: str) -> bool:
    """RFC 3339 date-time *with a zone* (`Z` or ±hh:mm); a naive isoformat() is refused."""
    if not _RFC3339.fullmatch(value):
        return False
    try:
        parsed = datetime.fromisoformat(value.upper())  # 3.11 reads a trailing Z
    except ValueError:
        return False
    return parsed.tzinfo is not None


def is_absolute_uri(value: str) -> bool:
    parts = urlsplit(value)
    return bool(parts.scheme) and bool(parts.netloc)


def is_uuid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value.lower() and len(value) == 36
    except ValueError:
        return False


FORMAT_CHECKS = {"date-time": is_rfc3339, "uri": is_absolute_uri, "uuid": is_uuid}
FORMAT_CHECKER = FormatChecker(formats=())
for _name, _check in FORMAT_CHECKS.items():
    FORMAT_CHECKER.checks(_name)(lambda v, _check=_check: not isinstance(v, str) or _check(v))


# --- YAML documents and $ref resolution ----------------------------------------------------------
class _JsonLikeLoader(yaml.SafeLoader):
    """SafeLoader that keeps unquoted timestamps as strings, as JSON would see them."""


_JsonLikeLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@functools.cache
def load_yaml(uri: str) -> Any:
    path = Path(url2pathname(urlsplit(uri).path))
    with path.open(encoding="utf-8") as f:
        return yaml.load(f, Loader=_JsonLikeLoader)  # a SafeLoader subclass


def _retrieve(uri: str) -> Resource[Any]:
    return DRAFT202012.create_resource(load_yaml(uri))


def _pointer(document: Any, fragment: str) -> Any:
    """RFC 6901 pointer lookup. CC's openapi.yaml mounts `./paths/Root.yaml#/`, which strictly
    names the key "" of Root.yaml; it means the whole document, so "/" falls back to that."""
    fragment = unquote(fragment)
    if fragment in ("", "/") and (not isinstance(document, dict) or "" not in document):
        return document
    node = document
    for raw in fragment.lstrip("/").split("/"):
        key = raw.replace("~1", "/").replace("~0", "~")
        node = node[int(key)] if isinstance(node, list) else node[key]
    return node


def child(uri: str, *segments: str) -> str:
    """The URI of a node below `uri` (which names a node as file#pointer)."""
    base, fragment = urldefrag(uri)
    escaped = "/".join(s.replace("~", "~0").replace("/", "~1") for s in segments)
    return f"{base}#{fragment.rstrip('/')}/{escaped}"


class OpenApi:
    """One OpenAPI document (possibly split over files), addressed by `file://…#pointer` URIs."""

    def __init__(self, root: Path) -> None:
        self.root_uri = root.resolve().as_uri()
        self.registry: Registry[Any] = Registry(retrieve=_retrieve)  # type: ignore[call-arg]

    def node(self, uri: str) -> Any:
        base, fragment = urldefrag(uri)
        return _pointer(load_yaml(base), fragment)

    def follow(self, uri: str) -> tuple[str, Any]:
        """Follow a chain of pure `$ref` nodes; return the final URI and node."""
        for _ in range(50):
            node = self.node(uri)
            if not (isinstance(node, dict) and set(node) == {"$ref"}):
                return uri, node
            uri = urljoin(urldefrag(uri)[0], node["$ref"])
        raise AssertionError(f"$ref loop at {uri}")

    # --- operations and responses ----------------------------------------------------------------
    def path_item(self, path: str, document: str | None = None) -> str:
        """The URI of a path item: from the root document's `paths`, or from `document` (relative
        to the root) for a path item that the root does not mount."""
        uri = urljoin(self.root_uri, document) if document else self.root_uri
        paths_uri = child(f"{uri}#", "paths") if not document else f"{uri}#"
        paths = self.node(paths_uri)
        assert path in paths, f"{path} is not described in {paths_uri}"
        return self.follow(child(paths_uri, path))[0]

    def declared_statuses(self, path: str, method: str, document: str | None = None) -> set[str]:
        op = self.node(child(self.path_item(path, document), method))
        return {str(code) for code in op["responses"]}

    def response(self, path: str, method: str, status: int | str, document: str | None = None) -> tuple[str, Any]:
        item = self.path_item(path, document)
        op_uri, op = self.follow(child(item, method))
        responses = op["responses"]
        key = next((k for k in responses if str(k) == str(status)), None)
        assert key is not None, f"{method.upper()} {path} declares no {status} (only {sorted(map(str, responses))})"
        return self.follow(child(op_uri, "responses", str(key)))

    def response_schema(
        self,
        path: str,
        method: str,
        status: int | str,
        document: str | None = None,
        media_type: str = "application/json",
    ) -> str:
        uri, response = self.response(path, method, status, document)
        assert media_type in response.get("content", {}), f"{method.upper()} {path} {status}: no {media_type} body"
        return child(uri, "content", media_type, "schema")

    def component(self, relative: str) -> str:
        """A schema file (CC: `components/schemas/Errors.yaml`) or pointer (seed: `#/components/…`)."""
        uri = urljoin(self.root_uri, relative)
        return uri if "#" in uri else f"{uri}#"

    # --- validation ----------------------------------------------------------------------------
    def validator(self, schema_uri: str) -> Draft202012Validator:
        return Draft202012Validator({"$ref": schema_uri}, registry=self.registry, format_checker=FORMAT_CHECKER)

    def errors(self, instance: Any, schema_uri: str) -> list[str]:
        found = sorted(self.validator(schema_uri).iter_errors(instance), key=lambda e: list(e.absolute_path))
        return [f"{e.json_path}: {e.message}" for e in found]

    def validate(self, instance: Any, schema_uri: str) -> None:
        problems = self.errors(instance, schema_uri)
        assert not problems, "\n".join(problems)


# --- a strict client's view of a schema ----------------------------------------------------------
_JSON_TYPES: dict[str, Any] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


@functools.cache
def _flatten(spec: OpenApi, uri: str) -> tuple[tuple[str, Any], ...]:
    """The schema at `uri` as the list of (uri, node) parts that must all hold (allOf and `$ref`
    next to other keywords, as in OpenAPI 3.1, are conjunctions)."""
    uri, node = spec.follow(uri)
    if not isinstance(node, dict):
        return ((uri, node),)
    parts: list[tuple[str, Any]] = []
    own = {k: v for k, v in node.items() if k not in ("$ref", "allOf")}
    parts.append((uri, own))
    if "$ref" in node:
        parts += _flatten(spec, urljoin(urldefrag(uri)[0], node["$ref"]))
    for i, _ in enumerate(node.get("allOf", [])):
        parts += _flatten(spec, child(uri, "allOf", str(i)))
    return tuple(parts)


def described_keys(spec: OpenApi, uri: str) -> dict[str, str]:
    """Property name → schema URI, merged over allOf; empty for a free-form object."""
    keys: dict[str, str] = {}
    for part_uri, part in _flatten(spec, uri):
        for name in part.get("properties", {}) if isinstance(part, dict) else ():
            keys.setdefault(name, child(part_uri, "properties", name))
    return keys


def shape_problems(
    spec: OpenApi, instance: Any, uri: str, where: str = "$", *, null_anywhere: bool = False
) -> list[str]:
    """What a strict decoder generated from the schema at `uri` would refuse in `instance`.

    - an object whose schema lists `properties` is closed: any other key is a problem, unless the
      schema says `additionalProperties` (true, or a schema for the values);
    - a `required` key that is missing is a problem;
    - `type` (3.0 `nullable`, 3.1 type lists), `oneOf`/`anyOf` branches and the formats date-time,
      uri and uuid are checked. `null_anywhere` accepts null for any value (Go decodes null into
      the zero value, so the seed's client takes it even where the schema does not say nullable).
    """
    parts = _flatten(spec, uri)
    problems: list[str] = []
    nullable = null_anywhere or any(p.get("nullable") for _, p in parts if isinstance(p, dict))
    if instance is None and nullable:
        return []
    for part_uri, part in parts:
        if not isinstance(part, dict):
            continue
        declared = part.get("type")
        if declared is not None:
            allowed = declared if isinstance(declared, list) else [declared]
            if not any(_JSON_TYPES[t](instance) for t in allowed):
                problems.append(f"{where}: {type(instance).__name__} where the schema says {declared}")
                return problems
        fmt = part.get("format")
        if isinstance(instance, str) and fmt in FORMAT_CHECKS and not FORMAT_CHECKS[fmt](instance):
            problems.append(f"{where}: {instance!r} is not a valid {fmt}")
        if "enum" in part and instance not in part["enum"]:
            problems.append(f"{where}: {instance!r} is not one of {part['enum']}")
        for keyword in ("oneOf", "anyOf"):
            if keyword in part:
                branches = [
                    shape_problems(spec, instance, child(part_uri, keyword, str(i)), where, null_anywhere=null_anywhere)
                    for i in range(len(part[keyword]))
                ]
                if all(branches):
                    problems.append(f"{where}: matches no {keyword} branch: {branches}")
        if isinstance(instance, list) and "items" in part:
            for i, item in enumerate(instance):
                problems += shape_problems(
                    spec, item, child(part_uri, "items"), f"{where}[{i}]", null_anywhere=null_anywhere
                )
    if isinstance(instance, dict):
        problems += _object_problems(spec, instance, parts, where, null_anywhere)
    return problems


def _object_problems(
    spec: OpenApi, instance: dict[str, Any], parts: tuple[tuple[str, Any], ...], where: str, null_anywhere: bool
) -> list[str]:
    problems: list[str] = []
    properties: dict[str, str] = {}
    required: set[str] = set()
    extra_schema: str | None = None
    extra_allowed = False
    for part_uri, part in parts:
        if not isinstance(part, dict):
            continue
        for name in part.get("properties", {}):
            properties.setdefault(name, child(part_uri, "properties", name))
        required |= set(part.get("required", []))
        additional = part.get("additionalProperties")
        if isinstance(additional, dict):
            extra_schema = child(part_uri, "additionalProperties")
        elif additional is True:
            extra_allowed = True
    for name in sorted(required - set(instance)):
        problems.append(f"{where}: missing required key {name!r}")
    closed = bool(properties) and not extra_allowed and extra_schema is None
    for name, value in instance.items():
        if name in properties:
            problems += shape_problems(spec, value, properties[name], f"{where}.{name}", null_anywhere=null_anywhere)
        elif extra_schema is not None:
            problems += shape_problems(spec, value, extra_schema, f"{where}.{name}", null_anywhere=null_anywhere)
        elif closed:
            problems.append(f"{where}.{name}: unexpected key")
    return problems


# --- walking our own answers ----------------------------------------------------------------------
def walk(value: Any, where: str = "$") -> Iterator[tuple[str, Any]]:
    """Every (json path, value) in a JSON document, parents first."""
    yield where, value
    if isinstance(value, dict):
        for k, v in value.items():
            yield from walk(v, f"{where}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from walk(v, f"{where}[{i}]")


def link_objects(body: Any) -> Iterator[tuple[str, Any]]:
    """Every value under a `links` object, and the pagination links (first/last/next/previous)."""
    for where, value in walk(body):
        if isinstance(value, dict) and isinstance(value.get("links"), dict):
            for name, link in value["links"].items():
                yield f"{where}.links.{name}", link
        if isinstance(value, dict) and isinstance(value.get("pagination"), dict):
            for name in ("first", "last", "next", "previous"):
                if value["pagination"].get(name) is not None:
                    yield f"{where}.pagination.{name}", value["pagination"][name]


def timestamps(body: Any) -> Iterator[tuple[str, Any]]:
    for where, value in walk(body):
        if where.endswith((".created_at", ".updated_at")):
            yield where, value


def media_type(response: Any) -> str:
    return response.headers.get("content-type", "").split(";")[0].strip().lower()
