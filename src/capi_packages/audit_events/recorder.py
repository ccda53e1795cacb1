"""Recording audit events in the caller's transaction: one call per action, CC's types and data.

Every function adds the event to the session the change is made in and flushes it, so the event
is written exactly when the change commits: a failure after it rolls both back. Nothing here
commits.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import yaml
from sqlalchemy.orm import Session

from capi_packages.audit_events.models import AuditEvent
from capi_packages.auth.tokens import Claims
from capi_packages.db.base import utcnow
from capi_packages.orgs.models import App, Organization, Role, RoleType, Space
from capi_packages.packages.models import Package
from capi_packages.processes.models import Process
from capi_packages.users.service import username_of

# What CC puts in place of secrets in a recorded request.
REDACTED_CREDENTIAL = "***"
PRIVATE_DATA_HIDDEN = "[PRIVATE DATA HIDDEN]"
# Request keys of an app that CC never records as given.
CENSORED_APP_FIELDS = (
    "encrypted_environment_json",
    "command",
    "environment_json",
    "environment_variables",
    "docker_credentials",
)
ACTOR_PAYLOAD_KEY = "actor"


@dataclass(frozen=True)
class Actor:
    """Who acts: the token's user (or client) id, its email as `name`, its user_name as `username`.

    CC records every token holder as type `user`, a client-credentials client included.
    """

    guid: str
    name: str = ""
    username: str = ""
    type: str = "user"

    @classmethod
    def from_claims(cls, claims: Claims) -> Actor:
        return cls(guid=claims.user_id, name=claims.email or "", username=claims.user_name or "")

    @classmethod
    def from_job_payload(cls, payload: Mapping[str, Any] | None) -> Actor:
        """The actor a job was enqueued for; a job from before actors were kept acts as the system."""
        raw = (payload or {}).get(ACTOR_PAYLOAD_KEY)
        if not isinstance(raw, dict) or not isinstance(raw.get("guid"), str):
            return SYSTEM
        return cls(**{key: str(raw.get(key) or "") for key in ("guid", "name", "username", "type")})

    def to_job_payload(self) -> dict[str, dict[str, str]]:
        return {ACTOR_PAYLOAD_KEY: asdict(self)}


SYSTEM = Actor(guid="system", name="system", username="system", type="system")


def _actor(by: Actor | Claims) -> Actor:
    return by if isinstance(by, Actor) else Actor.from_claims(by)


def actor_payload(by: Actor | Claims) -> dict[str, dict[str, str]]:
    """The `actor` entry for a job's payload, so the job records events in the requester's name."""
    return _actor(by).to_job_payload()


def _record(
    session: Session,
    type_: str,
    by: Actor | Claims,
    target: tuple[str, str, str],
    space: Space | None,
    organization_guid: str | None,
    data: dict[str, Any] | None,
) -> AuditEvent:
    actor = _actor(by)
    now = utcnow()
    event = AuditEvent(
        type=type_,
        actor_guid=actor.guid,
        actor_type=actor.type,
        actor_name=actor.name,
        actor_username=actor.username,
        target_guid=target[0],
        target_type=target[1],
        target_name=target[2],
        space_guid=space.guid if space is not None else None,
        organization_guid=space.organization.guid if space is not None else organization_guid,
        data=data or {},
        created_at=now,
        updated_at=now,
    )
    session.add(event)
    session.flush()
    return event


def _app_event(session: Session, type_: str, by: Actor | Claims, app: App, data: dict[str, Any] | None) -> AuditEvent:
    """Package, process and app events all name the app as their target, in the app's space."""
    return _record(session, type_, by, (app.guid, "app", app.name), app.space, None, data)


# --- packages -----------------------------------------------------------------------------------


def package_request(body: Mapping[str, Any]) -> dict[str, Any]:
    """The create body as CC records it: whenever `data` is given, its password reads `***`
    (also for a bits package's `"data": {}`, which CC records as `{"password": "***"}`)."""
    request = copy.deepcopy(dict(body))
    if isinstance(request.get("data"), dict):
        request["data"]["password"] = REDACTED_CREDENTIAL
    return request


def record_package_create(
    session: Session, by: Actor | Claims, package: Package, app: App, body: Mapping[str, Any]
) -> AuditEvent:
    data = {"package_guid": package.guid, "request": package_request(body)}
    return _app_event(session, "audit.app.package.create", by, app, data)


def record_package_copy(
    session: Session, by: Actor | Claims, package: Package, app: App, source_guid: str
) -> AuditEvent:
    data = {"package_guid": package.guid, "request": {"source_package_guid": source_guid}}
    return _app_event(session, "audit.app.package.create", by, app, data)


def record_package_upload(session: Session, by: Actor | Claims, package: Package, app: App) -> AuditEvent:
    return _app_event(session, "audit.app.package.upload", by, app, {"package_guid": package.guid})


def record_package_download(session: Session, by: Actor | Claims, package: Package, app: App) -> AuditEvent:
    return _app_event(session, "audit.app.package.download", by, app, {"package_guid": package.guid})


def record_package_delete(session: Session, by: Actor | Claims, package: Package, app: App) -> AuditEvent:
    return _app_event(session, "audit.app.package.delete", by, app, {"package_guid": package.guid})


# --- apps ---------------------------------------------------------------------------------------
def app_request(body: Mapping[str, Any]) -> dict[str, Any]:
    """The app body as CC records it: environment variables, commands and credentials hidden."""
    request = copy.deepcopy(dict(body))
    for key in CENSORED_APP_FIELDS:
        if key in request:
            request[key] = PRIVATE_DATA_HIDDEN
    return request


def record_app_create(session: Session, by: Actor | Claims, app: App, body: Mapping[str, Any]) -> AuditEvent:
    data = {"request": app_request(body)}
    return _app_event(session, "audit.app.create", by, app, data)


def record_app_delete_request(session: Session, by: Actor | Claims, app: App) -> AuditEvent:
    return _app_event(session, "audit.app.delete-request", by, app, None)


def record_app_update(session: Session, by: Actor | Claims, app: App, body: Mapping[str, Any]) -> AuditEvent:
    return _app_event(session, "audit.app.update", by, app, {"request": app_request(body)})


def record_app_environment_variables_update(session: Session, by: Actor | Claims, app: App) -> AuditEvent:
    """CC renames `var` to `environment_variables` and hides it, so every such update reads alike."""
    return _app_event(session, "audit.app.update", by, app, {"request": {"environment_variables": PRIVATE_DATA_HIDDEN}})


def record_app_show_env(session: Session, by: Actor | Claims, app: App) -> AuditEvent:
    return _app_event(session, "audit.app.environment.show", by, app, {})


def record_app_show_environment_variables(session: Session, by: Actor | Claims, app: App) -> AuditEvent:
    return _app_event(session, "audit.app.environment_variables.show", by, app, {})


def record_app_apply_manifest(session: Session, by: Actor | Claims, app: App, entry: Mapping[str, Any]) -> AuditEvent:
    """The app's manifest entry as YAML, `env` (and CNB credentials) hidden, as CC keeps it."""
    audited = dict(entry)
    for key in ("env", "cnb-credentials"):
        if audited.get(key):
            audited[key] = PRIVATE_DATA_HIDDEN
    manifest = yaml.safe_dump({"applications": [audited]}, explicit_start=True, sort_keys=False)
    return _app_event(session, "audit.app.apply_manifest", by, app, {"request": {"manifest": manifest}})


# --- processes ----------------------------------------------------------------------------------
def _process_data(process: Process, request: Mapping[str, Any] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"process_guid": process.guid, "process_type": process.type}
    if request is not None:
        data["request"] = copy.deepcopy(dict(request))
    return data


def record_process_create(session: Session, by: Actor | Claims, process: Process, app: App) -> AuditEvent:
    return _app_event(session, "audit.app.process.create", by, app, _process_data(process))


def record_process_update(
    session: Session, by: Actor | Claims, process: Process, app: App, body: Mapping[str, Any]
) -> AuditEvent:
    data = _process_data(process, body)
    if "command" in data["request"]:
        data["request"]["command"] = PRIVATE_DATA_HIDDEN
    return _app_event(session, "audit.app.process.update", by, app, data)


def record_process_scale(
    session: Session, by: Actor | Claims, process: Process, app: App, body: Mapping[str, Any]
) -> AuditEvent:
    return _app_event(session, "audit.app.process.scale", by, app, _process_data(process, body))


# --- spaces and organizations -------------------------------------------------------------------
def record_space_create(session: Session, by: Actor | Claims, space: Space, body: Mapping[str, Any]) -> AuditEvent:
    data = {"request": copy.deepcopy(dict(body))}
    return _record(session, "audit.space.create", by, (space.guid, "space", space.name), space, None, data)


def record_space_update(session: Session, by: Actor | Claims, space: Space, body: Mapping[str, Any]) -> AuditEvent:
    data = {"request": copy.deepcopy(dict(body))}
    return _record(session, "audit.space.update", by, (space.guid, "space", space.name), space, None, data)


def record_space_delete_request(session: Session, by: Actor | Claims, space: Space) -> AuditEvent:
    data = {"request": {"recursive": True}}
    return _record(session, "audit.space.delete-request", by, (space.guid, "space", space.name), space, None, data)


def _org_event(
    session: Session, type_: str, by: Actor | Claims, org: Organization, request: Mapping[str, Any]
) -> AuditEvent:
    target = (org.guid, "organization", org.name)
    return _record(session, type_, by, target, None, org.guid, {"request": copy.deepcopy(dict(request))})


def record_organization_create(
    session: Session, by: Actor | Claims, org: Organization, body: Mapping[str, Any]
) -> AuditEvent:
    return _org_event(session, "audit.organization.create", by, org, body)


def record_organization_update(
    session: Session, by: Actor | Claims, org: Organization, body: Mapping[str, Any]
) -> AuditEvent:
    return _org_event(session, "audit.organization.update", by, org, body)


def record_organization_delete_request(session: Session, by: Actor | Claims, org: Organization) -> AuditEvent:
    return _org_event(session, "audit.organization.delete-request", by, org, {"recursive": True})


# --- roles: the user given or losing the role is the target -------------------------------------
def _role_event(
    session: Session, action: str, by: Actor | Claims, role: Role, request: Mapping[str, Any]
) -> AuditEvent:
    type_ = f"audit.user.{RoleType(role.type).value}_{action}"
    # CC names the user as UAA knows them, and records an empty name for a user UAA does not know.
    username = role.user_name or username_of(session, role.user_guid) or ""
    target = (role.user_guid, "user", username)
    data = {"request": copy.deepcopy(dict(request))}
    if role.space is not None:
        return _record(session, type_, by, target, role.space, None, data)
    assert role.organization is not None
    return _record(session, type_, by, target, None, role.organization.guid, data)


def record_role_add(session: Session, by: Actor | Claims, role: Role, body: Mapping[str, Any]) -> AuditEvent:
    return _role_event(session, "add", by, role, body)


def record_role_remove(session: Session, by: Actor | Claims, role: Role) -> AuditEvent:
    return _role_event(session, "remove", by, role, {})
