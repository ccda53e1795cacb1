"""`orgs`, `spaces`, `apps` and `roles`: what must exist before a first push, from the CLI alone."""

from __future__ import annotations

from typing import Any

import click

from capi_cli import output
from capi_cli.session import Session, quiet_option, with_session, with_wait
from capi_client import App, CapiError, Job, Organization, Role, Space

ORG_ROLES = ("organization_user", "organization_auditor", "organization_manager", "organization_billing_manager")
SPACE_ROLES = ("space_developer", "space_manager", "space_auditor", "space_supporter")
LIFECYCLES = ("buildpack", "docker", "cnb")


def _org_option(func: Any) -> Any:
    return click.option("-o", "--org", metavar="ORG", help="Org by name [default: the target].")(func)


def _space_option(func: Any) -> Any:
    return click.option("-s", "--space", metavar="SPACE", help="Space by name [default: the target].")(func)


def _finish_delete(session: Session, job: Job, wait: bool, timeout: float) -> None:
    if wait:
        job = session.client.wait_for_job(job, timeout=timeout)
    if session.as_json:
        output.echo_json(job.raw)
    else:
        click.echo(output.job_details(job))


def _list(session: Session, items: list[Any], headers: tuple[str, ...], row: Any) -> None:
    if session.as_json:
        output.echo_json([item.raw for item in items])
    else:
        click.echo(output.table(headers, (row(item) for item in items)))


# -- orgs ---------------------------------------------------------------------------------------


@click.group("orgs")
def orgs() -> None:
    """Create, list and delete organizations.

    \b
    Example:
      capi-packages orgs create demo
    """


@orgs.command("create")
@click.argument("name")
@quiet_option
@with_session
def create_org(session: Session, name: str, quiet: bool) -> None:
    """Create an organization (admins only).

    \b
    Example:
      ORG=$(capi-packages orgs create demo -q)
    """
    org = session.client.create_organization(name)
    session.created(org.guid, org.raw, f"name: {org.name}\nguid: {org.guid}")


@orgs.command("list")
@with_session
def list_orgs(session: Session) -> None:
    """List the organizations you can see.

    \b
    Example:
      capi-packages orgs list
    """
    found: list[Organization] = list(session.client.iter_organizations())
    _list(session, found, ("name", "guid"), lambda o: (o.name, o.guid))


@orgs.command("delete")
@click.argument("name")
@with_wait()
@with_session
def delete_org(session: Session, name: str, wait: bool, timeout: float) -> None:
    """Delete an organization with everything in it; a job does the work.

    \b
    Example:
      capi-packages orgs delete demo --wait
    """
    org = session.client.find_organization(name)
    _finish_delete(session, session.client.delete_organization(org.guid), wait, timeout)


# -- spaces -------------------------------------------------------------------------------------


@click.group("spaces")
def spaces() -> None:
    """Create, list and delete spaces of an org (-o, or the targeted one).

    \b
    Example:
      capi-packages spaces create dev -o demo
    """


@spaces.command("create")
@click.argument("name")
@_org_option
@quiet_option
@with_session
def create_space(session: Session, name: str, org: str | None, quiet: bool) -> None:
    """Create a space in an org.

    \b
    Example:
      SPACE=$(capi-packages spaces create dev -o demo -q)
    """
    space = session.client.create_space(name, session.org_guid(org))
    session.created(space.guid, space.raw, f"name: {space.name}\nguid: {space.guid}")


@spaces.command("list")
@_org_option
@with_session
def list_spaces(session: Session, org: str | None) -> None:
    """List the spaces of an org.

    \b
    Example:
      capi-packages spaces list -o demo
    """
    found: list[Space] = list(session.client.iter_spaces(session.org_guid(org)))
    _list(session, found, ("name", "guid"), lambda s: (s.name, s.guid))


@spaces.command("delete")
@click.argument("name")
@_org_option
@with_wait()
@with_session
def delete_space(session: Session, name: str, org: str | None, wait: bool, timeout: float) -> None:
    """Delete a space with its apps and packages; a job does the work.

    \b
    Example:
      capi-packages spaces delete dev -o demo --wait
    """
    space = session.client.find_space(name, session.org_guid(org))
    _finish_delete(session, session.client.delete_space(space.guid), wait, timeout)


# -- apps ---------------------------------------------------------------------------------------


@click.group("apps")
def apps() -> None:
    """Create, list and delete apps of a space (-s/-o, or the targeted one).

    \b
    Example:
      capi-packages apps create web
    """


@apps.command("create")
@click.argument("name")
@click.option("--lifecycle", type=click.Choice(LIFECYCLES), default="buildpack", show_default=True)
@_space_option
@_org_option
@quiet_option
@with_session
def create_app(session: Session, name: str, lifecycle: str, space: str | None, org: str | None, quiet: bool) -> None:
    """Create an app in a space.

    \b
    Example:
      APP=$(capi-packages apps create web -q)
    """
    app = session.client.create_app(name, session.space_guid(space, org), lifecycle)
    session.created(app.guid, app.raw, f"name:      {app.name}\nguid:      {app.guid}\nlifecycle: {app.lifecycle_type}")


@apps.command("list")
@_space_option
@_org_option
@with_session
def list_apps(session: Session, space: str | None, org: str | None) -> None:
    """List the apps of a space.

    \b
    Example:
      capi-packages apps list
    """
    found: list[App] = list(session.client.iter_apps(session.space_guid(space, org)))
    _list(session, found, ("name", "guid", "lifecycle", "state"), lambda a: (a.name, a.guid, a.lifecycle_type, a.state))


@apps.command("delete")
@click.argument("name")
@_space_option
@_org_option
@with_wait()
@with_session
def delete_app(session: Session, name: str, space: str | None, org: str | None, wait: bool, timeout: float) -> None:
    """Delete an app with its packages; a job does the work.

    \b
    Example:
      capi-packages apps delete web --wait
    """
    app = session.client.find_app(name, session.space_guid(space, org))
    _finish_delete(session, session.client.delete_app(app.guid), wait, timeout)


# -- roles --------------------------------------------------------------------------------------


@click.group("roles")
def roles() -> None:
    """Give users roles in orgs and spaces, by username (or --guid).

    \b
    Example:
      capi-packages roles add bob space_developer -s dev
    """


def _user(session: Session, user: str, by_guid: bool) -> dict[str, str]:
    return {"user_guid": user} if by_guid else {"username": user}


def _where(session: Session, role_type: str, org: str | None, space: str | None) -> dict[str, str]:
    if role_type in SPACE_ROLES:
        return {"space_guid": session.space_guid(space, org)}
    if space:
        raise click.UsageError(f"{role_type} is an org role: name the org with -o, not a space")
    return {"org_guid": session.org_guid(org)}


@roles.command("add")
@click.argument("user")
@click.argument("role_type", metavar="TYPE", type=click.Choice(ORG_ROLES + SPACE_ROLES))
@_space_option
@_org_option
@click.option("--guid", "by_guid", is_flag=True, help="USER is a user guid, not a username.")
@quiet_option
@with_session
def add_role(
    session: Session, user: str, role_type: str, space: str | None, org: str | None, by_guid: bool, quiet: bool
) -> None:
    """Give USER a role; a space role first makes USER an organization_user, as `cf set-space-role` does.

    \b
    Examples:
      capi-packages roles add bob organization_manager -o demo
      capi-packages roles add bob space_developer -o demo -s dev
    """
    where = _where(session, role_type, org, space)
    who = _user(session, user, by_guid)
    if "space_guid" in where:
        org_guid = session.client.get_space(where["space_guid"]).organization_guid
        try:
            session.client.create_role("organization_user", org_guid=org_guid, **who)
        except CapiError as error:
            # Already one, or not ours to give: the space role's own answer says what matters.
            if error.status not in (403, 422):
                raise
    role = session.client.create_role(role_type, **who, **where)
    session.created(role.guid, role.raw, output.role_details(role))


@roles.command("list")
@_space_option
@_org_option
@click.option("--user", "user_guid", metavar="GUID", help="Only this user's roles.")
@with_session
def list_roles(session: Session, space: str | None, org: str | None, user_guid: str | None) -> None:
    """List the roles in an org (-o) or a space (-s); with neither, in the targeted space.

    \b
    Example:
      capi-packages roles list -o demo
    """
    if org and not space:
        found: list[Role] = list(session.client.iter_roles(org_guids=[session.org_guid(org)]))
    else:
        found = list(session.client.iter_roles(space_guids=[session.space_guid(space, org)]))
    if user_guid:
        found = [role for role in found if role.user_guid == user_guid]
    _list(session, found, ("guid", "type", "user"), lambda r: (r.guid, r.type, r.user_guid or ""))


@roles.command("delete")
@click.argument("guid")
@with_wait()
@with_session
def delete_role(session: Session, guid: str, wait: bool, timeout: float) -> None:
    """Take a role away, by its guid (see `roles list`).

    \b
    Example:
      capi-packages roles delete ROLE_GUID
    """
    _finish_delete(session, session.client.delete_role(guid), wait, timeout)


def register(main: click.Group) -> None:
    for group in (orgs, spaces, apps, roles):
        main.add_command(group)
