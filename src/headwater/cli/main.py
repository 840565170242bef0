"""The ``headwater`` command. Subcommands live in their own modules and register here.

Exit codes: 0 success; 1 an error, printed as one line ``headwater: error: ...`` (a
headwater or AWS error, a port in use, a file that cannot be read); 2 a usage error
(click's). ``headwater filter test`` has its own (0 match, 1 no match, 2 invalid).
"""

from __future__ import annotations

from typing import Any

import click
from botocore.exceptions import BotoCoreError, ClientError

from headwater import __version__
from headwater.core.errors import HeadwaterError

EXIT_ERROR = 1


class HeadwaterGroup(click.Group):
    """Turns the errors a user can cause into one line on stderr, not a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (HeadwaterError, ClientError, BotoCoreError, OSError) as error:
            click.echo(f"headwater: error: {one_line(error)}", err=True)
            ctx.exit(EXIT_ERROR)
        except click.UsageError:
            raise  # click prints the usage and exits 2
        except click.ClickException as error:
            # Subcommands report their own failures (no such stack, no log) as click
            # errors; they get the same one-line form as every other error, not click's
            # "Error: ...".
            click.echo(f"headwater: error: {one_line_text(error.format_message())}", err=True)
            ctx.exit(error.exit_code)


def one_line(error: BaseException) -> str:
    """``error``'s message on one line (an AWS error keeps its code)."""
    return one_line_text(str(error)) or type(error).__name__


def one_line_text(text: str) -> str:
    """``text`` with its line breaks and runs of spaces made single spaces."""
    return " ".join(text.split())


@click.group(cls=HeadwaterGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="headwater")
def main() -> None:
    """headwater: AWS Lambda event source mappings on your machine.

    Exit codes: 0 success, 1 error (one line on stderr), 2 usage error.
    """


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
    ("headwater.cli.ses", "ses_group"),
]

_register()
