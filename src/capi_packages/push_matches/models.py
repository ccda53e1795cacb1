"""The tree digest of each READY bits package, recorded when it was processed or copied."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from capi_packages.db.base import Base


class PackageTree(Base):
    __tablename__ = "package_trees"

    package_guid: Mapped[str] = mapped_column(ForeignKey("packages.guid", ondelete="CASCADE"), primary_key=True)
    # bits.trees.tree_digest of the stored zip's files and links.
    digest: Mapped[str] = mapped_column(String(64), index=True)
