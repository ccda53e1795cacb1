"""Reading jobs for /v3/jobs and shaping them as CC's job presenter does."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from capi_packages.db.base import utcnow
from capi_packages.jobs.models import Job, JobState
from capi_packages.messages import timestamp
from capi_packages.orgs.models import App, Organization, Space
from capi_packages.packages.models import Package
from capi_packages.urls import UrlBuilder
from capi_packages.users.models import User

# resource_type → (model, plural path): a job links to its resource while that still exists.
RESOURCE_MODELS: dict[str, tuple[type[Any], str]] = {
    "package": (Package, "packages"),
    "app": (App, "apps"),
    "space": (Space, "spaces"),
    "organization": (Organization, "organizations"),
    "user": (User, "users"),
}


def find_job(session: Session, guid: str) -> Job | None:
    return session.scalars(select(Job).where(Job.guid == guid)).first()


def job_resource(session: Session, job: Job, urls: UrlBuilder) -> dict[str, Any]:
    links: dict[str, Any] = {"self": urls.href(f"/jobs/{job.guid}")}
    if job.resource_type in RESOURCE_MODELS and job.resource_guid:
        model, plural = RESOURCE_MODELS[job.resource_type]
        if session.scalars(select(model.id).where(model.guid == job.resource_guid)).first() is not None:
            links[job.resource_type] = urls.href(f"/{plural}/{job.resource_guid}")
    errors = [] if job.state == JobState.COMPLETE else list(job.errors or [])
    return {
        "guid": job.guid,
        "created_at": timestamp(job.created_at),
        "updated_at": timestamp(job.updated_at),
        "operation": job.operation,
        "state": job.state,
        "errors": errors,
        "warnings": list(job.warnings or []),
        "links": links,
    }


def delete_old_jobs(session: Session, cutoff_days: int) -> int:
    """pollable_job_cleanup: finished jobs older than the cutoff disappear (GET then answers 404)."""
    cutoff = utcnow() - timedelta(days=cutoff_days)
    result = session.execute(delete(Job).where(Job.created_at < cutoff, Job.state != JobState.PROCESSING))
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass
class QueueCounts:
    """Per operation (CC's queue label): never picked up, ready to run now, failed."""

    length: dict[str, int] = field(default_factory=dict)
    load: dict[str, int] = field(default_factory=dict)
    failed: dict[str, int] = field(default_factory=dict)


def queue_counts(session: Session) -> QueueCounts:
    running = Job.state == JobState.PROCESSING
    counts = QueueCounts()
    for target, where in (
        (counts.length, (running, Job.attempts == 0)),
        (counts.load, (running, Job.locked_at.is_(None), Job.run_at <= utcnow())),
        (counts.failed, (Job.state == JobState.FAILED,)),
    ):
        rows = session.execute(select(Job.operation, func.count()).where(*where).group_by(Job.operation))
        target.update({operation: count for operation, count in rows})
    return counts
