"""Deleting a user as a job, as CC does."""

from __future__ import annotations

from capi_packages.jobs.models import Job
from capi_packages.jobs.registry import Handler, JobContext, Registry, payload_str
from capi_packages.users.service import delete_user_now


def run_delete_user(ctx: JobContext, job: Job) -> None:
    delete_user_now(ctx.session, payload_str(job, "guid"))


def register(registry: Registry) -> None:
    registry.register("user.delete", Handler(run_delete_user))
