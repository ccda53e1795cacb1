"""`capi-packages events`: the audit events the token may see, as a table or JSON."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import click

from capi_cli import output
from capi_cli.packages_commands import ORDERS, TIME_HELP, time_filter
from capi_cli.session import Session, with_session
from capi_client import AuditEvent


def events_table(events: Iterable[AuditEvent]) -> str:
    rows = (
        (
            output.format_time(e.created_at),
            e.type,
            e.actor_name or e.actor_guid or "",
            f"{e.target_type or ''} {e.target_name or ''}".strip(),
            e.target_guid or "",
        )
        for e in events
    )
    return output.table(("time", "type", "actor", "target", "target guid"), rows)


@click.command("events")
@click.option("--type", "types", multiple=True, metavar="TYPE", help="e.g. audit.app.package.upload.")
@click.option("--target", "target_guids", multiple=True, metavar="GUID", help="Only events about these.")
@click.option("--not-target", "excluded", multiple=True, metavar="GUID", help="Leave out events about these.")
@click.option("--space", "space_guids", multiple=True, metavar="GUID", help="Only these spaces.")
@click.option("--org", "organization_guids", multiple=True, metavar="GUID", help="Only these orgs.")
@click.option("--created-at", "created_ats", multiple=True, metavar="[OP:]TIME", help=TIME_HELP)
@click.option("--order-by", type=click.Choice(ORDERS), help="'-' first for newest first.")
@with_session
def events(
    session: Session, excluded: Sequence[str], created_ats: Sequence[str], order_by: str | None, **filters: Any
) -> None:
    """Show who did what to which resource and when, every page. Repeat an option to OR its values.

    \b
    Example:
      capi-packages events --type audit.app.package.download --target APP_GUID
    """
    query: dict[str, Any] = {name: value for name, value in filters.items() if value}
    if excluded:
        if "target_guids" in query:
            raise click.UsageError("give --target or --not-target, not both")
        query["target_guids"] = {"not": list(excluded)}
    if created_ats:
        query["created_ats"] = time_filter(created_ats, "--created-at")
    if order_by:
        query["order_by"] = order_by
    found = list(session.client.iter_audit_events(**query))
    if session.as_json:
        output.echo_json([event.raw for event in found])
    else:
        click.echo(events_table(found))


def register(main: click.Group) -> None:
    main.add_command(events)
