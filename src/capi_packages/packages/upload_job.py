"""The upload job: validate the zip, fill the resource pool, merge cached files, store, READY."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from capi_packages.bits.assembly import CachedResource, build_package_zip, parse_resources
from capi_packages.bits.fingerprints import pool_candidates
from capi_packages.bits.zip_safety import ArchiveLimits, ScannedEntry, scan_archive
from capi_packages.blobstore.base import BlobNotFound
from capi_packages.blobstore.keys import package_key, resource_key
from capi_packages.errors import ApiError, AppBitsUploadInvalid, ResourceChecksumMismatch
from capi_packages.jobs.models import Job
from capi_packages.jobs.registry import Handler, JobContext, Registry, payload_str
from capi_packages.packages import repository
from capi_packages.packages.models import PackageState
from capi_packages.packages.service import expire_old_packages
from capi_packages.packages.upload import PROCESS_UPLOAD
from capi_packages.resource_matches import service as pool

log = logging.getLogger("capi_packages.upload")


class CachedResourceMissing(ApiError):
    code, name, status, template = 150001, "AppPackageInvalid", 422, "Could not find object '{0}'"


def staged_name(job: Job) -> str | None:
    name = (job.payload or {}).get("staged")
    return name if isinstance(name, str) else None


class _PoolSpool:
    """Receives pool-sized files during the scan's single decompression pass."""

    def __init__(self, ctx: JobContext) -> None:
        self.ctx = ctx
        self.files: dict[str, Path] = {}

    def __call__(self, name: str, declared_size: int, mode: int) -> BinaryIO | None:
        settings = self.ctx.settings
        if not settings.resource_pool_minimum_size <= declared_size <= settings.resource_pool_maximum_size:
            return None
        if mode & 0o777 < 0o600:
            return None
        path = self.ctx.work_dir / f"spool-{uuid.uuid4().hex}"
        self.files[name] = path
        return open(path, "wb")

    def publish(self, entries: list[ScannedEntry]) -> None:
        """Move the spooled files whose content the pool lacks into it; they were verified by the scan."""
        settings = self.ctx.settings
        candidates = pool_candidates(entries, settings.resource_pool_minimum_size, settings.resource_pool_maximum_size)
        known = pool.known_sha1s(self.ctx.session, (e.sha1 for e in candidates))
        for entry in candidates:
            spooled = self.files.get(entry.name)
            if entry.sha1 in known or spooled is None:
                continue
            self.ctx.blobstore.move_in(resource_key(entry.sha1), spooled)
            pool.record_in_pool(self.ctx.session, entry.sha1, entry.size)
            known.add(entry.sha1)
        self.ctx.session.commit()

    def discard(self) -> None:
        for path in self.files.values():
            path.unlink(missing_ok=True)


def _store_verbatim(job: Job, staged: Path | None, entries: list[ScannedEntry], cached: list[CachedResource]) -> bool:
    """An upload with nothing to merge and no directory entries is already the final package."""
    payload = job.payload or {}
    return (
        staged is not None
        and not cached
        and bool(entries)
        and not any(e.is_dir for e in entries)
        and isinstance(payload.get("staged_sha1"), str)
        and isinstance(payload.get("staged_sha256"), str)
    )


def _open_cached(ctx: JobContext) -> Callable[[str], BinaryIO]:
    def open_cached(sha1: str) -> BinaryIO:
        try:
            return ctx.blobstore.open(resource_key(sha1))
        except BlobNotFound as e:
            raise CachedResourceMissing(sha1) from e

    return open_cached


def process_upload(ctx: JobContext, job: Job) -> None:
    name = staged_name(job)
    if name is None:
        _process_upload(ctx, job, None)
        return
    # On S3 the staged upload is fetched to this machine for the job (a zip is read out of order).
    with ctx.blobstore.staging.local_file(name) as staged:
        _process_upload(ctx, job, staged)


def _process_upload(ctx: JobContext, job: Job, staged: Path | None) -> None:
    guid = payload_str(job, "guid")
    pkg = repository.find_package(ctx.session, guid)
    if pkg is None or pkg.state != PackageState.PROCESSING_UPLOAD:
        _discard(ctx, job)
        return
    # End the read transaction: the heavy work below must not hold the database.
    ctx.session.commit()
    settings = ctx.settings
    out = ctx.work_dir / f"package-{guid}-{uuid.uuid4().hex}.zip"
    spool = _PoolSpool(ctx)
    try:
        cached = parse_resources(list((job.payload or {}).get("resources") or []))
        entries: list[ScannedEntry] = []
        if staged is not None:
            if not staged.exists():
                raise AppBitsUploadInvalid("Invalid zip archive.")
            limits = ArchiveLimits(settings.max_package_size, settings.max_package_entries)
            entries = scan_archive(staged, limits, spool if settings.feature_resource_matching else None)
            spool.publish(entries)
        if _store_verbatim(job, staged, entries, cached):
            sha1, sha256 = job.payload["staged_sha1"], job.payload["staged_sha256"]
            # As it is, from staging: a hard link on the local store, a server-side copy on S3.
            ctx.blobstore.staging.store_as(job.payload["staged"], package_key(guid))
        else:
            try:
                checksums = build_package_zip(
                    staged,
                    entries,
                    cached,
                    _open_cached(ctx),
                    out,
                    settings.max_package_size,
                )
            except ResourceChecksumMismatch as e:
                pool.remove_from_pool(ctx.session, ctx.blobstore, getattr(e, "mismatched", []))
                ctx.session.commit()
                raise
            sha1, sha256 = checksums.sha1, checksums.sha256
            ctx.blobstore.move_in(package_key(guid), out)
    except ApiError as e:
        _fail(ctx, guid, e.detail)
        _discard(ctx, job)
        raise
    finally:
        out.unlink(missing_ok=True)
        spool.discard()
    # Another transaction may have deleted or failed the package meanwhile: read it afresh.
    ctx.session.expire_all()
    pkg = repository.find_package(ctx.session, guid)
    if pkg is None or pkg.state != PackageState.PROCESSING_UPLOAD:
        # Deleted (or failed by a give-up) while we worked: the stored blob belongs to nobody.
        ctx.blobstore.delete(package_key(guid))
    else:
        pkg.mark_ready(sha1, sha256)
        expire_old_packages(ctx.session, settings, pkg.app_guid)
    ctx.session.commit()
    _discard(ctx, job)


def _fail(ctx: JobContext, guid: str, error: str) -> None:
    ctx.session.rollback()
    pkg = repository.find_package(ctx.session, guid)
    if pkg is not None and pkg.state == PackageState.PROCESSING_UPLOAD:
        pkg.mark_failed(error)
        expire_old_packages(ctx.session, ctx.settings, pkg.app_guid)
    ctx.session.commit()


def give_up_upload(ctx: JobContext, job: Job, reason: str) -> None:
    """The last attempt died (worker killed, or an unexpected error): fail the package, drop staging."""
    guid = payload_str(job, "guid")
    pkg = repository.find_package(ctx.session, guid)
    if pkg is not None and pkg.state == PackageState.PROCESSING_UPLOAD:
        pkg.mark_failed(f"The app upload could not be processed: {reason}")
        expire_old_packages(ctx.session, ctx.settings, pkg.app_guid)
    _discard(ctx, job)


def _discard(ctx: JobContext, job: Job) -> None:
    name = staged_name(job)
    if name is not None:
        ctx.blobstore.staging.discard(name)


def register(registry: Registry) -> None:
    registry.register(PROCESS_UPLOAD, Handler(process_upload, give_up_upload))
