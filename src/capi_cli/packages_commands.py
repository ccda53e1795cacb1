"""`capi-packages packages …`: list, get, create, update, delete, upload, download, copy and wait."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

import click

from capi_cli import output
from capi_cli.session import Session, quiet_option, with_session, with_wait

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


def time_filter(values: Sequence[str], option: str) -> Any:
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
    query["created_ats"] = time_filter(created_ats, "--created-at")
    query["updated_ats"] = time_filter(updated_ats, "--updated-at")
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
