"""SplitShard, MergeShards, UpdateShardCount: lineage, closed shards, reading across."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from headwater import Headwater, ManualClock
from headwater.services.kinesis.shards import MAX_HASH_KEY, uniform_ranges


def error_of(call: Any, **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    err = caught.value.response["Error"]
    return err["Code"], err["Message"]


def sid(index: int) -> str:
    return f"shardId-{index:012d}"


def shards_of(k: Any, name: str = "s") -> dict[str, dict[str, Any]]:
    return {s["ShardId"]: s for s in k.list_shards(StreamName=name)["Shards"]}


def read_shard(k: Any, shard: str) -> tuple[list[bytes], dict[str, Any]]:
    it = k.get_shard_iterator(StreamName="s", ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    out = k.get_records(ShardIterator=it["ShardIterator"])
    return [r["Data"] for r in out["Records"]], out


def test_split_shard_lineage_and_reading_parent_then_children(hw: Headwater) -> None:
    k = hw.client("kinesis")
    k.create_stream(StreamName="s", ShardCount=1)
    k.put_record(StreamName="s", Data=b"before", PartitionKey="p", ExplicitHashKey="5")
    middle = 2**127
    k.split_shard(StreamName="s", ShardToSplit=sid(0), NewStartingHashKey=str(middle))
    shards = shards_of(k)
    parent = shards[sid(0)]
    assert "EndingSequenceNumber" in parent["SequenceNumberRange"]
    assert shards[sid(1)]["ParentShardId"] == sid(0)
    assert shards[sid(1)]["HashKeyRange"] == {
        "StartingHashKey": "0",
        "EndingHashKey": str(middle - 1),
    }
    assert shards[sid(2)]["HashKeyRange"] == {
        "StartingHashKey": str(middle),
        "EndingHashKey": str(MAX_HASH_KEY),
    }
    low = k.put_record(StreamName="s", Data=b"low", PartitionKey="p", ExplicitHashKey="5")
    high = k.put_record(StreamName="s", Data=b"high", PartitionKey="p", ExplicitHashKey=str(middle))
    assert (low["ShardId"], high["ShardId"]) == (sid(1), sid(2))
    assert int(low["SequenceNumber"]) > int(parent["SequenceNumberRange"]["EndingSequenceNumber"])
    data, out = read_shard(k, sid(0))
    assert data == [b"before"]
    assert out.get("NextShardIterator") is None
    assert out["ChildShards"] == [
        {
            "ShardId": sid(1),
            "ParentShards": [sid(0)],
            "HashKeyRange": {"StartingHashKey": "0", "EndingHashKey": str(middle - 1)},
        },
        {
            "ShardId": sid(2),
            "ParentShards": [sid(0)],
            "HashKeyRange": {"StartingHashKey": str(middle), "EndingHashKey": str(MAX_HASH_KEY)},
        },
    ]
    assert read_shard(k, sid(1))[0] == [b"low"]
    assert read_shard(k, sid(2))[0] == [b"high"]


def test_closed_shard_reached_through_next_iterator(hw: Headwater) -> None:
    k = hw.client("kinesis")
    k.create_stream(StreamName="s", ShardCount=1)
    k.put_records(
        StreamName="s", Records=[{"Data": b"%d" % i, "PartitionKey": "p"} for i in range(3)]
    )
    it = k.get_shard_iterator(StreamName="s", ShardId=sid(0), ShardIteratorType="TRIM_HORIZON")
    first = k.get_records(ShardIterator=it["ShardIterator"], Limit=2)
    k.split_shard(StreamName="s", ShardToSplit=sid(0), NewStartingHashKey=str(2**100))
    second = k.get_records(ShardIterator=first["NextShardIterator"], Limit=2)
    assert [r["Data"] for r in second["Records"]] == [b"2"]
    assert "NextShardIterator" not in second and len(second["ChildShards"]) == 2


def test_split_errors_change_nothing(hw: Headwater) -> None:
    k = hw.client("kinesis")
    k.create_stream(StreamName="s", ShardCount=2)
    before = shards_of(k)
    start, end = uniform_ranges(2)[0]
    code, message = error_of(
        k.split_shard, StreamName="s", ShardToSplit=sid(0), NewStartingHashKey=str(start + 1)
    )
    assert code == "InvalidArgumentException" and "is not both greater than one plus" in message
    code, _ = error_of(
        k.split_shard, StreamName="s", ShardToSplit=sid(0), NewStartingHashKey=str(end)
    )
    assert code == "InvalidArgumentException"
    assert error_of(
        k.split_shard, StreamName="s", ShardToSplit=sid(7), NewStartingHashKey="100"
    ) == (
        "ResourceNotFoundException",
        f"Could not find shard {sid(7)} in stream s under account 000000000000.",
    )
    assert shards_of(k) == before
    k.split_shard(StreamName="s", ShardToSplit=sid(0), NewStartingHashKey=str(2**100))
    code, message = error_of(
        k.split_shard, StreamName="s", ShardToSplit=sid(0), NewStartingHashKey=str(2**101)
    )
    assert code == "InvalidArgumentException" and "already been merged or split" in message


def test_merge_shards(hw: Headwater) -> None:
    k = hw.client("kinesis")
    k.create_stream(StreamName="s", ShardCount=3)
    k.put_record(StreamName="s", Data=b"a", PartitionKey="p", ExplicitHashKey="0")
    code, message = error_of(
        k.merge_shards, StreamName="s", ShardToMerge=sid(0), AdjacentShardToMerge=sid(2)
    )
    assert code == "InvalidArgumentException" and "not an adjacent pair" in message
    assert len(shards_of(k)) == 3
    k.merge_shards(StreamName="s", ShardToMerge=sid(0), AdjacentShardToMerge=sid(1))
    shards = shards_of(k)
    child = shards[sid(3)]
    assert child["ParentShardId"] == sid(0) and child["AdjacentParentShardId"] == sid(1)
    assert child["HashKeyRange"]["StartingHashKey"] == "0"
    assert child["HashKeyRange"]["EndingHashKey"] == str(uniform_ranges(3)[1][1])
    for parent in (sid(0), sid(1)):
        assert "EndingSequenceNumber" in shards[parent]["SequenceNumberRange"]
    data, out = read_shard(k, sid(0))
    assert data == [b"a"]
    assert out["ChildShards"] == [
        {
            "ShardId": sid(3),
            "ParentShards": [sid(0), sid(1)],
            "HashKeyRange": child["HashKeyRange"],
        }
    ]
    assert k.put_record(StreamName="s", Data=b"b", PartitionKey="p", ExplicitHashKey="0")[
        "ShardId"
    ] == sid(3)
    code, _ = error_of(
        k.merge_shards, StreamName="s", ShardToMerge=sid(0), AdjacentShardToMerge=sid(3)
    )
    assert code == "InvalidArgumentException"


@pytest.mark.parametrize(("start", "target"), [(2, 4), (4, 2), (3, 5), (2, 3)])
def test_update_shard_count_uniform_scaling(hw: Headwater, start: int, target: int) -> None:
    k = hw.client("kinesis")
    k.create_stream(StreamName="s", ShardCount=start)
    out = k.update_shard_count(
        StreamName="s", TargetShardCount=target, ScalingType="UNIFORM_SCALING"
    )
    assert (out["CurrentShardCount"], out["TargetShardCount"]) == (start, target)
    assert out["StreamName"] == "s" and out["StreamARN"].endswith(":stream/s")
    listed = k.list_shards(StreamName="s", ShardFilter={"Type": "AT_LATEST"})["Shards"]
    ranges = sorted(
        (int(s["HashKeyRange"]["StartingHashKey"]), int(s["HashKeyRange"]["EndingHashKey"]))
        for s in listed
    )
    assert ranges == uniform_ranges(target)
    summary = k.describe_stream_summary(StreamName="s")["StreamDescriptionSummary"]
    assert summary["OpenShardCount"] == target
    everything = shards_of(k)
    for shard in everything.values():
        for key in ("ParentShardId", "AdjacentParentShardId"):
            if key in shard:
                assert "EndingSequenceNumber" in everything[shard[key]]["SequenceNumberRange"]


def test_update_shard_count_limits(hw: Headwater) -> None:
    k = hw.client("kinesis")
    k.create_stream(StreamName="s", ShardCount=4)
    assert error_of(
        k.update_shard_count, StreamName="s", TargetShardCount=9, ScalingType="UNIFORM_SCALING"
    ) == (
        "LimitExceededException",
        "UpdateShardCount cannot scale up over double your current open shard count. "
        "Current open shard count: 4, Target shard count: 9",
    )
    code, message = error_of(
        k.update_shard_count, StreamName="s", TargetShardCount=1, ScalingType="UNIFORM_SCALING"
    )
    assert code == "LimitExceededException" and "below half" in message
    assert len(shards_of(k)) == 4
    k.create_stream(StreamName="od", StreamModeDetails={"StreamMode": "ON_DEMAND"})
    code, _ = error_of(
        k.update_shard_count, StreamName="od", TargetShardCount=5, ScalingType="UNIFORM_SCALING"
    )
    assert code == "InvalidArgumentException"


def test_reading_whole_lineage_keeps_every_record_once(hw: Headwater, clock: ManualClock) -> None:
    k = hw.client("kinesis")
    k.create_stream(StreamName="s", ShardCount=2)
    sent: list[bytes] = []

    def put(n: int) -> None:
        batch = [
            {"Data": b"r%d" % (len(sent) + i), "PartitionKey": f"k{len(sent) + i}"}
            for i in range(n)
        ]
        sent.extend(entry["Data"] for entry in batch)
        k.put_records(StreamName="s", Records=batch)

    put(50)
    k.update_shard_count(StreamName="s", TargetShardCount=3, ScalingType="UNIFORM_SCALING")
    put(50)
    k.merge_shards(StreamName="s", ShardToMerge=sid(2), AdjacentShardToMerge=sid(6))
    put(50)
    got: list[bytes] = []
    done: set[str] = set()
    shards = shards_of(k)
    pending = [s for s in shards.values() if "ParentShardId" not in s]
    while pending:
        shard = pending.pop(0)
        data, out = read_shard(k, shard["ShardId"])
        got.extend(data)
        done.add(shard["ShardId"])
        for child in out.get("ChildShards", []):
            queued = {p["ShardId"] for p in pending}
            ready = set(child["ParentShards"]) <= done
            if ready and child["ShardId"] not in done | queued:
                pending.append(shards[child["ShardId"]])
    assert sorted(got) == sorted(sent)
    assert done == set(shards)


def test_closed_shards_listed_until_their_records_expire(hw: Headwater, clock: ManualClock) -> None:
    k = hw.client("kinesis")
    k.create_stream(StreamName="s", ShardCount=1)
    k.put_record(StreamName="s", Data=b"old", PartitionKey="p")
    k.split_shard(StreamName="s", ShardToSplit=sid(0), NewStartingHashKey=str(2**127))
    clock.advance(24 * 3600 - 1)
    assert sid(0) in shards_of(k)
    clock.advance(2)
    assert sorted(shards_of(k)) == [sid(1), sid(2)]
    described = k.describe_stream(StreamName="s")["StreamDescription"]["Shards"]
    assert [s["ShardId"] for s in described] == [sid(1), sid(2)]
    assert read_shard(k, sid(0))[0] == []  # still addressable, but its records expired
