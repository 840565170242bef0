"""Replay the AWS-recorded ESM FilterCriteria cases through compile_filter_criteria.

For each recorded mapping with FilterCriteria, the inputs the test sent are turned into records
shaped as the function sees them (SQS record, DynamoDB stream record, Kinesis record) and
``RecordFilter.keep`` must keep exactly the inputs AWS delivered. Delivered records are also
compared with what the function received (body / image) where the recording has it. Invalid
criteria must fail with AWS's error code and message.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import pytest

from headwater.core.errors import AwsError
from headwater.filtering import compile_filter_criteria
from tests.conftest import DATA

ENTRIES: list[dict[str, Any]] = json.loads(
    (DATA / "conformance" / "esm-aws-observed.json").read_text("utf-8")
)
SOURCE = {"sqs": "sqs", "kinesis": "kinesis", "dynamodbstreams": "dynamodb"}


def _criteria(entry: dict[str, Any]) -> dict[str, Any] | None:
    esm = (entry.get("params") or {}).get("esm") or {}
    criteria = esm.get("FilterCriteria")
    return criteria if isinstance(criteria, dict) else None


def _unique(kind: str) -> list[dict[str, Any]]:
    """One entry per test (several snapshot keys repeat the same params)."""
    seen: dict[str, dict[str, Any]] = {}
    for entry in ENTRIES:
        criteria = _criteria(entry)
        if criteria is None:
            continue
        is_error = entry["kind"] == "api-error"
        wanted = is_error if kind == "api-error" else not is_error and entry["params"].get("input")
        if wanted:
            seen.setdefault(entry["test"], entry)
    return list(seen.values())


REPLAYS = _unique("replay")
ERRORS = _unique("api-error")


def _delivered_data(test: str) -> list[Any]:
    """Everything the function received in this test (event entries), flattened to records."""
    records: list[Any] = []
    for entry in ENTRIES:
        if entry["test"] != test or entry["kind"] != "event":
            continue
        data = entry["data"]
        payloads = data if isinstance(data, list) else [data]
        for payload in payloads:
            if isinstance(payload, dict) and "Records" in payload:
                records.extend(payload["Records"])
    return records


# -- record builders ---------------------------------------------------------------------------
def sqs_record(body: Any, index: int) -> dict[str, Any]:
    text = body if isinstance(body, str) else json.dumps(body)
    return {
        "messageId": f"00000000-0000-0000-0000-{index:012d}",
        "receiptHandle": "AQEB" + "r" * 40,
        "body": text,
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1700000000123",
            "SenderId": "AIDAEXAMPLEEXAMPLE",
            "ApproximateFirstReceiveTimestamp": "1700000000125",
        },
        "messageAttributes": {},
        "md5OfMessageAttributes": None,
        "md5OfBody": hashlib.md5(text.encode()).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:111111111111:queue",
        "awsRegion": "us-east-1",
    }


class DynamoDBTable:
    """Just enough of a table to turn PutItem calls into stream records."""

    def __init__(self, partition_key: str) -> None:
        self.partition_key = partition_key
        self.items: dict[str, dict[str, Any]] = {}
        self.sequence = 0

    def put(self, item: dict[str, Any]) -> dict[str, Any] | None:
        key = json.dumps(item[self.partition_key], sort_keys=True)
        old = self.items.get(key)
        self.items[key] = item
        if old == item:
            return None  # an unchanged item writes no stream record
        self.sequence += 1
        image: dict[str, Any] = {
            "ApproximateCreationDateTime": 1733418659.0,
            "Keys": {self.partition_key: item[self.partition_key]},
            "NewImage": item,
            "SequenceNumber": f"{self.sequence:021d}",
            "SizeBytes": len(json.dumps(item)),
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        }
        if old is not None:
            image["OldImage"] = old
        return {
            "eventID": f"event-{self.sequence}",
            "eventName": "INSERT" if old is None else "MODIFY",
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": "us-east-1",
            "dynamodb": image,
            "eventSourceARN": "arn:aws:dynamodb:us-east-1:111111111111:table/t/stream/s",
        }


def kinesis_record(data: bytes, partition_key: str, sequence: int) -> dict[str, Any]:
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": partition_key,
            "sequenceNumber": f"{sequence:056d}",
            "data": base64.b64encode(data).decode(),
            "approximateArrivalTimestamp": 1700000000.123,
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"shardId-000000000000:{sequence:056d}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": "arn:aws:iam::111111111111:role/r",
        "awsRegion": "us-east-1",
        "eventSourceARN": "arn:aws:kinesis:us-east-1:111111111111:stream/s",
    }


# -- tests -------------------------------------------------------------------------------------
def test_cases_found() -> None:
    assert {e["source"] for e in REPLAYS} == {"sqs", "dynamodbstreams"}
    assert len(REPLAYS) >= 25
    assert len(ERRORS) == 6


@pytest.mark.parametrize("entry", REPLAYS, ids=[e["test"] for e in REPLAYS])
def test_replay_keeps_what_aws_delivered(entry: dict[str, Any]) -> None:
    params = entry["params"]
    record_filter = compile_filter_criteria(_criteria(entry), SOURCE[entry["source"]])
    delivered_now: list[dict[str, Any]] = []
    if entry["source"] == "sqs":
        for index, item in enumerate(params["input"]):
            record = sqs_record(item["MessageBody"], index)
            expected = item["expected"] == "delivered"
            assert record_filter.keep(record) is expected, item
            if expected:
                delivered_now.append(record)
        recorded = _delivered_data(entry["test"])
        assert recorded, "the recording has what the function received"
        # The snapshot stores JSON bodies as objects; compare decoded.
        assert [json.loads(r["body"]) for r in delivered_now] == [
            r["body"] if not isinstance(r["body"], str) else json.loads(r["body"]) for r in recorded
        ]
    else:
        table = DynamoDBTable((params.get("table") or {}).get("partition_key", "id"))
        for item in params["input"]:
            record = table.put(item["PutItem"])
            expected = item["expected"] == "delivered"
            kept = record is not None and record_filter.keep(record)
            assert kept is expected, (item, record)
            if kept:
                assert record is not None
                delivered_now.append(record)
        if "expected_invocations" in params:
            assert len(delivered_now) == params["expected_invocations"]
        recorded = _delivered_data(entry["test"])
        assert recorded, "the recording has what the function received"
        if recorded:
            # recorded holds each log capture (some tests log twice); compare distinct images
            images = {json.dumps(r["dynamodb"]["NewImage"], sort_keys=True) for r in recorded}
            mine = {json.dumps(r["dynamodb"]["NewImage"], sort_keys=True) for r in delivered_now}
            assert images == mine


@pytest.mark.parametrize("entry", ERRORS, ids=[e["test"] for e in ERRORS])
def test_invalid_criteria_rejected_like_aws(entry: dict[str, Any]) -> None:
    with pytest.raises(AwsError) as info:
        compile_filter_criteria(_criteria(entry), SOURCE[entry["source"]])
    assert info.value.code == entry["error"]["code"]
    assert info.value.message == entry["error"]["message"]
    assert info.value.status == entry["error"]["http_status"]
    assert info.value.fields == {"Type": "User"}


def test_empty_filters_keep_everything() -> None:
    entries = [e for e in ENTRIES if _criteria(e) == {"Filters": []}]
    assert entries, "the recording has a mapping created with Filters: []"
    record_filter = compile_filter_criteria({"Filters": []}, "dynamodb")
    assert record_filter.keeps_all
    assert record_filter.keep({"eventName": "REMOVE"})


def test_kinesis_json_data_filter_per_function() -> None:
    """TestKinesisEventFiltering: two mappings on one stream, each got only its own record."""
    (entry,) = [
        e
        for e in ENTRIES
        if e["source"] == "kinesis"
        and "event_filtering_json_pattern" in e["test"]
        and e["kind"] == "event"
    ]
    esm = entry["params"]["esm"]
    # params.input (free text): two PutRecord calls with these payloads, PartitionKey 'custom'
    payloads = [
        {"event_type": "function_1", "message": "foo"},
        {"event_type": "function_2", "message": "bar"},
    ]
    records = [
        kinesis_record(json.dumps(p).encode(), "custom", i) for i, p in enumerate(payloads, 1)
    ]
    first = compile_filter_criteria(esm["FilterCriteria_function_1"], "kinesis")
    second = compile_filter_criteria(esm["FilterCriteria_function_2"], "kinesis")
    got_first = [
        json.loads(base64.b64decode(r["kinesis"]["data"])) for r in records if first.keep(r)
    ]
    assert got_first == json.loads(entry["data"])  # function 1's recorded log line
    assert [r for r in records if second.keep(r)] == [records[1]]
