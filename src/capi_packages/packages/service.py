"""Package use cases: create, read, list, update, delete, copy; the checks in CC's order."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from sqlalchemy.orm import Session

from capi_packages.audit_events import recorder
from capi_packages.auth.permissions import Permissions
from capi_packages.auth.secrets import SecretBox
from capi_packages.db import changes
from capi_packages.db.base import utcnow
from capi_packages.errors import ResourceNotFound, UnprocessableEntity
from capi_packages.jobs.models import Job
from capi_packages.jobs.queue import enqueue
from capi_packages.listing import ListQuery, Page
from capi_packages.orgs import repository as orgs_repo
from capi_packages.orgs.models import App
from capi_packages.packages import metadata, repository
from capi_packages.packages.models import Package, PackageState, PackageType
from capi_packages.packages.schemas import parse_package_create, parse_package_update
from capi_packages.settings import Settings

APP_INVALID = "App is invalid. Ensure it exists and you have access to it."
SOURCE_INVALID = "Source package is invalid. Ensure it exists and you have access to it."
MAX_DOCKER_PASSWORD = 5000


def get_visible(session: Session, perms: Permissions, guid: str) -> tuple[Package, App]:
    """The package and its app; an invisible package is reported as missing."""
    found = repository.find_package_with_app(session, guid)
    if found is None or not perms.can_read_space(found[1].space):
        raise ResourceNotFound("Package")
    return found


def _check_password(password: str | None) -> None:
    if password is not None and len(password) > MAX_DOCKER_PASSWORD:
        raise UnprocessableEntity("docker_password can be up to 5,000 characters")


def create(session: Session, perms: Permissions, settings: Settings, box: SecretBox, body: Any) -> Package:
    msgs, msg = parse_package_create(body)
    if msg is None:
        raise UnprocessableEntity(msgs)
    app = orgs_repo.find_app(session, msg.app_guid) if msg.app_guid else None
    if app is None or not perms.can_read_space(app.space):
        raise UnprocessableEntity(APP_INVALID)
    perms.require_write(app.space)
    if app.is_docker and msg.type != PackageType.DOCKER:
        raise UnprocessableEntity("Cannot create bits package for a Docker app.")
    if app.is_buildpack and msg.type != PackageType.BITS:
        raise UnprocessableEntity("Cannot create Docker package for a buildpack app.")
    _check_password(msg.password)
    pkg = Package(app_guid=app.guid, type=msg.type, labels=[], annotations=[])
    if msg.type == PackageType.DOCKER:
        pkg.state = PackageState.READY
        pkg.docker_image, pkg.docker_username = msg.image, msg.username
        pkg.docker_password = box.encrypt(msg.password) if msg.password is not None else None
    else:
        pkg.state = PackageState.AWAITING_UPLOAD
    session.add(pkg)
    session.flush()
    recorder.record_package_create(session, perms.claims, pkg, app, body)
    metadata.apply(pkg, msg.labels, msg.annotations, settings)
    session.flush()
    if pkg.state == PackageState.READY:
        expire_old_packages(session, settings, app.guid)
    return pkg


def get(session: Session, perms: Permissions, guid: str) -> Package:
    return get_visible(session, perms, guid)[0]


def list_version(session: Session, perms: Permissions, shared: changes.SharedReads[int | None]) -> Hashable | None:
    """What a rendered package list depends on besides its URL: the package-list change counter,
    read before any row (through `shared`, by whichever caller's session reads it), and the spaces
    the caller sees. None when there is no counter."""
    counter = shared.get(lambda: changes.current(session, changes.PACKAGES))
    if counter is None:
        return None
    visible = perms.readable_space_ids()
    return (counter, None if visible is None else frozenset(visible))


def list_packages(session: Session, perms: Permissions, query: ListQuery, app_guid: str | None = None) -> Page[Package]:
    """The visible packages on the query's page; with `app_guid`, that app's (which must be visible)."""
    if app_guid is not None:
        app = orgs_repo.find_app(session, app_guid)
        if app is None or not perms.can_read_space(app.space):
            raise ResourceNotFound("App")
    return repository.list_packages(session, perms.readable_space_ids(), query, app_guid=app_guid)


def update(session: Session, perms: Permissions, settings: Settings, box: SecretBox, guid: str, body: Any) -> Package:
    msgs, msg = parse_package_update(body)
    if msg is None:
        raise UnprocessableEntity(msgs)
    pkg, app = get_visible(session, perms, guid)
    has_credentials = msg.username is not None or msg.password is not None
    # CC checks this before write access, so a read-only caller sees the 422 too.
    if pkg.type != PackageType.DOCKER and has_credentials:
        raise UnprocessableEntity("Cannot update Docker credentials for a buildpack app.")
    perms.require_write(app.space)
    _check_password(msg.password)
    if msg.username is not None:
        pkg.docker_username = msg.username
    if msg.password is not None:
        pkg.docker_password = box.encrypt(msg.password)
    if has_credentials:
        pkg.updated_at = utcnow()
    metadata.apply(pkg, msg.labels, msg.annotations, settings)
    session.flush()
    return pkg


def delete(session: Session, perms: Permissions, guid: str) -> Job:
    pkg, app = get_visible(session, perms, guid)
    perms.require_write(app.space)
    payload = {"guid": pkg.guid, **recorder.actor_payload(perms.claims)}
    return enqueue(session, "package.delete", payload, resource_type="package", resource_guid=pkg.guid)


def copy(session: Session, perms: Permissions, settings: Settings, source_guid: str, body: Any) -> Package:
    """Copy: only relationships.app.data.guid is read; no message validation (as CC)."""
    dest_guid = _dig(body, "relationships", "app", "data", "guid")
    dest = orgs_repo.find_app(session, dest_guid) if isinstance(dest_guid, str) else None
    if dest is None or not perms.can_read_space(dest.space):
        raise UnprocessableEntity(APP_INVALID)
    perms.require_write(dest.space)
    found = repository.find_package_with_app(session, source_guid)
    if found is None or not perms.can_read_space(found[1].space):
        raise UnprocessableEntity(SOURCE_INVALID)
    source, source_app = found
    perms.require_write(source_app.space)
    if dest.guid == source.app_guid:
        raise UnprocessableEntity("Source and destination app cannot be the same")
    return _start_copy(session, perms, settings, source, dest)


def duplicate(session: Session, perms: Permissions, settings: Settings, source_guid: str) -> Package:
    """A new package of the source's own app holding its bits (ours: CC copies only to other apps).

    Checked as a download of the source is, then as a write to its space."""
    source, app = get_visible(session, perms, source_guid)
    perms.require_write(app.space)
    if source.type != PackageType.BITS:
        raise UnprocessableEntity("Package type must be bits.")
    if source.state != PackageState.READY:
        raise UnprocessableEntity(f"Package has no bits to duplicate: it is {source.state}.")
    return _start_copy(session, perms, settings, source, app)


def _start_copy(session: Session, perms: Permissions, settings: Settings, source: Package, dest: App) -> Package:
    pkg = Package(app_guid=dest.guid, type=source.type, labels=[], annotations=[])
    if source.type == PackageType.DOCKER:
        pkg.state = PackageState.READY
        pkg.docker_image = source.docker_image
    else:
        pkg.state = PackageState.COPYING
    session.add(pkg)
    session.flush()
    recorder.record_package_copy(session, perms.claims, pkg, dest, source.guid)
    if pkg.type == PackageType.BITS:
        enqueue(
            session,
            "package.copy_bits",
            {"source_guid": source.guid, "destination_guid": pkg.guid},
            resource_type="package",
            resource_guid=pkg.guid,
            max_attempts=3,
        )
    else:
        expire_old_packages(session, settings, dest.guid)
    return pkg


def _dig(value: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def expire_old_packages(session: Session, settings: Settings, app_guid: str) -> list[Package]:
    """READY/FAILED packages beyond max_valid_packages_stored become EXPIRED; blobs go by job.

    Two workers finishing packages of one app must not both count before either commits, so the
    count is taken under a per-app lock that lasts until the caller's transaction ends.
    """
    session.flush()
    repository.lock_app_packages(session, app_guid)
    expired = repository.older_valid_packages(session, app_guid, settings.max_valid_packages_stored)
    for pkg in expired:
        pkg.state = PackageState.EXPIRED
        pkg.updated_at = utcnow()
        if pkg.package_hash is not None or pkg.sha256_checksum is not None:
            enqueue(session, "package.delete_expired_blob", {"guid": pkg.guid}, max_attempts=3)
    return expired


def count_packages_by_state(session: Session) -> dict[str, int]:
    counts = {state.value: 0 for state in PackageState}
    counts.update(repository.count_by_state(session))
    return counts
