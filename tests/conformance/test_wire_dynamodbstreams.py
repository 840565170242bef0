"""DynamoDB Streams over the wire: boto3's ``dynamodbstreams`` client against
``headwater serve`` (JSON 1.0, ``DynamoDBStreams_20120810.*`` on the same port), a
KCL-style walk of the shards, and AWS's error body (with its ``message`` member)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from botocore.exceptions import ClientError

from tests.conformance.recorded import assert_like_recording, recordings
from tests.conformance.server_process import ServerProcess, boto_client, headwater_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with headwater_server(tmp_path_factory.mktemp("ddb-streams")) as s:
        yield s


def test_streams_api_over_the_wire(server: ServerProcess) -> None:
    ddb = boto_client(server.endpoint, "dynamodb")
    streams = boto_client(server.endpoint, "dynamodbstreams")
    arn = ddb.create_table(
        TableName="wire-orders",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )["TableDescription"]["LatestStreamArn"]
    ddb.put_item(TableName="wire-orders", Item={"id": {"S": "a"}, "blob": {"B": b"\x00\x01"}})
    ddb.put_item(TableName="wire-orders", Item={"id": {"S": "a"}, "n": {"N": "1"}})
    listed = streams.list_streams(TableName="wire-orders")["Streams"]
    assert [s["StreamArn"] for s in listed] == [arn]
    records = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        records += streams.get_records(ShardIterator=iterator)["Records"]
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY"]
    assert records[0]["dynamodb"]["NewImage"]["blob"] == {"B": b"\x00\x01"}
    assert records[1]["dynamodb"]["OldImage"]["blob"] == {"B": b"\x00\x01"}
    assert records[0]["dynamodb"]["ApproximateCreationDateTime"].year >= 2024


def test_missing_stream_error_body(server: ServerProcess) -> None:
    expected = recordings("dynamodbstreams")["TestDynamoDBStreams::test_non_existent_stream"]
    streams = boto_client(server.endpoint, "dynamodbstreams")
    arn = "arn:aws:dynamodb:us-west-2:000000000000:table/nothing/stream/2024-11-18T14:36:44.149"
    with pytest.raises(ClientError) as caught:
        streams.describe_stream(StreamArn=arn)
    assert_like_recording(expected["non-existent-stream"], caught.value.response, "us-west-2")
