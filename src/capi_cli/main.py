"""The `capi-packages` console command: server commands plus the client commands."""

from __future__ import annotations

import click

from capi_cli import client_commands, entries_commands, events_commands, server_commands


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="capi-packages")
def main() -> None:
    """Cloud Foundry v3 Packages API: run the service, or use one from the terminal."""


server_commands.register(main)
client_commands.register(main)
events_commands.register(main)
entries_commands.register(main)
