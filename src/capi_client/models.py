"""What the client returns: its own typed, read-only copy of the v3 wire format."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Self, TypeVar

# Final states: polling stops once a package reaches one of them.
PACKAGE_FINAL_STATES = frozenset({"READY", "FAILED", "EXPIRED"})
JOB_FINAL_STATES = frozenset({"COMPLETE", "FAILED"})


def parse_timestamp(value: Any) -> datetime | None:
    """`2015-11-13T17:02:56Z` → an aware datetime; None for null or an unreadable value."""
    if not isinstance(value, str) or not value:
        return None
    try:
        # 3.11's fromisoformat reads the `Z` suffix itself.
        return datetime.fromisoformat(value)
    except ValueError:
        return None


ItemT = TypeVar("ItemT")


def _dig(data: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, Mapping):
            return None
        data = data.get(key)
    return data


def _hrefs(links: Any) -> dict[str, str]:
    """`{"self": {"href": u, "method": "POST"}}` → `{"self": u}`; CC's `method` adds nothing."""
    if not isinstance(links, Mapping):
        return {}
    return {
        name: link["href"]
        for name, link in links.items()
        if isinstance(link, Mapping) and isinstance(link.get("href"), str)
    }


def _str_map(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        return {}
    return {str(k): "" if v is None else str(v) for k, v in value.items()}


# Dict-valued fields stay out of hashing, so every model can still be hashed by its scalar fields.
def _dict_field() -> Any:
    return field(default_factory=dict, hash=False, repr=False)


@dataclass(frozen=True)
class Package:
    guid: str
    type: str
    state: str
    created_at: datetime | None = None
    updated_at: datetime | None = None
    checksum_type: str | None = None
    checksum_value: str | None = None
    error: str | None = None
    image: str | None = None
    username: str | None = None
    app_guid: str | None = None
    labels: dict[str, str] = _dict_field()
    annotations: dict[str, str] = _dict_field()
    links: dict[str, str] = _dict_field()
    raw: dict[str, Any] = _dict_field()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Package:
        return cls(
            guid=str(data["guid"]),
            type=str(data.get("type") or ""),
            state=str(data.get("state") or ""),
            created_at=parse_timestamp(data.get("created_at")),
            updated_at=parse_timestamp(data.get("updated_at")),
            checksum_type=_dig(data, "data", "checksum", "type"),
            checksum_value=_dig(data, "data", "checksum", "value"),
            error=_dig(data, "data", "error"),
            image=_dig(data, "data", "image"),
            username=_dig(data, "data", "username"),
            app_guid=_dig(data, "relationships", "app", "data", "guid"),
            labels=_str_map(_dig(data, "metadata", "labels")),
            annotations=_str_map(_dig(data, "metadata", "annotations")),
            links=_hrefs(data.get("links")),
            raw=dict(data),
        )

    @property
    def is_final(self) -> bool:
        return self.state in PACKAGE_FINAL_STATES


@dataclass(frozen=True)
class ResourceList(Generic[ItemT]):
    """One page of a CC list; `next_url` is the server's `pagination.next.href`, used verbatim.

    A subclass names how one resource is read (`_parse`), and is the public name of its list."""

    resources: tuple[ItemT, ...]
    total_results: int
    total_pages: int
    next_url: str | None = None
    previous_url: str | None = None
    raw: dict[str, Any] = _dict_field()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        pagination = data.get("pagination") or {}
        return cls(
            resources=tuple(cls._parse(r) for r in data.get("resources") or ()),
            total_results=int(pagination.get("total_results") or 0),
            total_pages=int(pagination.get("total_pages") or 0),
            next_url=_dig(pagination, "next", "href"),
            previous_url=_dig(pagination, "previous", "href"),
            raw=dict(data),
        )

    @classmethod
    def _parse(cls, data: Mapping[str, Any]) -> ItemT:
        raise NotImplementedError

    def __iter__(self) -> Iterator[ItemT]:
        return iter(self.resources)

    def __len__(self) -> int:
        return len(self.resources)


@dataclass(frozen=True)
class PackageList(ResourceList[Package]):
    """One page of packages; `next_url` is the server's `pagination.next.href`, used verbatim."""

    @classmethod
    def _parse(cls, data: Mapping[str, Any]) -> Package:
        return Package.from_json(data)


@dataclass(frozen=True)
class Job:
    guid: str
    operation: str
    state: str
    errors: tuple[dict[str, Any], ...] = ()
    warnings: tuple[str, ...] = ()
    created_at: datetime | None = None
    updated_at: datetime | None = None
    links: dict[str, str] = _dict_field()
    raw: dict[str, Any] = _dict_field()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Job:
        return cls(
            guid=str(data["guid"]),
            operation=str(data.get("operation") or ""),
            state=str(data.get("state") or ""),
            errors=tuple(dict(e) for e in data.get("errors") or () if isinstance(e, Mapping)),
            warnings=tuple(
                str(w.get("detail", "")) if isinstance(w, Mapping) else str(w) for w in data.get("warnings") or ()
            ),
            created_at=parse_timestamp(data.get("created_at")),
            updated_at=parse_timestamp(data.get("updated_at")),
            links=_hrefs(data.get("links")),
            raw=dict(data),
        )

    @property
    def is_final(self) -> bool:
        return self.state in JOB_FINAL_STATES


@dataclass(frozen=True)
class Resource:
    """A file fingerprint as `/v3/resource_matches` and upload's `resources` field speak it.

    `raw` keeps the server's entry untouched, so a matched resource can be echoed back exactly.
    """

    path: str
    sha1: str
    size: int
    mode: str = ""
    raw: dict[str, Any] | None = field(default=None, hash=False, compare=False, repr=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Resource:
        if "checksum" in data or "size_in_bytes" in data:
            sha1 = _dig(data, "checksum", "value")
            size, path = data.get("size_in_bytes"), data.get("path")
        else:  # the v2 form, which upload also accepts
            sha1, size, path = data.get("sha1"), data.get("size"), data.get("fn")
        mode = data.get("mode")
        return cls(
            path=str(path or ""),
            sha1=str(sha1 or ""),
            size=int(size or 0),
            mode="" if mode is None else str(mode),
            raw=dict(data),
        )

    def to_json(self) -> dict[str, Any]:
        if self.raw is not None:
            return dict(self.raw)
        body: dict[str, Any] = {
            "checksum": {"value": self.sha1},
            "size_in_bytes": self.size,
            "path": self.path,
        }
        if self.mode:
            body["mode"] = self.mode
        return body


@dataclass(frozen=True)
class Organization:
    guid: str
    name: str
    raw: dict[str, Any] = _dict_field()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Organization:
        return cls(guid=str(data["guid"]), name=str(data.get("name") or ""), raw=dict(data))


@dataclass(frozen=True)
class Space:
    guid: str
    name: str
    organization_guid: str | None = None
    raw: dict[str, Any] = _dict_field()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Space:
        return cls(
            guid=str(data["guid"]),
            name=str(data.get("name") or ""),
            organization_guid=_dig(data, "relationships", "organization", "data", "guid"),
            raw=dict(data),
        )


@dataclass(frozen=True)
class App:
    guid: str
    name: str
    state: str | None = None
    lifecycle_type: str | None = None
    space_guid: str | None = None
    raw: dict[str, Any] = _dict_field()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> App:
        return cls(
            guid=str(data["guid"]),
            name=str(data.get("name") or ""),
            state=data.get("state"),
            lifecycle_type=_dig(data, "lifecycle", "type"),
            space_guid=_dig(data, "relationships", "space", "data", "guid"),
            raw=dict(data),
        )


@dataclass(frozen=True)
class Role:
    guid: str
    type: str
    user_guid: str | None = None
    organization_guid: str | None = None
    space_guid: str | None = None
    raw: dict[str, Any] = _dict_field()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Role:
        return cls(
            guid=str(data["guid"]),
            type=str(data.get("type") or ""),
            user_guid=_dig(data, "relationships", "user", "data", "guid"),
            organization_guid=_dig(data, "relationships", "organization", "data", "guid"),
            space_guid=_dig(data, "relationships", "space", "data", "guid"),
            raw=dict(data),
        )


@dataclass(frozen=True)
class Tokens:
    """What a UAA token endpoint answered to a password or refresh-token grant."""

    access_token: str
    refresh_token: str | None = None
    token_type: str = "bearer"  # noqa: S105 (the OAuth token type, not a secret)
    expires_in: int | None = None
    raw: dict[str, Any] = _dict_field()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Tokens:
        expires_in = data.get("expires_in")
        return cls(
            access_token=str(data["access_token"]),
            refresh_token=data.get("refresh_token"),
            token_type=str(data.get("token_type") or "bearer"),
            expires_in=int(expires_in) if isinstance(expires_in, int | float) else None,
            raw=dict(data),
        )

    @property
    def authorization(self) -> str:
        """The `Authorization` header value: `bearer <access token>`."""
        return f"{self.token_type.lower()} {self.access_token}"
