"""``headwater logs FUNCTION [--follow] [--region R]``: a function's CloudWatch Logs group.

Reads ``/aws/lambda/FUNCTION`` straight from the data directory's store (the same one the
server's CloudWatch Logs API serves), so no server needs to run.
"""

from __future__ import annotations

import time
from pathlib import Path

import click

from headwater.app import DEFAULT_DATA_DIR
from headwater.core.arn import DEFAULT_ACCOUNT, DEFAULT_REGION
from headwater.services.logs.function_logs import LAMBDA_GROUP_PREFIX
from headwater.services.logs.store import LogStore
from headwater.store.database import DATABASE_FILE, SqliteDatabase

#: Real seconds between looks for new events with --follow.
FOLLOW_INTERVAL = 0.25


@click.command("logs")
@click.argument("function_name")
@click.option("--follow", "-f", is_flag=True, help="Keep printing new log output (Ctrl-C stops).")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Data directory of the headwater that runs the function [default: ~/.headwater].",
)
@click.option("--region", default=DEFAULT_REGION, show_default=True, help="Region of the function.")
def logs(function_name: str, follow: bool, data_dir: Path | None, region: str) -> None:
    """Print the log of FUNCTION: its /aws/lambda/FUNCTION log group, oldest first."""
    root = (data_dir or DEFAULT_DATA_DIR).expanduser()
    group_name = LAMBDA_GROUP_PREFIX + function_name
    if not (root / DATABASE_FILE).exists():
        raise click.ClickException(f"no log for function {function_name!r} (no data in {root})")
    database = SqliteDatabase(root)
    try:
        store = LogStore(database)
        group = store.get_group(DEFAULT_ACCOUNT, region, group_name)
        if group is None and not follow:
            raise click.ClickException(
                f"no log for function {function_name!r} in {region} (looked in {root})"
            )
        cursor: tuple[int, int] | None = None
        while True:
            if group is None:
                group = store.get_group(DEFAULT_ACCOUNT, region, group_name)
            events = [] if group is None else store.events(group, after=cursor, limit=5000)
            for event in events:
                click.echo(event.message, nl=not event.message.endswith("\n"))
                cursor = (event.timestamp, event.seq)
            if len(events) == 5000:
                continue
            if not follow:
                return
            time.sleep(FOLLOW_INTERVAL)
    except KeyboardInterrupt:
        pass
    finally:
        database.close()
