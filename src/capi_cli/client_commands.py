"""The client commands of `capi-packages`: `push`, `login`, `logout`, `target`, `oauth-token`, `packages …`."""

from __future__ import annotations

import os
import sys
from typing import Any

import click
import httpx

from capi_cli import output, packages_commands, setup_commands
from capi_cli import session as sessions
from capi_cli.session import CLIENT_ERRORS, Session, api_root, fail, quiet_option, with_session
from capi_client import App, CapiError, login, push, tls_verify
from capi_client.config import config_path, load_saved_login, save_login
from capi_client.tree_cache import TreeCache


@click.command("push")
@click.argument("directory", type=click.Path(exists=True, file_okay=False))
@click.option("--app", "app_name", metavar="NAME", help="The app, by name, in the targeted space (or -s/-o).")
@click.option("--app-guid", metavar="GUID", help="The app, by guid (instead of --app).")
@click.option("--create-app", is_flag=True, help="Create the app named by --app if the space has none.")
@click.option("-s", "--space", metavar="SPACE", help="Space of --app [default: the target].")
@click.option("-o", "--org", metavar="ORG", help="Org of --space [default: the target].")
@click.option("--no-wait", is_flag=True, help="Return once the bits are uploaded.")
@click.option("--timeout", type=float, default=600.0, help="Seconds to wait for READY.")
@quiet_option
@with_session
def push_command(session: Session, directory: str, app_name: str | None, app_guid: str | None, **options: Any) -> None:
    """Push a directory as a new bits package; print its guid once READY.

    Honours .cfignore and skips what the cf CLI skips (.git, manifest.yml, ...). Files the
    server already caches are not uploaded again. What was sent goes to stderr (and into --json).
    The digest of a pushed tree is kept beside the config file (trees/), so that a tree unchanged
    since is not read again to find that the app already holds it.

    \b
    Example:
      PACKAGE=$(capi-packages push ./my-app --app web)
    """
    if (app_name is None) == (app_guid is None):
        raise click.UsageError("name the app: --app NAME (in the targeted space) or --app-guid GUID")
    guid = app_guid or _resolve_app(session, str(app_name), options["space"], options["org"], options["create_app"])
    with output.ScanSpinner() as spinner, output.ProgressBar("Uploading") as bar:
        result = push(
            session.client,
            guid,
            directory,
            wait=not options["no_wait"],
            progress=bar,
            timeout=options["timeout"],
            report=session.say,
            scan_progress=spinner,
            tree_cache=TreeCache(config_path().parent / "trees"),
        )
    if session.as_json:
        output.echo_json({**result.package.raw, "push": result.summary.to_json()})
    else:
        click.echo(result.package.guid)


def _resolve_app(session: Session, name: str, space: str | None, org: str | None, create: bool) -> str:
    space_guid = session.space_guid(space, org)
    found: list[App] = list(session.client.iter_apps(space_guid, names=[name]))
    if found:
        return found[0].guid
    if not create:
        raise click.UsageError(f"no app named {name!r} in the space: create it with --create-app, or `apps create`")
    app = session.client.create_app(name, space_guid)
    session.say(f"created app {name} ({app.guid})")
    return app.guid


SKIP_SSL_HELP = "Do not check the API's TLS certificate (saved for later commands)."


@click.command("login")
@click.option("--api", envvar="CAPI_API_URL", metavar="URL", help="API URL [env CAPI_API_URL].")
@click.option("-u", "--username", required=True, prompt=True)
@click.option("-p", "--password", required=True, prompt=True, hide_input=True)
@click.option("--skip-ssl-validation", is_flag=True, help=SKIP_SSL_HELP)
def login_command(api: str | None, username: str, password: str, skip_ssl_validation: bool) -> None:
    """Log in with a password; later commands use the saved tokens.

    They go to ~/.capi-packages/config.json (env CAPI_CONFIG names another file).

    \b
    Example:
      capi-packages login --api https://api.example.org -u alice -p secret
    """
    saved = load_saved_login()
    given = api or saved.get("api_url") or ""
    if not given:
        raise click.UsageError("no API URL: pass --api URL or set CAPI_API_URL")
    api_url = api_root(given)
    skip = skip_ssl_validation or (sessions.skip_ssl_validation(saved) and saved.get("api_url") == api_url)
    http = sessions.http_client_factory() or httpx.Client(timeout=30.0, verify=tls_verify(skip))
    try:
        tokens = login(api_url, username, password, http_client=http)
    except CLIENT_ERRORS as error:
        fail(error, hint=not isinstance(error, CapiError))
    finally:
        http.close()
    config: dict[str, Any] = dict(
        api_url=api_url, access_token=tokens.authorization, refresh_token=tokens.refresh_token, username=username
    )
    if saved.get("api_url") == api_url:
        # Logging in again keeps the org and space targeted on this API.
        config.update({k: saved[k] for k in ("organization", "space") if k in saved})
    if skip:
        config["skip_ssl_validation"] = True
    save_login(config)
    click.echo(f"Logged in to {api_url} as {username}.")


@click.command("logout")
def logout_command() -> None:
    """Forget the saved tokens (the API URL stays).

    \b
    Example:
      capi-packages logout
    """
    config = load_saved_login()
    save_login({k: config[k] for k in ("api_url", "skip_ssl_validation") if k in config})
    click.echo("Logged out.")


@click.command("target")
@click.argument("url", required=False)
@click.option("-o", "--org", metavar="ORG", help="Target this org (by name).")
@click.option("-s", "--space", metavar="SPACE", help="Target this space (by name) of the org.")
@click.option("--skip-ssl-validation", is_flag=True, help=SKIP_SSL_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for programs.")
def target_command(
    url: str | None, org: str | None, space: str | None, skip_ssl_validation: bool, as_json: bool
) -> None:
    """Show the API URL, user, org and space in use; or change them, as `cf target` does.

    A new URL logs out of the old API; -o and -s are remembered for later commands.

    \b
    Examples:
      capi-packages target
      capi-packages target https://api.example.org
      capi-packages target -o demo -s dev
    """
    config = load_saved_login()
    if url:
        root = api_root(url)
        if config.get("api_url", "").rstrip("/") != root:
            config = {"api_url": root}
        if skip_ssl_validation:
            config["skip_ssl_validation"] = True
        save_login(config)
    if org or space:
        config = _retarget(config, org, space)
    api_url = os.environ.get("CAPI_API_URL") or config.get("api_url")
    user = config.get("username") if config.get("access_token") else None
    org_name = (config.get("organization") or {}).get("name")
    space_name = (config.get("space") or {}).get("name")
    if as_json:
        output.echo_json({"api_url": api_url, "username": user, "organization": org_name, "space": space_name})
    elif not api_url:
        click.echo("No API URL: run `capi-packages target URL` or `capi-packages login`.", err=True)
        sys.exit(output.EXIT_API_ERROR)
    else:
        lines = [f"API:   {api_url}", f"User:  {user or '(not logged in)'}"]
        lines += [f"Org:   {org_name or '(none: capi-packages target -o ORG)'}"]
        lines += [f"Space: {space_name or '(none: capi-packages target -s SPACE)'}"]
        click.echo("\n".join(lines))


def _retarget(config: dict[str, Any], org: str | None, space: str | None) -> dict[str, Any]:
    """Look the names up on the API in use and save them; the saved org is kept for -s alone."""
    api = os.environ.get("CAPI_API_URL") or config.get("api_url")
    session = Session(api, os.environ.get("CAPI_TOKEN"), as_json=False)
    if session.api and config.get("api_url") != session.api:
        config = {"api_url": session.api}
    try:
        if org:
            found = session.client.find_organization(org)
            config["organization"] = {"guid": found.guid, "name": found.name}
            config.pop("space", None)
        if space:
            org_guid = (config.get("organization") or {}).get("guid")
            if not org_guid:
                raise click.UsageError("no org to find the space in: pass -o ORG too")
            found_space = session.client.find_space(space, org_guid)
            config["space"] = {"guid": found_space.guid, "name": found_space.name}
    except CLIENT_ERRORS as error:
        fail(error, session)
    finally:
        session.close()
    save_login(config)
    return config


@click.command("oauth-token")
@with_session
def oauth_token_command(session: Session) -> None:
    """Print the saved login's `bearer …` token, refreshed if it is about to expire, as `cf oauth-token`.

    \b
    Example:
      curl -H "Authorization: $(capi-packages oauth-token)" http://127.0.0.1:8080/v3/packages
    """
    header = session.client.authorization()
    if not header:
        raise click.UsageError("not logged in: run: capi-packages login")
    click.echo(header)


def register(main: click.Group) -> None:
    """Add the client commands to the `capi-packages` group."""
    for command in (
        packages_commands.packages,
        push_command,
        login_command,
        logout_command,
        target_command,
        oauth_token_command,
    ):
        main.add_command(command)
    setup_commands.register(main)
