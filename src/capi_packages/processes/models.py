"""Process rows: an app's process types with their scale and health-check settings."""

from __future__ import annotations

import enum
import uuid

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from capi_packages.db.base import Base, GuidMixin, TimestampMixin
from capi_packages.metadata.rows import MetadataRow

WEB = "web"
# CC's defaults: default_app_memory, default_app_disk_in_mb, an unlimited log rate.
DEFAULT_MEMORY_MB = 1024
DEFAULT_DISK_MB = 1024
UNLIMITED_LOG_RATE = -1


class HealthCheckType(enum.StrEnum):
    PORT = "port"
    PROCESS = "process"
    HTTP = "http"


class Process(GuidMixin, TimestampMixin, Base):
    __tablename__ = "processes"
    __table_args__ = (UniqueConstraint("app_guid", "type", name="uq_processes_app_guid_type"),)

    app_guid: Mapped[str] = mapped_column(ForeignKey("apps.guid", ondelete="CASCADE"), index=True)
    type: Mapped[str] = mapped_column(String(255))
    # CC bumps the version whenever what would run changes (command, health check, memory).
    version: Mapped[str] = mapped_column(String(255), default=lambda: str(uuid.uuid4()))
    command: Mapped[str | None] = mapped_column(Text, nullable=True)
    user: Mapped[str | None] = mapped_column(String(255), nullable=True)
    instances: Mapped[int] = mapped_column(Integer, default=1)
    memory_in_mb: Mapped[int] = mapped_column(Integer, default=DEFAULT_MEMORY_MB)
    disk_in_mb: Mapped[int] = mapped_column(Integer, default=DEFAULT_DISK_MB)
    log_rate_limit: Mapped[int] = mapped_column(BigInteger, default=UNLIMITED_LOG_RATE)
    health_check_type: Mapped[str] = mapped_column(String(32), default=HealthCheckType.PORT.value)
    health_check_endpoint: Mapped[str | None] = mapped_column(Text, nullable=True)
    health_check_timeout: Mapped[int | None] = mapped_column(Integer, nullable=True)
    health_check_invocation_timeout: Mapped[int | None] = mapped_column(Integer, nullable=True)
    health_check_interval: Mapped[int | None] = mapped_column(Integer, nullable=True)
    readiness_health_check_type: Mapped[str] = mapped_column(String(32), default=HealthCheckType.PROCESS.value)
    readiness_health_check_endpoint: Mapped[str | None] = mapped_column(Text, nullable=True)
    readiness_health_check_invocation_timeout: Mapped[int | None] = mapped_column(Integer, nullable=True)
    readiness_health_check_interval: Mapped[int | None] = mapped_column(Integer, nullable=True)

    labels: Mapped[list[ProcessLabel]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ProcessLabel.id"
    )
    annotations: Mapped[list[ProcessAnnotation]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ProcessAnnotation.id"
    )


class ProcessLabel(MetadataRow, Base):
    __tablename__ = "process_labels"
    __table_args__ = (UniqueConstraint("resource_guid", "key_prefix", "key_name", name="uq_process_labels_key"),)

    resource_guid: Mapped[str] = mapped_column(ForeignKey("processes.guid", ondelete="CASCADE"), index=True)


class ProcessAnnotation(MetadataRow, Base):
    __tablename__ = "process_annotations"
    __table_args__ = (UniqueConstraint("resource_guid", "key_prefix", "key_name", name="uq_process_annotations_key"),)

    resource_guid: Mapped[str] = mapped_column(ForeignKey("processes.guid", ondelete="CASCADE"), index=True)
