"""The job row: the database-backed queue, and the face of CF's /v3/jobs resource."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from capi_packages.db.base import Base, GuidMixin, TimestampMixin, utcnow


class JobState(enum.StrEnum):
    PROCESSING = "PROCESSING"
    COMPLETE = "COMPLETE"
    FAILED = "FAILED"


class Job(GuidMixin, TimestampMixin, Base):
    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_claimable", "state", "locked_at", "run_at"),)

    operation: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(32), default=JobState.PROCESSING.value)
    resource_type: Mapped[str | None] = mapped_column(String(64), nullable=True)
    resource_guid: Mapped[str | None] = mapped_column(String(255), nullable=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    warnings: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=1)
    run_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # A claimed job carries its worker's id and claim time; a stale claim means a dead worker.
    locked_by: Mapped[str | None] = mapped_column(String(255), nullable=True)
    locked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
