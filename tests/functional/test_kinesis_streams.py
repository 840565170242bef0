"""Stream lifecycle, listing, retention and tags through hw.client("kinesis")."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from botocore.exceptions import ClientError, ParamValidationError

from headwater import Headwater, ManualClock

ACCOUNT = "000000000000"
ARN = f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/clicks"


def error_of(call: Any, **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    err = caught.value.response["Error"]
    return err["Code"], err["Message"]


def test_create_provisioned_and_describe(hw: Headwater, clock: ManualClock) -> None:
    k = hw.client("kinesis")
    assert (
        k.create_stream(StreamName="clicks", ShardCount=3)["ResponseMetadata"]["HTTPStatusCode"]
        == 200
    )
    d = k.describe_stream(StreamName="clicks")["StreamDescription"]
    assert d["StreamName"] == "clicks" and d["StreamARN"] == ARN
    assert d["StreamStatus"] == "ACTIVE"
    assert d["StreamModeDetails"] == {"StreamMode": "PROVISIONED"}
    assert d["RetentionPeriodHours"] == 24 and d["HasMoreShards"] is False
    assert d["StreamCreationTimestamp"] == dt.datetime.fromtimestamp(clock.now(), tz=dt.UTC)
    assert [s["ShardId"] for s in d["Shards"]] == [f"shardId-00000000000{i}" for i in range(3)]
    assert d["Shards"][2]["HashKeyRange"] == {
        "StartingHashKey": "226854911280625642308916404954512140970",
        "EndingHashKey": "340282366920938463463374607431768211455",
    }
    start = d["Shards"][0]["SequenceNumberRange"]["StartingSequenceNumber"]
    assert len(start) == 56 and "EndingSequenceNumber" not in d["Shards"][0]["SequenceNumberRange"]


def test_on_demand_gets_four_shards(hw: Headwater) -> None:
    k = hw.client("kinesis")
    k.create_stream(StreamName="od", StreamModeDetails={"StreamMode": "ON_DEMAND"})
    summary = k.describe_stream_summary(StreamName="od")["StreamDescriptionSummary"]
    assert summary["OpenShardCount"] == 4
    assert summary["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"}
    assert summary["StreamStatus"] == "ACTIVE" and summary["ConsumerCount"] == 0
    code, _ = error_of(
        k.create_stream,
        StreamName="od2",
        ShardCount=2,
        StreamModeDetails={"StreamMode": "ON_DEMAND"},
    )
    assert code == "InvalidArgumentException"


def test_create_errors_store_nothing(hw: Headwater) -> None:
    k = hw.client("kinesis")
    raw = hw.client("kinesis", validate=False)
    k.create_stream(StreamName="clicks", ShardCount=1)
    assert error_of(k.create_stream, StreamName="clicks", ShardCount=2) == (
        "ResourceInUseException",
        f"Stream clicks under account {ACCOUNT} already exists.",
    )
    code, message = error_of(raw.create_stream, StreamName="a" * 129, ShardCount=1)
    assert code == "ValidationException"
    assert message.endswith("Member must have length less than or equal to 128")
    code, message = error_of(raw.create_stream, StreamName="bad/name", ShardCount=1)
    assert code == "ValidationException" and "regular expression pattern" in message
    code, _ = error_of(raw.create_stream, StreamName="zero", ShardCount=0)
    assert code == "ValidationException"
    with pytest.raises(ParamValidationError):
        k.create_stream(StreamName="", ShardCount=1)
    code, _ = error_of(raw.create_stream, StreamName="m", StreamModeDetails={"StreamMode": "FAST"})
    assert code == "ValidationException"
    assert k.list_streams()["StreamNames"] == ["clicks"]
    shards = k.describe_stream(StreamName="clicks")["StreamDescription"]["Shards"]
    assert len(shards) == 1


def test_shard_limit(tmp_path: Any, clock: ManualClock) -> None:
    with Headwater.in_memory(clock=clock, kinesis_shard_limit=5) as hw:
        k = hw.client("kinesis")
        k.create_stream(StreamName="a", ShardCount=4)
        code, message = error_of(k.create_stream, StreamName="b", ShardCount=2)
        assert code == "LimitExceededException" and "Limit: 5" in message
        assert k.list_streams()["StreamNames"] == ["a"]


def test_not_found_errors_by_name_and_arn(hw: Headwater) -> None:
    k = hw.client("kinesis")
    expected = ("ResourceNotFoundException", f"Stream nope under account {ACCOUNT} not found.")
    assert error_of(k.describe_stream, StreamName="nope") == expected
    assert error_of(k.describe_stream_summary, StreamName="nope") == expected
    assert error_of(k.delete_stream, StreamName="nope") == expected
    assert error_of(k.list_shards, StreamName="nope") == expected
    assert error_of(k.describe_stream, StreamARN=ARN.replace("clicks", "nope")) == expected
    assert error_of(k.list_tags_for_stream, StreamName="nope") == expected
    code, _ = error_of(k.describe_stream)
    assert code == "InvalidArgumentException"


def test_describe_stream_pagination(hw: Headwater) -> None:
    k = hw.client("kinesis")
    k.create_stream(StreamName="big", ShardCount=150)
    first = k.describe_stream(StreamName="big")["StreamDescription"]
    assert len(first["Shards"]) == 100 and first["HasMoreShards"] is True
    rest = k.describe_stream(StreamName="big", ExclusiveStartShardId=first["Shards"][-1]["ShardId"])
    assert len(rest["StreamDescription"]["Shards"]) == 50
    assert rest["StreamDescription"]["HasMoreShards"] is False
    assert len(k.describe_stream(StreamName="big", Limit=500)["StreamDescription"]["Shards"]) == 100
    small = k.describe_stream(StreamName="big", Limit=7)["StreamDescription"]
    assert len(small["Shards"]) == 7 and small["HasMoreShards"]


def test_list_streams_pagination_and_summaries(hw: Headwater) -> None:
    k = hw.client("kinesis")
    for name in ("c", "a", "b"):
        k.create_stream(StreamName=name, ShardCount=1)
    page = k.list_streams(Limit=2)
    assert page["StreamNames"] == ["a", "b"] and page["HasMoreStreams"] is True
    assert page["StreamSummaries"][0]["StreamARN"].endswith(":stream/a")
    assert page["StreamSummaries"][0]["StreamStatus"] == "ACTIVE"
    rest = k.list_streams(NextToken=page["NextToken"])
    assert rest["StreamNames"] == ["c"] and rest["HasMoreStreams"] is False
    assert "NextToken" not in rest
    assert k.list_streams(ExclusiveStartStreamName="a")["StreamNames"] == ["b", "c"]
    other = hw.client("kinesis", region_name="eu-west-1")
    assert other.list_streams()["StreamNames"] == []


def test_list_shards_pagination_and_errors(hw: Headwater, clock: ManualClock) -> None:
    k = hw.client("kinesis")
    k.create_stream(StreamName="s", ShardCount=5)
    page = k.list_shards(StreamName="s", MaxResults=2)
    assert [s["ShardId"][-1] for s in page["Shards"]] == ["0", "1"]
    page2 = k.list_shards(NextToken=page["NextToken"], MaxResults=2)
    assert [s["ShardId"][-1] for s in page2["Shards"]] == ["2", "3"]
    page3 = k.list_shards(NextToken=page2["NextToken"], MaxResults=2)
    assert [s["ShardId"][-1] for s in page3["Shards"]] == ["4"] and "NextToken" not in page3
    assert error_of(k.list_shards, StreamName="s", NextToken=page["NextToken"]) == (
        "InvalidArgumentException",
        "NextToken and StreamName cannot be provided together.",
    )
    assert error_of(k.list_shards) == (
        "InvalidArgumentException",
        "Either NextToken or StreamName should be provided.",
    )
    by_arn = k.list_shards(StreamARN="arn:aws:kinesis:us-east-1:000000000000:stream/s")
    assert len(by_arn["Shards"]) == 5
    after = k.list_shards(StreamName="s", ExclusiveStartShardId="shardId-000000000002")
    assert [s["ShardId"][-1] for s in after["Shards"]] == ["3", "4"]
    clock.advance(301)
    code, _ = error_of(k.list_shards, NextToken=page["NextToken"])
    assert code == "ExpiredNextTokenException"
    code, _ = error_of(k.list_shards, NextToken="garbage!")
    assert code == "InvalidArgumentException"


def test_list_shards_filters(hw: Headwater, clock: ManualClock) -> None:
    k = hw.client("kinesis")
    k.create_stream(StreamName="s", ShardCount=2)
    before_split = clock.now()
    clock.advance(10)
    k.split_shard(
        StreamName="s", ShardToSplit="shardId-000000000000", NewStartingHashKey=str(2**126)
    )

    def ids(**flt: Any) -> list[str]:
        return [s["ShardId"][-1] for s in k.list_shards(StreamName="s", ShardFilter=flt)["Shards"]]

    assert ids(Type="AT_LATEST") == ["1", "2", "3"]
    assert ids(Type="AT_TRIM_HORIZON") == ["0", "1"]
    assert ids(Type="FROM_TRIM_HORIZON") == ["0", "1", "2", "3"]
    assert ids(Type="AFTER_SHARD_ID", ShardId="shardId-000000000001") == ["2", "3"]
    assert ids(Type="AT_TIMESTAMP", Timestamp=before_split + 1) == ["0", "1"]
    assert ids(Type="FROM_TIMESTAMP", Timestamp=before_split + 1) == ["0", "1", "2", "3"]
    assert ids(Type="FROM_TIMESTAMP", Timestamp=clock.now() + 1) == ["1", "2", "3"]
    code, _ = error_of(k.list_shards, StreamName="s", ShardFilter={"Type": "AFTER_SHARD_ID"})
    assert code == "InvalidArgumentException"


def test_delete_stream(hw: Headwater) -> None:
    k = hw.client("kinesis")
    k.create_stream(StreamName="s", ShardCount=1)
    k.put_record(StreamName="s", Data=b"x", PartitionKey="p")
    k.delete_stream(StreamName="s", EnforceConsumerDeletion=True)
    assert k.list_streams()["StreamNames"] == []
    k.create_stream(StreamName="s", ShardCount=1)
    it = k.get_shard_iterator(
        StreamName="s", ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    assert k.get_records(ShardIterator=it)["Records"] == []


def test_retention_increase_decrease(hw: Headwater) -> None:
    k = hw.client("kinesis")
    k.create_stream(StreamName="s", ShardCount=1)
    k.increase_stream_retention_period(StreamName="s", RetentionPeriodHours=48)
    assert k.describe_stream(StreamName="s")["StreamDescription"]["RetentionPeriodHours"] == 48
    cases = [
        (k.increase_stream_retention_period, 24, "can not be shorter than existing retention"),
        (k.decrease_stream_retention_period, 72, "can not be longer than existing retention"),
        (k.increase_stream_retention_period, 8761, "Maximum allowed retention period is 8760"),
        (k.decrease_stream_retention_period, 23, "Minimum allowed retention period is 24 hours"),
    ]
    for call, hours, text in cases:
        code, message = error_of(call, StreamName="s", RetentionPeriodHours=hours)
        assert code == "InvalidArgumentException" and text in message
    assert k.describe_stream(StreamName="s")["StreamDescription"]["RetentionPeriodHours"] == 48
    k.decrease_stream_retention_period(StreamName="s", RetentionPeriodHours=24)
    assert k.describe_stream(StreamName="s")["StreamDescription"]["RetentionPeriodHours"] == 24
    code, _ = error_of(k.increase_stream_retention_period, StreamName="x", RetentionPeriodHours=48)
    assert code == "ResourceNotFoundException"


def test_tags(hw: Headwater) -> None:
    k = hw.client("kinesis")
    k.create_stream(StreamName="s", ShardCount=1, Tags={"a": "1"})
    k.add_tags_to_stream(StreamName="s", Tags={"b": "2", "c": ""})
    tags = k.list_tags_for_stream(StreamName="s")
    assert tags["Tags"] == [
        {"Key": "a", "Value": "1"},
        {"Key": "b", "Value": "2"},
        {"Key": "c", "Value": ""},
    ]
    assert tags["HasMoreTags"] is False
    page = k.list_tags_for_stream(StreamName="s", Limit=1, ExclusiveStartTagKey="a")
    assert page["Tags"] == [{"Key": "b", "Value": "2"}] and page["HasMoreTags"] is True
    k.remove_tags_from_stream(StreamName="s", TagKeys=["a", "zzz"])
    k.tag_resource(ResourceARN="arn:aws:kinesis:us-east-1:000000000000:stream/s", Tags={"d": "4"})
    k.untag_resource(ResourceARN="arn:aws:kinesis:us-east-1:000000000000:stream/s", TagKeys=["b"])
    listed = k.list_tags_for_resource(ResourceARN="arn:aws:kinesis:us-east-1:000000000000:stream/s")
    assert listed["Tags"] == [{"Key": "c", "Value": ""}, {"Key": "d", "Value": "4"}]
    code, message = error_of(
        k.add_tags_to_stream, StreamName="s", Tags={f"k{i}": "v" for i in range(49)}
    )
    assert code == "InvalidArgumentException" and "more than 50 tags" in message
    assert len(k.list_tags_for_stream(StreamName="s")["Tags"]) == 2
    raw = hw.client("kinesis", validate=False)
    code, _ = error_of(raw.add_tags_to_stream, StreamName="s", Tags={"k" * 129: "v"})
    assert code == "ValidationException"
    code, _ = error_of(
        k.tag_resource,
        ResourceARN="arn:aws:kinesis:us-east-1:000000000000:stream/x",
        Tags={"a": "b"},
    )
    assert code == "ResourceNotFoundException"


def test_reopen_keeps_streams_shards_and_records(tmp_path: Any, clock: ManualClock) -> None:
    with Headwater(data_dir=tmp_path / "d", clock=clock) as hw:
        k = hw.client("kinesis")
        k.create_stream(StreamName="s", ShardCount=2, Tags={"t": "1"})
        put = k.put_records(
            StreamName="s", Records=[{"Data": b"%d" % i, "PartitionKey": str(i)} for i in range(20)]
        )
        k.split_shard(
            StreamName="s", ShardToSplit="shardId-000000000001", NewStartingHashKey=str(2**127 + 5)
        )
        k.increase_stream_retention_period(StreamName="s", RetentionPeriodHours=30)
    with Headwater(data_dir=tmp_path / "d", clock=clock) as hw:
        k = hw.client("kinesis")
        d = k.describe_stream(StreamName="s")["StreamDescription"]
        assert len(d["Shards"]) == 4 and d["RetentionPeriodHours"] == 30
        assert k.list_tags_for_stream(StreamName="s")["Tags"] == [{"Key": "t", "Value": "1"}]
        seen: list[str] = []
        for shard in ("shardId-000000000000", "shardId-000000000001"):
            it = k.get_shard_iterator(
                StreamName="s", ShardId=shard, ShardIteratorType="TRIM_HORIZON"
            )
            seen += [
                r["SequenceNumber"]
                for r in k.get_records(ShardIterator=it["ShardIterator"])["Records"]
            ]
        assert sorted(seen) == sorted(r["SequenceNumber"] for r in put["Records"])
        more = k.put_record(StreamName="s", Data=b"x", PartitionKey="p", ExplicitHashKey="0")
        assert more["ShardId"] == "shardId-000000000000"
        old = [int(r["SequenceNumber"]) for r in put["Records"] if r["ShardId"] == more["ShardId"]]
        assert old and int(more["SequenceNumber"]) > max(old)


def test_update_stream_mode_and_describe_limits(hw: Headwater) -> None:
    k = hw.client("kinesis")
    k.create_stream(StreamName="s", ShardCount=2)
    k.create_stream(StreamName="od", StreamModeDetails={"StreamMode": "ON_DEMAND"})
    limits = k.describe_limits()
    assert limits["OpenShardCount"] == 6 and limits["OnDemandStreamCount"] == 1
    assert limits["ShardLimit"] >= 6
    arn = "arn:aws:kinesis:us-east-1:000000000000:stream/s"
    k.update_stream_mode(StreamARN=arn, StreamModeDetails={"StreamMode": "ON_DEMAND"})
    summary = k.describe_stream_summary(StreamName="s")["StreamDescriptionSummary"]
    assert summary["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"}
    assert summary["OpenShardCount"] == 2
    code, _ = error_of(
        k.update_stream_mode,
        StreamARN=arn.replace("/s", "/x"),
        StreamModeDetails={"StreamMode": "PROVISIONED"},
    )
    assert code == "ResourceNotFoundException"
