"""Use cases for organizations, spaces and apps: what package users and the cf CLI need to set up."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from capi_packages.audit_events import recorder
from capi_packages.auth.permissions import Permissions
from capi_packages.auth.tokens import Claims
from capi_packages.db.base import utcnow
from capi_packages.errors import NotAuthorized, ResourceNotFound, UnprocessableEntity
from capi_packages.jobs.models import Job
from capi_packages.jobs.queue import enqueue
from capi_packages.listing import ListQuery, Page
from capi_packages.messages import (
    env_var_messages,
    name_field,
    raise_if,
    require_object,
    to_one_relationship,
    unknown_fields,
)
from capi_packages.metadata.rows import HasMetadata, apply_metadata
from capi_packages.metadata.validation import validate_metadata
from capi_packages.orgs import repository as repo
from capi_packages.orgs.models import (
    App,
    AppAnnotation,
    AppLabel,
    Organization,
    OrganizationAnnotation,
    OrganizationLabel,
    Space,
    SpaceAnnotation,
    SpaceLabel,
    Status,
)
from capi_packages.processes.service import create_process, find_process
from capi_packages.settings import Settings

LIFECYCLE_TYPES = ("buildpack", "docker", "cnb")


def metadata_messages(body: dict[str, Any]) -> list[str]:
    return validate_metadata(body["metadata"]) if "metadata" in body else []


def apply_body_metadata(
    resource: HasMetadata, body: dict[str, Any], row_types: tuple[type[Any], type[Any]], settings: Settings
) -> None:
    metadata = body.get("metadata") or {}
    apply_metadata(
        resource,
        dict(metadata.get("labels") or {}),
        dict(metadata.get("annotations") or {}),
        row_types,
        max_labels=settings.max_labels_per_resource,
        max_annotations=settings.max_annotations_per_resource,
    )


# --- organizations ------------------------------------------------------------------------------
def _org_message(raw: Any, *, name_required: bool) -> dict[str, Any]:
    body = require_object(raw)
    msgs = metadata_messages(body)
    msgs += unknown_fields(body, ("name", "suspended", "metadata")) + name_field(body, required=name_required)
    if "suspended" in body and not isinstance(body["suspended"], bool):
        msgs.append("Suspended must be a boolean")
    raise_if(msgs)
    return body


def create_org(session: Session, perms: Permissions, settings: Settings, raw: Any) -> Organization:
    body = _org_message(raw, name_required=True)
    if not perms.claims.is_admin:
        raise NotAuthorized()
    if repo.find_org_by_name(session, body["name"]):
        raise UnprocessableEntity(f"Organization '{body['name']}' already exists.")
    org = Organization(name=body["name"], status=Status.SUSPENDED if body.get("suspended") else Status.ACTIVE)
    org.labels, org.annotations = [], []
    session.add(org)
    apply_body_metadata(org, body, (OrganizationLabel, OrganizationAnnotation), settings)
    session.flush()
    recorder.record_organization_create(session, perms.claims, org, body)
    return org


def get_org(session: Session, perms: Permissions, guid: str) -> Organization:
    org = repo.find_org(session, guid)
    if org is None or not perms.can_read_org(org):
        raise ResourceNotFound("Organization")
    return org


def list_orgs(session: Session, perms: Permissions, query: ListQuery) -> Page[Organization]:
    return repo.list_orgs(session, perms.readable_org_ids(), query)


def update_org(session: Session, perms: Permissions, settings: Settings, guid: str, raw: Any) -> Organization:
    body = _org_message(raw, name_required=False)
    org = get_org(session, perms, guid)
    if not perms.can_manage_org(org) or ("suspended" in body and not perms.claims.is_admin):
        raise NotAuthorized()
    if "name" in body and body["name"] != org.name:
        if repo.find_org_by_name(session, body["name"]):
            raise UnprocessableEntity(f"Organization '{body['name']}' already exists.")
        org.name = body["name"]
    if "suspended" in body and org.status != Status.DELETING:
        org.status = Status.SUSPENDED if body["suspended"] else Status.ACTIVE
    apply_body_metadata(org, body, (OrganizationLabel, OrganizationAnnotation), settings)
    org.updated_at = utcnow()
    recorder.record_organization_update(session, perms.claims, org, body)
    return org


def delete_org(session: Session, perms: Permissions, guid: str) -> Job:
    org = get_org(session, perms, guid)
    if not perms.claims.is_admin:
        raise NotAuthorized()
    org.status = Status.DELETING
    payload = {"guid": org.guid, **recorder.actor_payload(perms.claims)}
    return enqueue(session, "organization.delete", payload, resource_type="organization", resource_guid=org.guid)


# --- spaces -------------------------------------------------------------------------------------
def create_space(session: Session, perms: Permissions, settings: Settings, body: Any) -> Space:
    body = require_object(body)
    msgs = metadata_messages(body) + unknown_fields(body, ("name", "relationships", "metadata")) + name_field(body)
    rel_msgs, org_guid = to_one_relationship(body.get("relationships"), "organization")
    raise_if(msgs + rel_msgs)
    org = repo.find_org(session, org_guid) if org_guid else None
    if org is None or not perms.can_read_org(org):
        raise UnprocessableEntity("Invalid organization. Ensure the organization exists and you have access to it.")
    if not perms.can_manage_org(org):
        raise NotAuthorized()
    perms.require_writable_org(org)
    if session.scalars(select(Space.id).where(Space.organization_id == org.id, Space.name == body["name"])).first():
        raise UnprocessableEntity(f"Space '{body['name']}' already exists.")
    space = Space(name=body["name"], organization=org, labels=[], annotations=[])
    session.add(space)
    apply_body_metadata(space, body, (SpaceLabel, SpaceAnnotation), settings)
    session.flush()
    recorder.record_space_create(session, perms.claims, space, body)
    return space


def update_space(session: Session, perms: Permissions, settings: Settings, guid: str, raw: Any) -> Space:
    body = require_object(raw)
    raise_if(metadata_messages(body) + unknown_fields(body, ("name", "metadata")) + name_field(body, required=False))
    space = get_space(session, perms, guid)
    if not perms.can_manage_space(space):
        raise NotAuthorized()
    perms.require_writable_space(space)
    if "name" in body and body["name"] != space.name:
        taken = select(Space.id).where(Space.organization_id == space.organization_id, Space.name == body["name"])
        if session.scalars(taken).first():
            raise UnprocessableEntity(
                f"Organization '{space.organization.name}' already contains a space with name '{body['name']}'."
            )
        space.name = body["name"]
    apply_body_metadata(space, body, (SpaceLabel, SpaceAnnotation), settings)
    space.updated_at = utcnow()
    recorder.record_space_update(session, perms.claims, space, body)
    return space


def get_space(session: Session, perms: Permissions, guid: str) -> Space:
    space = repo.find_space(session, guid)
    if space is None or not perms.can_read_space(space):
        raise ResourceNotFound("Space")
    return space


def list_spaces(session: Session, perms: Permissions, query: ListQuery) -> Page[Space]:
    return repo.list_spaces(session, perms.readable_space_ids(), query)


def delete_space(session: Session, perms: Permissions, guid: str) -> Job:
    space = get_space(session, perms, guid)
    if not (perms.claims.is_admin or space.organization_id in perms.managed_org_ids):
        raise NotAuthorized()
    perms.require_writable_org(space.organization)
    space.status = Status.DELETING
    payload = {"guid": space.guid, **recorder.actor_payload(perms.claims)}
    return enqueue(session, "space.delete", payload, resource_type="space", resource_guid=space.guid)


# --- apps ---------------------------------------------------------------------------------------
def _lifecycle(body: dict[str, Any]) -> tuple[list[str], str, dict[str, Any]]:
    lifecycle = body.get("lifecycle")
    if lifecycle is None:
        return [], "buildpack", {"buildpacks": [], "stack": "cflinuxfs4"}
    if not isinstance(lifecycle, dict):
        return ["Lifecycle must be an object"], "", {}
    type_ = lifecycle.get("type")
    if type_ not in LIFECYCLE_TYPES:
        return ["Lifecycle type must be one of 'buildpack, docker, cnb'"], "", {}
    data = lifecycle.get("data") or {}
    if not isinstance(data, dict):
        return ["Lifecycle data must be an object"], "", {}
    if type_ == "buildpack":
        data = {"buildpacks": data.get("buildpacks") or [], "stack": data.get("stack") or "cflinuxfs4"}
    return [], type_, data


def create_app(session: Session, perms: Permissions, settings: Settings, body: Any) -> App:
    body = require_object(body)
    msgs = metadata_messages(body)
    msgs += unknown_fields(body, ("name", "relationships", "lifecycle", "environment_variables", "metadata"))
    msgs += name_field(body)
    env = body.get("environment_variables")
    if env is not None:
        msgs += env_var_messages(env, "Environment variables", string_values=False)
    rel_msgs, space_guid = to_one_relationship(body.get("relationships"), "space")
    lc_msgs, lc_type, lc_data = _lifecycle(body)
    raise_if(msgs + rel_msgs + lc_msgs)
    space = repo.find_space(session, space_guid) if space_guid else None
    if space is None or not perms.can_read_space(space):
        raise UnprocessableEntity("Invalid space. Ensure that the space exists and you have access to it.")
    perms.require_write(space)
    if session.scalars(select(App.id).where(App.space_id == space.id, App.name == body["name"])).first():
        raise UnprocessableEntity(f"App with the name '{body['name']}' already exists.")
    app = new_app(session, space, body["name"], lc_type, lc_data, env or {})
    apply_body_metadata(app, body, (AppLabel, AppAnnotation), settings)
    session.flush()
    record_app_create(session, perms.claims, app, body)
    return app


def record_app_create(session: Session, by: recorder.Actor | Claims, app: App, request: dict[str, Any]) -> None:
    """CC's AppCreate records the web process it adds, then the app."""
    web = find_process(session, app.guid, "web")
    if web is not None:
        recorder.record_process_create(session, by, web, app)
    recorder.record_app_create(session, by, app, request)


def new_app(
    session: Session, space: Space, name: str, lc_type: str, lc_data: dict[str, Any], env: dict[str, Any]
) -> App:
    """An app with its web process (CC's AppCreate); the caller has checked name and access."""
    app = App(
        name=name,
        space=space,
        lifecycle_type=lc_type,
        lifecycle_data=lc_data,
        environment_variables=env,
        labels=[],
        annotations=[],
    )
    session.add(app)
    session.flush()
    create_process(session, app, "web")
    return app


def get_app(session: Session, perms: Permissions, guid: str) -> App:
    app = repo.find_app(session, guid)
    if app is None or not perms.can_read_space(app.space):
        raise ResourceNotFound("App")
    return app


def list_apps(session: Session, perms: Permissions, query: ListQuery) -> Page[App]:
    return repo.list_apps(session, perms.readable_space_ids(), query)


def delete_app(session: Session, perms: Permissions, guid: str) -> Job:
    app = get_app(session, perms, guid)
    perms.require_write(app.space)
    payload = {"guid": app.guid, **recorder.actor_payload(perms.claims)}
    return enqueue(session, "app.delete", payload, resource_type="app", resource_guid=app.guid)
