"""Package rows, their labels and annotations; PackageState holds the wire strings."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from capi_packages.db.base import Base, GuidMixin, TimestampMixin, utcnow
from capi_packages.metadata.rows import MetadataRow


class PackageState(enum.StrEnum):
    AWAITING_UPLOAD = "AWAITING_UPLOAD"
    PROCESSING_UPLOAD = "PROCESSING_UPLOAD"
    READY = "READY"
    FAILED = "FAILED"
    COPYING = "COPYING"
    EXPIRED = "EXPIRED"


class PackageType(enum.StrEnum):
    BITS = "bits"
    DOCKER = "docker"


class Package(GuidMixin, TimestampMixin, Base):
    __tablename__ = "packages"
    # Lists ordered by a timestamp break ties by guid: one index serves the order and the tie-break.
    __table_args__ = (
        Index("ix_packages_created_at_guid", "created_at", "guid"),
        Index("ix_packages_updated_at_guid", "updated_at", "guid"),
    )

    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    app_guid: Mapped[str] = mapped_column(ForeignKey("apps.guid"), index=True)
    type: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(32), index=True)
    package_hash: Mapped[str | None] = mapped_column(String(40), nullable=True)
    sha256_checksum: Mapped[str | None] = mapped_column(String(64), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    docker_image: Mapped[str | None] = mapped_column(Text, nullable=True)
    docker_username: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Encrypted at rest (auth.secrets); never rendered.
    docker_password: Mapped[str | None] = mapped_column(Text, nullable=True)

    labels: Mapped[list[PackageLabel]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="PackageLabel.id"
    )
    annotations: Mapped[list[PackageAnnotation]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="PackageAnnotation.id"
    )

    def mark_ready(self, sha1: str | None, sha256: str | None) -> None:
        self.state = PackageState.READY
        self.package_hash, self.sha256_checksum = sha1, sha256
        self.error = None
        self.updated_at = utcnow()

    def mark_failed(self, error: str) -> None:
        # A late failure never downgrades a READY package (CC's fail_upload! guard).
        if self.state == PackageState.READY:
            return
        self.state = PackageState.FAILED
        self.error = error
        self.updated_at = utcnow()


class PackageLabel(MetadataRow, Base):
    __tablename__ = "package_labels"
    # The unique key also serves lookups by package; the selector index answers label_selector
    # requirements (and counts them) from the index alone.
    __table_args__ = (
        UniqueConstraint("resource_guid", "key_prefix", "key_name", name="uq_package_labels_key"),
        Index("ix_package_labels_selector", "key_prefix", "key_name", "value", "resource_guid"),
    )

    resource_guid: Mapped[str] = mapped_column(ForeignKey("packages.guid", ondelete="CASCADE"))


class PackageAnnotation(MetadataRow, Base):
    __tablename__ = "package_annotations"
    # The unique key also serves lookups by package.
    __table_args__ = (UniqueConstraint("resource_guid", "key_prefix", "key_name", name="uq_package_annotations_key"),)

    resource_guid: Mapped[str] = mapped_column(ForeignKey("packages.guid", ondelete="CASCADE"))
