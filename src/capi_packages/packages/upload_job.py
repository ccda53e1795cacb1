"""The upload job: scan the zip, fill the resource pool, store the package (as uploaded or assembled), READY."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from capi_packages.bits.assembly import build_package_zip
from capi_packages.bits.entry_data import DEFAULT_THREADS
from capi_packages.bits.resources import CachedResource, parse_resources
from capi_packages.bits.trees import package_tree, tree_digest
from capi_packages.bits.zip_safety import ArchiveLimits, ScannedEntry, scan_archive
from capi_packages.blobstore.keys import package_key
from capi_packages.errors import ApiError, AppBitsUploadInvalid, CachedResourceMissing, ResourceChecksumMismatch
from capi_packages.features import resource_matching_enabled
from capi_packages.jobs.models import Job
from capi_packages.jobs.registry import Handler, JobContext, Registry, payload_str
from capi_packages.orgs.models import App
from capi_packages.packages import repository
from capi_packages.packages.models import PackageState
from capi_packages.packages.service import expire_old_packages
from capi_packages.packages.upload import PROCESS_UPLOAD
from capi_packages.push_matches.service import record_tree
from capi_packages.resource_pool.service import ResourcePool, fill_from_upload

log = logging.getLogger("capi_packages.upload")

# Fields of the payload only the run needs; the finished job keeps none of them (a `resources`
# list of 5,000 fingerprints is megabytes, and finished jobs are kept for months).
TRANSIENT_FIELDS = ("resources",)


@dataclass(frozen=True)
class UploadRequest:
    """What the accepted upload asked for, as the job's payload holds it."""

    guid: str
    # The staged upload's name, and the local file holding it while the job runs.
    staged_name: str | None
    staged: Path | None
    staged_sha1: str | None
    staged_sha256: str | None
    resources: list[dict[str, Any]]

    @classmethod
    def from_job(cls, job: Job, staged: Path | None) -> UploadRequest:
        payload = job.payload or {}
        sha1, sha256 = payload.get("staged_sha1"), payload.get("staged_sha256")
        return cls(
            guid=payload_str(job, "guid"),
            staged_name=staged_name(job),
            staged=staged,
            staged_sha1=sha1 if isinstance(sha1, str) else None,
            staged_sha256=sha256 if isinstance(sha256, str) else None,
            resources=list(payload.get("resources") or []),
        )


@dataclass(frozen=True)
class StoredPackage:
    sha1: str
    sha256: str
    tree: str | None = None  # its tree digest, when every file's sha1 is known


def staged_name(job: Job) -> str | None:
    name = (job.payload or {}).get("staged")
    return name if isinstance(name, str) else None


def process_upload(ctx: JobContext, job: Job) -> None:
    name = staged_name(job)
    if name is None:
        _process_upload(ctx, UploadRequest.from_job(job, None))
        return
    # The staged upload as a file on this machine while the job runs: on S3 it is fetched from the
    # bucket (a zip is read out of order), so the API host that took the request needs no part in it.
    with ctx.blobstore.staging.local_file(name) as staged:
        _process_upload(ctx, UploadRequest.from_job(job, staged))


def _process_upload(ctx: JobContext, request: UploadRequest) -> None:
    fold_case = _begin(ctx, request)
    if fold_case is None:
        _discard(ctx, request.staged_name)
        return
    pool = ResourcePool(ctx.session, ctx.blobstore, ctx.settings)
    try:
        cached = parse_resources(request.resources)
        entries = _scan(ctx, request, fold_case)
        if request.staged is not None and resource_matching_enabled(ctx.settings):
            fill_from_upload(pool, request.staged, entries, ctx.work_dir)
        stored = _store(ctx, request, entries, cached, pool, fold_case)
        tree = package_tree(entries, cached)
        stored = replace(stored, tree=tree_digest(tree) if tree is not None else None)
    except ApiError as e:
        _fail(ctx, request.guid, e.detail)
        _discard(ctx, request.staged_name)
        raise
    _mark_ready(ctx, request.guid, stored)
    _discard(ctx, request.staged_name)


def _begin(ctx: JobContext, request: UploadRequest) -> bool | None:
    """Whether names must be compared ignoring case; None when the package no longer waits for this job.

    Ends the read transaction: the heavy work that follows must not hold the database.
    """
    found = repository.find_package_with_app(ctx.session, request.guid)
    ctx.session.commit()
    if found is None or found[0].state != PackageState.PROCESSING_UPLOAD:
        return None
    return _extracts_ignoring_case(found[1])


def _extracts_ignoring_case(app: App) -> bool:
    # Windows stacks (windows, windows2016, ...) stage onto NTFS, where `A.txt` and `a.txt` are one file.
    stack = (app.lifecycle_data or {}).get("stack")
    return isinstance(stack, str) and stack.lower().startswith("windows")


def _scan(ctx: JobContext, request: UploadRequest, fold_case: bool) -> list[ScannedEntry]:
    """Check the uploaded zip in one pass, hashing every regular file: the pool needs the sha1s
    of pool-sized files, and the package's tree digest those of all of them."""
    if request.staged is None:
        return []
    if not request.staged.exists():
        raise AppBitsUploadInvalid("Invalid zip archive.")
    settings = ctx.settings
    limits = ArchiveLimits(settings.max_package_size, settings.max_package_entries)
    return scan_archive(request.staged, limits, _every_file, fold_case=fold_case, threads=DEFAULT_THREADS)


def _every_file(_size: int, _mode: int) -> bool:
    return True


def _store(
    ctx: JobContext,
    request: UploadRequest,
    entries: list[ScannedEntry],
    cached: list[CachedResource],
    pool: ResourcePool,
    fold_case: bool,
) -> StoredPackage:
    """Put the package's zip into the blobstore: the upload itself when it needs no change."""
    key = package_key(request.guid)
    if (
        request.staged is not None
        and request.staged_name is not None
        and request.staged_sha1 is not None
        and request.staged_sha256 is not None
        and not cached
        and entries
        and not any(e.is_dir for e in entries)
    ):
        # As it was uploaded, from staging: a hard link on the local store, a server-side copy on S3.
        ctx.blobstore.staging.store_as(request.staged_name, key)
        return StoredPackage(request.staged_sha1, request.staged_sha256)
    out = ctx.work_dir / f"package-{request.guid}-{uuid.uuid4().hex}.zip"
    try:
        checksums = build_package_zip(
            request.staged, entries, cached, pool.open, out, ctx.settings.max_package_size, fold_case=fold_case
        )
        ctx.blobstore.move_in(key, out)
    except ResourceChecksumMismatch as e:
        # As CC does: the bad blobs leave the pool, so the client's retry uploads those files.
        pool.remove(e.mismatched)
        ctx.session.commit()
        raise
    except CachedResourceMissing as e:
        # The index outlived the blob: forget it too, or every match would promise it again.
        pool.remove([e.sha1])
        ctx.session.commit()
        raise
    finally:
        out.unlink(missing_ok=True)
    return StoredPackage(checksums.sha1, checksums.sha256)


def _mark_ready(ctx: JobContext, guid: str, stored: StoredPackage) -> None:
    # Another transaction may have deleted or failed the package meanwhile: read it afresh.
    ctx.session.expire_all()
    pkg = repository.find_package(ctx.session, guid)
    if pkg is None or pkg.state != PackageState.PROCESSING_UPLOAD:
        # Deleted (or failed by a give-up) while we worked: the stored blob belongs to nobody.
        ctx.blobstore.delete(package_key(guid))
    else:
        pkg.mark_ready(stored.sha1, stored.sha256)
        record_tree(ctx.session, guid, stored.tree)
        expire_old_packages(ctx.session, ctx.settings, pkg.app_guid)
    ctx.session.commit()


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
    _discard(ctx, staged_name(job))


def _discard(ctx: JobContext, name: str | None) -> None:
    if name is not None:
        ctx.blobstore.staging.discard(name)


def register(registry: Registry) -> None:
    registry.register(PROCESS_UPLOAD, Handler(process_upload, give_up_upload, transient_fields=TRANSIENT_FIELDS))
