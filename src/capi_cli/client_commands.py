"""The client commands of `capi-packages`: `packages …`, `push`, `login`, `logout`, `target`."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click
import httpx

from capi_cli import output
from capi_client import CapiError, Package, PackagesClient, login, push_directory
from capi_client.config import load_saved_login, save_login, saved_token

F = TypeVar("F", bound=Callable[..., Any])
TIME_OPERATORS = ("lt", "lte", "gt", "gte")
CLIENT_ERRORS = (CapiError, httpx.HTTPError, OSError, ValueError)
PASSWORD_HELP = "Docker registry password [env CAPI_DOCKER_PASSWORD]."  # noqa: S105 (help text)
TIME_HELP = "OP is lt, lte, gt or gte."


def http_client_factory() -> httpx.Client | None:
    """The httpx client commands use; None lets PackagesClient make its own. Tests replace this."""
    return None


class Session:
    """What one command talks to: API URL and token from the options, env, or the saved login."""

    def __init__(self, api: str | None, token: str | None, as_json: bool) -> None:
        self.api = (api or load_saved_login().get("api_url") or "").rstrip("/")
        self.token = token
        self.as_json = as_json
        self._client: PackagesClient | None = None
        self._http: httpx.Client | None = None

    @property
    def client(self) -> PackagesClient:
        if self._client is None:
            if not self.api:
                raise click.UsageError("no API URL: pass --api URL, set CAPI_API_URL, or run `capi-packages login`")
            self._http = http_client_factory()
            self._client = PackagesClient(
                self.api,
                self.token or saved_token(self.api, http_client=self._http),
                http_client=self._http,
                on_warning=lambda warning: click.echo(f"Warning: {warning}", err=True),
            )
        return self._client

    def show(self, package: Package) -> None:
        if self.as_json:
            output.echo_json(package.raw)
        else:
            click.echo(output.package_details(package))

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        if self._http is not None:
            self._http.close()


def _fail(error: Exception) -> None:
    click.echo(output.error_message(error), err=True)
    click.get_current_context().exit(output.exit_code(error))


def with_session(func: F) -> F:
    """Add --api, --token and --json, pass a Session, and turn client errors into exit codes."""

    @functools.wraps(func)
    def command(api: str | None, token: str | None, as_json: bool, **kwargs: Any) -> Any:
        session = Session(api, token, as_json)
        try:
            return func(session, **kwargs)
        except CLIENT_ERRORS as error:
            _fail(error)
        finally:
            session.close()

    api_help = "API URL [env CAPI_API_URL; default: the saved login]."
    token_help = "Bearer token [env CAPI_TOKEN; default: the saved login]."  # noqa: S105 (help text)
    command = click.option("--json", "as_json", is_flag=True, help="Print JSON for programs.")(command)
    command = click.option("--token", envvar="CAPI_TOKEN", metavar="TOKEN", help=token_help)(command)
    command = click.option("--api", envvar="CAPI_API_URL", metavar="URL", help=api_help)(command)
    return command  # type: ignore[return-value]


def with_wait(default_timeout: float = 300.0) -> Callable[[F], F]:
    def decorate(func: F) -> F:
        help_text = "Seconds to wait."
        func = click.option("--timeout", type=float, default=default_timeout, help=help_text)(func)
        return click.option("--wait", is_flag=True, help="Wait until it is done.")(func)

    return decorate


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
@click.option("--state", "states", multiple=True, help="READY, FAILED, AWAITING_UPLOAD, ...")
@click.option("--type", "types", multiple=True, help="bits or docker.")
@click.option("--space", "space_guids", multiple=True, metavar="GUID", help="Only these spaces.")
@click.option("--org", "organization_guids", multiple=True, metavar="GUID", help="Only these orgs.")
@click.option("--label-selector", "-l", help="For example 'env=prod,tier!=web'.")
@click.option("--order-by", help="created_at or updated_at, '-' first for descending.")
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
@with_session
def create_package(session: Session, app_guid: str, kind: str, **options: Any) -> None:
    """Create a package: bits (upload them next) or docker (READY at once).

    \b
    Examples:
      capi-packages packages create --app APP_GUID
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
    if session.as_json:
        output.echo_json({"guid": guid, "path": dest, "bytes": size})
    elif dest != "-":
        click.echo(f"Saved {size} bytes to {dest}", err=True)


@packages.command("copy")
@click.argument("guid")
@click.option("--app", "app_guid", required=True, metavar="GUID", help="The destination app.")
@with_wait()
@with_session
def copy_package(session: Session, guid: str, app_guid: str, wait: bool, timeout: float) -> None:
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
@click.option("--app", "app_guid", required=True, metavar="GUID", help="The app to push to.")
@click.option("--no-wait", is_flag=True, help="Return once the bits are uploaded.")
@click.option("--timeout", type=float, default=600.0, help="Seconds to wait for READY.")
@with_session
def push(session: Session, directory: str, app_guid: str, no_wait: bool, timeout: float) -> None:
    """Push a directory as a new bits package; print its guid once READY.

    Honours .cfignore and skips what the cf CLI skips (.git, /manifest.yml, ...). Files the
    server already caches are not uploaded again.

    \b
    Example:
      PACKAGE=$(capi-packages push ./my-app --app APP_GUID)
    """
    report = None if session.as_json else functools.partial(click.echo, err=True)
    with output.ProgressBar("Uploading") as bar:
        package = push_directory(
            session.client,
            app_guid,
            directory,
            wait=not no_wait,
            progress=bar,
            timeout=timeout,
            report=report,
        )
    if session.as_json:
        output.echo_json(package.raw)
    else:
        click.echo(package.guid)


@click.command("login")
@click.option("--api", envvar="CAPI_API_URL", metavar="URL", help="API URL [env CAPI_API_URL].")
@click.option("-u", "--username", required=True, prompt=True)
@click.option("-p", "--password", required=True, prompt=True, hide_input=True)
def login_command(api: str | None, username: str, password: str) -> None:
    """Log in with a password; later commands use the saved tokens.

    They go to ~/.capi-packages/config.json (env CAPI_CONFIG names another file).

    \b
    Example:
      capi-packages login --api https://api.example.org -u alice -p secret
    """
    api_url = (api or load_saved_login().get("api_url") or "").rstrip("/")
    if not api_url:
        raise click.UsageError("no API URL: pass --api URL or set CAPI_API_URL")
    http = http_client_factory()
    try:
        tokens = login(api_url, username, password, http_client=http)
    except CLIENT_ERRORS as error:
        _fail(error)
        raise  # not reached: _fail exits
    finally:
        if http is not None:
            http.close()
    refresh_token = tokens.refresh_token
    save_login(dict(api_url=api_url, access_token=tokens.authorization, refresh_token=refresh_token, username=username))
    click.echo(f"Logged in to {api_url} as {username}.")


@click.command("logout")
def logout_command() -> None:
    """Forget the saved tokens (the API URL stays).

    \b
    Example:
      capi-packages logout
    """
    config = load_saved_login()
    save_login({"api_url": config["api_url"]} if config.get("api_url") else {})
    click.echo("Logged out.")


@click.command("target")
@click.argument("url", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for programs.")
def target_command(url: str | None, as_json: bool) -> None:
    """Show the API URL in use, or save URL as the new one (logging out of the old one).

    \b
    Examples:
      capi-packages target
      capi-packages target https://api.example.org
    """
    config = load_saved_login()
    if url and config.get("api_url", "").rstrip("/") != url.rstrip("/"):
        config = {"api_url": url.rstrip("/")}
        save_login(config)
    api_url = os.environ.get("CAPI_API_URL") or config.get("api_url")
    user = config.get("username") if config.get("access_token") else None
    if as_json:
        output.echo_json({"api_url": api_url, "username": user})
    elif not api_url:
        click.echo("No API URL: run `capi-packages target URL` or `capi-packages login`.", err=True)
        sys.exit(output.EXIT_API_ERROR)
    else:
        click.echo(f"API:  {api_url}\nUser: {user or '(not logged in)'}")


def register(main: click.Group) -> None:
    """Add the client commands to the `capi-packages` group."""
    for command in (packages, push, login_command, logout_command, target_command):
        main.add_command(command)
