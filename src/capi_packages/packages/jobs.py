"""The worker side of packages: delete, expired-blob cleanup, bits copy (upload lives in upload_job)."""

from __future__ import annotations

import logging

from sqlalchemy import select

from capi_packages.audit_events import recorder
from capi_packages.blobstore.base import BlobNotFound
from capi_packages.blobstore.keys import package_key
from capi_packages.jobs.models import Job
from capi_packages.jobs.registry import Handler, JobContext, Registry, payload_str
from capi_packages.orgs import repository as orgs_repo
from capi_packages.packages import repository
from capi_packages.packages.models import Package, PackageState, PackageType
from capi_packages.packages.service import expire_old_packages

log = logging.getLogger("capi_packages.packages")


def delete_package_now(ctx: JobContext, pkg: Package, actor: recorder.Actor) -> None:
    """Commit the row's removal (with its audit event) before deleting the blob: a crash in between
    leaves an orphan blob, never a READY package without one."""
    is_bits = pkg.type == PackageType.BITS
    guid = pkg.guid
    app = orgs_repo.find_app(ctx.session, pkg.app_guid)
    if app is not None:
        recorder.record_package_delete(ctx.session, actor, pkg, app)
    ctx.session.delete(pkg)
    ctx.session.commit()
    if is_bits:
        ctx.blobstore.delete(package_key(guid))


def run_delete(ctx: JobContext, job: Job) -> None:
    pkg = repository.find_package(ctx.session, payload_str(job, "guid"))
    if pkg is not None:  # already gone (a parallel delete): the job still completes, as in CC
        delete_package_now(ctx, pkg, recorder.Actor.from_job_payload(job.payload))


def run_delete_expired_blob(ctx: JobContext, job: Job) -> None:
    pkg = repository.find_package(ctx.session, payload_str(job, "guid"))
    if pkg is None or pkg.state != PackageState.EXPIRED:
        return
    ctx.blobstore.delete(package_key(pkg.guid))
    pkg.package_hash = pkg.sha256_checksum = None


def run_copy_bits(ctx: JobContext, job: Job) -> None:
    dest = repository.find_package(ctx.session, payload_str(job, "destination_guid"))
    if dest is None:
        raise RuntimeError("destination package does not exist")
    source = repository.find_package(ctx.session, payload_str(job, "source_guid"))
    if source is None:
        dest.mark_failed("failed to copy - source package does not exist")
        return
    sha1, sha256 = source.package_hash, source.sha256_checksum
    ctx.session.commit()  # don't hold the database while bytes are copied
    try:
        ctx.blobstore.copy(package_key(source.guid), package_key(dest.guid))
    except BlobNotFound:
        dest.mark_failed("failed to copy - source package has no bits")
        return
    # The row may have been deleted while we copied; then the copied blob belongs to nobody.
    ctx.session.expire_all()
    dest = repository.find_package(ctx.session, payload_str(job, "destination_guid"))
    if dest is None or dest.state != PackageState.COPYING:
        ctx.blobstore.delete(package_key(payload_str(job, "destination_guid")))
        return
    dest.mark_ready(sha1, sha256)
    expire_old_packages(ctx.session, ctx.settings, dest.app_guid)


def give_up_copy(ctx: JobContext, job: Job, reason: str) -> None:
    dest = repository.find_package(ctx.session, payload_str(job, "destination_guid"))
    if dest is not None and dest.state == PackageState.COPYING:
        dest.mark_failed(f"failed to copy - {reason}")
        expire_old_packages(ctx.session, ctx.settings, dest.app_guid)


def cleanup_expired(ctx: JobContext) -> None:
    """CC's nightly expired_blob_cleanup and expired_resource_cleanup, as one maintenance pass."""
    expired = ctx.session.scalars(select(Package).where(Package.state == PackageState.EXPIRED)).all()
    for pkg in expired:
        if pkg.package_hash is not None or pkg.sha256_checksum is not None:
            ctx.blobstore.delete(package_key(pkg.guid))
            pkg.package_hash = pkg.sha256_checksum = None
        else:
            ctx.session.delete(pkg)


def register(registry: Registry) -> None:
    registry.maintenance.append(cleanup_expired)
    registry.register("package.delete", Handler(run_delete))
    registry.register("package.delete_expired_blob", Handler(run_delete_expired_blob))
    registry.register("package.copy_bits", Handler(run_copy_bits, give_up_copy))
