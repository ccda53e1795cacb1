"""App use cases: update (name, lifecycle, metadata), environment, and the checks CC makes first."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from capi_packages.audit_events import recorder
from capi_packages.auth.permissions import Permissions
from capi_packages.db.base import utcnow
from capi_packages.errors import NotAuthorized, ResourceNotFound, UnprocessableEntity
from capi_packages.messages import env_var_messages, raise_if, require_object, unknown_fields
from capi_packages.orgs import service as orgs
from capi_packages.orgs.models import App, AppAnnotation, AppLabel
from capi_packages.processes import service as processes
from capi_packages.settings import Settings

# The words the cf CLI prints when `cf push` (or `cf start`) reaches staging.
STAGING_NOT_OFFERED = (
    "Staging is not available: this service stores packages and does not stage or run apps. "
    "Push with --no-start to upload a package."
)


def get_app(session: Session, perms: Permissions, guid: str) -> App:
    return orgs.get_app(session, perms, guid)


def update_lifecycle(app: App, lifecycle: Any) -> list[str]:
    """Merge a requested lifecycle into the app's; messages when it cannot be applied."""
    if not isinstance(lifecycle, dict):
        return ["Lifecycle must be an object"]
    type_ = lifecycle.get("type", app.lifecycle_type)
    if type_ != app.lifecycle_type:
        return [f"Lifecycle type cannot be changed from {app.lifecycle_type} to {type_}"]
    data = lifecycle.get("data")
    if data is None:
        return [] if "data" not in lifecycle else ["Lifecycle data must be an object"]
    if not isinstance(data, dict):
        return ["Lifecycle data must be an object"]
    if app.is_docker:
        return [] if not data else ["Lifecycle data must be an empty object for docker apps"]
    msgs = []
    buildpacks, stack = data.get("buildpacks"), data.get("stack")
    if buildpacks is not None and (not isinstance(buildpacks, list) or not all(isinstance(b, str) for b in buildpacks)):
        msgs.append("Buildpacks can only contain strings")
    if stack is not None and not isinstance(stack, str):
        msgs.append("Stack must be a string")
    if msgs:
        return msgs
    merged = dict(app.lifecycle_data or {})
    if buildpacks is not None:
        merged["buildpacks"] = buildpacks
    if stack is not None:
        merged["stack"] = stack
    app.lifecycle_data = merged
    return []


def update_app(session: Session, perms: Permissions, settings: Settings, guid: str, raw: Any) -> App:
    """CC's AppsController#update: the message first, then visibility, then write access."""
    body = require_object(raw)
    msgs = orgs.metadata_messages(body) + unknown_fields(body, ("name", "lifecycle", "metadata"))
    name = body.get("name")
    if name is not None and not isinstance(name, str):
        msgs.append("Name must be a string")
    elif isinstance(name, str) and len(name) > 255:
        msgs.append("Name is too long (maximum is 255 characters)")
    raise_if(msgs)
    app = get_app(session, perms, guid)
    perms.require_write(app.space)
    if "lifecycle" in body:
        raise_if(update_lifecycle(app, body["lifecycle"]))
    if isinstance(name, str) and name != app.name:
        rename_app(session, app, name)
    orgs.apply_body_metadata(app, body, (AppLabel, AppAnnotation), settings)
    app.updated_at = utcnow()
    recorder.record_app_update(session, perms.claims, app, body)
    return app


def rename_app(session: Session, app: App, name: str) -> None:
    taken = select(App.id).where(App.space_id == app.space_id, App.name == name, App.id != app.id)
    if session.scalars(taken).first() is not None:
        raise UnprocessableEntity(f"App with the name '{name}' already exists.")
    app.name = name


def readable_env_app(session: Session, perms: Permissions, guid: str) -> App:
    app = get_app(session, perms, guid)
    if not perms.can_read_secrets_in_space(app.space):
        raise NotAuthorized()
    return app


def show_env(session: Session, perms: Permissions, guid: str) -> App:
    """The app whose environment is about to be shown; CC records every look at it."""
    app = readable_env_app(session, perms, guid)
    recorder.record_app_show_env(session, perms.claims, app)
    return app


def show_environment_variables(session: Session, perms: Permissions, guid: str) -> App:
    app = readable_env_app(session, perms, guid)
    recorder.record_app_show_environment_variables(session, perms.claims, app)
    return app


def update_environment_variables(session: Session, perms: Permissions, guid: str, raw: Any) -> App:
    app = get_app(session, perms, guid)
    perms.require_write(app.space)
    body = require_object(raw)
    msgs = unknown_fields(body, ("var",))
    if "var" in body:
        msgs += env_var_messages(body["var"], "Var", string_values=True)
    raise_if(msgs)
    merge_environment(app, body.get("var") or {})
    recorder.record_app_environment_variables_update(session, perms.claims, app)
    return app


def merge_environment(app: App, changes: dict[str, Any]) -> None:
    """CC's PATCH semantics: a value sets the variable, null removes it."""
    env = dict(app.environment_variables or {})
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    app.environment_variables = env
    app.updated_at = utcnow()


def vcap_application(session: Session, app: App, api_url: str) -> dict[str, Any]:
    web = processes.find_process(session, app.guid, "web")
    limits = {"fds": 16384, "mem": web.memory_in_mb if web else 1024, "disk": web.disk_in_mb if web else 1024}
    space, org = app.space, app.space.organization
    return {
        "cf_api": api_url,
        "limits": limits,
        "application_name": app.name,
        "application_uris": [],
        "name": app.name,
        "space_name": space.name,
        "space_id": space.guid,
        "organization_id": org.guid,
        "organization_name": org.name,
        "uris": [],
        "users": None,
        "application_id": app.guid,
    }


def require_droplet(session: Session, perms: Permissions, guid: str) -> None:
    """No droplet is ever staged here: CC's answer for an app without a current droplet."""
    get_app(session, perms, guid)
    raise ResourceNotFound("Droplet")
