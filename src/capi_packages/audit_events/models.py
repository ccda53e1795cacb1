"""The audit event row: CC's `events` table, with the actee named `target` as the v3 API names it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from capi_packages.db.base import Base, GuidMixin, TimestampMixin


class AuditEvent(GuidMixin, TimestampMixin, Base):
    """An event outlives what it names: no foreign keys, only the guids and names of the moment."""

    __tablename__ = "audit_events"

    type: Mapped[str] = mapped_column(String(255), index=True)
    actor_guid: Mapped[str] = mapped_column(String(255))
    actor_type: Mapped[str] = mapped_column(String(255))
    actor_name: Mapped[str] = mapped_column(String(255))
    actor_username: Mapped[str] = mapped_column(String(255))
    target_guid: Mapped[str] = mapped_column(String(255), index=True)
    target_type: Mapped[str] = mapped_column(String(255))
    target_name: Mapped[str] = mapped_column(String(255))
    # NULL when the event is not inside a space (org and role-in-org events) or an organization.
    space_guid: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)
    organization_guid: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)
    # CC's `metadata` column, shown as `data` on the wire.
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
