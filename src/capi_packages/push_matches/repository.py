"""Tree digest rows and the app's READY packages that hold a given tree."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from capi_packages.packages.models import Package, PackageState, PackageType
from capi_packages.push_matches.models import PackageTree


def find_digest(session: Session, package_guid: str) -> str | None:
    return session.scalars(select(PackageTree.digest).where(PackageTree.package_guid == package_guid)).first()


def save_digest(session: Session, package_guid: str, digest: str) -> None:
    # A retried job records again: replace, never duplicate.
    session.execute(delete(PackageTree).where(PackageTree.package_guid == package_guid))
    session.add(PackageTree(package_guid=package_guid, digest=digest))


def ready_packages_with_tree(session: Session, app_guid: str, digest: str) -> list[Package]:
    """The app's READY bits packages holding exactly this tree, newest first."""
    stmt = (
        select(Package)
        .join(PackageTree, PackageTree.package_guid == Package.guid)
        .where(
            Package.app_guid == app_guid,
            Package.type == PackageType.BITS,
            Package.state == PackageState.READY,
            PackageTree.digest == digest,
        )
        .order_by(Package.created_at.desc(), Package.id.desc())
    )
    return list(session.scalars(stmt))


def count_ready_with_trees(session: Session, app_guid: str) -> int:
    stmt = (
        select(func.count())
        .select_from(Package)
        .join(PackageTree, PackageTree.package_guid == Package.guid)
        .where(Package.app_guid == app_guid, Package.type == PackageType.BITS, Package.state == PackageState.READY)
    )
    return int(session.scalar(stmt) or 0)
