"""Kinesis (awsJson 1.1, bare ``__type`` names) over the wire with boto3 and the AWS CLI."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conformance.server_process import (
    ServerProcess,
    aws_cli,
    boto_client,
    headwater_server,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with headwater_server(tmp_path_factory.mktemp("kinesis-wire")) as running:
        yield running


@pytest.fixture(scope="module")
def kinesis(server: ServerProcess) -> Any:
    return boto_client(server.endpoint, "kinesis")


def test_stream_put_and_get_records(kinesis: Any) -> None:
    kinesis.create_stream(StreamName="events", ShardCount=1)
    summary = kinesis.describe_stream_summary(StreamName="events")["StreamDescriptionSummary"]
    assert summary["StreamStatus"] == "ACTIVE"
    assert summary["StreamARN"] == "arn:aws:kinesis:us-west-2:000000000000:stream/events"
    put = kinesis.put_record(StreamName="events", Data=b"\x00binary\xff", PartitionKey="k")
    assert put["ShardId"] == "shardId-000000000000"
    batch = kinesis.put_records(
        StreamName="events",
        Records=[{"Data": f"r{i}".encode(), "PartitionKey": str(i)} for i in range(3)],
    )
    assert batch["FailedRecordCount"] == 0
    iterator = kinesis.get_shard_iterator(
        StreamName="events", ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records = kinesis.get_records(ShardIterator=iterator)["Records"]
    assert [r["Data"] for r in records] == [b"\x00binary\xff", b"r0", b"r1", b"r2"]
    assert records[0]["ApproximateArrivalTimestamp"].year >= 2024
    shards = kinesis.list_shards(StreamName="events")["Shards"]
    assert [s["ShardId"] for s in shards] == ["shardId-000000000000"]
    with pytest.raises(kinesis.exceptions.ResourceNotFoundException) as excinfo:
        kinesis.describe_stream(StreamName="missing")
    assert excinfo.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_cli_put_record(server: ServerProcess, kinesis: Any) -> None:
    kinesis.create_stream(StreamName="cli-events", ShardCount=1)
    # AWS CLI v1 sends --data as given; boto3 base64-encodes it on the wire
    put = aws_cli(
        server,
        "kinesis",
        "put-record",
        "--stream-name",
        "cli-events",
        "--data",
        "hello",
        "--partition-key",
        "p",
    ).json()
    iterator = kinesis.get_shard_iterator(
        StreamName="cli-events", ShardId=put["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    assert kinesis.get_records(ShardIterator=iterator)["Records"][0]["Data"] == b"hello"


def error_of(call: Any, **params: Any) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as info:
        call(**params)
    response = info.value.response
    return (
        response["Error"]["Code"],
        response["Error"]["Message"],
        response["ResponseMetadata"]["HTTPStatusCode"],
    )


def test_every_stream_operation_over_the_wire(kinesis: Any) -> None:
    name = "wire-admin"
    kinesis.create_stream(StreamName=name, ShardCount=2)
    arn = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]
    assert arn == f"arn:aws:kinesis:us-west-2:000000000000:stream/{name}"
    assert name in kinesis.list_streams()["StreamNames"]
    assert kinesis.list_streams(Limit=1)["HasMoreStreams"] in (True, False)

    # tags, by name and by ARN
    kinesis.add_tags_to_stream(StreamName=name, Tags={"team": "data", "env": "dev"})
    kinesis.remove_tags_from_stream(StreamARN=arn, TagKeys=["env"])
    tags = kinesis.list_tags_for_stream(StreamName=name)["Tags"]
    assert tags == [{"Key": "team", "Value": "data"}]

    # retention
    kinesis.increase_stream_retention_period(StreamName=name, RetentionPeriodHours=48)
    summary = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
    assert summary["RetentionPeriodHours"] == 48
    kinesis.decrease_stream_retention_period(StreamName=name, RetentionPeriodHours=24)
    code, message, status = error_of(
        kinesis.decrease_stream_retention_period, StreamName=name, RetentionPeriodHours=48
    )
    assert (code, status) == ("InvalidArgumentException", 400)

    # resharding: split shard 0, merge the two children back, then scale uniformly
    shards = kinesis.list_shards(StreamName=name)["Shards"]
    first = shards[0]
    low = int(first["HashKeyRange"]["StartingHashKey"])
    high = int(first["HashKeyRange"]["EndingHashKey"])
    kinesis.split_shard(
        StreamName=name,
        ShardToSplit=first["ShardId"],
        NewStartingHashKey=str((low + high) // 2),
    )
    open_shards = kinesis.list_shards(StreamName=name, ShardFilter={"Type": "AT_LATEST"})["Shards"]
    children = [s for s in open_shards if s.get("ParentShardId") == first["ShardId"]]
    assert len(children) == 2
    kinesis.merge_shards(
        StreamName=name,
        ShardToMerge=children[0]["ShardId"],
        AdjacentShardToMerge=children[1]["ShardId"],
    )
    merged = [
        s for s in kinesis.list_shards(StreamName=name)["Shards"] if s.get("AdjacentParentShardId")
    ]
    assert len(merged) == 1
    assert (
        kinesis.update_shard_count(
            StreamName=name, TargetShardCount=4, ScalingType="UNIFORM_SCALING"
        )["TargetShardCount"]
        == 4
    )
    described = kinesis.describe_stream(StreamName=name)["StreamDescription"]
    assert described["StreamStatus"] == "ACTIVE"
    closed = [s for s in described["Shards"] if "EndingSequenceNumber" in s["SequenceNumberRange"]]
    assert closed  # parents stay listed, closed

    kinesis.delete_stream(StreamName=name)
    code, message, status = error_of(kinesis.describe_stream_summary, StreamName=name)
    assert (code, status) == ("ResourceNotFoundException", 400)
    assert message == f"Stream {name} under account 000000000000 not found."


def test_kinesis_errors_over_the_wire(kinesis: Any) -> None:
    kinesis.create_stream(StreamName="wire-errors", ShardCount=1)
    code, message, _ = error_of(kinesis.create_stream, StreamName="wire-errors", ShardCount=1)
    assert code == "ResourceInUseException"
    assert message == "Stream wire-errors under account 000000000000 already exists."
    code, _, status = error_of(kinesis.get_records, ShardIterator="not-an-iterator")
    assert (code, status) == ("InvalidArgumentException", 400)
    too_big = b"x" * (1024 * 1024 + 1)
    code, message, _ = error_of(
        kinesis.put_record, StreamName="wire-errors", Data=too_big, PartitionKey="k"
    )
    assert code == "ValidationException"
    assert message.endswith("Member must have length less than or equal to 1048576")
    code, _, _ = error_of(
        kinesis.get_shard_iterator,
        StreamName="wire-errors",
        ShardId="shardId-000000000000",
        ShardIteratorType="AT_SEQUENCE_NUMBER",
    )
    assert code == "InvalidArgumentException"
    code, _, _ = error_of(kinesis.list_shards, StreamName="wire-errors", NextToken="abc")
    assert code == "InvalidArgumentException"
    # a failed call stored nothing: the stream still has its one shard and no records
    shards = kinesis.list_shards(StreamName="wire-errors")["Shards"]
    assert len(shards) == 1
    iterator = kinesis.get_shard_iterator(
        StreamName="wire-errors", ShardId=shards[0]["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    assert kinesis.get_records(ShardIterator=iterator)["Records"] == []
