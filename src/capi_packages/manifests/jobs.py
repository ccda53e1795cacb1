"""The space.apply_manifest job: each app's manifest applied in turn; an error fails the job."""

from __future__ import annotations

from typing import Any

from capi_packages.jobs.models import Job
from capi_packages.jobs.registry import Handler, JobContext, Registry
from capi_packages.manifests.service import apply_to_app


def run_apply_manifest(ctx: JobContext, job: Job) -> None:
    entries: list[dict[str, Any]] = list((job.payload or {}).get("apps") or [])
    for entry in entries:
        apply_to_app(ctx.session, ctx.settings, str(entry["guid"]), dict(entry["manifest"]))


def register(registry: Registry) -> None:
    registry.register("space.apply_manifest", Handler(run_apply_manifest))
