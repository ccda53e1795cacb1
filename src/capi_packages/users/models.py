"""User rows: CC's users table plus the username and origin that CC asks its UAA for."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from capi_packages.db.base import Base, GuidMixin, TimestampMixin
from capi_packages.metadata.rows import MetadataRow

# The origin of users whose tokens this service issues itself, as UAA names its internal users.
LOCAL_ORIGIN = "uaa"


class User(GuidMixin, TimestampMixin, Base):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("username", "origin", name="uq_users_username_origin"),)

    # Both unknown for users only ever named by guid (a role given to a guid, a client's token).
    username: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)
    origin: Mapped[str | None] = mapped_column(String(255), nullable=True)

    labels: Mapped[list[UserLabel]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="UserLabel.id"
    )
    annotations: Mapped[list[UserAnnotation]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="UserAnnotation.id"
    )

    @property
    def presentation_name(self) -> str:
        return self.username or self.guid


class UserLabel(MetadataRow, Base):
    __tablename__ = "user_labels"
    __table_args__ = (UniqueConstraint("resource_guid", "key_prefix", "key_name", name="uq_user_labels_key"),)

    resource_guid: Mapped[str] = mapped_column(ForeignKey("users.guid", ondelete="CASCADE"), index=True)


class UserAnnotation(MetadataRow, Base):
    __tablename__ = "user_annotations"
    __table_args__ = (UniqueConstraint("resource_guid", "key_prefix", "key_name", name="uq_user_annotations_key"),)

    resource_guid: Mapped[str] = mapped_column(ForeignKey("users.guid", ondelete="CASCADE"), index=True)
