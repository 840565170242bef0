"""A Kinesis mapping created with the AWS CLI against a live ``headwater serve``: a poison
record's batch goes to the on-failure SQS queue; the failure record and the event records
have the shape AWS recorded (``esm-aws-observed.json``, placeholders are wildcards)."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from headwater.esm.batching import PendingRecord
from headwater.esm.streams.destinations import failure_record
from headwater.esm.streams.stream_settle import Discard
from headwater.wiring.adapters import LocalKinesisSource
from tests.conformance.server_process import (
    ServerProcess,
    aws_cli,
    boto_client,
    headwater_server,
    zip_of,
)
from tests.conftest import DATA
from tests.functional.test_stream_esm_engine import written_lines

pytestmark = pytest.mark.integration

OBSERVED = json.loads((DATA / "conformance" / "esm-aws-observed.json").read_text("utf-8"))

HANDLER = """
import base64, json, os

def handler(event, context):
    with open(os.environ["JOURNAL"], "a", encoding="utf-8") as out:
        out.write(json.dumps(event) + "\\n")
    for record in event["Records"]:
        if json.loads(base64.b64decode(record["kinesis"]["data"])).get("raise_error"):
            raise RuntimeError("poison record")
"""


def observed(test: str, kind: str) -> Any:
    (entry,) = [
        e for e in OBSERVED if e["source"] == "kinesis" and e["test"] == test and e["kind"] == kind
    ]
    return entry["data"]


def same_shape(ours: Any, recorded: Any, path: str = "$") -> list[str]:
    """Differences between our value and AWS's; recorded ``<...>`` placeholders match any
    value of the same JSON type family (string or number)."""
    if isinstance(recorded, str) and "<" in recorded:
        return [] if isinstance(ours, str | int | float) else [f"{path}: {ours!r}"]
    if isinstance(recorded, dict):
        if not isinstance(ours, dict) or set(ours) != set(recorded):
            keys = set(ours) if isinstance(ours, dict) else ours
            return [f"{path}: keys {keys} != {set(recorded)}"]
        return [d for k in recorded for d in same_shape(ours[k], recorded[k], f"{path}.{k}")]
    if isinstance(recorded, list):
        if not isinstance(ours, list):
            return [f"{path}: not a list"]
        return [d for o, r in zip(ours, recorded, strict=False) for d in same_shape(o, r, path)]
    return [] if ours == recorded else [f"{path}: {ours!r} != {recorded!r}"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    # 10x clock: the retry backoffs (1 s, 2 s) pass in a fraction of a second
    with headwater_server(tmp_path_factory.mktemp("esm-kinesis"), ["--time-scale", "10"]) as s:
        yield s


def client(server: ServerProcess, service: str) -> Any:
    return boto_client(server.endpoint, service)


def test_cli_mapping_sends_the_poison_batch_to_the_destination(
    server: ServerProcess, tmp_path: Path
) -> None:
    kinesis, sqs, lam = (client(server, name) for name in ("kinesis", "sqs", "lambda"))
    journal = tmp_path / "events.jsonl"
    stream_arn = "arn:aws:kinesis:us-west-2:000000000000:stream/clicks"
    kinesis.create_stream(StreamName="clicks", ShardCount=1)
    queue_url = sqs.create_queue(QueueName="clicks-failures")["QueueUrl"]
    queue_arn = "arn:aws:sqs:us-west-2:000000000000:clicks-failures"
    lam.create_function(
        FunctionName="clicks-worker",
        Runtime="python3.12",
        Role="arn:aws:iam::000000000000:role/clicks-role",
        Handler="app.handler",
        Code={"ZipFile": zip_of(HANDLER)},
        Environment={"Variables": {"JOURNAL": str(journal)}},
        Timeout=10,
    )
    created = aws_cli(
        server,
        "lambda",
        "create-event-source-mapping",
        "--function-name",
        "clicks-worker",
        "--event-source-arn",
        stream_arn,
        "--starting-position",
        "TRIM_HORIZON",
        "--batch-size",
        "1",
        "--bisect-batch-on-function-error",
        "--maximum-retry-attempts",
        "2",
        "--destination-config",
        json.dumps({"OnFailure": {"Destination": queue_arn}}),
    ).json()
    assert created["State"] == "Creating"
    assert created["BisectBatchOnFunctionError"] is True
    assert created["MaximumRetryAttempts"] == 2
    assert created["DestinationConfig"] == {"OnFailure": {"Destination": queue_arn}}
    kinesis.put_record(
        StreamName="clicks",
        Data=json.dumps({"input": "hello", "value": "world", "raise_error": 1}).encode(),
        PartitionKey="custom",
    )
    kinesis.put_record(StreamName="clicks", Data=b'{"input": "fine"}', PartitionKey="custom")

    deadline = time.monotonic() + 30
    messages: list[dict[str, Any]] = []
    while not messages and time.monotonic() < deadline:
        messages = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1).get("Messages", [])
    assert messages, "no failure record arrived"
    body = json.loads(messages[0]["Body"])
    recorded = observed(
        "TestKinesisSource::test_kinesis_event_source_mapping_with_on_failure_destination_config",
        "on-failure",
    )["Messages"][0]["Body"]
    # AWS's run used MaximumRetryAttempts 1 (count 2); this mapping has 2: first + 2 retries
    assert same_shape(body, recorded) == ["$.requestContext.approximateInvokeCount: 3 != 2"]
    assert body["requestContext"]["functionArn"] == created["FunctionArn"]
    assert body["KinesisBatchInfo"]["streamArn"] == stream_arn

    while time.monotonic() < deadline:  # processing continues after the discard
        events = [json.loads(line) for line in written_lines(journal)]
        if events and base64.b64decode(events[-1]["Records"][0]["kinesis"]["data"]) == (
            b'{"input": "fine"}'
        ):
            break
        time.sleep(0.05)
    events = [json.loads(line) for line in written_lines(journal)]
    assert len(events) == 4  # the poison record 3 times, then the next record
    recorded_event = observed(
        "TestKinesisSource::test_create_kinesis_event_source_mapping", "event"
    )
    assert sorted(same_shape(events[0]["Records"][0], recorded_event["Records"][0])) == [
        f"$.kinesis.data: {events[0]['Records'][0]['kinesis']['data']!r} != 'aGVsbG8='",
        "$.kinesis.partitionKey: 'custom' != 'test_0'",
    ]
    record = events[0]["Records"][0]
    assert record["invokeIdentityArn"] == "arn:aws:iam::000000000000:role/clicks-role"
    assert record["eventID"] == f"shardId-000000000000:{record['kinesis']['sequenceNumber']}"
    got = lam.get_event_source_mapping(UUID=created["UUID"])
    assert got["LastProcessingResult"] == "OK"


def test_recorded_failure_records_match_ours_key_for_key() -> None:
    """Every recorded SQS-destination failure record has exactly the keys ours has."""
    source = LocalKinesisSource(None, "arn:aws:kinesis:us-east-1:1:stream/s")
    record = PendingRecord("1", "shardId-000000000000", {}, b"{}", "k", 1.0, 0.0)
    checked = 0
    for entry in OBSERVED:
        if entry["source"] != "kinesis" or entry.get("failure_channel") != "esm-destination-sqs":
            continue
        recorded = entry["data"]["Messages"][0]["Body"]
        condition = recorded["requestContext"]["condition"]
        function_error = (recorded.get("responseContext") or {}).get("functionError")
        ours = failure_record(
            Discard(condition, [record], 1, None, "$LATEST", function_error),
            function_arn="arn:aws:lambda:us-east-1:1:function:f",
            shard_id="shardId-000000000000",
            source=source,
            now=2.0,
        )
        assert set(ours) == set(recorded), entry["test"]
        assert set(ours["requestContext"]) == set(recorded["requestContext"])
        assert set(ours["KinesisBatchInfo"]) == set(recorded["KinesisBatchInfo"])
        if "responseContext" in recorded:
            assert ours["responseContext"] == recorded["responseContext"] | {
                "functionError": function_error
            }
        checked += 1
    assert checked >= 10
