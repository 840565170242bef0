"""``headwater logs FUNCTION [--follow]``: a function's START/END/REPORT log."""

from __future__ import annotations

from pathlib import Path

import click

from headwater.app import DEFAULT_DATA_DIR
from headwater.runtime.logs import follow_logs, log_path, read_logs


@click.command("logs")
@click.argument("function_name")
@click.option("--follow", "-f", is_flag=True, help="Keep printing new log output (Ctrl-C stops).")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Data directory of the headwater that runs the function [default: ~/.headwater].",
)
def logs(function_name: str, follow: bool, data_dir: Path | None) -> None:
    """Print the retained log of FUNCTION (reads the data directory; no server needed)."""
    root = (data_dir or DEFAULT_DATA_DIR).expanduser()
    text = read_logs(root, function_name)
    if not text and not follow:
        path = log_path(root, function_name)
        raise click.ClickException(f"no log for function {function_name!r} (looked in {path})")
    click.echo(text, nl=False)
    if follow:
        try:
            for chunk in follow_logs(root, function_name):
                click.echo(chunk, nl=False)
        except KeyboardInterrupt:
            pass
