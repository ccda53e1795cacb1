"""Push matches: does one of the app's READY packages already hold exactly the pushed tree?

Only the app's own packages are looked at, and only for a caller who may push to the app (and
so may read its packages): a digest proves nothing about content the caller cannot already read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from capi_packages.auth.permissions import Permissions
from capi_packages.blobstore.base import Blobstore
from capi_packages.blobstore.keys import package_key
from capi_packages.errors import UnprocessableEntity
from capi_packages.orgs.service import get_app
from capi_packages.packages import service as packages_service
from capi_packages.packages.models import Package
from capi_packages.push_matches import repository
from capi_packages.settings import Settings

_DIGEST = re.compile(r"[0-9a-f]{64}")


def record_tree(session: Session, package_guid: str, digest: str | None) -> None:
    """Remember what a package that just became READY holds (nothing when it cannot be told)."""
    if digest is not None:
        repository.save_digest(session, package_guid, digest)


def copy_tree(session: Session, source_guid: str, destination_guid: str) -> None:
    """A copied package holds what its source holds."""
    record_tree(session, destination_guid, repository.find_digest(session, source_guid))


def parse_match_request(body: Any) -> str:
    if not isinstance(body, dict):
        raise UnprocessableEntity("Request must be an object.")
    unknown = [k for k in body if k != "tree_digest"]
    if unknown:
        raise UnprocessableEntity("Unknown field(s): " + ", ".join(f"'{k}'" for k in unknown))
    digest = body.get("tree_digest")
    if not isinstance(digest, str) or not _DIGEST.fullmatch(digest):
        raise UnprocessableEntity("Tree digest must be 64 lowercase hexadecimal digits.")
    return digest


@dataclass(frozen=True)
class TreeMatch:
    package: Package | None  # the newest READY bits package holding the tree, its zip in place
    known_trees: int  # READY bits packages of the app whose tree is recorded


def match_tree(session: Session, perms: Permissions, blobstore: Blobstore, app_guid: str, digest: str) -> TreeMatch:
    app = get_app(session, perms, app_guid)
    perms.require_write(app.space)
    known = repository.count_ready_with_trees(session, app.guid)
    for pkg in repository.ready_packages_with_tree(session, app.guid, digest):
        # A package whose zip went missing would only fail the copy: the client uploads instead.
        if blobstore.exists(package_key(pkg.guid)):
            return TreeMatch(pkg, known)
    return TreeMatch(None, known)


def duplicate(session: Session, perms: Permissions, settings: Settings, guid: str) -> Package:
    return packages_service.duplicate(session, perms, settings, guid)
