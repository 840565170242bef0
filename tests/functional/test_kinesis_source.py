"""The typed stream source the stream event-source-mapping engine consumes."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from headwater import Headwater, ManualClock
from headwater.core.errors import AwsError
from headwater.esm.streams.source import ShardInfo, StreamRecord
from headwater.services.kinesis import KinesisMappingApi, KinesisService

ARN = "arn:aws:kinesis:us-east-1:000000000000:stream/s"
S0 = "shardId-000000000000"


@pytest.fixture
def kinesis(hw: Headwater) -> KinesisService:
    hw.client("kinesis").create_stream(StreamName="s", ShardCount=1)
    service = hw.service("kinesis")
    assert isinstance(service, KinesisService)
    return service


def put(hw: Headwater, *datas: bytes, key: str = "p") -> list[str]:
    out = hw.client("kinesis").put_records(
        StreamName="s", Records=[{"Data": d, "PartitionKey": key} for d in datas]
    )
    return [r["SequenceNumber"] for r in out["Records"]]


def test_service_satisfies_the_protocol(kinesis: KinesisService) -> None:
    source: KinesisMappingApi = kinesis
    assert source.stream_exists(ARN)
    assert not source.stream_exists(ARN + "x")
    assert not source.stream_exists("not-an-arn")


def test_read_shard_positions(hw: Headwater, kinesis: KinesisService, clock: ManualClock) -> None:
    empty = kinesis.latest_sequence(ARN, S0)
    assert empty is not None and empty.endswith("0" * 20)
    first = put(hw, b"a", b"b")
    clock.advance(10)
    second = put(hw, b"c")
    records, end = kinesis.read_shard(ARN, S0, None, 10)
    assert [r.data for r in records] == [b"a", b"b", b"c"] and end is False
    assert records[0] == StreamRecord(first[0], "p", b"a", clock.now() - 10)
    assert all(isinstance(r, StreamRecord) for r in records)
    after, _ = kinesis.read_shard(ARN, S0, first[0], 10)
    assert [r.sequence_number for r in after] == [first[1], second[0]]
    limited, _ = kinesis.read_shard(ARN, S0, None, 2)
    assert len(limited) == 2
    stamped, _ = kinesis.read_shard(ARN, S0, None, 10, at_timestamp=clock.now() - 5)
    assert [r.data for r in stamped] == [b"c"]
    latest, _ = kinesis.read_shard(ARN, S0, None, 10, from_latest=True)
    assert latest == []
    assert kinesis.latest_sequence(ARN, S0) == second[0]
    from_empty, _ = kinesis.read_shard(ARN, S0, empty, 10)  # LATEST taken on the empty shard
    assert [r.data for r in from_empty] == [b"a", b"b", b"c"]
    assert int(second[0]) > int(first[1]) > int(first[0])


def test_read_shard_errors(kinesis: KinesisService) -> None:
    with pytest.raises(AwsError) as caught:
        kinesis.read_shard(ARN, "shardId-000000000009", None, 10)
    assert caught.value.code == "ResourceNotFoundException"
    with pytest.raises(AwsError) as caught:
        kinesis.read_shard(ARN + "x", S0, None, 10)
    assert caught.value.code == "ResourceNotFoundException"
    with pytest.raises(AwsError) as caught:
        kinesis.read_shard(ARN, S0, "123", 10)
    assert caught.value.code == "InvalidArgumentException"


def test_lineage_and_shard_end(hw: Headwater, kinesis: KinesisService) -> None:
    put(hw, b"parent")
    hw.client("kinesis").split_shard(
        StreamName="s", ShardToSplit=S0, NewStartingHashKey=str(2**127)
    )
    shards = kinesis.list_shards_for_mapping(ARN)
    assert shards == [
        ShardInfo(S0, (), True),
        ShardInfo("shardId-000000000001", (S0,), False),
        ShardInfo("shardId-000000000002", (S0,), False),
    ]
    records, end = kinesis.read_shard(ARN, S0, None, 10)
    assert [r.data for r in records] == [b"parent"] and end is True
    records, end = kinesis.read_shard(ARN, S0, records[-1].sequence_number, 10)
    assert records == [] and end is True
    _, child_end = kinesis.read_shard(ARN, "shardId-000000000001", None, 10)
    assert child_end is False


def test_expired_parents_are_not_waited_for(
    hw: Headwater, kinesis: KinesisService, clock: ManualClock
) -> None:
    hw.client("kinesis").split_shard(
        StreamName="s", ShardToSplit=S0, NewStartingHashKey=str(2**127)
    )
    clock.advance(24 * 3600 + 1)
    shards = kinesis.list_shards_for_mapping(ARN)
    assert [s.shard_id for s in shards] == ["shardId-000000000001", "shardId-000000000002"]
    assert all(s.parent_shard_ids == () for s in shards)


def test_listeners_called_after_puts_outside_the_transaction(
    hw: Headwater, kinesis: KinesisService
) -> None:
    calls: list[tuple[str, str]] = []
    lock_free: list[bool] = []

    def listener(stream_arn: str, shard_id: str) -> None:
        calls.append((stream_arn, shard_id))
        # Another thread must be able to run a transaction while we run (the put's ended).
        got: list[bool] = []

        def probe() -> None:
            with hw.database.transaction():
                got.append(True)

        thread = threading.Thread(target=probe, daemon=True)
        thread.start()
        thread.join(timeout=2)
        lock_free.append(bool(got))

    remove = kinesis.add_listener(listener)
    put(hw, b"x")
    hw.client("kinesis").put_record(StreamName="s", Data=b"y", PartitionKey="p")
    assert calls == [(ARN, S0), (ARN, S0)]
    assert all(lock_free)

    def broken(stream_arn: str, shard_id: str) -> Any:
        raise RuntimeError("listener bug")

    remove_broken = kinesis.add_listener(broken)
    put(hw, b"z")  # a failing listener never fails the put
    remove()
    remove_broken()
    put(hw, b"w")
    assert len(calls) == 3
