"""``headwater trace ID``: what happened to one message or stream record.

Reads the record journeys of a data directory (written by a running headwater every half
second), with the log lines of each invocation from CloudWatch Logs.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
import orjson

from headwater.app import DEFAULT_DATA_DIR
from headwater.services.logs.function_logs import LAMBDA_GROUP_PREFIX
from headwater.services.logs.store import LogStore
from headwater.store.database import DATABASE_FILE, SqliteDatabase
from headwater.telemetry.journeys import JourneyStore, Step
from headwater.telemetry.recorder import arn_parts


def describe(step: Step) -> str:
    """One line for a journey step."""
    detail = step.detail
    where = arn_parts(step.place)[2] if step.place.startswith("arn:") else step.place
    if step.kind == "sent":
        return f"sent to {where}"
    if step.kind == "received":
        return f"received from {where}"
    if step.kind == "invoked":
        text = (
            f"invoked {where} in a batch of {detail.get('batch_size')} "
            f"(request {detail.get('request_id')}): {detail.get('outcome')}"
        )
        if detail.get("reported_failed"):
            text += " (reported in batchItemFailures)"
        if detail.get("error"):
            text += f"\n    error: {detail['error']}"
        return text
    if step.kind in ("dead-letter", "redrive"):
        verb = "moved to the dead-letter queue" if step.kind == "dead-letter" else "redriven to"
        return f"{verb} {arn_parts(detail.get('to', ''))[2]}"
    if step.kind == "visibility":
        return f"visibility timeout set to {detail.get('seconds')} s"
    if step.kind == "filtered":
        return f"filtered out by mapping {where}"
    return f"{step.kind} {where}"


def invocation_lines(logs: LogStore, function_arn: str, request_id: str) -> list[str]:
    region, account, name = arn_parts(function_arn)
    group = logs.get_group(account, region, LAMBDA_GROUP_PREFIX + name)
    if group is None:
        return []
    lines: list[str] = []
    stream = None
    after: tuple[int, int] | None = None
    while True:
        events = logs.events(group, after=after, limit=5000)
        if not events:
            return lines
        for event in events:
            after = (event.timestamp, event.seq)
            if stream is None:
                if event.message.startswith(f"START RequestId: {request_id}"):
                    stream = event.stream_name
                    lines.append(event.message.rstrip("\n"))
                continue
            if event.stream_name == stream:
                lines.append(event.message.rstrip("\n"))
                if event.message.startswith(f"REPORT RequestId: {request_id}"):
                    return lines


@click.command("trace")
@click.argument("record_id")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Data directory of the headwater [default: ~/.headwater].",
)
@click.option("--json", "as_json", is_flag=True, help="Print the steps as JSON.")
def trace(record_id: str, data_dir: Path | None, as_json: bool) -> None:
    """Show the journey of RECORD_ID (an SQS message id or a stream sequence number)."""
    root = (data_dir or DEFAULT_DATA_DIR).expanduser()
    if not (root / DATABASE_FILE).exists():
        raise click.ClickException(f"no headwater data in {root}")
    database = SqliteDatabase(root)
    try:
        steps = JourneyStore(database).journey(record_id)
        if not steps:
            raise click.ClickException(
                f"nothing recorded for {record_id!r} (journeys are kept for a limited time)"
            )
        logs = LogStore(database)
        if as_json:
            click.echo(orjson.dumps([s.as_dict() for s in steps], option=orjson.OPT_INDENT_2))
            return
        for step in steps:
            moment = dt.datetime.fromtimestamp(step.at, dt.UTC).strftime("%H:%M:%S.%f")[:-3]
            click.echo(f"{moment}  {describe(step)}")
            if step.kind == "invoked":
                for line in invocation_lines(logs, step.place, step.detail.get("request_id", "")):
                    click.echo(f"    | {line}")
    finally:
        database.close()
