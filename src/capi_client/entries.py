"""Package entries (the service's /x/packages API): list a package's files, read one, compare two packages."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, BinaryIO
from urllib.parse import quote

import httpx

from capi_client.errors import error_from_response
from capi_client.models import _dict_field, _dig
from capi_client.transfer import save_response


@dataclass(frozen=True)
class Entry:
    """One entry of a package zip. `mode` is octal text as CF writes it ("644"); `sha1` may be None."""

    path: str
    type: str
    size: int
    mode: str
    crc32: str
    sha1: str | None = None
    symlink_target: str | None = None
    compressed_size: int | None = None
    raw: dict[str, Any] = _dict_field()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Entry:
        compressed = data.get("compressed_size")
        return cls(
            path=str(data["path"]),
            type=str(data.get("type") or ""),
            size=int(data.get("size") or 0),
            mode=str(data.get("mode") or ""),
            crc32=str(data.get("crc32") or ""),
            sha1=data.get("sha1"),
            symlink_target=data.get("symlink_target"),
            compressed_size=int(compressed) if compressed is not None else None,
            raw=dict(data),
        )


@dataclass(frozen=True)
class EntryList:
    """One page of entries; `next_url` is the server's `pagination.next.href`, used verbatim."""

    resources: tuple[Entry, ...]
    total_results: int
    next_url: str | None = None
    raw: dict[str, Any] = _dict_field()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> EntryList:
        return cls(
            resources=tuple(Entry.from_json(e) for e in data.get("resources") or ()),
            total_results=int(_dig(data, "pagination", "total_results") or 0),
            next_url=_dig(data, "pagination", "next", "href"),
            raw=dict(data),
        )

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.resources)

    def __len__(self) -> int:
        return len(self.resources)


@dataclass(frozen=True)
class EntryChange:
    path: str
    before: Entry
    after: Entry

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> EntryChange:
        path = str(data["path"])
        return cls(
            path, Entry.from_json({**data["before"], "path": path}), Entry.from_json({**data["after"], "path": path})
        )


@dataclass(frozen=True)
class PackageDiff:
    """What changed in `package_guid` against `against_guid`. A path is in `changed` when its content
    differs and in `mode_changed` when its mode does."""

    package_guid: str
    against_guid: str
    added: tuple[Entry, ...]
    removed: tuple[Entry, ...]
    changed: tuple[EntryChange, ...]
    mode_changed: tuple[EntryChange, ...]
    unchanged: int
    raw: dict[str, Any] = _dict_field()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PackageDiff:
        return cls(
            package_guid=str(_dig(data, "package", "guid") or ""),
            against_guid=str(_dig(data, "against", "guid") or ""),
            added=tuple(Entry.from_json(e) for e in data.get("added") or ()),
            removed=tuple(Entry.from_json(e) for e in data.get("removed") or ()),
            changed=tuple(EntryChange.from_json(c) for c in data.get("changed") or ()),
            mode_changed=tuple(EntryChange.from_json(c) for c in data.get("mode_changed") or ()),
            unchanged=int(_dig(data, "summary", "unchanged") or 0),
            raw=dict(data),
        )

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.mode_changed)


def _guid(value: str) -> str:
    return quote(str(value), safe="")


class EntriesMixin:
    """The entries calls of PackagesClient; they use its plumbing (token, origin rules, errors)."""

    def _json(self, method: str, path_or_url: str | httpx.URL, **kwargs: Any) -> Any:
        raise NotImplementedError

    def _url(self, path_or_url: str | httpx.URL) -> httpx.URL:
        raise NotImplementedError

    def _request(self, method: str, url: httpx.URL, **kwargs: Any) -> httpx.Request:
        raise NotImplementedError

    def _send_raw(self, request: httpx.Request, *, stream: bool = False, bare: bool = False) -> httpx.Response:
        raise NotImplementedError

    def list_entries(
        self, guid: str, *, prefix: str | None = None, page: int | None = None, per_page: int | None = None
    ) -> EntryList:
        """One page of `GET /x/packages/{guid}/entries`, in tree order."""
        params = {k: v for k, v in (("prefix", prefix), ("page", page), ("per_page", per_page)) if v is not None}
        return EntryList.from_json(self._json("GET", f"/x/packages/{_guid(guid)}/entries", params=params))

    def iter_entries(self, guid: str, *, prefix: str | None = None, per_page: int = 5000) -> Iterator[Entry]:
        """Every entry of the package (under `prefix`), across all pages."""
        page = self.list_entries(guid, prefix=prefix, per_page=per_page)
        while True:
            yield from page.resources
            if not page.next_url:
                return
            page = EntryList.from_json(self._json("GET", page.next_url))

    def download_entry(self, guid: str, path: str, dest: str | os.PathLike[str] | BinaryIO) -> int:
        """Stream one file of the package into `dest`; returns the number of bytes written."""
        url = self._url(f"/x/packages/{_guid(guid)}/entries/{quote(path, safe='/')}")
        request = self._request("GET", url, headers={"Accept": "*/*"})
        response = self._send_raw(request, stream=True)
        try:
            if response.is_error:
                response.read()
                raise error_from_response(response)
            return save_response(response, dest)
        finally:
            response.close()

    def diff_packages(self, guid: str, against: str) -> PackageDiff:
        """What changed in package `guid` against package `against` (say, the app's previous push)."""
        answer = self._json("GET", f"/x/packages/{_guid(guid)}/diff", params={"against": against})
        return PackageDiff.from_json(answer)
