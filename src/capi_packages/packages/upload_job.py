"""The upload job: validate the zip, fill the resource pool, merge cached files, store, READY."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path
from typing import BinaryIO

from capi_packages.bits.assembly import build_package_zip, parse_resources
from capi_packages.bits.fingerprints import extract_entry, pool_candidates
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


def staged_path(ctx: JobContext, job: Job) -> Path | None:
    name = (job.payload or {}).get("staged")
    return ctx.work_dir / name if isinstance(name, str) else None


def _fill_pool(ctx: JobContext, zip_path: Path, entries: list[ScannedEntry]) -> None:
    """Copy the upload's cacheable files into the pool, skipping content it already holds."""
    settings = ctx.settings
    candidates = pool_candidates(entries, settings.resource_pool_minimum_size, settings.resource_pool_maximum_size)
    if not candidates:
        return
    known = pool.known_sha1s(ctx.session, (e.sha1 for e in candidates))
    ctx.session.commit()
    for entry in candidates:
        if entry.sha1 in known:
            continue
        with ctx.blobstore.writer(resource_key(entry.sha1)) as out:
            written = extract_entry(zip_path, entry.name, out)
            if written != entry.sha1:  # the archive changed under us: never pool mismatched bytes
                raise AppBitsUploadInvalid("Invalid zip archive.")
        pool.record_in_pool(ctx.session, entry.sha1, entry.size)
        known.add(entry.sha1)
        ctx.session.commit()


def _open_cached(ctx: JobContext) -> object:
    def open_cached(sha1: str) -> BinaryIO:
        try:
            return ctx.blobstore.open(resource_key(sha1))
        except BlobNotFound as e:
            raise CachedResourceMissing(sha1) from e

    return open_cached


def process_upload(ctx: JobContext, job: Job) -> None:
    guid = payload_str(job, "guid")
    staged = staged_path(ctx, job)
    pkg = repository.find_package(ctx.session, guid)
    if pkg is None or pkg.state != PackageState.PROCESSING_UPLOAD:
        _discard(staged)
        return
    # End the read transaction: the heavy work below must not hold the database.
    ctx.session.commit()
    settings = ctx.settings
    out = ctx.work_dir / f"package-{guid}-{uuid.uuid4().hex}.zip"
    try:
        cached = parse_resources(list((job.payload or {}).get("resources") or []))
        entries: list[ScannedEntry] = []
        if staged is not None:
            if not staged.exists():
                raise AppBitsUploadInvalid("Invalid zip archive.")
            entries = scan_archive(staged, ArchiveLimits(settings.max_package_size, settings.max_package_entries))
            if settings.feature_resource_matching:
                _fill_pool(ctx, staged, entries)
        try:
            checksums = build_package_zip(
                staged, entries, cached, _open_cached(ctx), out, settings.max_package_size  # type: ignore[arg-type]
            )
        except ResourceChecksumMismatch as e:
            pool.remove_from_pool(ctx.session, ctx.blobstore, getattr(e, "mismatched", []))
            ctx.session.commit()
            raise
        ctx.blobstore.move_in(package_key(guid), out)
    except ApiError as e:
        _fail(ctx, guid, e.detail)
        _discard(staged)
        raise
    finally:
        out.unlink(missing_ok=True)
    pkg = repository.find_package(ctx.session, guid)
    if pkg is None or pkg.state != PackageState.PROCESSING_UPLOAD:
        # Deleted (or failed by a give-up) while we worked: the stored blob belongs to nobody.
        ctx.blobstore.delete(package_key(guid))
    else:
        pkg.mark_ready(checksums.sha1, checksums.sha256)
        expire_old_packages(ctx.session, settings, pkg.app_guid)
    ctx.session.commit()
    _discard(staged)


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
    _discard(staged_path(ctx, job))


def _discard(path: Path | None) -> None:
    if path is not None:
        path.unlink(missing_ok=True)


def register(registry: Registry) -> None:
    registry.register(PROCESS_UPLOAD, Handler(process_upload, give_up_upload))
