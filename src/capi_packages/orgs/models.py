"""Organizations, spaces, apps and roles: the resources package permissions hang on, with their metadata."""

from __future__ import annotations

import enum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from capi_packages.db.base import Base, GuidMixin, TimestampMixin
from capi_packages.metadata.rows import MetadataRow


class Status(enum.StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    DELETING = "deleting"


class RoleType(enum.StrEnum):
    ORGANIZATION_USER = "organization_user"
    ORGANIZATION_AUDITOR = "organization_auditor"
    ORGANIZATION_MANAGER = "organization_manager"
    ORGANIZATION_BILLING_MANAGER = "organization_billing_manager"
    SPACE_AUDITOR = "space_auditor"
    SPACE_DEVELOPER = "space_developer"
    SPACE_MANAGER = "space_manager"
    SPACE_SUPPORTER = "space_supporter"

    @property
    def is_space_role(self) -> bool:
        return self.value.startswith("space_")


class Organization(GuidMixin, TimestampMixin, Base):
    __tablename__ = "organizations"

    name: Mapped[str] = mapped_column(String(255), unique=True)
    status: Mapped[str] = mapped_column(String(32), default=Status.ACTIVE.value)

    spaces: Mapped[list[Space]] = relationship(back_populates="organization")
    labels: Mapped[list[OrganizationLabel]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="OrganizationLabel.id"
    )
    annotations: Mapped[list[OrganizationAnnotation]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="OrganizationAnnotation.id"
    )

    @property
    def suspended(self) -> bool:
        return self.status == Status.SUSPENDED


class Space(GuidMixin, TimestampMixin, Base):
    __tablename__ = "spaces"
    __table_args__ = (UniqueConstraint("organization_id", "name", name="uq_spaces_organization_id_name"),)

    name: Mapped[str] = mapped_column(String(255))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    status: Mapped[str] = mapped_column(String(32), default=Status.ACTIVE.value)

    organization: Mapped[Organization] = relationship(back_populates="spaces", lazy="joined")
    labels: Mapped[list[SpaceLabel]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="SpaceLabel.id"
    )
    annotations: Mapped[list[SpaceAnnotation]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="SpaceAnnotation.id"
    )


class App(GuidMixin, TimestampMixin, Base):
    __tablename__ = "apps"
    __table_args__ = (UniqueConstraint("space_id", "name", name="uq_apps_space_id_name"),)

    name: Mapped[str] = mapped_column(String(255))
    space_id: Mapped[int] = mapped_column(ForeignKey("spaces.id"), index=True)
    lifecycle_type: Mapped[str] = mapped_column(String(32), default="buildpack")
    lifecycle_data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(32), default="STOPPED")
    environment_variables: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    space: Mapped[Space] = relationship(lazy="joined")
    labels: Mapped[list[AppLabel]] = relationship(cascade="all, delete-orphan", lazy="selectin", order_by="AppLabel.id")
    annotations: Mapped[list[AppAnnotation]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="AppAnnotation.id"
    )

    @property
    def is_docker(self) -> bool:
        return self.lifecycle_type == "docker"

    @property
    def is_buildpack(self) -> bool:
        return self.lifecycle_type == "buildpack"


class Role(GuidMixin, TimestampMixin, Base):
    __tablename__ = "roles"
    __table_args__ = (
        Index("ix_roles_user_guid_type", "user_guid", "type"),
        UniqueConstraint("type", "user_guid", "organization_id", "space_id", name="uq_roles_assignment"),
    )

    type: Mapped[str] = mapped_column(String(64))
    user_guid: Mapped[str] = mapped_column(ForeignKey("users.guid", ondelete="CASCADE"))
    user_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), nullable=True)
    space_id: Mapped[int | None] = mapped_column(ForeignKey("spaces.id"), nullable=True)

    organization: Mapped[Organization | None] = relationship(lazy="joined")
    space: Mapped[Space | None] = relationship(lazy="joined")


def _key(table: str) -> UniqueConstraint:
    return UniqueConstraint("resource_guid", "key_prefix", "key_name", name=f"uq_{table}_key")


class OrganizationLabel(MetadataRow, Base):
    __tablename__ = "organization_labels"
    __table_args__ = (_key("organization_labels"),)

    resource_guid: Mapped[str] = mapped_column(ForeignKey("organizations.guid", ondelete="CASCADE"), index=True)


class OrganizationAnnotation(MetadataRow, Base):
    __tablename__ = "organization_annotations"
    __table_args__ = (_key("organization_annotations"),)

    resource_guid: Mapped[str] = mapped_column(ForeignKey("organizations.guid", ondelete="CASCADE"), index=True)


class SpaceLabel(MetadataRow, Base):
    __tablename__ = "space_labels"
    __table_args__ = (_key("space_labels"),)

    resource_guid: Mapped[str] = mapped_column(ForeignKey("spaces.guid", ondelete="CASCADE"), index=True)


class SpaceAnnotation(MetadataRow, Base):
    __tablename__ = "space_annotations"
    __table_args__ = (_key("space_annotations"),)

    resource_guid: Mapped[str] = mapped_column(ForeignKey("spaces.guid", ondelete="CASCADE"), index=True)


class AppLabel(MetadataRow, Base):
    __tablename__ = "app_labels"
    __table_args__ = (_key("app_labels"),)

    resource_guid: Mapped[str] = mapped_column(ForeignKey("apps.guid", ondelete="CASCADE"), index=True)


class AppAnnotation(MetadataRow, Base):
    __tablename__ = "app_annotations"
    __table_args__ = (_key("app_annotations"),)

    resource_guid: Mapped[str] = mapped_column(ForeignKey("apps.guid", ondelete="CASCADE"), index=True)
