"""``headwater ses messages [--json] [--clear]``: the email SES accepted, read from the data
directory's store (the one ``headwater serve`` keeps them in), so no server needs to run."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
import orjson

from headwater.app import DEFAULT_DATA_DIR
from headwater.services.ses.store import SesStore
from headwater.store.database import DATABASE_FILE, SqliteDatabase


@click.group("ses")
def ses_group() -> None:
    """Amazon SES: the messages headwater kept instead of sending them."""


@ses_group.command("messages")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Data directory of the headwater that took the messages [default: ~/.headwater].",
)
@click.option("--region", default=None, help="Only the messages sent in this region.")
@click.option("--json", "as_json", is_flag=True, help="Every field of every message, as JSON.")
@click.option("--clear", is_flag=True, help="Forget the kept messages (after printing none).")
def messages(data_dir: Path | None, region: str | None, as_json: bool, clear: bool) -> None:
    """Print the messages SES (v1 or v2) accepted, oldest first: one line each (time,
    MessageId, sender, recipients, subject), or all of them as JSON."""
    root = (data_dir or DEFAULT_DATA_DIR).expanduser()
    if not (root / DATABASE_FILE).exists():
        raise click.ClickException(f"no headwater data in {root}")
    database = SqliteDatabase(root)
    try:
        store = SesStore(database)
        if clear:
            click.echo(f"forgot {store.clear_messages()} message(s)")
            return
        found = store.messages(region=region)
        if as_json:
            click.echo(orjson.dumps(found, option=orjson.OPT_INDENT_2).decode())
            return
        for message in found:
            when = dt.datetime.fromtimestamp(message["Timestamp"], dt.UTC)
            destination = message["Destination"]
            recipients = [
                *destination["ToAddresses"],
                *destination["CcAddresses"],
                *destination["BccAddresses"],
            ]
            click.echo(
                f"{when.isoformat(timespec='seconds')}  {message['MessageId']}  "
                f"{message['Source']} -> {', '.join(recipients)}  {message['Subject'] or ''}"
            )
    finally:
        database.close()
