"""Manifest use cases: apply (validate now, change apps in a job), diff, and an app's manifest."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from capi_packages.apps import service as apps
from capi_packages.audit_events import recorder
from capi_packages.auth.permissions import Permissions
from capi_packages.errors import ApiError, CompoundError, ResourceNotFound, UnprocessableEntity
from capi_packages.jobs.models import Job
from capi_packages.jobs.queue import enqueue
from capi_packages.manifests import units
from capi_packages.manifests.schemas import AppManifest, ProcessChange, parse_app_manifest, service_names
from capi_packages.metadata.rows import apply_metadata, present_metadata
from capi_packages.orgs import repository as orgs_repo
from capi_packages.orgs import service as orgs
from capi_packages.orgs.models import App, AppAnnotation, AppLabel, Space
from capi_packages.processes import service as processes
from capi_packages.processes.models import Process
from capi_packages.settings import Settings

DEFAULT_STACK = "cflinuxfs4"


def writable_space(session: Session, perms: Permissions, guid: str) -> Space:
    space = orgs_repo.find_space(session, guid)
    if space is None or not perms.can_read_space(space):
        raise ResourceNotFound("Space")
    perms.require_write(space)
    return space


def validated(document: dict[str, Any]) -> list[AppManifest]:
    manifests = [parse_app_manifest(raw) for raw in document["applications"]]
    errors: list[ApiError] = []
    for index, manifest in enumerate(manifests):
        who = f"For application '{manifest.name}'" if manifest.name else f"For application at index {index}"
        errors += [UnprocessableEntity(f"{who}: {message}") for message in manifest.errors]
    if errors:
        raise errors[0] if len(errors) == 1 else CompoundError(errors)
    return manifests


def _find_or_create_skeleton(session: Session, perms: Permissions, space: Space, manifest: AppManifest) -> App:
    """CC's AppFindOrCreateSkeleton: an app of the manifest's lifecycle, with its web process."""
    app = session.scalars(select(App).where(App.space_id == space.id, App.name == manifest.name)).first()
    if app is not None:
        return app
    lifecycle = manifest.lifecycle_type or "buildpack"
    data: dict[str, Any] = {}
    if lifecycle != "docker":
        data = {"buildpacks": manifest.buildpacks or [], "stack": manifest.attrs.get("stack") or DEFAULT_STACK}
    app = orgs.new_app(session, space, str(manifest.name), lifecycle, data, {})
    orgs.record_app_create(session, perms.claims, app, _skeleton_request(space, manifest))
    return app


def _skeleton_request(space: Space, manifest: AppManifest) -> dict[str, Any]:
    """The app create request CC builds from a manifest (its app_lifecycle_hash), as it records it."""
    request: dict[str, Any] = {"name": manifest.name, "relationships": {"space": {"data": {"guid": space.guid}}}}
    data = {"buildpacks": manifest.buildpacks, "stack": manifest.attrs.get("stack")}
    data = {key: value for key, value in data.items() if value is not None}
    if manifest.lifecycle_type == "docker":
        request["lifecycle"] = {"type": "docker"}
    elif manifest.lifecycle_type or data:
        request["lifecycle"] = {
            **({"type": manifest.lifecycle_type} if manifest.lifecycle_type else {}),
            **({"data": data} if data else {}),
        }
    if manifest.requested("metadata"):
        request["metadata"] = manifest.attrs["metadata"]
    return request


def apply_manifest(session: Session, perms: Permissions, space_guid: str, document: dict[str, Any]) -> Job:
    space = writable_space(session, perms, space_guid)
    manifests = validated(document)
    targets: list[tuple[str, dict[str, Any]]] = []
    for entry, manifest in zip(document["applications"], manifests, strict=True):
        app = _find_or_create_skeleton(session, perms, space, manifest)
        if app.is_docker and manifest.buildpacks is not None:
            word = "Buildpacks" if manifest.requested("buildpacks") else "Buildpack"
            raise UnprocessableEntity(
                f"For application '{manifest.name}': {word} cannot be configured for a docker lifecycle app."
            )
        if not app.is_docker and manifest.requested("docker"):
            raise UnprocessableEntity(
                f"For application '{manifest.name}': Docker cannot be configured for a buildpack lifecycle app."
            )
        targets.append((app.guid, manifest.attrs))
        recorder.record_app_apply_manifest(session, perms.claims, app, entry)
    payload = {"apps": [{"guid": guid, "manifest": attrs} for guid, attrs in targets]}
    return enqueue(session, "space.apply_manifest", payload, resource_type="space", resource_guid=space.guid)


# --- the job's side -------------------------------------------------------------------------------
def _update_process(process: Process, update: dict[str, Any]) -> None:
    if "command" in update:
        process.command = None if update["command"] == "null" else update["command"]
    if "user" in update:
        process.user = update["user"]
    health: dict[str, Any] = {"data": {}}
    if "health_check_type" in update:
        health["type"] = update["health_check_type"]
    mapping = {
        "health_check_http_endpoint": "endpoint",
        "timeout": "timeout",
        "health_check_timeout": "timeout",
        "health_check_invocation_timeout": "invocation_timeout",
        "health_check_interval": "interval",
    }
    for key, target in mapping.items():
        if key in update:
            health["data"][target] = update[key]
    processes.set_health_check(process, health, readiness=False)
    readiness: dict[str, Any] = {"data": {}}
    if "readiness_health_check_type" in update:
        readiness["type"] = update["readiness_health_check_type"]
    for key, target in (
        ("readiness_health_check_http_endpoint", "endpoint"),
        ("readiness_health_check_invocation_timeout", "invocation_timeout"),
        ("readiness_health_check_interval", "interval"),
    ):
        if key in update:
            readiness["data"][target] = update[key]
    processes.set_health_check(process, readiness, readiness=True)


def _apply_process(session: Session, app: App, change: ProcessChange) -> None:
    process = processes.find_process(session, app.guid, change.type)
    # A web entry naming nothing but its type changes nothing (CC skips it); other types are created.
    if change.update or change.type != "web":
        if process is None:
            command = change.update.get("command")
            process = processes.create_process(session, app, change.type, None if command == "null" else command)
        _update_process(process, change.update)
    if process is None and change.has_scale:
        process = processes.create_process(session, app, change.type)
    if process is not None and change.has_scale:
        processes.apply_scale(
            process,
            instances=change.instances,
            memory_in_mb=change.memory_in_mb,
            disk_in_mb=change.disk_in_mb,
            log_rate_limit=change.log_rate_limit,
        )


def apply_to_app(session: Session, settings: Settings, app_guid: str, attrs: dict[str, Any]) -> None:
    """CC's AppApplyManifest for one app; errors name the app, as SpaceApplyManifestActionJob does."""
    app = orgs_repo.find_app(session, app_guid)
    if app is None:
        raise ResourceNotFound(f"App with guid '{app_guid}'")
    manifest = parse_app_manifest(attrs)
    for change in manifest.processes:
        _apply_process(session, app, change)
    if not app.is_docker:
        lifecycle: dict[str, Any] = {}
        if manifest.buildpacks is not None:
            lifecycle["buildpacks"] = manifest.buildpacks
        if manifest.attrs.get("stack"):
            lifecycle["stack"] = manifest.attrs["stack"]
        if lifecycle:
            apps.update_lifecycle(app, {"data": lifecycle})
    metadata = manifest.attrs.get("metadata") or {}
    if metadata:
        apply_metadata(
            app,
            dict(metadata.get("labels") or {}),
            dict(metadata.get("annotations") or {}),
            (AppLabel, AppAnnotation),
            max_labels=settings.max_labels_per_resource,
            max_annotations=settings.max_annotations_per_resource,
        )
    if manifest.env is not None:
        apps.merge_environment(app, dict(manifest.env))
    # This service has no service instances, so a manifest naming one names one that is missing.
    for name in service_names(manifest):
        raise ResourceNotFound(f"For application '{app.name}': Service instance '{name}'")
    session.flush()


# --- presenting ----------------------------------------------------------------------------------
def _process_hash(process: Process) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "type": process.type,
        "instances": process.instances,
        "memory": f"{process.memory_in_mb}M",
        "disk_quota": f"{process.disk_in_mb}M",
        "log-rate-limit-per-second": -1
        if process.log_rate_limit == -1
        else units.human_readable(process.log_rate_limit),
        "command": process.command,
        "user": process.user,
        "health-check-type": process.health_check_type,
        "health-check-http-endpoint": process.health_check_endpoint,
        "health-check-invocation-timeout": process.health_check_invocation_timeout,
        "health-check-interval": process.health_check_interval,
        "readiness-health-check-type": process.readiness_health_check_type,
        "readiness-health-check-http-endpoint": process.readiness_health_check_endpoint,
        "readiness-health-check-invocation-timeout": process.readiness_health_check_invocation_timeout,
        "readiness-health-check-interval": process.readiness_health_check_interval,
        "timeout": process.health_check_timeout,
    }
    return {k: v for k, v in entry.items() if v is not None}


def app_manifest(session: Session, app: App) -> dict[str, Any]:
    """CC's AppManifestPresenter: one application, nil entries left out."""
    entry: dict[str, Any] = {"name": app.name, "env": dict(app.environment_variables) or None}
    entry["lifecycle"] = app.lifecycle_type
    if app.is_docker:
        image = _docker_image(session, app)
        if image is not None:
            entry["docker"] = image
    else:
        entry["buildpacks"] = (app.lifecycle_data or {}).get("buildpacks") or None
        entry["stack"] = (app.lifecycle_data or {}).get("stack")
    metadata = {k: v for k, v in present_metadata(app).items() if v}
    if metadata:
        entry["metadata"] = metadata
    procs = sorted(processes.processes_of(session, app.guid), key=lambda p: p.type)
    entry["processes"] = [_process_hash(p) for p in procs] or None
    return {"applications": [{k: v for k, v in entry.items() if v is not None}]}


def _docker_image(session: Session, app: App) -> dict[str, Any] | None:
    from capi_packages.packages.models import Package

    pkg = session.scalars(
        select(Package).where(Package.app_guid == app.guid, Package.type == "docker").order_by(Package.id.desc())
    ).first()
    if pkg is None:
        return None
    return {k: v for k, v in {"image": pkg.docker_image, "username": pkg.docker_username}.items() if v is not None}


def diff_manifest(session: Session, perms: Permissions, space_guid: str, document: dict[str, Any]) -> list[Any]:
    from capi_packages.manifests.diff import diff_app

    space = writable_space(session, perms, space_guid)
    validated(document)
    ops: list[Any] = []
    for index, wanted in enumerate(document["applications"]):
        existing = session.scalars(select(App).where(App.space_id == space.id, App.name == wanted.get("name"))).first()
        current = app_manifest(session, existing)["applications"][0] if existing is not None else None
        ops += diff_app(index, wanted, current)
    return ops
