"""Deleting an app, space or organization with everything under it, as a job."""

from __future__ import annotations

from sqlalchemy import delete, select

from capi_packages.audit_events import recorder
from capi_packages.audit_events.recorder import Actor
from capi_packages.jobs.models import Job
from capi_packages.jobs.registry import Handler, JobContext, Registry, payload_str
from capi_packages.orgs import repository
from capi_packages.orgs.models import App, Role, Space
from capi_packages.packages.jobs import delete_package_now
from capi_packages.packages.models import Package


def _delete_app(ctx: JobContext, app: App, actor: Actor) -> None:
    for pkg in ctx.session.scalars(select(Package).where(Package.app_guid == app.guid)).all():
        delete_package_now(ctx, pkg, actor)
    recorder.record_app_delete_request(ctx.session, actor, app)
    ctx.session.delete(app)
    ctx.session.flush()


def _delete_space(ctx: JobContext, space: Space, actor: Actor) -> None:
    for app in ctx.session.scalars(select(App).where(App.space_id == space.id)).all():
        _delete_app(ctx, app, actor)
    ctx.session.execute(delete(Role).where(Role.space_id == space.id))
    recorder.record_space_delete_request(ctx.session, actor, space)
    ctx.session.delete(space)
    ctx.session.flush()


def run_delete_app(ctx: JobContext, job: Job) -> None:
    app = repository.find_app(ctx.session, payload_str(job, "guid"))
    if app is not None:
        _delete_app(ctx, app, Actor.from_job_payload(job.payload))


def run_delete_space(ctx: JobContext, job: Job) -> None:
    space = repository.find_space(ctx.session, payload_str(job, "guid"))
    if space is not None:
        _delete_space(ctx, space, Actor.from_job_payload(job.payload))


def run_delete_org(ctx: JobContext, job: Job) -> None:
    org = repository.find_org(ctx.session, payload_str(job, "guid"))
    if org is None:
        return
    actor = Actor.from_job_payload(job.payload)
    for space in ctx.session.scalars(select(Space).where(Space.organization_id == org.id)).all():
        _delete_space(ctx, space, actor)
    ctx.session.execute(delete(Role).where(Role.organization_id == org.id))
    recorder.record_organization_delete_request(ctx.session, actor, org)
    ctx.session.delete(org)


def register(registry: Registry) -> None:
    registry.register("app.delete", Handler(run_delete_app))
    registry.register("space.delete", Handler(run_delete_space))
    registry.register("organization.delete", Handler(run_delete_org))
