"""Kinesis (awsJson 1.1, bare ``__type`` names) over the wire with boto3 and the AWS CLI."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config

from tests.conformance.server_process import ServerProcess, aws_cli, headwater_server

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with headwater_server(tmp_path_factory.mktemp("kinesis-wire")) as running:
        yield running


@pytest.fixture(scope="module")
def kinesis(server: ServerProcess) -> Any:
    return boto3.client(
        "kinesis",
        endpoint_url=server.endpoint,
        region_name="us-west-2",
        aws_access_key_id="AKIDHEADWATERTEST",
        aws_secret_access_key="secret",
        config=Config(retries={"max_attempts": 1}),
    )


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
