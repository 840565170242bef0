"""The DynamoDB Streams API (hw.client("dynamodbstreams")) over the table change feed:
listing, shards and lineage, iterators, records per view type, retention and AWS's errors."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from headwater import Headwater, ManualClock
from headwater.options import HeadwaterOptions

SHARD_SECONDS = 3600.0


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def hw(clock: ManualClock) -> Iterator[Headwater]:
    options = HeadwaterOptions(dynamodb_stream_shard_seconds=SHARD_SECONDS)
    with Headwater.in_memory(clock=clock, options=options) as hw:
        yield hw


@pytest.fixture
def streams(hw: Headwater) -> Any:
    return hw.client("dynamodbstreams")


def make_table(hw: Headwater, name: str, view: str = "NEW_AND_OLD_IMAGES") -> str:
    created = hw.dynamodb.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
        ],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": view},
    )
    arn: str = created["TableDescription"]["LatestStreamArn"]
    return arn


def put(hw: Headwater, table: str, pk: str, sk: int, **attrs: str) -> None:
    item = {"pk": {"S": pk}, "sk": {"N": str(sk)}} | {k: {"S": v} for k, v in attrs.items()}
    hw.dynamodb.put_item(TableName=table, Item=item)


def shards_of(streams: Any, arn: str) -> list[dict[str, Any]]:
    shards: list[dict[str, Any]] = streams.describe_stream(StreamArn=arn)["StreamDescription"][
        "Shards"
    ]
    return shards


def read_shard(streams: Any, arn: str, shard_id: str, kind: str = "TRIM_HORIZON") -> list[Any]:
    """Every record of a shard, following NextShardIterator until an empty page."""
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard_id, ShardIteratorType=kind)[
        "ShardIterator"
    ]
    records: list[Any] = []
    while iterator:
        page = streams.get_records(ShardIterator=iterator, Limit=2)
        records.extend(page["Records"])
        iterator = page.get("NextShardIterator")
        if not page["Records"]:
            break
    return records


def test_records_carry_the_images_of_the_view_type(hw: Headwater, streams: Any) -> None:
    views = ["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"]
    arns = {view: make_table(hw, f"t-{view.lower()}", view) for view in views}
    for view in views:
        put(hw, f"t-{view.lower()}", "a", 1, colour="red")
        put(hw, f"t-{view.lower()}", "a", 1, colour="red")  # unchanged: no record
        put(hw, f"t-{view.lower()}", "a", 1, colour="blue")
        hw.dynamodb.delete_item(
            TableName=f"t-{view.lower()}", Key={"pk": {"S": "a"}, "sk": {"N": "1"}}
        )
    expected = {
        "KEYS_ONLY": [set(), set(), set()],
        "NEW_IMAGE": [{"NewImage"}, {"NewImage"}, set()],
        "OLD_IMAGE": [set(), {"OldImage"}, {"OldImage"}],
        "NEW_AND_OLD_IMAGES": [{"NewImage"}, {"NewImage", "OldImage"}, {"OldImage"}],
    }
    for view, arn in arns.items():
        shard = shards_of(streams, arn)[0]["ShardId"]
        records = read_shard(streams, arn, shard)
        assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
        assert [set(r["dynamodb"]) & {"NewImage", "OldImage"} for r in records] == expected[view]
        first = records[0]
        assert len(first["eventID"]) == 32 and int(first["eventID"], 16) >= 0
        assert first["eventVersion"] == "1.1" and first["eventSource"] == "aws:dynamodb"
        assert first["dynamodb"]["Keys"] == {"pk": {"S": "a"}, "sk": {"N": "1"}}
        assert first["dynamodb"]["StreamViewType"] == view
        numbers = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
        assert numbers == sorted(numbers) and all(
            21 <= len(r["dynamodb"]["SequenceNumber"]) <= 40 for r in records
        )


def test_shards_roll_over_with_lineage_and_keep_item_order(
    hw: Headwater, streams: Any, clock: ManualClock
) -> None:
    arn = make_table(hw, "orders")
    for step in range(3):
        put(hw, "orders", "cust", 1, total=str(step))
        clock.advance(SHARD_SECONDS)
        shards_of(streams, arn)  # looking rolls the open shard over once it is due
    shards = shards_of(streams, arn)
    assert len(shards) == 4
    assert "ParentShardId" not in shards[0]
    for parent, child in itertools.pairwise(shards):
        assert child["ParentShardId"] == parent["ShardId"]
        assert "EndingSequenceNumber" in parent["SequenceNumberRange"]
    assert "EndingSequenceNumber" not in shards[-1]["SequenceNumberRange"]
    for shard in shards:
        assert shard["ShardId"].startswith("shardId-") and 28 <= len(shard["ShardId"]) <= 65
    # a KCL-style reader: parents before children, a closed shard ends with no iterator
    totals = []
    for shard in shards[:-1]:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        page = streams.get_records(ShardIterator=iterator)
        assert "NextShardIterator" not in page
        totals += [r["dynamodb"]["NewImage"]["total"]["S"] for r in page["Records"]]
    assert totals == ["0", "1", "2"]
    children = streams.describe_stream(
        StreamArn=arn, ShardFilter={"Type": "CHILD_SHARDS", "ShardId": shards[0]["ShardId"]}
    )["StreamDescription"]["Shards"]
    assert [s["ShardId"] for s in children] == [shards[1]["ShardId"]]
    page = streams.describe_stream(StreamArn=arn, Limit=2)["StreamDescription"]
    assert page["LastEvaluatedShardId"] == shards[1]["ShardId"]
    rest = streams.describe_stream(StreamArn=arn, ExclusiveStartShardId=shards[1]["ShardId"])
    assert [s["ShardId"] for s in rest["StreamDescription"]["Shards"]] == [
        s["ShardId"] for s in shards[2:]
    ]


def test_disable_and_enable_gives_a_new_stream_and_the_old_stays_readable(
    hw: Headwater, streams: Any, clock: ManualClock
) -> None:
    first = make_table(hw, "flip")
    put(hw, "flip", "a", 1)
    clock.advance(1)
    hw.dynamodb.update_table(TableName="flip", StreamSpecification={"StreamEnabled": False})
    put(hw, "flip", "b", 1)  # not recorded: the stream is off
    clock.advance(1)
    hw.dynamodb.update_table(
        TableName="flip", StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"}
    )
    put(hw, "flip", "c", 1)
    second = hw.dynamodb.describe_table(TableName="flip")["Table"]["LatestStreamArn"]
    assert second != first
    old = streams.describe_stream(StreamArn=first)["StreamDescription"]
    assert old["StreamStatus"] == "DISABLED"
    assert [s["StreamArn"] for s in streams.list_streams(TableName="flip")["Streams"]] == sorted(
        [first, second]
    )
    old_records = read_shard(streams, first, old["Shards"][0]["ShardId"])
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in old_records] == ["a"]
    new_shard = shards_of(streams, second)[0]["ShardId"]
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in read_shard(streams, second, new_shard)] == [
        "c"
    ]
    # 24 hours after it was disabled the old stream is gone
    clock.advance(24 * 3600 + 61)
    with pytest.raises(ClientError) as caught:
        streams.describe_stream(StreamArn=first)
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert streams.describe_stream(StreamArn=second)["StreamDescription"]["StreamStatus"] == (
        "ENABLED"
    )


def test_list_streams_pages(hw: Headwater, streams: Any) -> None:
    arns = sorted(make_table(hw, f"table-{n}") for n in range(3))
    first = streams.list_streams(Limit=2)
    assert [s["StreamArn"] for s in first["Streams"]] == arns[:2]
    assert first["LastEvaluatedStreamArn"] == arns[1]
    rest = streams.list_streams(ExclusiveStartStreamArn=arns[1])
    assert [s["StreamArn"] for s in rest["Streams"]] == arns[2:]
    assert "LastEvaluatedStreamArn" not in rest
    assert streams.list_streams(TableName="table-1")["Streams"][0]["TableName"] == "table-1"


def test_iterator_types(hw: Headwater, streams: Any) -> None:
    arn = make_table(hw, "iter")
    for n in range(3):
        put(hw, "iter", "k", n)
    shard = shards_of(streams, arn)[0]["ShardId"]
    records = read_shard(streams, arn, shard)
    second = records[1]["dynamodb"]["SequenceNumber"]

    def first_key(kind: str, **extra: Any) -> list[str]:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard, ShardIteratorType=kind, **extra
        )["ShardIterator"]
        page = streams.get_records(ShardIterator=iterator)["Records"]
        return [r["dynamodb"]["Keys"]["sk"]["N"] for r in page]

    assert first_key("AT_SEQUENCE_NUMBER", SequenceNumber=second) == ["1", "2"]
    assert first_key("AFTER_SEQUENCE_NUMBER", SequenceNumber=second) == ["2"]
    assert first_key("LATEST") == []
    latest = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="LATEST")
    put(hw, "iter", "k", 9)
    page = streams.get_records(ShardIterator=latest["ShardIterator"])
    assert [r["dynamodb"]["Keys"]["sk"]["N"] for r in page["Records"]] == ["9"]
    assert page["NextShardIterator"].startswith(arn + "|1|")


def error_of(call: Any, **params: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**params)
    error = caught.value.response["Error"]
    return error["Code"], error["Message"]


def test_errors(hw: Headwater, streams: Any, clock: ManualClock) -> None:
    arn = make_table(hw, "errs")
    put(hw, "errs", "k", 1)
    shard = shards_of(streams, arn)[0]["ShardId"]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    missing_shard = "shardId-00000001700000000000-00000000"
    assert error_of(
        streams.get_shard_iterator,
        StreamArn=arn,
        ShardId=missing_shard,
        ShardIteratorType="LATEST",
    ) == (
        "ResourceNotFoundException",
        f"Requested resource not found: Shard: {missing_shard} in Stream: {arn} not found",
    )
    code, message = error_of(
        streams.get_shard_iterator,
        StreamArn=arn,
        ShardId=shard,
        ShardIteratorType="AT_SEQUENCE_NUMBER",
    )
    assert code == "ValidationException" and "sequence number" in message
    assert error_of(streams.get_records, ShardIterator=iterator[:-6] + "AAAAAA")[0] == (
        "ValidationException"
    )
    assert error_of(streams.get_records, ShardIterator=iterator, Limit=1001) == (
        "ValidationException",
        "1 validation error detected: Value '1001' at 'limit' failed to satisfy constraint: "
        "Member must have value less than or equal to 1000",
    )
    clock.advance(15 * 60 + 1)
    code, message = error_of(streams.get_records, ShardIterator=iterator)
    assert code == "ExpiredIteratorException"
    assert "tolerated delay of 900000 milliseconds" in message
    # records older than 24 hours are trimmed: an old position cannot be read
    fresh = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    sequence = streams.get_records(ShardIterator=fresh)["Records"][0]["dynamodb"]["SequenceNumber"]
    clock.advance(24 * 3600)
    put(hw, "errs", "k", 2)
    streams.list_streams()  # the API trims what left retention
    assert (
        error_of(
            streams.get_shard_iterator,
            StreamArn=arn,
            ShardId=shard,
            ShardIteratorType="AT_SEQUENCE_NUMBER",
            SequenceNumber=sequence,
        )[0]
        == "TrimmedDataAccessException"
    )


def test_ttl_deletions_and_transactions(hw: Headwater, streams: Any, clock: ManualClock) -> None:
    arn = make_table(hw, "expiring", "OLD_IMAGE")
    hw.dynamodb.update_time_to_live(
        TableName="expiring", TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"}
    )
    expires = str(int(clock.now()) + 10)
    hw.dynamodb.transact_write_items(
        TransactItems=[
            {
                "Put": {
                    "TableName": "expiring",
                    "Item": {"pk": {"S": p}, "sk": {"N": "1"}, "exp": {"N": expires}},
                }
            }
            for p in ("a", "b")
        ]
    )
    clock.advance(11)  # the TTL sweeper deletes both, as the service
    hw.dynamodb.scan(TableName="expiring")
    shard = shards_of(streams, arn)[0]["ShardId"]
    records = read_shard(streams, arn, shard)
    assert [r["eventName"] for r in records] == ["INSERT", "INSERT", "REMOVE", "REMOVE"]
    assert all("userIdentity" not in r for r in records[:2])  # one record per item written
    for removal in records[2:]:
        assert removal["userIdentity"] == {
            "PrincipalId": "dynamodb.amazonaws.com",
            "Type": "Service",
        }
        assert removal["dynamodb"]["OldImage"]["exp"] == {"N": expires}


def test_approximate_creation_time_is_rounded_down_to_the_second(
    hw: Headwater, streams: Any, clock: ManualClock
) -> None:
    # DynamoDB Streams' record: "in UNIX epoch time format and rounded down to the closest
    # second", in GetRecords as in the events functions get
    arn = make_table(hw, "stamped")
    clock.advance(0.75 - (clock.now() % 1))
    written = clock.now()
    put(hw, "stamped", "a", 1)
    (record,) = read_shard(streams, arn, shards_of(streams, arn)[0]["ShardId"])
    stamp = record["dynamodb"]["ApproximateCreationDateTime"].timestamp()
    assert stamp == int(written)
