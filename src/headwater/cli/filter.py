"""``headwater filter``: try event patterns against events while writing FilterCriteria."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
import orjson

from headwater.core.errors import AwsError
from headwater.filtering import InvalidPatternError, compile_filter_criteria, compile_pattern

#: exit codes of ``filter test``
EXIT_MATCH, EXIT_NO_MATCH, EXIT_INVALID = 0, 1, 2


def _read(argument: str) -> str:
    """A file path, ``-`` for stdin, or the JSON text itself."""
    if argument == "-":
        return sys.stdin.read()
    stripped = argument.lstrip()
    if not stripped.startswith(("{", "[", '"')):
        path = Path(argument)
        if path.is_file():
            return path.read_text("utf-8")
    return argument


@click.group("filter")
def filter_group() -> None:
    """Event filtering (EventBridge pattern language, as used by FilterCriteria)."""


@filter_group.command("test")
@click.option(
    "--pattern",
    "pattern_arg",
    required=True,
    metavar="PATTERN",
    help="Event pattern: a JSON file path, '-' for stdin, or inline JSON.",
)
@click.option(
    "--event",
    "event_arg",
    required=True,
    metavar="EVENT",
    help="Event (or record with --source): a JSON file path, '-' for stdin, or inline JSON.",
)
@click.option(
    "--source",
    type=click.Choice(["sqs", "kinesis", "dynamodb"]),
    default=None,
    help="Apply the pattern as a FilterCriteria filter of this event source to EVENT, a "
    "record as the function sees it (SQS body parsed when JSON, Kinesis data decoded).",
)
def test_command(pattern_arg: str, event_arg: str, source: str | None) -> None:
    """Print whether EVENT matches PATTERN. Exit 0 on match, 1 on no match, 2 if invalid."""
    pattern_text = _read(pattern_arg)
    try:
        event: Any = orjson.loads(_read(event_arg))
    except orjson.JSONDecodeError as exc:
        click.echo(f"Invalid event JSON: {exc}", err=True)
        sys.exit(EXIT_INVALID)
    if source is not None:
        if not isinstance(event, dict):
            click.echo("Invalid record: a record must be a JSON object", err=True)
            sys.exit(EXIT_INVALID)
        try:
            record_filter = compile_filter_criteria(
                {"Filters": [{"Pattern": pattern_text}]}, source
            )
        except AwsError as exc:
            click.echo(f"{exc.code}: {exc.message}", err=True)
            _explain(pattern_text)
            sys.exit(EXIT_INVALID)
        matched = record_filter.keep(event)
    else:
        try:
            matcher = compile_pattern(pattern_text)
        except InvalidPatternError as exc:
            click.echo(str(exc), err=True)
            sys.exit(EXIT_INVALID)
        matched = matcher.matches(event)
    click.echo("match" if matched else "no match")
    sys.exit(EXIT_MATCH if matched else EXIT_NO_MATCH)


def _explain(pattern_text: str) -> None:
    """Lambda only says the definition is invalid; show EventBridge's reason when there is one."""
    try:
        compile_pattern(pattern_text)
    except InvalidPatternError as exc:
        click.echo(f"  ({exc})", err=True)
