"""Process use cases: the web process every app gets, reading, listing, updating and scaling."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from capi_packages.audit_events import recorder
from capi_packages.auth.permissions import Permissions
from capi_packages.db.base import utcnow
from capi_packages.db.listing import fetch_page, label_clauses, timestamp_clauses
from capi_packages.errors import ResourceNotFound
from capi_packages.listing import ListQuery, Page
from capi_packages.metadata.rows import apply_metadata
from capi_packages.orgs import repository as orgs_repo
from capi_packages.orgs.models import App
from capi_packages.processes import repository as repo
from capi_packages.processes.models import WEB, HealthCheckType, Process, ProcessAnnotation, ProcessLabel
from capi_packages.processes.schemas import parse_process_scale, parse_process_update
from capi_packages.settings import Settings


def create_process(session: Session, app: App, type_: str, command: str | None = None) -> Process:
    """CC's ProcessCreate: web gets one instance and a port check (and the app's guid); others none."""
    process = Process(
        app_guid=app.guid,
        type=type_,
        command=command,
        instances=1 if type_ == WEB else 0,
        health_check_type=(HealthCheckType.PORT if type_ == WEB else HealthCheckType.PROCESS).value,
        labels=[],
        annotations=[],
    )
    if type_ == WEB:
        process.guid = app.guid
    session.add(process)
    session.flush()
    return process


def _visible_app(session: Session, perms: Permissions, app_guid: str) -> App:
    app = orgs_repo.find_app(session, app_guid)
    if app is None or not perms.can_read_space(app.space):
        raise ResourceNotFound("App")
    return app


def get_process(session: Session, perms: Permissions, guid: str) -> tuple[Process, App]:
    found = repo.find_with_app(session, guid)
    if found is None or not perms.can_read_space(found[1].space):
        raise ResourceNotFound("Process")
    return found


def get_app_process(session: Session, perms: Permissions, app_guid: str, type_: str) -> tuple[Process, App]:
    app = _visible_app(session, perms, app_guid)
    process = repo.find_by_type(session, app.guid, type_)
    if process is None:
        raise ResourceNotFound("Process")
    return process, app


def list_processes(
    session: Session, perms: Permissions, query: ListQuery, app_guid: str | None = None
) -> Page[tuple[Process, App]]:
    filters = dict(query.filters)
    if app_guid is not None:
        filters["app_guid"] = [_visible_app(session, perms, app_guid).guid]
    stmt = repo.list_statement(perms.readable_space_ids(), filters)
    stmt = stmt.where(*label_clauses(ProcessLabel, Process.guid, query.label_selector or []))
    stmt = stmt.where(*timestamp_clauses(Process, query.timestamps))
    page = fetch_page(session, stmt, Process, query)
    apps = repo.apps_by_guid(session, {p.app_guid for p in page.rows})
    return Page([(p, apps[p.app_guid]) for p in page.rows], page.total)


def _bump_version(process: Process) -> None:
    process.version = str(uuid.uuid4())
    process.updated_at = utcnow()


def update_process(
    session: Session, perms: Permissions, settings: Settings, process: Process, app: App, raw: Any
) -> Process:
    perms.require_write(app.space)
    body = parse_process_update(raw)
    if "command" in body:
        process.command = body["command"]
    if "user" in body:
        process.user = body["user"]
    for key, readiness in (("health_check", False), ("readiness_health_check", True)):
        if key in body:
            set_health_check(process, body[key], readiness=readiness)
    metadata = body.get("metadata") or {}
    apply_metadata(
        process,
        dict(metadata.get("labels") or {}),
        dict(metadata.get("annotations") or {}),
        (ProcessLabel, ProcessAnnotation),
        max_labels=settings.max_labels_per_resource,
        max_annotations=settings.max_annotations_per_resource,
    )
    _bump_version(process)
    recorder.record_process_update(session, perms.claims, process, app, raw)
    return process


def set_health_check(process: Process, value: dict[str, Any], *, readiness: bool) -> None:
    prefix = "readiness_health_check" if readiness else "health_check"
    if "type" in value:
        setattr(process, f"{prefix}_type", value["type"])
        if value["type"] != HealthCheckType.HTTP:
            # An endpoint only means something to an http check.
            setattr(process, f"{prefix}_endpoint", None)
    data = value.get("data") or {}
    keys = (
        ("invocation_timeout", "interval", "endpoint")
        if readiness
        else ("timeout", "invocation_timeout", "interval", "endpoint")
    )
    for key in keys:
        if key in data:
            setattr(process, f"{prefix}_{key}", data[key])


def scale_process(session: Session, perms: Permissions, process: Process, app: App, raw: Any) -> Process:
    perms.require_write(app.space)
    body = parse_process_scale(raw)
    apply_scale(
        process,
        instances=body.get("instances"),
        memory_in_mb=body.get("memory_in_mb"),
        disk_in_mb=body.get("disk_in_mb"),
        log_rate_limit=body.get("log_rate_limit_in_bytes_per_second"),
    )
    recorder.record_process_scale(session, perms.claims, process, app, raw)
    return process


def apply_scale(
    process: Process,
    *,
    instances: int | None = None,
    memory_in_mb: int | None = None,
    disk_in_mb: int | None = None,
    log_rate_limit: int | None = None,
) -> None:
    if instances is not None:
        process.instances = instances
    if memory_in_mb is not None:
        process.memory_in_mb = memory_in_mb
    if disk_in_mb is not None:
        process.disk_in_mb = disk_in_mb
    if log_rate_limit is not None:
        process.log_rate_limit = log_rate_limit
    process.updated_at = utcnow()


def processes_of(session: Session, app_guid: str) -> list[Process]:
    return repo.for_app(session, app_guid)


def find_process(session: Session, app_guid: str, type_: str) -> Process | None:
    return repo.find_by_type(session, app_guid, type_)
