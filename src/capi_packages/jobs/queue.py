"""Enqueue a job inside the caller's transaction, so the job exists exactly when the change does."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from capi_packages.jobs.models import Job, JobState
from capi_packages.jobs.wakeup import note_enqueued


def enqueue(
    session: Session,
    operation: str,
    payload: dict[str, Any] | None = None,
    *,
    resource_type: str | None = None,
    resource_guid: str | None = None,
    max_attempts: int = 1,
) -> Job:
    job = Job(
        operation=operation,
        state=JobState.PROCESSING.value,
        payload=payload or {},
        resource_type=resource_type,
        resource_guid=resource_guid,
        max_attempts=max_attempts,
        errors=[],
        warnings=[],
    )
    session.add(job)
    session.flush()
    note_enqueued(session)
    return job
