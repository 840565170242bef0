"""``headwater serve``: the AWS-compatible endpoint (SQS, Lambda, Kinesis) on one port."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--port", default=4599, show_default=True, type=int, help="TCP port.")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where queues, streams and functions are stored [default: ~/.headwater].",
)
@click.option(
    "--database",
    "database_url",
    metavar="URL",
    default=None,
    help="Share state with other headwater nodes in PostgreSQL (postgresql://user@host/db) "
    "instead of SQLite; --data-dir then only holds this node's unpacked function code.",
)
@click.option(
    "--time-scale",
    default=1.0,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True),
    help="Run queue and stream timers (visibility timeouts, delays, batching windows, "
    "retention) N times faster; function timeouts stay in real time.",
)
@click.option(
    "--durability",
    type=click.Choice(["normal", "full"]),
    default="normal",
    show_default=True,
    help="SQLite sync mode: 'full' survives power loss, 'normal' only process crashes.",
)
@click.option(
    "--example",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Deploy an example app (a directory with app.py defining deploy(hw)) at startup, "
    "e.g. examples/orders.",
)
@click.option(
    "--log-level",
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
    default="warning",
    show_default=True,
)
def serve(
    *,
    host: str,
    port: int,
    data_dir: Path | None,
    database_url: str | None,
    time_scale: float,
    durability: str,
    log_level: str,
    example: Path | None,
) -> None:
    """Serve the AWS APIs so boto3 and the AWS CLI work with only --endpoint-url changed.

    \b
      headwater serve --port 4599
      aws --endpoint-url http://127.0.0.1:4599 sqs create-queue --queue-name orders

    Any credentials are accepted (signatures are not verified); the region is taken from
    the request's signature and the account is 000000000000.
    """
    from headwater.server.serve import serve as run

    if log_level not in ("error", "critical"):
        _print_mapping_log()
    run(
        host=host,
        port=port,
        data_dir=data_dir,
        time_scale=time_scale,
        durability="full" if durability == "full" else "normal",
        log_level=log_level,
        example=example,
        database_url=database_url,
    )


def _print_mapping_log() -> None:
    """headwater's mapping log (which messages a batch left to be retried, a visibility
    timeout shorter than an invocation) goes to the server's output, line by line."""
    import logging
    import sys

    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    mapping_log = logging.getLogger("headwater.mappings")
    mapping_log.addHandler(handler)
    mapping_log.setLevel(logging.INFO)
    mapping_log.propagate = False
