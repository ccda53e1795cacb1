"""`packages files`, `packages cat` and `packages diff`: what a package holds, without downloading its zip."""

from __future__ import annotations

import sys
from typing import Any

import click

from capi_cli import output
from capi_cli.session import Session, with_session


@click.command("files")
@click.argument("guid")
@click.option("--prefix", help="Only paths starting with this, e.g. 'lib/'.")
@with_session
def list_files(session: Session, guid: str, prefix: str | None) -> None:
    """List the files in a READY bits package, in tree order.

    \b
    Example:
      capi-packages packages files PACKAGE_GUID --prefix lib/
    """
    entries = list(session.client.iter_entries(guid, prefix=prefix))
    if session.as_json:
        output.echo_json([entry.raw for entry in entries])
        return
    rows = (
        (
            entry.mode,
            str(entry.size),
            (entry.sha1 or "")[:12],
            entry.path + (f" -> {entry.symlink_target}" if entry.symlink_target else ""),
        )
        for entry in entries
    )
    click.echo(output.table(("mode", "size", "sha1", "path"), rows))


@click.command("cat")
@click.argument("guid")
@click.argument("path")
@click.option("-o", "--output", "dest", metavar="FILE", help="Write to FILE instead of stdout.")
@with_session
def cat_file(session: Session, guid: str, path: str, dest: str | None) -> None:
    """Print one file of a package (symlinks inside the package are followed).

    \b
    Example:
      capi-packages packages cat PACKAGE_GUID config/app.yml
    """
    target: Any = dest if dest else sys.stdout.buffer
    size = session.client.download_entry(guid, path, target)
    if dest:
        click.echo(f"Saved {size} bytes to {dest}", err=True)


def _mode_change(change: Any) -> str:
    return f"{change.before.mode} -> {change.after.mode}"


@click.command("diff")
@click.argument("old")
@click.argument("new")
@with_session
def diff_packages(session: Session, old: str, new: str) -> None:
    """Show what changed from package OLD to package NEW, path by path.

    Lines start with A (added), D (removed), M (content changed) or m (mode changed).

    \b
    Example:
      capi-packages packages diff PREVIOUS_GUID LATEST_GUID
    """
    diff = session.client.diff_packages(new, against=old)
    if session.as_json:
        output.echo_json(diff.raw)
        return
    lines = [(e.path, f"A {e.path}") for e in diff.added]
    lines += [(e.path, f"D {e.path}") for e in diff.removed]
    lines += [(c.path, f"M {c.path}") for c in diff.changed]
    lines += [(c.path, f"m {c.path} ({_mode_change(c)})") for c in diff.mode_changed]
    for _, line in sorted(lines):
        click.echo(line)
    counts = (len(diff.added), len(diff.removed), len(diff.changed), len(diff.mode_changed), diff.unchanged)
    click.echo("{} added, {} removed, {} changed, {} mode changed, {} unchanged".format(*counts), err=True)


def register(main: click.Group) -> None:
    """Add the entries commands to the `packages` group that client_commands registered."""
    group = main.commands["packages"]
    assert isinstance(group, click.Group)
    for command in (list_files, cat_file, diff_packages):
        group.add_command(command)
