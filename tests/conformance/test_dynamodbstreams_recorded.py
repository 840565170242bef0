"""Replay AWS's recorded DynamoDB Streams answers (tests/data/recorded/dynamodbstreams.json
and the streaming entries of dynamodb.json) through hw.client("dynamodbstreams").

The writes are rebuilt from the recorded records; the records GetRecords returns, the
stream description and the error texts must match the recording. Kinesis streaming
destinations and global tables are not served by headwater and not replayed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from headwater import Headwater, ManualClock
from tests.conformance.recorded import assert_like_recording, recordings

STREAMS = recordings("dynamodbstreams")
DYNAMODB = recordings("dynamodb")


@pytest.fixture
def hw() -> Iterator[Headwater]:
    with Headwater.in_memory(clock=ManualClock()) as hw:
        yield hw


def check(expected: Any, actual: Any) -> None:
    assert_like_recording(expected, actual, "us-east-1")


def streamed_table(hw: Headwater, name: str, key: str, view: str) -> str:
    created = hw.dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
        StreamSpecification={"StreamEnabled": True, "StreamViewType": view},
    )
    arn: str = created["TableDescription"]["LatestStreamArn"]
    return arn


def all_records(hw: Headwater, arn: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """DescribeStream's answer and GetRecords' from TRIM_HORIZON of the first shard."""
    streams = hw.client("dynamodbstreams")
    described = streams.describe_stream(StreamArn=arn)
    shard = described["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    return described, streams.get_records(ShardIterator=iterator)


def test_non_existent_stream(hw: Headwater) -> None:
    recording = STREAMS["TestDynamoDBStreams::test_non_existent_stream"]
    streamed_table(hw, "existing", "id", "NEW_IMAGE")
    arn = "arn:aws:dynamodb:us-east-1:000000000000:table/missing/stream/2024-11-18T14:36:44.149"
    with pytest.raises(ClientError) as caught:
        hw.client("dynamodbstreams").describe_stream(StreamArn=arn)
    # with the body's own "message" member, which botocore adds over the wire (and
    # hw.client as it does)
    check(recording["non-existent-stream"], caught.value.response)


def test_table_v2_stream_description(hw: Headwater) -> None:
    recording = STREAMS["TestDynamoDBStreams::test_table_v2_stream"]["global-table-v2"]
    hw.dynamodb.create_table(
        TableName="global-v2",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    table = hw.dynamodb.describe_table(TableName="global-v2")
    for key in ("StreamSpecification", "LatestStreamArn", "LatestStreamLabel"):
        assert key in table["Table"]
    assert table["Table"]["StreamSpecification"] == recording["Table"]["StreamSpecification"]


def test_stream_view_type_keys_only(hw: Headwater) -> None:
    recording = DYNAMODB["TestDynamoDB::test_dynamodb_stream_stream_view_type"]
    arn = streamed_table(hw, "users", "Username", "KEYS_ONLY")
    for name in ("Fred", "Alice"):
        key = {"Username": {"S": name}}
        hw.dynamodb.put_item(TableName="users", Item=key)
        hw.dynamodb.update_item(
            TableName="users",
            Key=key,
            UpdateExpression="SET friends = :f",
            ExpressionAttributeValues={":f": {"SS": ["Bob"]}},
        )
        hw.dynamodb.delete_item(TableName="users", Key=key)
    described, records = all_records(hw, arn)
    check(recording["describe-stream"], described)
    check(recording["get-records"]["Records"], records["Records"])


def test_batch_write_items_streaming(hw: Headwater) -> None:
    recording = DYNAMODB["TestDynamoDB::test_batch_write_items_streaming"]
    arn = streamed_table(hw, "batch", "id", "NEW_AND_OLD_IMAGES")
    check(
        recording["put-item-1"], hw.dynamodb.put_item(TableName="batch", Item={"id": {"S": "Fred"}})
    )
    overwrite = hw.dynamodb.batch_write_item(
        RequestItems={
            "batch": [
                {"PutRequest": {"Item": {"id": {"S": "Fred"}}}},  # unchanged: no record
                {"PutRequest": {"Item": {"id": {"S": "NewKey"}}}},
            ]
        }
    )
    check(recording["batch-write-response-overwrite-item-1"], overwrite)
    deleted = hw.dynamodb.batch_write_item(
        RequestItems={
            "batch": [
                {"DeleteRequest": {"Key": {"id": {"S": "NewKey"}}}},
                {"PutRequest": {"Item": {"id": {"S": "Fred"}, "name": {"S": "Fred"}}}},
            ]
        }
    )
    check(recording["batch-write-response-delete"], deleted)
    described, records = all_records(hw, arn)
    check(recording["describe-stream"], described)
    check(recording["get-records"]["Records"], records["Records"])


def test_stream_records_with_update_item(hw: Headwater) -> None:
    recording = DYNAMODB["TestDynamoDB::test_dynamodb_stream_records_with_update_item"]
    arn = streamed_table(hw, "updates", "id", "NEW_AND_OLD_IMAGES")
    for first, second in (("value1", "value2"), ("value2", "value3")):
        hw.dynamodb.update_item(
            TableName="updates",
            Key={"id": {"S": "my-item-id"}},
            UpdateExpression="SET attr1 = :a, attr2 = :b",
            ExpressionAttributeValues={":a": {"S": first}, ":b": {"S": second}},
        )
    described, records = all_records(hw, arn)
    check(recording["describe-stream"], described)
    check(recording["get-records"]["Records"], records["Records"])


def test_transact_write_items_streaming_for_different_tables(hw: Headwater) -> None:
    """A transaction that writes to a streamed table and to one without a stream: only
    the streamed table's write reaches a stream."""
    recording = DYNAMODB["TestDynamoDB::test_transact_write_items_streaming_for_different_tables"]
    arn = streamed_table(hw, "streamed", "id", "NEW_AND_OLD_IMAGES")
    plain = hw.dynamodb.create_table(
        TableName="plain",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
    )
    check(recording["create-table-no-stream"], plain)
    written = hw.dynamodb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": "streamed", "Item": {"id": {"S": "Fred"}}}},
            {"Put": {"TableName": "plain", "Item": {"id": {"S": "Fred"}}}},
        ]
    )
    check(recording["transact-write-two-tables"], written)
    described, records = all_records(hw, arn)
    check(recording["describe-stream"], described)
    check(recording["get-records"]["Records"], records["Records"])
    assert hw.dynamodb.get_item(TableName="plain", Key={"id": {"S": "Fred"}})["Item"] == {
        "id": {"S": "Fred"}
    }
