"""The `capi-packages` console command: server commands plus the client commands."""

from __future__ import annotations

import sys

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


def run() -> None:
    """The program's entry (the console script and `python -m capi_cli`), leaving out of its start
    what libraries import only because it is installed.

    httpcore imports trio to pick its async primitives, though no command runs trio (they are
    synchronous, or asyncio for `serve`): a tenth of a second of every client command. A None
    entry makes an import fail as if the module were absent; only here, so that a process that
    imports this module for other ends keeps its trio.
    """
    sys.modules.setdefault("trio", None)  # type: ignore[arg-type]
    main()
