"""What a client command talks to: the API URL, token, TLS choice and target, and its error exits."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import click
import httpx

from capi_cli import output
from capi_client import CapiError, Package, PackagesClient, tls_verify
from capi_client.config import load_saved_login, saved_token

F = TypeVar("F", bound=Callable[..., Any])
CLIENT_ERRORS = (CapiError, httpx.HTTPError, OSError, ValueError)
SKIP_SSL_ENV = "CAPI_SKIP_SSL_VALIDATION"


def http_client_factory() -> httpx.Client | None:
    """The httpx client commands use; None lets PackagesClient make its own. Tests replace this."""
    return None


def api_root(url: str) -> str:
    """`url` without its trailing slash, refused unless it is an API root such as https://api.example.org."""
    text = url.strip().rstrip("/")
    parsed = httpx.URL(text)
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise click.UsageError(f"{url!r} is not an API URL: give one such as https://api.example.org")
    if parsed.path not in ("", "/") or parsed.query:
        root = f"{parsed.scheme}://{parsed.netloc.decode('ascii')}"
        raise click.UsageError(f"{url} is not the API root: use {root} (the commands add /v3/... themselves)")
    return text


def skip_ssl_validation(saved: dict[str, Any]) -> bool:
    value = os.environ.get(SKIP_SSL_ENV, "").lower()
    return value in ("1", "true", "yes") or bool(saved.get("skip_ssl_validation"))


class Session:
    """One command's API URL and token: from the options, the environment, or the saved login."""

    def __init__(self, api: str | None, token: str | None, as_json: bool, quiet: bool = False) -> None:
        self.saved = load_saved_login()
        given = api or self.saved.get("api_url") or ""
        self.api = api_root(given) if given else ""
        self.token = token
        self.as_json = as_json
        self.quiet = quiet
        self.logged_in = False
        self._client: PackagesClient | None = None
        self._http: httpx.Client | None = None

    @property
    def client(self) -> PackagesClient:
        if self._client is None:
            if not self.api:
                raise click.UsageError("no API URL: pass --api URL, set CAPI_API_URL, or run `capi-packages login`")
            self._http = http_client_factory()
            token = self.token or saved_token(self.api, http_client=self._http)
            self.logged_in = bool(token)
            verify = tls_verify(skip_ssl_validation(self.saved))
            self._client = PackagesClient(
                self.api,
                token,
                http_client=self._http,
                verify=verify,
                on_warning=lambda warning: click.echo(f"Warning: {warning}", err=True),
            )
        return self._client

    # -- the target (`capi-packages target -o ORG -s SPACE`) ---------------------------------------

    def _saved_for_this_api(self, key: str) -> dict[str, str] | None:
        if self.saved.get("api_url", "").rstrip("/") != self.api:
            return None
        value = self.saved.get(key)
        return value if isinstance(value, dict) and value.get("guid") else None

    def org_guid(self, name: str | None) -> str:
        """The guid of org `name`, else of the targeted org."""
        if name:
            return self.client.find_organization(name).guid
        saved = self._saved_for_this_api("organization")
        if saved is None:
            raise click.UsageError("no org: pass -o ORG, or run `capi-packages target -o ORG`")
        return saved["guid"]

    def space_guid(self, name: str | None, org: str | None = None) -> str:
        """The guid of space `name` in org `org` (or the targeted org), else of the targeted space."""
        if name:
            return self.client.find_space(name, self.org_guid(org)).guid
        saved = self._saved_for_this_api("space")
        if saved is None or org:
            raise click.UsageError("no space: pass -s SPACE, or run `capi-packages target -o ORG -s SPACE`")
        return saved["guid"]

    # -- printing ---------------------------------------------------------------------------------

    def say(self, message: str) -> None:
        """A line for people, on stderr so that stdout stays capturable; none with --quiet."""
        if not self.quiet:
            click.echo(message, err=True)

    def created(self, guid: str, raw: dict[str, Any], details: str) -> None:
        if self.as_json:
            output.echo_json(raw)
        elif self.quiet:
            click.echo(guid)
        else:
            click.echo(details)

    def show(self, package: Package) -> None:
        self.created(package.guid, package.raw, output.package_details(package))

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        if self._http is not None:
            self._http.close()


def fail(error: Exception, session: Session | None = None, *, hint: bool = True) -> NoReturn:
    """Print the error (and what to do about it, when one thing usually helps) and exit."""
    message = output.error_message(error)
    logged_in = session.logged_in if session is not None else True
    hint_text = output.error_hint(error, logged_in=logged_in) if hint else None
    click.echo(message, err=True)
    if hint_text:
        click.echo(hint_text, err=True)
    click.get_current_context().exit(output.exit_code(error))
    raise AssertionError("not reached")  # Context.exit raises


def with_session(func: F) -> F:
    """Add --api, --token and --json, pass a Session, and turn client errors into exit codes."""

    @functools.wraps(func)
    def command(api: str | None, token: str | None, as_json: bool, **kwargs: Any) -> Any:
        session = Session(api, token, as_json, quiet=bool(kwargs.get("quiet")))
        try:
            return func(session, **kwargs)
        except BrokenPipeError:
            output.quiet_broken_pipe()
        except CLIENT_ERRORS as error:
            fail(error, session)
        finally:
            session.close()

    api_help = "API URL [env CAPI_API_URL; default: the saved login]."
    token_help = "Bearer token [env CAPI_TOKEN; default: the saved login]."  # noqa: S105 (help text)
    command = click.option("--json", "as_json", is_flag=True, help="Print JSON for programs.")(command)
    command = click.option("--token", envvar="CAPI_TOKEN", metavar="TOKEN", help=token_help)(command)
    command = click.option("--api", envvar="CAPI_API_URL", metavar="URL", help=api_help)(command)
    return command  # type: ignore[return-value]


def quiet_option(func: F) -> F:
    return click.option("-q", "--quiet", is_flag=True, help="Print only the guid.")(func)


def with_wait(default_timeout: float = 300.0) -> Callable[[F], F]:
    def decorate(func: F) -> F:
        help_text = "Seconds to wait."
        func = click.option("--timeout", type=float, default=default_timeout, help=help_text)(func)
        return click.option("--wait", is_flag=True, help="Wait until it is done.")(func)

    return decorate
