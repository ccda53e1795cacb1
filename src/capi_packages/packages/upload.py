"""Accepting an upload: CC's checks in order, then PROCESSING_UPLOAD and a job in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from capi_packages.audit_events import recorder
from capi_packages.auth.permissions import Permissions
from capi_packages.db.base import utcnow
from capi_packages.errors import PackageBitsAlreadyUploaded, UnprocessableEntity
from capi_packages.jobs.queue import enqueue
from capi_packages.jsonvalues import JsonRejected, loads_bounded
from capi_packages.packages import repository
from capi_packages.packages.models import Package, PackageState, PackageType
from capi_packages.packages.service import get_visible

UPLOAD_KEYS = ("bits", "bits_path", "bits_name", "upload_start_time", "resources")
NGINX_DUMMY_FIELD = "<ngx_upload_module_dummy>"
PROCESS_UPLOAD = "package.process_upload"


@dataclass(frozen=True)
class StagedBits:
    """An upload in the blobstore's staging, by name, with the hashes taken as it arrived."""

    name: str
    sha1: str
    sha256: str


@dataclass(frozen=True)
class UploadMessage:
    staged_bits: StagedBits | None
    resources: list[dict[str, Any]]


def parse_resources_field(raw: Any) -> list[dict[str, Any]]:
    """`resources` is a JSON *string* holding an array of objects; blank or [] means not given."""
    if raw is None:
        return []
    if not isinstance(raw, str):
        raise UnprocessableEntity("Resources must be valid JSON.")
    if not raw.strip():
        return []
    try:
        value = loads_bounded(raw)
    except JsonRejected as e:
        raise UnprocessableEntity("Resources must be valid JSON.") from e
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise UnprocessableEntity("Resources must be valid JSON.")
    return value


def parse_upload_message(fields: dict[str, Any], staged_bits: StagedBits | None) -> UploadMessage:
    resources = parse_resources_field(fields.get("resources"))
    # CC's message validators run in this order: unknown keys, presence, bits path, nginx dummy.
    msgs: list[str] = []
    keys = [*fields, *(["bits"] if staged_bits is not None else [])]
    unknown = [k for k in keys if k not in UPLOAD_KEYS and k != NGINX_DUMMY_FIELD]
    if unknown:
        msgs.append("Unknown field(s): " + ", ".join(f"'{k}'" for k in unknown))
    bits_path = fields.get("bits_path")
    if staged_bits is None and not resources and not (isinstance(bits_path, str) and bits_path.strip()):
        msgs.append("Upload must include either resources or bits")
    # Only CC's own nginx may name a server-side file; from a client every such path is invalid.
    if bits_path is not None:
        msgs.append("Bits path is invalid")
    if NGINX_DUMMY_FIELD in fields:
        msgs.append("File field missing path information")
    if msgs:
        raise UnprocessableEntity(msgs)
    return UploadMessage(staged_bits, resources)


def check_upload_target(session: Session, perms: Permissions, guid: str) -> None:
    """Steps 4-7 of CC's upload: 404, 403/suspended, type, state; from the URL and token alone."""
    pkg, app = get_visible(session, perms, guid)
    perms.require_write(app.space)
    if pkg.type != PackageType.BITS:
        raise UnprocessableEntity("Package type must be bits.")
    if pkg.state != PackageState.AWAITING_UPLOAD:
        raise PackageBitsAlreadyUploaded()


def accept_upload(session: Session, perms: Permissions, guid: str, message: UploadMessage) -> Package:
    """Steps 4-8 of CC's upload, again now that the body is in: then PROCESSING_UPLOAD + job."""
    pkg, app = get_visible(session, perms, guid)
    perms.require_write(app.space)
    if pkg.type != PackageType.BITS:
        raise UnprocessableEntity("Package type must be bits.")
    # Re-read under the row lock so two concurrent uploads cannot both start.
    locked = repository.lock_for_update(session, guid)
    if locked is None or locked.state != PackageState.AWAITING_UPLOAD:
        raise PackageBitsAlreadyUploaded()
    bits = message.staged_bits
    recorder.record_package_upload(session, perms.claims, locked, app)
    locked.state = PackageState.PROCESSING_UPLOAD
    locked.updated_at = utcnow()
    enqueue(
        session,
        PROCESS_UPLOAD,
        {
            "guid": locked.guid,
            "staged": bits.name if bits else None,
            "staged_sha1": bits.sha1 if bits else None,
            "staged_sha256": bits.sha256 if bits else None,
            "resources": message.resources,
        },
        resource_type="package",
        resource_guid=locked.guid,
        # Re-running is safe (the blob is written atomically), so a crashed worker's job is retried.
        max_attempts=3,
    )
    session.flush()
    return locked
