"""Use cases for organizations, spaces, apps and roles: just what package users need to set up."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from capi_packages.auth.permissions import Permissions
from capi_packages.db.base import utcnow
from capi_packages.errors import NotAuthorized, ResourceNotFound, UnprocessableEntity
from capi_packages.jobs.models import Job, JobState
from capi_packages.jobs.queue import enqueue
from capi_packages.listing import ListQuery, Page
from capi_packages.messages import (
    name_field,
    raise_if,
    require_object,
    to_one_relationship,
    unknown_fields,
)
from capi_packages.orgs import repository as repo
from capi_packages.orgs.models import App, Organization, Role, RoleType, Space, Status

LIFECYCLE_TYPES = ("buildpack", "docker", "cnb")


# Labels and annotations are kept for packages only; on these resources `metadata` is refused as an
# unknown field rather than accepted and dropped.


# --- organizations ------------------------------------------------------------------------------
def _org_message(raw: Any, *, name_required: bool) -> dict[str, Any]:
    body = require_object(raw)
    msgs = unknown_fields(body, ("name", "suspended")) + name_field(body, required=name_required)
    if "suspended" in body and not isinstance(body["suspended"], bool):
        msgs.append("Suspended must be a boolean")
    raise_if(msgs)
    return body


def create_org(session: Session, perms: Permissions, raw: Any) -> Organization:
    body = _org_message(raw, name_required=True)
    if not perms.claims.is_admin:
        raise NotAuthorized()
    if repo.find_org_by_name(session, body["name"]):
        raise UnprocessableEntity(f"Organization '{body['name']}' already exists.")
    org = Organization(name=body["name"], status=Status.SUSPENDED if body.get("suspended") else Status.ACTIVE)
    session.add(org)
    session.flush()
    return org


def get_org(session: Session, perms: Permissions, guid: str) -> Organization:
    org = repo.find_org(session, guid)
    if org is None or not perms.can_read_org(org):
        raise ResourceNotFound("Organization")
    return org


def list_orgs(session: Session, perms: Permissions, query: ListQuery) -> Page[Organization]:
    return repo.list_orgs(session, perms.readable_org_ids(), query)


def update_org(session: Session, perms: Permissions, guid: str, raw: Any) -> Organization:
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
    org.updated_at = utcnow()
    return org


def delete_org(session: Session, perms: Permissions, guid: str) -> Job:
    org = get_org(session, perms, guid)
    if not perms.claims.is_admin:
        raise NotAuthorized()
    org.status = Status.DELETING
    return enqueue(
        session, "organization.delete", {"guid": org.guid}, resource_type="organization", resource_guid=org.guid
    )


# --- spaces -------------------------------------------------------------------------------------
def create_space(session: Session, perms: Permissions, body: Any) -> Space:
    body = require_object(body)
    msgs = unknown_fields(body, ("name", "relationships")) + name_field(body)
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
    space = Space(name=body["name"], organization=org)
    session.add(space)
    session.flush()
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
    return enqueue(session, "space.delete", {"guid": space.guid}, resource_type="space", resource_guid=space.guid)


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


def create_app(session: Session, perms: Permissions, body: Any) -> App:
    body = require_object(body)
    msgs = unknown_fields(body, ("name", "relationships", "lifecycle"))
    msgs += name_field(body)
    rel_msgs, space_guid = to_one_relationship(body.get("relationships"), "space")
    lc_msgs, lc_type, lc_data = _lifecycle(body)
    raise_if(msgs + rel_msgs + lc_msgs)
    space = repo.find_space(session, space_guid) if space_guid else None
    if space is None or not perms.can_read_space(space):
        raise UnprocessableEntity("Invalid space. Ensure that the space exists and you have access to it.")
    perms.require_write(space)
    if session.scalars(select(App.id).where(App.space_id == space.id, App.name == body["name"])).first():
        raise UnprocessableEntity(f"App with the name '{body['name']}' already exists.")
    app = App(name=body["name"], space=space, lifecycle_type=lc_type, lifecycle_data=lc_data)
    session.add(app)
    session.flush()
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
    return enqueue(session, "app.delete", {"guid": app.guid}, resource_type="app", resource_guid=app.guid)


# --- roles --------------------------------------------------------------------------------------
def create_role(session: Session, perms: Permissions, body: Any) -> Role:
    body = require_object(body)
    msgs = unknown_fields(body, ("type", "relationships"))
    try:
        role_type = RoleType(body.get("type"))
    except ValueError:
        role_type = None
        msgs.append("Type must be one of the allowed types " + ", ".join(f"'{t.value}'" for t in RoleType))
    rels = body.get("relationships")
    user_guid = None
    if not isinstance(rels, dict):
        msgs.append("Relationships 'relationships' is not an object")
    else:
        user = rels.get("user")
        data = user.get("data") if isinstance(user, dict) else None
        user_guid = data.get("guid") if isinstance(data, dict) else None
        if not isinstance(user_guid, str) or not user_guid:
            msgs.append('Relationships User must be structured like this: "user: {"data": {"guid": "valid-guid"}}"')
    raise_if(msgs)
    assert role_type is not None and isinstance(rels, dict) and isinstance(user_guid, str)
    target = "space" if role_type.is_space_role else "organization"
    _, target_guid = to_one_relationship({target: rels.get(target)}, target)
    if role_type.is_space_role:
        space = repo.find_space(session, target_guid) if target_guid else None
        if space is None or not perms.can_read_space(space):
            raise UnprocessableEntity("Invalid space. Ensure that the space exists and you have access to it.")
        if not perms.can_manage_space(space):
            raise NotAuthorized()
        if not repo.has_org_role(session, user_guid, space.organization_id):
            raise UnprocessableEntity(
                "Users cannot be assigned roles in a space if they do not have a role in that space's organization."
            )
        if repo.role_exists(session, role_type.value, user_guid, None, space.id):
            raise UnprocessableEntity(
                f"User '{user_guid}' already has '{role_type.value}' role in space '{space.name}'."
            )
        role = Role(type=role_type.value, user_guid=user_guid, space=space)
    else:
        org = repo.find_org(session, target_guid) if target_guid else None
        if org is None or not perms.can_read_org(org):
            raise UnprocessableEntity(
                "Invalid organization. Ensure that the organization exists and you have access to it."
            )
        if not perms.can_manage_org(org):
            raise NotAuthorized()
        if repo.role_exists(session, role_type.value, user_guid, org.id, None):
            raise UnprocessableEntity(
                f"User '{user_guid}' already has '{role_type.value}' role in organization '{org.name}'."
            )
        role = Role(type=role_type.value, user_guid=user_guid, organization=org)
    session.add(role)
    try:
        session.flush()
    except IntegrityError as e:
        raise UnprocessableEntity("The role already exists.") from e
    return role


def _can_read_role(perms: Permissions, role: Role) -> bool:
    if role.space is not None:
        return perms.can_read_space(role.space) or role.user_guid == perms.claims.user_id
    return (role.organization is not None and perms.can_read_org(role.organization)) or (
        role.user_guid == perms.claims.user_id
    )


def get_role(session: Session, perms: Permissions, guid: str) -> Role:
    role = repo.find_role(session, guid)
    if role is None or not _can_read_role(perms, role):
        raise ResourceNotFound("Role")
    return role


def list_roles(session: Session, perms: Permissions, query: ListQuery) -> Page[Role]:
    """Roles in readable spaces and orgs, and the caller's own roles anywhere."""
    visibility = None
    if not perms.claims.can_read_globally:
        spaces = perms.readable_space_ids() or set()
        orgs = perms.readable_org_ids() or set()
        visibility = or_(
            Role.space_id.in_(spaces), Role.organization_id.in_(orgs), Role.user_guid == perms.claims.user_id
        )
    return repo.list_roles(session, visibility, query)


def delete_role(session: Session, perms: Permissions, guid: str) -> Job:
    """Deleting a role is one row, so it happens now; the job CC's clients poll is already COMPLETE."""
    role = get_role(session, perms, guid)
    allowed = (
        perms.can_manage_space(role.space)
        if role.space is not None
        else (role.organization is not None and perms.can_manage_org(role.organization))
    )
    if not allowed:
        raise NotAuthorized()
    session.delete(role)
    job = enqueue(session, "role.delete", {"guid": guid}, resource_type="role", resource_guid=guid)
    job.state = JobState.COMPLETE.value
    return job
