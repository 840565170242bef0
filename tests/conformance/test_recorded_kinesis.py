"""Replays of the AWS recordings of Kinesis (``tests/data/recorded/kinesis.json``).

Same approach as ``test_recorded_sqs.py``: the recorded test's calls, a real boto3 client
through the ASGI app in process, every recorded value compared.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import cbor2
import pytest

from headwater import Headwater, ManualClock
from tests.asgi_boto import InProcessAws
from tests.conformance.recorded import differences, recorded_tests, recording


@dataclass
class Env:
    kinesis: Any
    aws: InProcessAws
    counter: int = 0

    def stream(self, **params: Any) -> tuple[str, str]:
        """A new stream's (name, ARN)."""
        self.counter += 1
        name = f"stream-{self.counter}"
        self.kinesis.create_stream(StreamName=name, **params)
        summary = self.kinesis.describe_stream_summary(StreamName=name)
        return name, summary["StreamDescriptionSummary"]["StreamARN"]


Scenario = Callable[[Env], dict[str, Any]]
SCENARIOS: dict[str, Scenario] = {}


def scenario(name: str) -> Callable[[Scenario], Scenario]:
    def register(function: Scenario) -> Scenario:
        SCENARIOS[name] = function
        return function

    return register


@scenario("TestKinesis::test_create_stream_without_shard_count")
def _default_shards(env: Env) -> dict[str, Any]:
    name, _ = env.stream()
    shards = env.kinesis.describe_stream(StreamName=name)["StreamDescription"]["Shards"]
    return {"Shards": sorted(shards, key=lambda s: s["ShardId"])}


@scenario("TestKinesis::test_add_tags_to_stream")
def _tags(env: Env) -> dict[str, Any]:
    name, _ = env.stream(ShardCount=1)
    env.kinesis.add_tags_to_stream(StreamName=name, Tags={"foo": "bar"})
    listed = env.kinesis.list_tags_for_stream(StreamName=name)
    assert not listed["HasMoreTags"]
    return {"Tags": listed["Tags"][0]}


@scenario("TestKinesis::test_record_lifecycle_data_integrity")
def _data_integrity(env: Env) -> dict[str, Any]:
    name, _ = env.stream(ShardCount=1)
    shard = env.kinesis.describe_stream(StreamName=name)["StreamDescription"]["Shards"][0]
    iterator = env.kinesis.get_shard_iterator(
        StreamName=name,
        ShardId=shard["ShardId"],
        ShardIteratorType="AT_SEQUENCE_NUMBER",
        StartingSequenceNumber=shard["SequenceNumberRange"]["StartingSequenceNumber"],
    )["ShardIterator"]
    for data in ("test", "ünicödé 统一码 💣💻🔥", "a" * 1000, ""):
        env.kinesis.put_record(StreamName=name, Data=data, PartitionKey="1")
    records = env.kinesis.get_records(ShardIterator=iterator)["Records"]
    return {"Records": sorted(records, key=lambda r: r["Data"])}


@scenario("TestKinesis::test_stream_consumers")
def _consumers(env: Env) -> dict[str, Any]:
    _, arn = env.stream(ShardCount=1)
    assert env.kinesis.list_stream_consumers(StreamARN=arn)["Consumers"] == []
    registered = env.kinesis.register_stream_consumer(StreamARN=arn, ConsumerName="consumer")
    consumer_arn = registered["Consumer"]["ConsumerARN"]
    listed = env.kinesis.list_stream_consumers(StreamARN=arn)["Consumers"]
    described = env.kinesis.describe_stream_consumer(StreamARN=arn, ConsumerARN=consumer_arn)
    env.kinesis.deregister_stream_consumer(StreamARN=arn, ConsumerName="consumer")
    assert env.kinesis.list_stream_consumers(StreamARN=arn)["Consumers"] == []
    return {
        "One_consumer_by_list_stream": listed,
        "One_consumer_by_describe_stream": described["ConsumerDescription"],
    }


@scenario("TestKinesis::test_cbor_exceptions")
def _cbor_error(env: Env) -> dict[str, Any]:
    headers = {
        "Authorization": (
            "AWS4-HMAC-SHA256 Credential=AKIDHEADWATERTEST/20260101/us-east-1/kinesis/"
            "aws4_request, SignedHeaders=host;x-amz-date, Signature=0"
        ),
        "X-Amz-Date": "20260101T000000Z",
        "Content-Type": "application/x-amz-cbor-1.1",
        "X-Amz-Target": "Kinesis_20131202.DescribeStream",
    }
    body = cbor2.dumps({"StreamName": "wrong-stream-name"})
    status, response_headers, payload = env.aws.transport.send(
        "POST", "http://127.0.0.1:4599/", headers, body
    )
    assert status == 400
    assert dict(response_headers)["content-type"] == "application/x-amz-cbor-1.1"
    return {"cbor-error": cbor2.loads(payload)}


@scenario("TestKinesis::test_resource_policy_crud")
def _resource_policy(env: Env) -> dict[str, Any]:
    _, arn = env.stream(ShardCount=1)

    def policy(sid: str, actions: Any) -> str:
        statement = {
            "Sid": sid,
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::000000000000:root"},
            "Action": actions,
            "Resource": arn,
        }
        return json.dumps({"Version": "2012-10-17", "Statement": [statement]})

    k = env.kinesis
    result = {"default_policy_if_not_set": k.get_resource_policy(ResourceARN=arn)}
    result["put_resource_policy_if_not_set"] = k.put_resource_policy(
        ResourceARN=arn, Policy=policy("AllowCrossAccountWrite", "kinesis:PutRecord")
    )
    result["get_resource_policy_after_set"] = k.get_resource_policy(ResourceARN=arn)
    result["update_resource_policy"] = k.put_resource_policy(
        ResourceARN=arn,
        Policy=policy("AllowCrossAccountReadWrite", ["kinesis:PutRecord", "kinesis:GetRecords"]),
    )
    result["get_resource_policy_after_update"] = k.get_resource_policy(ResourceARN=arn)
    result["delete_resource_policy"] = k.delete_resource_policy(ResourceARN=arn)
    result["get_resource_policy_after_delete"] = k.get_resource_policy(ResourceARN=arn)
    return result


NOT_REPLAYED = {
    "TestKinesis::test_subscribe_to_shard": (
        "SubscribeToShard (enhanced fan-out: an HTTP/2 event stream) is not implemented; "
        "consumers can be registered, records are read with GetRecords"
    ),
    "TestKinesis::test_subscribe_to_shard_with_at_timestamp": "as test_subscribe_to_shard",
    "TestKinesis::test_subscribe_to_shard_with_sequence_number_as_iterator": (
        "as test_subscribe_to_shard"
    ),
}


@pytest.fixture(scope="module")
def aws() -> Iterator[InProcessAws]:
    hw = Headwater.in_memory(clock=ManualClock())
    found = InProcessAws(hw)
    try:
        yield found
    finally:
        found.close()
        hw.close()


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_recording(aws: InProcessAws, name: str) -> None:
    env = Env(aws.client("kinesis"), aws)
    env.counter = len(aws.hw.client("kinesis").list_streams()["StreamNames"]) + 1
    assert differences(SCENARIOS[name](env), recording("kinesis", name)) == []


def test_cbor_get_records_round_trip(aws: InProcessAws) -> None:
    """The Java SDK's CBOR: blobs as byte strings, timestamps as epoch milliseconds."""
    kinesis = aws.client("kinesis")
    kinesis.create_stream(StreamName="cbor", ShardCount=1)
    kinesis.put_record(StreamName="cbor", Data=b"\x00\xffbytes", PartitionKey="p")
    iterator = kinesis.get_shard_iterator(
        StreamName="cbor", ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    json_record = kinesis.get_records(ShardIterator=iterator)["Records"][0]
    headers = {
        "Authorization": (
            "AWS4-HMAC-SHA256 Credential=AKIDHEADWATERTEST/20260101/us-east-1/kinesis/"
            "aws4_request, SignedHeaders=host;x-amz-date, Signature=0"
        ),
        "X-Amz-Date": "20260101T000000Z",
        "Content-Type": "application/x-amz-cbor-1.1",
        "X-Amz-Target": "Kinesis_20131202.GetRecords",
    }
    status, _, payload = aws.transport.send(
        "POST", "http://127.0.0.1:4599/", headers, cbor2.dumps({"ShardIterator": iterator})
    )
    assert status == 200
    record = cbor2.loads(payload)["Records"][0]
    assert record["Data"] == b"\x00\xffbytes"
    assert record["PartitionKey"] == "p"
    stamp = json_record["ApproximateArrivalTimestamp"].timestamp()
    assert record["ApproximateArrivalTimestamp"] == int(stamp * 1000)
    # a timestamp in, tagged as CBOR epoch-time in milliseconds, as the Java SDK sends it
    at = cbor2.dumps(
        {
            "StreamName": "cbor",
            "ShardId": "shardId-000000000000",
            "ShardIteratorType": "AT_TIMESTAMP",
            "Timestamp": cbor2.CBORTag(1, int(stamp * 1000)),
        }
    )
    headers["X-Amz-Target"] = "Kinesis_20131202.GetShardIterator"
    status, _, payload = aws.transport.send("POST", "http://127.0.0.1:4599/", headers, at)
    assert status == 200, cbor2.loads(payload)
    assert "ShardIterator" in cbor2.loads(payload)


def test_every_recording_is_replayed_or_explained() -> None:
    assert set(recorded_tests("kinesis")) == set(SCENARIOS) | set(NOT_REPLAYED)
