"""The client commands of `capi-packages`: `packages …`, `push`, `login`, `logout`, `target`."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from typing import Any

import click
import httpx

from capi_cli import output, setup_commands
from capi_cli import session as sessions
from capi_cli.session import CLIENT_ERRORS, Session, api_root, fail, quiet_option, with_session, with_wait
from capi_client import App, CapiError, login, push, tls_verify
from capi_client.config import load_saved_login, save_login

TIME_OPERATORS = ("lt", "lte", "gt", "gte")
PASSWORD_HELP = "Docker registry password [env CAPI_DOCKER_PASSWORD]."  # noqa: S105 (help text)
TIME_HELP = "OP is lt, lte, gt or gte."
PACKAGE_STATES = ("AWAITING_UPLOAD", "PROCESSING_UPLOAD", "READY", "FAILED", "COPYING", "EXPIRED")
PACKAGE_TYPES = ("bits", "docker")
ORDERS = ("created_at", "-created_at", "updated_at", "-updated_at")


def _metadata_pairs(values: Sequence[str], what: str, allow_delete: bool) -> dict[str, Any]:
    """`k=v` sets, `k=` sets an empty value, `k-` deletes (null on the wire), as in kubectl."""
    pairs: dict[str, str | None] = {}
    for value in values:
        if "=" in value:
            key, _, text = value.partition("=")
            pairs[key] = text
        elif value.endswith("-") and allow_delete:
            pairs[value[:-1]] = None
        else:
            form = "KEY=VALUE or KEY-" if allow_delete else "KEY=VALUE"
            raise click.BadParameter(f"{value!r} is not {form}", param_hint=f"--{what}")
    return pairs


def _metadata(labels: Sequence[str], annotations: Sequence[str], deletes: bool) -> Any:
    metadata = {}
    if labels:
        metadata["labels"] = _metadata_pairs(labels, "label", deletes)
    if annotations:
        metadata["annotations"] = _metadata_pairs(annotations, "annotation", deletes)
    return metadata or None


def _time_filter(values: Sequence[str], option: str) -> Any:
    """`TIME` values mean "within that second"; `OP:TIME` values (lt, lte, gt, gte) compare."""
    operators, plain = {}, []
    for value in values:
        op, sep, rest = value.partition(":")
        if sep and op in TIME_OPERATORS:
            operators[op] = rest
        else:
            plain.append(value)
    if operators and plain:
        raise click.BadParameter("give TIME values or OP:TIME values, not both", param_hint=option)
    return operators or plain or None


@click.group("packages")
def packages() -> None:
    """Create, inspect, upload and download packages.

    \b
    Example:
      capi-packages packages list --app APP_GUID --state READY
    """


@packages.command("list")
@click.option("--app", "app_guids", multiple=True, metavar="GUID", help="Only these apps.")
@click.option("--guid", "guids", multiple=True, metavar="GUID", help="Only these packages.")
@click.option("--state", "states", multiple=True, type=click.Choice(PACKAGE_STATES, case_sensitive=False))
@click.option("--type", "types", multiple=True, type=click.Choice(PACKAGE_TYPES, case_sensitive=False))
@click.option("--space", "space_guids", multiple=True, metavar="GUID", help="Only these spaces.")
@click.option("--org", "organization_guids", multiple=True, metavar="GUID", help="Only these orgs.")
@click.option("--label-selector", "-l", help="For example 'env=prod,tier!=web'.")
@click.option("--order-by", type=click.Choice(ORDERS), help="'-' first for descending.")
@click.option("--created-at", "created_ats", multiple=True, metavar="[OP:]TIME", help=TIME_HELP)
@click.option("--updated-at", "updated_ats", multiple=True, metavar="[OP:]TIME", help=TIME_HELP)
@click.option("--page", type=click.IntRange(min=1), help="Show this page only (default: all).")
@click.option("--per-page", type=click.IntRange(1, 5000))
@with_session
def list_packages(session: Session, created_ats: Sequence[str], updated_ats: Sequence[str], **filters: Any) -> None:
    """List packages, every page unless --page is given. Repeat an option to OR its values.

    \b
    Example:
      capi-packages packages list --state READY --created-at gt:2026-01-01T00:00:00Z
    """
    query = {name: value for name, value in filters.items() if value not in (None, ())}
    query["created_ats"] = _time_filter(created_ats, "--created-at")
    query["updated_ats"] = _time_filter(updated_ats, "--updated-at")
    if filters["page"] is not None:
        found = list(session.client.list_packages(**query))
    else:
        found = list(session.client.iter_packages(**query))
    if session.as_json:
        output.echo_json([package.raw for package in found])
    else:
        click.echo(output.packages_table(found))


@packages.command("get")
@click.argument("guid")
@with_session
def get_package(session: Session, guid: str) -> None:
    """Show one package.

    \b
    Example:
      capi-packages packages get PACKAGE_GUID --json
    """
    session.show(session.client.get_package(guid))


@packages.command("create")
@click.option("--app", "app_guid", required=True, metavar="GUID", help="The package's app.")
@click.option("--type", "kind", type=click.Choice(["bits", "docker"]), default="bits")
@click.option("--image", help="Docker image (docker packages).")
@click.option("--username", help="Docker registry user (docker packages).")
@click.option("--password", envvar="CAPI_DOCKER_PASSWORD", help=PASSWORD_HELP)
@click.option("--label", "labels", multiple=True, metavar="KEY=VALUE")
@click.option("--annotation", "annotations", multiple=True, metavar="KEY=VALUE")
@quiet_option
@with_session
def create_package(session: Session, app_guid: str, kind: str, quiet: bool, **options: Any) -> None:
    """Create a package: bits (upload them next) or docker (READY at once).

    \b
    Examples:
      PACKAGE=$(capi-packages packages create --app APP_GUID -q)
      capi-packages packages create --app APP_GUID --type docker --image nginx:1.27
    """
    if kind == "docker" and not options["image"]:
        raise click.UsageError("a docker package needs --image")
    metadata = _metadata(options.pop("labels"), options.pop("annotations"), deletes=False)
    session.show(session.client.create_package(app_guid, kind, metadata=metadata, **options))


@packages.command("update")
@click.argument("guid")
@click.option("--label", "labels", multiple=True, metavar="KEY=VALUE|KEY-", help="Set or delete.")
@click.option("--annotation", "annotations", multiple=True, metavar="KEY=VALUE|KEY-", help="Same.")
@click.option("--username", help="New docker registry user (docker packages).")
@click.option("--password", envvar="CAPI_DOCKER_PASSWORD", help=PASSWORD_HELP)
@with_session
def update_package(
    session: Session, guid: str, labels: Sequence[str], annotations: Sequence[str], **creds: Any
) -> None:
    """Change labels, annotations or docker credentials.

    KEY=VALUE sets a key (KEY= sets it empty) and KEY- deletes it, as kubectl does.

    \b
    Example:
      capi-packages packages update PACKAGE_GUID --label env=prod --label old- --annotation a=b
    """
    metadata = _metadata(labels, annotations, deletes=True)
    session.show(session.client.update_package(guid, metadata=metadata, **creds))


@packages.command("delete")
@click.argument("guid")
@with_wait()
@with_session
def delete_package(session: Session, guid: str, wait: bool, timeout: float) -> None:
    """Delete a package; a job does the work (--wait to see it finish).

    \b
    Example:
      capi-packages packages delete PACKAGE_GUID --wait
    """
    job = session.client.delete_package(guid)
    if wait:
        job = session.client.wait_for_job(job, timeout=timeout)
    if session.as_json:
        output.echo_json(job.raw)
    else:
        click.echo(output.job_details(job))


@packages.command("upload")
@click.argument("guid")
@click.argument("zip_file", metavar="ZIP", type=click.Path(exists=True, dir_okay=False))
@click.option("--resources", type=click.File("r"), help="JSON list of cached resources to add.")
@with_wait()
@with_session
def upload_bits(session: Session, guid: str, zip_file: str, resources: Any, wait: bool, timeout: float) -> None:
    """Upload a zip as the bits of a package in AWAITING_UPLOAD.

    \b
    Example:
      capi-packages packages upload PACKAGE_GUID app.zip --wait
    """
    cached = json.load(resources) if resources is not None else None
    with output.ProgressBar("Uploading") as bar:
        package = session.client.upload_bits(guid, zip_file, resources=cached, progress=bar)
    if wait:
        package = session.client.wait_until_ready(package, timeout=timeout)
    session.show(package)


@packages.command("download")
@click.argument("guid")
@click.option("-o", "--output", "dest", required=True, metavar="FILE", help="'-' for stdout.")
@with_session
def download_bits(session: Session, guid: str, dest: str) -> None:
    """Download a READY package's zip.

    \b
    Example:
      capi-packages packages download PACKAGE_GUID -o app.zip
    """
    target: Any = sys.stdout.buffer if dest == "-" else dest
    with output.ProgressBar("Downloading") as bar:
        size = session.client.download_bits(guid, target, progress=bar)
    if dest == "-":
        sys.stdout.buffer.flush()
    if session.as_json:
        output.echo_json({"guid": guid, "path": dest, "bytes": size})
    elif dest != "-":
        click.echo(f"Saved {size} bytes to {dest}", err=True)


@packages.command("copy")
@click.argument("guid")
@click.option("--app", "app_guid", required=True, metavar="GUID", help="The destination app.")
@with_wait()
@quiet_option
@with_session
def copy_package(session: Session, guid: str, app_guid: str, wait: bool, timeout: float, quiet: bool) -> None:
    """Copy a package to another app; the copy is COPYING until its bits are in place.

    \b
    Example:
      capi-packages packages copy PACKAGE_GUID --app OTHER_APP_GUID --wait
    """
    package = session.client.copy_package(guid, app_guid)
    if wait:
        package = session.client.wait_until_ready(package, timeout=timeout)
    session.show(package)


@packages.command("wait")
@click.argument("guid")
@click.option("--timeout", type=float, default=300.0, help="Seconds to wait.")
@with_session
def wait_package(session: Session, guid: str, timeout: float) -> None:
    """Wait until a package is READY (exit 5 if it FAILED or EXPIRED, 6 on timeout).

    \b
    Example:
      capi-packages packages wait PACKAGE_GUID --timeout 600
    """
    session.show(session.client.wait_until_ready(guid, timeout=timeout))


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
    for command in (packages, push_command, login_command, logout_command, target_command, oauth_token_command):
        main.add_command(command)
    setup_commands.register(main)
