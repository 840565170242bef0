"""The ``headwater`` command. Subcommands live in their own modules and register here."""

from __future__ import annotations

import click

from headwater import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="headwater")
def main() -> None:
    """headwater: AWS Lambda event source mappings on your machine."""


def _register() -> None:
    # Each subcommand module defines one click command or group; imported here so that
    # `headwater --help` lists them all.
    from importlib import import_module

    for module_name, attr in COMMANDS:
        command = getattr(import_module(module_name), attr)
        main.add_command(command)


#: (module, attribute) of every subcommand.
COMMANDS: list[tuple[str, str]] = [
    ("headwater.cli.serve", "serve"),
    ("headwater.cli.filter", "filter_group"),
    ("headwater.cli.logs", "logs"),
    ("headwater.cli.trace", "trace"),
    ("headwater.cli.deploy", "deploy"),
    ("headwater.cli.deploy", "stacks"),
    ("headwater.cli.deploy", "destroy"),
]

_register()
