"""DynamoDB stream mappings end to end: a table's stream feeds a function through the
stream engine Kinesis uses (records exactly as Lambda sends them, per-item order across
shard rollovers, bisect, retries, partial batch responses, filters, on-failure records)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from headwater import Headwater, ManualClock
from tests.functional.test_stream_esm_engine import journal, poll_until, wait_processed

HANDLER = """
import json, os

def handler(event, context):
    records = event["Records"]
    with open(os.environ["JOURNAL"], "a", encoding="utf-8") as out:
        out.write(json.dumps(records) + "\\n")
    bad = [r for r in records if "poison" in (r["dynamodb"].get("NewImage") or {})]
    if not bad:
        return None
    if os.environ.get("PARTIAL"):
        first = bad[0]["dynamodb"]["SequenceNumber"]
        return {"batchItemFailures": [{"itemIdentifier": first}]}
    raise RuntimeError("bad record")
"""

SHARD_SECONDS = 3600.0


@pytest.fixture
def hw_options() -> dict[str, Any]:
    return {
        "functions": "inline",
        "esm_stream_retry_backoff": 0.5,
        "dynamodb_stream_shard_seconds": SHARD_SECONDS,
    }


def deploy(hw: Headwater, tmp_path: Path, **environment: str) -> Path:
    code = tmp_path / "code"
    code.mkdir(exist_ok=True)
    (code / "cdc.py").write_text(HANDLER)
    path = tmp_path / "journal"
    hw.lambda_.create_function_from_directory(
        "cdc", code, "cdc.handler", environment={"JOURNAL": str(path), **environment}
    )
    return path


def make_table(hw: Headwater, name: str = "orders") -> str:
    created = hw.dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    arn: str = created["TableDescription"]["LatestStreamArn"]
    return arn


def put(hw: Headwater, key: str, **attrs: str) -> None:
    item = {"id": {"S": key}} | {k: {"S": v} for k, v in attrs.items()}
    hw.dynamodb.put_item(TableName="orders", Item=item)


def images(path: Path) -> list[list[str]]:
    """Each invocation's records as ``id:version`` (REMOVE: ``id:-``)."""
    return [
        [
            r["dynamodb"]["Keys"]["id"]["S"]
            + ":"
            + ((r["dynamodb"].get("NewImage") or {}).get("v", {}).get("S") or "-")
            for r in batch
        ]
        for batch in journal(path)
    ]


def test_records_reach_the_function_exactly_as_aws_writes_them(
    hw: Headwater, tmp_path: Path, clock: ManualClock
) -> None:
    path = deploy(hw, tmp_path)
    arn = make_table(hw)
    uuid = hw.client("lambda").create_event_source_mapping(
        FunctionName="cdc", EventSourceArn=arn, StartingPosition="TRIM_HORIZON", BatchSize=10
    )["UUID"]
    put(hw, "a", v="1")
    put(hw, "a", v="1")  # no change, no record
    put(hw, "a", v="2")
    hw.dynamodb.delete_item(TableName="orders", Key={"id": {"S": "a"}})
    hw.start()
    wait_processed(hw, uuid, clock, lambda: sum(map(len, journal(path))) >= 3)
    records = [r for batch in journal(path) for r in batch]
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    first, modify, remove = records
    assert list(first) == [
        "eventID", "eventName", "eventVersion", "eventSource", "awsRegion", "dynamodb",
        "eventSourceARN",
    ]  # fmt: skip
    assert list(modify["dynamodb"]) == [
        "ApproximateCreationDateTime", "Keys", "NewImage", "OldImage", "SequenceNumber",
        "SizeBytes", "StreamViewType",
    ]  # fmt: skip
    assert first["eventVersion"] == "1.1" and first["eventSource"] == "aws:dynamodb"
    assert first["awsRegion"] == "us-east-1" and first["eventSourceARN"] == arn
    assert len(first["eventID"]) == 32
    assert isinstance(first["dynamodb"]["ApproximateCreationDateTime"], float)
    assert first["dynamodb"]["ApproximateCreationDateTime"] == float(int(clock.now()))
    assert first["dynamodb"]["Keys"] == {"id": {"S": "a"}}
    assert first["dynamodb"]["NewImage"] == {"id": {"S": "a"}, "v": {"S": "1"}}
    assert "OldImage" not in first["dynamodb"]
    assert modify["dynamodb"]["OldImage"] == {"id": {"S": "a"}, "v": {"S": "1"}}
    assert modify["dynamodb"]["SizeBytes"] == 2 + 1 + 2 * (2 + 1 + 1 + 1)
    assert list(remove["dynamodb"]) == [
        "ApproximateCreationDateTime", "Keys", "OldImage", "SequenceNumber", "SizeBytes",
        "StreamViewType",
    ]  # fmt: skip
    assert "userIdentity" not in remove


def test_bisect_retries_and_on_failure_record(
    hw: Headwater, tmp_path: Path, clock: ManualClock
) -> None:
    path = deploy(hw, tmp_path)
    arn = make_table(hw)
    sqs = hw.client("sqs")
    url = sqs.create_queue(QueueName="failures")["QueueUrl"]
    put(hw, "a", v="1")
    put(hw, "b", v="1")
    put(hw, "c", v="1", poison="yes")
    put(hw, "d", v="1")
    uuid = hw.client("lambda").create_event_source_mapping(
        FunctionName="cdc",
        EventSourceArn=arn,
        StartingPosition="TRIM_HORIZON",
        BatchSize=10,
        MaximumRetryAttempts=1,
        BisectBatchOnFunctionError=True,
        DestinationConfig={
            "OnFailure": {"Destination": "arn:aws:sqs:us-east-1:000000000000:failures"}
        },
    )["UUID"]
    hw.start()
    wait_processed(hw, uuid, clock, lambda: len(journal(path)) >= 6)
    assert images(path) == [
        ["a:1", "b:1", "c:1", "d:1"],
        ["a:1", "b:1"],
        ["c:1", "d:1"],
        ["c:1"],
        ["c:1"],
        ["d:1"],
    ]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    (body,) = [json.loads(m["Body"]) for m in messages]
    assert body["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert body["responseContext"]["functionError"] == "Unhandled"
    info = body["DDBStreamBatchInfo"]
    assert set(info) == {
        "shardId", "startSequenceNumber", "endSequenceNumber",
        "approximateArrivalOfFirstRecord", "approximateArrivalOfLastRecord", "batchSize",
        "streamArn",
    }  # fmt: skip
    assert info["batchSize"] == 1 and info["streamArn"] == arn
    assert info["startSequenceNumber"] == info["endSequenceNumber"]
    assert info["shardId"].startswith("shardId-")
    # DynamoDB's failure records show arrivals without milliseconds
    assert info["approximateArrivalOfFirstRecord"].endswith("Z")
    assert "." not in info["approximateArrivalOfFirstRecord"]


def test_partial_batch_response_uses_the_sequence_number(
    hw: Headwater, tmp_path: Path, clock: ManualClock
) -> None:
    path = deploy(hw, tmp_path, PARTIAL="1")
    arn = make_table(hw)
    put(hw, "a", v="1")
    put(hw, "b", v="1", poison="yes")
    put(hw, "c", v="1")
    uuid = hw.client("lambda").create_event_source_mapping(
        FunctionName="cdc",
        EventSourceArn=arn,
        StartingPosition="TRIM_HORIZON",
        BatchSize=10,
        MaximumRetryAttempts=1,
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )["UUID"]
    hw.start()
    wait_processed(hw, uuid, clock, lambda: len(journal(path)) >= 2)
    # the batch is retried from the reported record on (once: MaximumRetryAttempts=1)
    assert images(path) == [["a:1", "b:1", "c:1"], ["b:1", "c:1"]]
    put(hw, "d", v="1")
    wait_processed(hw, uuid, clock, lambda: len(journal(path)) >= 3)
    assert images(path)[2:] == [["d:1"]]  # then it moved on


def test_filters_on_typed_images_and_event_name(
    hw: Headwater, tmp_path: Path, clock: ManualClock
) -> None:
    path = deploy(hw, tmp_path)
    arn = make_table(hw)
    uuid = hw.client("lambda").create_event_source_mapping(
        FunctionName="cdc",
        EventSourceArn=arn,
        StartingPosition="TRIM_HORIZON",
        FilterCriteria={
            "Filters": [
                {
                    "Pattern": json.dumps(
                        {"eventName": ["INSERT"], "dynamodb": {"NewImage": {"v": {"S": ["2"]}}}}
                    )
                }
            ]
        },
    )["UUID"]
    put(hw, "a", v="1")
    put(hw, "b", v="2")
    put(hw, "b", v="3")
    put(hw, "c", v="2")
    hw.start()
    wait_processed(hw, uuid, clock, lambda: sum(map(len, journal(path))) >= 2)
    assert [r for batch in images(path) for r in batch] == ["b:2", "c:2"]
    metrics = hw.engine.metrics(uuid)
    assert metrics.FilteredOutEventCount == 2  # type: ignore[union-attr]


def test_per_item_order_holds_across_shard_rollovers_and_parallelization(
    hw: Headwater, tmp_path: Path, clock: ManualClock
) -> None:
    path = deploy(hw, tmp_path)
    arn = make_table(hw)
    uuid = hw.client("lambda").create_event_source_mapping(
        FunctionName="cdc",
        EventSourceArn=arn,
        StartingPosition="LATEST",
        BatchSize=3,
        ParallelizationFactor=4,
    )["UUID"]
    hw.start()
    streams = hw.client("dynamodbstreams")
    poll_until(lambda: uuid in hw.engine.mapping_uuids())
    wait_processed(hw, uuid, clock, lambda: True)
    for version in range(1, 5):
        for key in "abcdef":
            put(hw, key, v=str(version))
        clock.advance(SHARD_SECONDS)
        wait_processed(hw, uuid, clock, lambda: True)
    shards = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    assert len(shards) >= 4  # the writes crossed shard rollovers
    wait_processed(hw, uuid, clock, lambda: sum(map(len, journal(path))) >= 24)
    seen: dict[str, list[str]] = {}
    for batch in images(path):
        for entry in batch:
            key, version = entry.split(":")
            seen.setdefault(key, []).append(version)
    assert seen == {key: ["1", "2", "3", "4"] for key in "abcdef"}


def test_mapping_api_rules_for_dynamodb_streams(hw: Headwater, tmp_path: Path) -> None:
    deploy(hw, tmp_path)
    arn = make_table(hw)
    lam = hw.client("lambda")
    missing = arn.replace("orders", "nothing")
    with pytest.raises(ClientError) as not_found:
        lam.create_event_source_mapping(
            FunctionName="cdc", EventSourceArn=missing, StartingPosition="LATEST"
        )
    assert not_found.value.response["Error"]["Message"] == f"Stream not found: {missing}"
    with pytest.raises(ClientError) as at_timestamp:
        lam.create_event_source_mapping(
            FunctionName="cdc",
            EventSourceArn=arn,
            StartingPosition="AT_TIMESTAMP",
            StartingPositionTimestamp=1700000000,
        )
    assert at_timestamp.value.response["Error"]["Code"] == "InvalidParameterValueException"
    created = lam.create_event_source_mapping(
        FunctionName="cdc", EventSourceArn=arn, StartingPosition="LATEST", BatchSize=10000
    )
    assert created["BatchSize"] == 10000
