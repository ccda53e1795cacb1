"""Package wire format: the create/update messages coming in, the package object going out."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from capi_packages.http.urls import UrlBuilder
from capi_packages.listing import ListSpec
from capi_packages.messages import require_object, timestamp, to_one_relationship, unknown_fields
from capi_packages.metadata.validation import validate_metadata
from capi_packages.packages.models import Package, PackageType

PACKAGES_LIST = ListSpec(
    allowed=[
        "page",
        "per_page",
        "order_by",
        "created_ats",
        "updated_ats",
        "guids",
        "states",
        "types",
        "app_guids",
        "app_guid",
        "space_guids",
        "organization_guids",
        "label_selector",
    ],
    array_filters={"guids", "states", "types", "app_guids", "space_guids", "organization_guids"},
)
APP_PACKAGES_LIST = replace(PACKAGES_LIST, nested_forbidden=["app_guids", "organization_guids", "space_guids"])
PACKAGE_DROPLETS_LIST = ListSpec(
    allowed=[
        "page",
        "per_page",
        "order_by",
        "created_ats",
        "updated_ats",
        "guids",
        "states",
        "app_guids",
        "space_guids",
        "organization_guids",
        "label_selector",
        "current",
    ],
    array_filters={"guids", "states", "app_guids", "space_guids", "organization_guids"},
    # `current` is a droplet filter elsewhere, refused (without the valid list) on a package's droplets.
    nested_forbidden=["current"],
)

PACKAGE_CREATE_KEYS = ("type", "relationships", "data", "metadata")
PACKAGE_UPDATE_KEYS = ("metadata", "username", "password")
DOCKER_DATA_KEYS = ("image", "username", "password")


@dataclass(frozen=True)
class PackageCreate:
    type: str
    app_guid: str | None
    image: str | None
    username: str | None
    password: str | None
    labels: dict[str, str | None]
    annotations: dict[str, str | None]


@dataclass(frozen=True)
class PackageUpdate:
    username: str | None
    password: str | None
    labels: dict[str, str | None]
    annotations: dict[str, str | None]


def _docker_data_messages(data: Any) -> list[str]:
    if data is None:
        return ["Data Image must be a string", "Data Image required"]
    if not isinstance(data, dict):
        # CC crashes (500) on a non-object here; we answer what is wrong instead.
        return ["Data must be an object"]
    msgs: list[str] = []
    extra = [k for k in data if k not in DOCKER_DATA_KEYS]
    if extra:
        msgs.append("Data Unknown field(s): " + ", ".join(f"'{k}'" for k in extra))
    if not isinstance(data.get("image"), str):
        msgs.append("Data Image must be a string")
    if "image" not in data:
        msgs.append("Data Image required")
    return msgs


def _metadata_parts(body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    metadata = body.get("metadata") or {}
    return dict(metadata.get("labels") or {}), dict(metadata.get("annotations") or {})


def parse_package_create(raw: Any) -> tuple[list[str], PackageCreate | None]:
    """Validators in CC's order: metadata, unknown keys, docker data, bits data, relationships, type."""
    body = require_object(raw)
    msgs: list[str] = []
    if "metadata" in body:
        msgs += validate_metadata(body["metadata"])
    msgs += unknown_fields(body, PACKAGE_CREATE_KEYS)
    type_ = body.get("type")
    data = body.get("data")
    if type_ == PackageType.DOCKER:
        msgs += _docker_data_messages(data)
    if type_ == PackageType.BITS and data not in (None, {}):
        msgs.append("Data Data must be empty if provided for bits packages")
    rel_msgs, app_guid = to_one_relationship(body.get("relationships"), "app")
    msgs += rel_msgs
    if type_ not in (PackageType.BITS, PackageType.DOCKER):
        msgs.append("Type must be one of 'bits, docker'")
    if msgs:
        return msgs, None
    assert isinstance(type_, str) and isinstance(data, dict | None)  # the validators above ensure it
    labels, annotations = _metadata_parts(body)
    docker = data if type_ == PackageType.DOCKER and data is not None else {}
    return [], PackageCreate(
        type=type_,
        app_guid=app_guid,
        image=docker.get("image"),
        username=_credential(docker.get("username")),
        password=_credential(docker.get("password")),
        labels=labels,
        annotations=annotations,
    )


def _credential(value: Any) -> str | None:
    # CC stores whatever JSON scalar came; we keep strings and render other scalars as text.
    if value is None or isinstance(value, str):
        return value
    return str(value)


def parse_package_update(raw: Any) -> tuple[list[str], PackageUpdate | None]:
    body = require_object(raw)
    msgs: list[str] = []
    if "metadata" in body:
        msgs += validate_metadata(body["metadata"])
    msgs += unknown_fields(body, PACKAGE_UPDATE_KEYS)
    if msgs:
        return msgs, None
    labels, annotations = _metadata_parts(body)
    return [], PackageUpdate(
        username=_credential(body.get("username")),
        password=_credential(body.get("password")),
        labels=labels,
        annotations=annotations,
    )


def package_resource(pkg: Package, urls: UrlBuilder, *, upload_method: bool = False) -> dict[str, Any]:
    """The 9 keys in CC's order; links carry only href unless CC's `method` is asked for."""
    if pkg.type == PackageType.BITS:
        checksum: dict[str, str | None]
        if pkg.sha256_checksum is None and pkg.package_hash is not None:
            checksum = {"type": "sha1", "value": pkg.package_hash}
        else:
            checksum = {"type": "sha256", "value": pkg.sha256_checksum}
        data: dict[str, Any] = {"error": pkg.error, "checksum": checksum}
    else:
        data = {
            "image": pkg.docker_image,
            "username": pkg.docker_username,
            # Decided by the username, as CC's presenter does.
            "password": "***" if pkg.docker_username is not None else None,
        }
    links: dict[str, Any] = {"self": urls.href(f"/packages/{pkg.guid}")}
    if pkg.type == PackageType.BITS:
        links["upload"] = urls.href(f"/packages/{pkg.guid}/upload")
        if upload_method:
            links["upload"]["method"] = "POST"
        links["download"] = urls.href(f"/packages/{pkg.guid}/download")
    links["app"] = urls.href(f"/apps/{pkg.app_guid}")
    return {
        "guid": pkg.guid,
        "created_at": timestamp(pkg.created_at),
        "updated_at": timestamp(pkg.updated_at),
        "type": pkg.type,
        "data": data,
        "state": pkg.state,
        "relationships": {"app": {"data": {"guid": pkg.app_guid}}},
        "metadata": {
            "labels": {row.key: row.value for row in pkg.labels},
            "annotations": {row.key: row.value for row in pkg.annotations},
        },
        "links": links,
    }
