"""Role use cases in CC's order of checks: create (by guid or by username), read, list, delete."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from capi_packages.audit_events import recorder
from capi_packages.auth.permissions import Permissions
from capi_packages.errors import NotAuthorized, ResourceNotFound, UnprocessableEntity
from capi_packages.jobs.models import Job, JobState
from capi_packages.jobs.queue import enqueue
from capi_packages.listing import ListQuery, Page
from capi_packages.messages import raise_if
from capi_packages.orgs import repository as orgs_repo
from capi_packages.orgs.models import Role, RoleType
from capi_packages.roles.schemas import RoleCreate, parse_role_create
from capi_packages.users import service as users
from capi_packages.users.models import User

SPACE_USER_INVALID = (
    "Users cannot be assigned roles in a space if they do not have a role in that space's organization."
)


def _lookup_username(session: Session, msg: RoleCreate, *, for_space: bool) -> str:
    """CC's lookup_user_guid_in_uaa, over the users this service knows."""
    assert msg.username is not None
    user = users.resolve_username(session, msg.username, msg.origin)
    if user is not None:
        return user.guid
    if for_space:
        raise UnprocessableEntity(SPACE_USER_INVALID)
    if msg.origin is not None:
        raise UnprocessableEntity(f"No user exists with the username '{msg.username}' and origin '{msg.origin}'.")
    raise UnprocessableEntity(f"No user exists with the username '{msg.username}'.")


def _already_has(user: User, role_type: RoleType, where: str, name: str) -> UnprocessableEntity:
    return UnprocessableEntity(
        f"User '{user.presentation_name}' already has '{role_type.value}' role in {where} '{name}'."
    )


def _create_space_role(session: Session, perms: Permissions, msg: RoleCreate) -> Role:
    space = orgs_repo.find_space(session, msg.space_guid) if msg.space_guid else None
    if space is None:
        raise UnprocessableEntity("Invalid space. Ensure that the space exists and you have access to it.")
    if not perms.can_manage_space(space):
        raise NotAuthorized()
    perms.require_writable_space(space)
    guid = msg.user_guid or _lookup_username(session, msg, for_space=True)
    user = users.find_visible_user(session, perms, guid)
    if user is None or not orgs_repo.has_org_role(session, user.guid, space.organization_id):
        raise UnprocessableEntity(SPACE_USER_INVALID)
    if orgs_repo.role_exists(session, msg.type.value, user.guid, None, space.id):
        raise _already_has(user, msg.type, "space", space.name)
    return Role(type=msg.type.value, user_guid=user.guid, space=space)


def _create_org_role(session: Session, perms: Permissions, msg: RoleCreate) -> Role:
    org = orgs_repo.find_org(session, msg.organization_guid) if msg.organization_guid else None
    if org is None:
        raise UnprocessableEntity(
            "Invalid organization. Ensure that the organization exists and you have access to it."
        )
    if not perms.can_manage_org(org):
        raise NotAuthorized()
    perms.require_writable_org(org)
    guid = msg.user_guid or _lookup_username(session, msg, for_space=False)
    user = users.ensure_user(session, guid)
    if orgs_repo.role_exists(session, msg.type.value, user.guid, org.id, None):
        raise _already_has(user, msg.type, "organization", org.name)
    return Role(type=msg.type.value, user_guid=user.guid, organization=org)


def create_role(session: Session, perms: Permissions, body: Any) -> Role:
    msgs, msg = parse_role_create(body)
    raise_if(msgs)
    assert msg is not None
    role = _create_space_role(session, perms, msg) if msg.space_guid else _create_org_role(session, perms, msg)
    recorder.record_role_add(session, perms.claims, role, body)
    session.add(role)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as e:
        raise UnprocessableEntity("The role already exists.") from e
    return role


def _readable(perms: Permissions, role: Role) -> bool:
    if perms.claims.can_read_globally:
        return True
    if role.space_id is not None:
        return role.space_id in (perms.readable_space_ids() or set())
    return role.organization_id in (perms.readable_org_ids() or set())


def get_role(session: Session, perms: Permissions, guid: str) -> Role:
    role = orgs_repo.find_role(session, guid)
    if role is None or not _readable(perms, role):
        raise ResourceNotFound("Role")
    return role


def list_roles(session: Session, perms: Permissions, query: ListQuery) -> Page[Role]:
    visibility = None
    if not perms.claims.can_read_globally:
        spaces = perms.readable_space_ids() or set()
        orgs = perms.readable_org_ids() or set()
        visibility = or_(Role.space_id.in_(spaces), Role.organization_id.in_(orgs))
    return orgs_repo.list_roles(session, visibility, query)


def users_of(session: Session, roles: list[Role]) -> list[User]:
    guids = {r.user_guid for r in roles}
    stmt = select(User).where(User.guid.in_(guids)).order_by(User.created_at, User.guid)
    return list(session.scalars(stmt)) if guids else []


def delete_role(session: Session, perms: Permissions, guid: str) -> Job:
    """Deleting a role is one row, so it happens now; the job CC's clients poll is already COMPLETE."""
    role = get_role(session, perms, guid)
    if role.space is not None:
        if not perms.can_manage_space(role.space):
            raise NotAuthorized()
        perms.require_writable_space(role.space)
    else:
        assert role.organization is not None
        if not perms.can_manage_org(role.organization):
            raise NotAuthorized()
        perms.require_writable_org(role.organization)
        if role.type == RoleType.ORGANIZATION_USER and orgs_repo.has_space_role_in_org(
            session, role.user_guid, role.organization.id
        ):
            raise UnprocessableEntity(
                "Cannot delete organization_user role while user has roles in spaces in that organization."
            )
    recorder.record_role_remove(session, perms.claims, role)
    session.delete(role)
    job = enqueue(session, "role.delete", {"guid": guid}, resource_type="role", resource_guid=guid)
    job.state = JobState.COMPLETE.value
    return job
