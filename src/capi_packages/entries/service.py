"""Entries use cases: list a package's entries, find one, compare two packages; CC's download checks first."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from capi_packages.auth.permissions import Permissions
from capi_packages.blobstore.base import BlobNotFound
from capi_packages.entries.archive import DIRECTORY, ArchiveUnreadable, Entry, PackageIndex, normalise
from capi_packages.entries.diff import PackageDiff, compare
from capi_packages.entries.indexes import EntryIndexes
from capi_packages.errors import (
    BlobstoreError,
    BlobstoreUnavailable,
    NotAuthorized,
    ResourceNotFound,
    UnprocessableEntity,
)
from capi_packages.listing import ListQuery
from capi_packages.orgs.models import App
from capi_packages.packages.models import Package, PackageState, PackageType
from capi_packages.packages.service import get_visible

TYPE_MUST_BE_BITS = "Package type must be bits."
AGAINST_INVALID = "Against package is invalid. Ensure it exists and you have access to it."


def _no_bits(pkg: Package, what: str) -> UnprocessableEntity:
    return UnprocessableEntity(f"Package has no bits to {what}: it is {pkg.state}.")


def readable_bits(session: Session, perms: Permissions, guid: str, what: str) -> tuple[Package, App]:
    """A package whose content the caller may read, in the order CC's download checks it:
    invisible 404, no download rights 403, not bits 422, no bits yet 422."""
    pkg, app = get_visible(session, perms, guid)
    if not perms.can_read_secrets_in_space(app.space):
        raise NotAuthorized()
    if pkg.type != PackageType.BITS:
        raise UnprocessableEntity(TYPE_MUST_BE_BITS)
    if pkg.state != PackageState.READY:
        raise _no_bits(pkg, what)
    return pkg, app


def load_index(indexes: EntryIndexes, guid: str) -> PackageIndex:
    try:
        return indexes.get(guid)
    except BlobNotFound as e:
        raise BlobstoreUnavailable() from e
    except ArchiveUnreadable as e:
        raise BlobstoreError() from e


def list_entries(
    session: Session, perms: Permissions, indexes: EntryIndexes, guid: str, query: ListQuery
) -> tuple[list[Entry], int]:
    readable_bits(session, perms, guid, "list")
    prefix = (query.filters.get("prefix") or [""])[0]
    matching = load_index(indexes, guid).with_prefix(prefix)
    start = (query.page - 1) * query.per_page
    return matching[start : start + query.per_page], len(matching)


def find_entry(session: Session, perms: Permissions, indexes: EntryIndexes, guid: str, path: str) -> Entry:
    """The file at `path` (symlinks followed inside the package). Whatever the path says, it only
    ever names an index key: nothing is looked up outside the zip."""
    readable_bits(session, perms, guid, "download")
    key = normalise(path)
    entry = load_index(indexes, guid).resolve(key) if key is not None else None
    # A directory has no bytes to send; stored packages rarely hold one (processing drops them).
    if entry is None or entry.kind == DIRECTORY:
        raise ResourceNotFound("File")
    return entry


@dataclass(frozen=True)
class Comparison:
    package: Package
    against: Package
    diff: PackageDiff


def diff_packages(
    session: Session, perms: Permissions, indexes: EntryIndexes, guid: str, against_guid: str
) -> Comparison:
    pkg, _ = readable_bits(session, perms, guid, "compare")
    try:
        other, _ = readable_bits(session, perms, against_guid, "compare")
    except ResourceNotFound as e:
        raise UnprocessableEntity(AGAINST_INVALID) from e
    except UnprocessableEntity as e:
        raise UnprocessableEntity(f"Against: {e.detail}") from e
    return Comparison(pkg, other, compare(load_index(indexes, pkg.guid), load_index(indexes, other.guid)))


def previous_package_guid(packages: list[Package], guid: str) -> str | None:
    """The READY bits package pushed just before `guid` among one app's packages (any order)."""
    ordered = sorted(packages, key=lambda p: (p.created_at, p.id))
    position = next((i for i, p in enumerate(ordered) if p.guid == guid), 0)
    ready = [p for p in ordered[:position] if p.type == PackageType.BITS and p.state == PackageState.READY]
    return ready[-1].guid if ready else None


def normalise_dir(path: str) -> str:
    """A directory to list: "" (the root) for an empty path or one that would leave the package."""
    return normalise(path) or ""
