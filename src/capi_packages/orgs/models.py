"""Organizations, spaces, apps and roles: the resources package permissions hang on."""

from __future__ import annotations

import enum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from capi_packages.db.base import Base, GuidMixin, TimestampMixin


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


class App(GuidMixin, TimestampMixin, Base):
    __tablename__ = "apps"
    __table_args__ = (UniqueConstraint("space_id", "name", name="uq_apps_space_id_name"),)

    name: Mapped[str] = mapped_column(String(255))
    space_id: Mapped[int] = mapped_column(ForeignKey("spaces.id"), index=True)
    lifecycle_type: Mapped[str] = mapped_column(String(32), default="buildpack")
    lifecycle_data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(32), default="STOPPED")

    space: Mapped[Space] = relationship(lazy="joined")

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
    user_guid: Mapped[str] = mapped_column(String(255))
    user_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), nullable=True)
    space_id: Mapped[int | None] = mapped_column(ForeignKey("spaces.id"), nullable=True)

    organization: Mapped[Organization | None] = relationship(lazy="joined")
    space: Mapped[Space | None] = relationship(lazy="joined")
