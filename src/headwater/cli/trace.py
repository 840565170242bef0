"""``headwater trace ID``: what happened to one message or stream record.

Asks the running server (``GET /_headwater/api/journey/<id>``), which keeps journeys in
memory, for the steps and the log lines of each invocation.
"""

from __future__ import annotations

import datetime as dt
import urllib.request
from urllib.parse import quote

import click
import orjson

from headwater.telemetry.journeys import Step
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


@click.command("trace")
@click.argument("record_id")
@click.option(
    "--endpoint-url",
    default="http://127.0.0.1:4599",
    show_default=True,
    help="The headwater server that processed the record.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the steps as JSON.")
def trace(record_id: str, endpoint_url: str, as_json: bool) -> None:
    """Show the journey of RECORD_ID (an SQS message id or a stream sequence number).

    Journeys are kept in the server's memory for ``journey_retention_seconds``.
    """
    url = f"{endpoint_url.rstrip('/')}/_headwater/api/journey/{quote(record_id, safe='')}"
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            found = orjson.loads(response.read())
    except OSError as error:
        raise click.ClickException(f"cannot reach headwater at {endpoint_url}: {error}") from None
    if not found:
        raise click.ClickException(
            f"nothing recorded for {record_id!r} (journeys are kept for a limited time)"
        )
    if as_json:
        click.echo(orjson.dumps(found, option=orjson.OPT_INDENT_2))
        return
    for item in found:
        detail = {k: v for k, v in item.items() if k not in ("at", "kind", "place", "lines")}
        step = Step(record_id, item["at"], item["kind"], item["place"], detail)
        moment = dt.datetime.fromtimestamp(step.at, dt.UTC).strftime("%H:%M:%S.%f")[:-3]
        click.echo(f"{moment}  {describe(step)}")
        for line in item.get("lines") or []:
            click.echo(f"    | {line}")
