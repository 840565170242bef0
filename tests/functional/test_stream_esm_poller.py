"""Stream mappings on their own: record shape, starting positions, batching, checkpoints,
filtering, ParallelizationFactor, resharding, cadence and metrics (ManualClock)."""

from __future__ import annotations

import asyncio
from typing import Any

from headwater import Headwater, ManualClock
from headwater.esm.batching import MAX_PAYLOAD_BYTES
from headwater.esm.streams.lanes import lane_of
from tests.functional.esm_fakes import FakeInvoker, function_error, ok
from tests.functional.test_stream_esm_support import (
    ROLE_ARN,
    STREAM_ARN,
    StreamHarness,
    datas,
    drain_mapping,
    make_stream,
    put,
    stream_mapping,
)

S0 = "shardId-000000000000"


def run(coroutine: Any) -> None:
    asyncio.run(coroutine)


def test_event_has_the_exact_kinesis_record_shape(hw: Headwater, clock: ManualClock) -> None:
    arn = make_stream(hw)
    (sequence,) = put(hw, b"hello", key="test_0")
    invoker = FakeInvoker()

    async def scenario() -> None:
        async with StreamHarness(hw, clock, stream_mapping(), invoker) as h:
            await h.until(lambda: len(invoker.events) == 1)
            await h.drain()

    run(scenario())
    assert invoker.events == [
        {
            "Records": [
                {
                    "kinesis": {
                        "kinesisSchemaVersion": "1.0",
                        "partitionKey": "test_0",
                        "sequenceNumber": sequence,
                        "data": "aGVsbG8=",
                        "approximateArrivalTimestamp": clock.now(),
                    },
                    "eventSource": "aws:kinesis",
                    "eventVersion": "1.0",
                    "eventID": f"{S0}:{sequence}",
                    "eventName": "aws:kinesis:record",
                    "invokeIdentityArn": ROLE_ARN,
                    "awsRegion": "us-east-1",
                    "eventSourceARN": arn,
                }
            ]
        }
    ]
    record = invoker.events[0]["Records"][0]
    assert list(record) == [  # key order as AWS sends it
        "kinesis",
        "eventSource",
        "eventVersion",
        "eventID",
        "eventName",
        "invokeIdentityArn",
        "awsRegion",
        "eventSourceARN",
    ]
    assert list(record["kinesis"]) == [
        "kinesisSchemaVersion",
        "partitionKey",
        "sequenceNumber",
        "data",
        "approximateArrivalTimestamp",
    ]


def test_batches_follow_batch_size_in_shard_order(hw: Headwater, clock: ManualClock) -> None:
    make_stream(hw)
    put(hw, *[f"r{i}" for i in range(250)])
    invoker = FakeInvoker()

    drain_mapping(hw, clock, stream_mapping(BatchSize=100), invoker)
    assert [len(e["Records"]) for e in invoker.events] == [100, 100, 50]
    assert [d for e in invoker.events for d in datas(e)] == [f"r{i}" for i in range(250)]


def test_batching_window_waits_for_more_records(hw: Headwater, clock: ManualClock) -> None:
    make_stream(hw)
    invoker = FakeInvoker()

    async def scenario() -> None:
        record = stream_mapping(BatchSize=10, MaximumBatchingWindowInSeconds=5)
        async with StreamHarness(hw, clock, record, invoker) as h:
            put(hw, "a")
            await h.settled()
            await h.advance(2)
            put(hw, "b")
            await h.settled()
            assert invoker.events == []
            await h.advance(3)
            await h.settled()
            assert [datas(e) for e in invoker.events] == [["a", "b"]]
            put(hw, *[f"x{i}" for i in range(10)])  # a full batch goes at once
            await h.until(lambda: len(invoker.events) == 2)

    run(scenario())


def test_payload_is_cut_at_6_mb(hw: Headwater, clock: ManualClock) -> None:
    make_stream(hw)
    put(hw, *[b"x" * 900_000 for _ in range(8)])
    invoker = FakeInvoker()

    drain_mapping(hw, clock, stream_mapping(BatchSize=100), invoker)
    assert [len(e["Records"]) for e in invoker.events] == [5, 3]
    assert all(size <= MAX_PAYLOAD_BYTES for size in invoker.payload_sizes)


def test_latest_starts_after_existing_records(hw: Headwater, clock: ManualClock) -> None:
    make_stream(hw)
    put(hw, "old")
    invoker = FakeInvoker()

    async def scenario() -> None:
        record = stream_mapping(StartingPosition="LATEST")
        async with StreamHarness(hw, clock, record, invoker) as h:
            put(hw, "new")
            await h.until(lambda: len(invoker.events) == 1)
            await h.drain()

    run(scenario())
    assert [datas(e) for e in invoker.events] == [["new"]]


def test_at_timestamp_starts_at_the_first_record_at_or_after_it(
    hw: Headwater, clock: ManualClock
) -> None:
    make_stream(hw)
    put(hw, "before")
    clock.advance(10)
    start = clock.now()
    put(hw, "at")
    clock.advance(1)
    put(hw, "after")
    invoker = FakeInvoker()

    async def scenario() -> None:
        record = stream_mapping(StartingPosition="AT_TIMESTAMP", StartingPositionTimestamp=start)
        async with StreamHarness(hw, clock, record, invoker) as h:
            await h.drain()

    run(scenario())
    assert [d for e in invoker.events for d in datas(e)] == ["at", "after"]


def test_checkpoint_resumes_and_starting_position_only_applies_once(
    hw: Headwater, clock: ManualClock
) -> None:
    make_stream(hw)
    put(hw, "a", "b")
    first = FakeInvoker()
    second = FakeInvoker()
    record = stream_mapping(StartingPosition="TRIM_HORIZON")

    async def scenario() -> None:
        async with StreamHarness(hw, clock, record, first) as h:
            await h.drain()
            assert h.checkpoint() is not None
        put(hw, "c")  # written while the mapping was stopped
        async with StreamHarness(hw, clock, record, second) as h:
            await h.until(lambda: len(second.events) == 1)
            await h.drain()

    run(scenario())
    assert [d for e in first.events for d in datas(e)] == ["a", "b"]
    assert [d for e in second.events for d in datas(e)] == ["c"]


def test_latest_is_pinned_durably_on_first_start(hw: Headwater, clock: ManualClock) -> None:
    make_stream(hw)
    put(hw, "old")
    record = stream_mapping(StartingPosition="LATEST")
    invoker = FakeInvoker()

    async def scenario() -> None:
        async with StreamHarness(hw, clock, record, FakeInvoker()) as h:
            await h.drain()
        put(hw, "while-stopped")
        async with StreamHarness(hw, clock, record, invoker) as h:
            await h.until(lambda: len(invoker.events) == 1)
            await h.drain()

    run(scenario())
    assert [d for e in invoker.events for d in datas(e)] == ["while-stopped"]


def test_filter_skips_and_checkpoints_non_matching_records(
    hw: Headwater, clock: ManualClock
) -> None:
    make_stream(hw)
    sequences = put(hw, '{"kind": "keep", "n": 1}', '{"kind": "drop"}', "not json")
    invoker = FakeInvoker()
    criteria = {"Filters": [{"Pattern": '{"data": {"kind": ["keep"]}}'}]}

    async def scenario() -> None:
        async with StreamHarness(hw, clock, stream_mapping(FilterCriteria=criteria), invoker) as h:
            await h.drain()
            assert h.checkpoint() == sequences[-1]
            snapshot = h.poller.metrics_snapshot() if h.poller else None
            assert snapshot is not None
            assert snapshot.FilteredOutEventCount == 2
            assert snapshot.PolledEventCount == 3

    run(scenario())
    assert [datas(e) for e in invoker.events] == [['{"kind": "keep", "n": 1}']]


def test_only_filtered_records_means_no_invoke_but_checkpoint(
    hw: Headwater, clock: ManualClock
) -> None:
    make_stream(hw)
    sequences = put(hw, '{"kind": "drop"}')
    invoker = FakeInvoker()
    criteria = {"Filters": [{"Pattern": '{"data": {"kind": ["keep"]}}'}]}

    async def scenario() -> None:
        async with StreamHarness(hw, clock, stream_mapping(FilterCriteria=criteria), invoker) as h:
            await h.drain()
            assert h.checkpoint() == sequences[0]

    run(scenario())
    assert invoker.events == []


def test_parallelization_factor_runs_lanes_concurrently_in_key_order(
    hw: Headwater, clock: ManualClock
) -> None:
    make_stream(hw)
    for i in range(20):
        for key in ("a", "b", "c", "d", "e", "f"):
            put(hw, f"{key}{i}", key=key)
    release = asyncio.Event()

    async def handler(event: dict[str, Any]) -> Any:
        await release.wait()
        return ok()

    invoker = FakeInvoker(handler)

    async def scenario() -> None:
        record = stream_mapping(BatchSize=5, ParallelizationFactor=4)
        async with StreamHarness(hw, clock, record, invoker) as h:
            await h.until(lambda: invoker.running >= 2)
            release.set()
            await h.drain()

    run(scenario())
    assert invoker.max_running >= 2
    seen: dict[str, list[int]] = {}
    for event in invoker.events:
        for data in datas(event):
            seen.setdefault(data[0], []).append(int(data[1:]))
    assert seen == {key: list(range(20)) for key in "abcdef"}


def test_parent_shard_is_finished_before_its_children(hw: Headwater, clock: ManualClock) -> None:
    make_stream(hw)
    kinesis = hw.client("kinesis")
    put(hw, *[f"p{i}" for i in range(5)])
    invoker = FakeInvoker()

    async def scenario() -> None:
        async with StreamHarness(hw, clock, stream_mapping(BatchSize=2), invoker) as h:
            await h.drain()
            kinesis.split_shard(
                StreamName="s",
                ShardToSplit=S0,
                NewStartingHashKey=str(2**127),
            )
            for i in range(6):
                put(hw, f"c{i}", key=f"k{i}")
            await h.until(lambda: sum(len(e["Records"]) for e in invoker.events) == 11)
            await h.drain()
            finished = h.host.checkpoints.get(h.record.uuid, S0)
            assert finished is not None and finished.finished

    run(scenario())
    flat = [d for e in invoker.events for d in datas(e)]
    assert flat[:5] == [f"p{i}" for i in range(5)]
    assert sorted(flat[5:]) == [f"c{i}" for i in range(6)]
    shards = {r["eventID"].split(":")[0] for e in invoker.events[3:] for r in e["Records"]}
    assert S0 not in shards


def test_children_wait_for_an_unfinished_parent(hw: Headwater, clock: ManualClock) -> None:
    make_stream(hw)
    kinesis = hw.client("kinesis")
    put(hw, *[f"p{i}" for i in range(3)])
    kinesis.split_shard(StreamName="s", ShardToSplit=S0, NewStartingHashKey=str(2**127))
    for i in range(4):
        put(hw, f"c{i}", key=f"k{i}")
    invoker = FakeInvoker()

    drain_mapping(hw, clock, stream_mapping(BatchSize=100), invoker)
    assert datas(invoker.events[0]) == ["p0", "p1", "p2"]
    assert sorted(d for e in invoker.events[1:] for d in datas(e)) == [f"c{i}" for i in range(4)]


def test_merge_children_wait_for_both_parents(hw: Headwater, clock: ManualClock) -> None:
    make_stream(hw, shards=2)
    kinesis = hw.client("kinesis")
    for i in range(4):
        put(hw, f"p{i}", key=f"k{i}")
    kinesis.merge_shards(
        StreamName="s", ShardToMerge=S0, AdjacentShardToMerge="shardId-000000000001"
    )
    put(hw, "child", key="k0")
    invoker = FakeInvoker()

    drain_mapping(hw, clock, stream_mapping(BatchSize=100), invoker)
    flat = [d for e in invoker.events for d in datas(e)]
    assert flat[-1] == "child" and sorted(flat[:-1]) == [f"p{i}" for i in range(4)]


def test_aws_poll_cadence_option_reads_idle_shards_once_a_second(
    hw: Headwater, clock: ManualClock
) -> None:
    make_stream(hw)
    invoker = FakeInvoker()

    async def scenario() -> None:
        record = stream_mapping(StartingPosition="LATEST")
        async with StreamHarness(hw, clock, record, invoker, poll_interval=1.0) as h:
            await h.settled()
            put(hw, "a")
            await h.settled()
            assert invoker.events == []  # the put does not wake a cadence poller
            await h.advance(1.0)
            await h.until(lambda: len(invoker.events) == 1)

    run(scenario())


def test_iterator_age_per_shard_and_mapping(hw: Headwater, clock: ManualClock) -> None:
    make_stream(hw)
    put(hw, "a")
    clock.advance(7)
    invoker = FakeInvoker()

    async def scenario() -> None:
        async with StreamHarness(hw, clock, stream_mapping(), invoker) as h:
            await h.drain()
            assert h.poller is not None
            snapshot = h.poller.metrics.snapshot()
            assert snapshot.IteratorAgeByShard == {S0: 7000.0}
            assert snapshot.IteratorAge == 7000.0
            assert snapshot.Invocations == 1 and snapshot.InvokedEventCount == 1
            assert h.results == ["OK"]

    run(scenario())


def test_deleted_mapping_forgets_its_checkpoints(hw: Headwater, clock: ManualClock) -> None:
    make_stream(hw)
    put(hw, "a")

    async def scenario() -> None:
        harness = StreamHarness(
            hw, clock, stream_mapping(), FakeInvoker(), mapping_exists=lambda uuid: False
        )
        async with harness as h:
            await h.drain()
            assert h.checkpoint() is not None
        assert harness.host.checkpoints.list(harness.record.uuid) == {}

    run(scenario())
    assert STREAM_ARN


def test_a_blocked_lane_holds_the_checkpoint_and_bounds_what_is_read(
    hw: Headwater, clock: ManualClock
) -> None:
    make_stream(hw)
    keys = ["a", "d"]  # CRC-32 puts them in different lanes of 2
    assert lane_of(keys[0], 2) != lane_of(keys[1], 2)
    (blocked,) = put(hw, "poison", key=keys[0])
    for i in range(40):
        put(hw, f"b{i}", key=keys[1])

    def handler(event: dict[str, Any]) -> Any:
        return function_error() if "poison" in datas(event) else ok()

    invoker = FakeInvoker(handler)

    async def scenario() -> None:
        record = stream_mapping(BatchSize=2, ParallelizationFactor=2)
        async with StreamHarness(hw, clock, record, invoker) as h:
            await h.settled()
            assert h.poller is not None
            shard = h.poller.shards[S0]
            assert len(shard.ledger) <= 2 * 2 * 2  # two batches per lane
            assert h.checkpoint() is None  # nothing passes the blocked record
            assert blocked

    run(scenario())
    delivered = [d for e in invoker.events for d in datas(e) if d != "poison"]
    # the other lane ran ahead of the blocked one, but only up to the unsettled limit
    assert delivered == [f"b{i}" for i in range(len(delivered))]
    assert 2 <= len(delivered) < 40


def test_children_are_read_from_their_start_even_with_latest(
    hw: Headwater, clock: ManualClock
) -> None:
    make_stream(hw)
    kinesis = hw.client("kinesis")
    invoker = FakeInvoker()

    async def scenario() -> None:
        record = stream_mapping(StartingPosition="LATEST")
        async with StreamHarness(hw, clock, record, invoker) as h:
            await h.settled()
            put(hw, "parent")
            await h.until(lambda: len(invoker.events) == 1)
            kinesis.split_shard(StreamName="s", ShardToSplit=S0, NewStartingHashKey=str(2**127))
            for i in range(4):  # before any child poller runs
                put(hw, f"c{i}", key=f"k{i}")
            await h.until(lambda: sum(len(e["Records"]) for e in invoker.events) == 5)
            await h.drain()

    run(scenario())
    flat = [d for e in invoker.events for d in datas(e)]
    assert flat[0] == "parent" and sorted(flat[1:]) == [f"c{i}" for i in range(4)]
