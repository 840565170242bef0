"""Stream failure handling (reference §4.3-4.5) with a ManualClock: the shard blocks,
retries, MaximumRetryAttempts, MaximumRecordAgeInSeconds, bisect, partial batch responses,
throttles, and the on-failure record sent to an SQS queue."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import orjson
import pytest

from headwater import Headwater, ManualClock
from headwater.core.values import iso_millis
from tests.functional.esm_fakes import (
    FUNCTION_ARN,
    FakeInvoker,
    FakeResult,
    function_error,
    ok,
    raw,
    throttled,
)
from tests.functional.test_stream_esm_support import (
    STREAM_ARN,
    StreamHarness,
    datas,
    drain_mapping,
    make_queue,
    make_stream,
    put,
    queue_bodies,
    stream_mapping,
)

S0 = "shardId-000000000000"


def run(coroutine: Any) -> None:
    asyncio.run(coroutine)


def on_failure(queue_arn: str) -> dict[str, Any]:
    return {"DestinationConfig": {"OnFailure": {"Destination": queue_arn}}}


def poison(event: dict[str, Any]) -> FakeResult:
    return function_error() if any("poison" in d for d in datas(event)) else ok()


def test_failing_batch_blocks_the_shard_and_retries_with_backoff(
    hw: Headwater, clock: ManualClock
) -> None:
    make_stream(hw)
    put(hw, "a")
    failures = [True, True]

    def handler(event: dict[str, Any]) -> FakeResult:
        return function_error() if failures and failures.pop() else ok()

    invoker = FakeInvoker(handler)

    async def scenario() -> None:
        async with StreamHarness(hw, clock, stream_mapping(), invoker) as h:
            await h.settled()
            put(hw, "b")  # behind the failing record: must wait
            await h.settled()
            assert [datas(e) for e in invoker.events] == [["a"]]
            await h.advance(0.5)
            assert len(invoker.events) == 1  # backoff is 1 s of clock time
            await h.advance(0.5)
            assert len(invoker.events) == 2  # first retry
            await h.advance(1.9)
            assert len(invoker.events) == 2  # second backoff doubles to 2 s
            await h.drain()
            assert h.results[0] == "PROBLEM: Function call failed" and h.results[-1] == "OK"

    run(scenario())
    assert [datas(e) for e in invoker.events] == [["a"], ["a"], ["a"], ["b"]]


def test_retries_exhausted_send_the_batch_info_and_processing_continues(
    hw: Headwater, clock: ManualClock
) -> None:
    make_stream(hw)
    url, queue_arn = make_queue(hw)
    clock.advance(0.123)
    sequences = put(hw, "poison-1", "poison-2")
    put(hw, "fine")
    invoker = FakeInvoker(poison)
    record = stream_mapping(BatchSize=2, MaximumRetryAttempts=2, **on_failure(queue_arn))

    async def scenario() -> None:
        async with StreamHarness(hw, clock, record, invoker) as h:
            await h.drain()
            assert h.checkpoint() is not None
            snapshot = h.poller.metrics.snapshot() if h.poller else None
            assert snapshot is not None
            assert snapshot.OnFailureDestinationDeliveredEventCount == 2
            assert snapshot.Errors == 3 and snapshot.DroppedEventCount == 0

    run(scenario())
    assert [datas(e) for e in invoker.events] == [["poison-1", "poison-2"]] * 3 + [["fine"]]
    (body,) = queue_bodies(hw, url)
    arrival = iso_millis(1_700_000_000.123)
    assert list(body) == [
        "requestContext",
        "responseContext",
        "version",
        "timestamp",
        "KinesisBatchInfo",
    ]
    assert body["requestContext"] == {
        "requestId": "fake",
        "functionArn": FUNCTION_ARN,
        "condition": "RetryAttemptsExhausted",
        "approximateInvokeCount": 3,
    }
    assert body["responseContext"] == {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    }
    assert body["version"] == "1.0"
    assert body["KinesisBatchInfo"] == {
        "shardId": S0,
        "startSequenceNumber": sequences[0],
        "endSequenceNumber": sequences[1],
        "approximateArrivalOfFirstRecord": arrival,
        "approximateArrivalOfLastRecord": arrival,
        "batchSize": 2,
        "streamArn": STREAM_ARN + "s",
    }
    assert arrival == "2023-11-14T22:13:20.123Z"


def test_maximum_retry_attempts_zero_invokes_once(hw: Headwater, clock: ManualClock) -> None:
    make_stream(hw)
    url, queue_arn = make_queue(hw)
    put(hw, "poison")
    invoker = FakeInvoker(poison)
    record = stream_mapping(MaximumRetryAttempts=0, **on_failure(queue_arn))

    drain_mapping(hw, clock, record, invoker)
    assert len(invoker.events) == 1
    (body,) = queue_bodies(hw, url)
    assert body["requestContext"]["approximateInvokeCount"] == 1


def test_without_destination_discarded_records_are_dropped(
    hw: Headwater, clock: ManualClock
) -> None:
    make_stream(hw)
    put(hw, "poison", "next")
    invoker = FakeInvoker(poison)

    async def scenario() -> None:
        async with StreamHarness(
            hw, clock, stream_mapping(BatchSize=1, MaximumRetryAttempts=1), invoker
        ) as h:
            await h.drain()
            snapshot = h.poller.metrics.snapshot() if h.poller else None
            assert snapshot is not None and snapshot.DroppedEventCount == 1

    run(scenario())
    assert [datas(e) for e in invoker.events] == [["poison"], ["poison"], ["next"]]


@pytest.mark.parametrize(
    "destination",
    [
        "arn:aws:sns:us-east-1:000000000000:topic",
        "arn:aws:s3:::bucket",
        "arn:aws:sqs:us-east-1:000000000000:missing",
    ],
)
def test_undeliverable_destination_counts_a_delivery_failure(
    hw: Headwater, clock: ManualClock, destination: str
) -> None:
    make_stream(hw)
    put(hw, "poison", "next")
    invoker = FakeInvoker(poison)
    record = stream_mapping(
        BatchSize=1,
        MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": destination}},
    )

    async def scenario() -> None:
        async with StreamHarness(hw, clock, record, invoker) as h:
            await h.drain()
            snapshot = h.poller.metrics.snapshot() if h.poller else None
            assert snapshot is not None
            assert snapshot.DestinationDeliveryFailures == 1
            assert snapshot.DroppedEventCount == 1

    run(scenario())
    assert [datas(e) for e in invoker.events] == [["poison"], ["next"]]


def test_record_age_is_checked_per_record_before_each_invoke(
    hw: Headwater, clock: ManualClock
) -> None:
    """LS-AWS: 6 records, 1 expired -> one RecordAgeExceeded record (batchSize 1), 5 sent."""
    make_stream(hw)
    url, queue_arn = make_queue(hw)
    (old,) = put(hw, "stream-data")
    clock.advance(80)
    put(hw, *[f"stream-data-{i}" for i in range(1, 6)])
    invoker = FakeInvoker()
    record = stream_mapping(
        BatchSize=10, MaximumRetryAttempts=0, MaximumRecordAgeInSeconds=60, **on_failure(queue_arn)
    )

    drain_mapping(hw, clock, record, invoker)
    assert [datas(e) for e in invoker.events] == [[f"stream-data-{i}" for i in range(1, 6)]]
    (body,) = queue_bodies(hw, url)
    assert "responseContext" not in body
    assert body["requestContext"]["condition"] == "RecordAgeExceeded"
    assert body["requestContext"]["approximateInvokeCount"] == 1
    assert body["KinesisBatchInfo"]["batchSize"] == 1
    assert body["KinesisBatchInfo"]["startSequenceNumber"] == old


def test_infinite_retries_end_when_the_record_gets_too_old(
    hw: Headwater, clock: ManualClock
) -> None:
    make_stream(hw)
    url, queue_arn = make_queue(hw)
    put(hw, "poison")
    invoker = FakeInvoker(poison)
    record = stream_mapping(
        MaximumRetryAttempts=-1, MaximumRecordAgeInSeconds=60, **on_failure(queue_arn)
    )

    drain_mapping(hw, clock, record, invoker)
    # backoff 1, 2, 4, 8, 16, 32 s: invokes at t=0,1,3,7,15,31,63 -> 7th try finds it expired
    assert len(invoker.events) == 6
    (body,) = queue_bodies(hw, url)
    assert body["requestContext"]["condition"] == "RecordAgeExceeded"
    assert body["requestContext"]["approximateInvokeCount"] == 6
    assert "responseContext" not in body


def test_bisect_isolates_the_poison_record_without_consuming_retries(
    hw: Headwater, clock: ManualClock
) -> None:
    make_stream(hw)
    url, queue_arn = make_queue(hw)
    sequences = put(hw, "r0", "r1", "poison", "r3", "r4")
    invoker = FakeInvoker(poison)
    record = stream_mapping(
        BatchSize=5,
        BisectBatchOnFunctionError=True,
        MaximumRetryAttempts=1,
        **on_failure(queue_arn),
    )

    drain_mapping(hw, clock, record, invoker)
    # 5 -> [3, 2]; [r0 r1 poison] -> [r0 r1] ok, [poison] x2 (1 retry); then [r3 r4]
    assert [datas(e) for e in invoker.events] == [
        ["r0", "r1", "poison", "r3", "r4"],
        ["r0", "r1", "poison"],
        ["r0", "r1"],
        ["poison"],
        ["poison"],
        ["r3", "r4"],
    ]
    (body,) = queue_bodies(hw, url)
    info = body["KinesisBatchInfo"]
    assert info["batchSize"] == 1
    assert info["startSequenceNumber"] == info["endSequenceNumber"] == sequences[2]
    assert body["requestContext"]["approximateInvokeCount"] == 2


def test_report_batch_item_failures_retries_from_the_lowest_failed_record(
    hw: Headwater, clock: ManualClock
) -> None:
    """LS-AWS: BatchSize 3, six records, record 6 failing, 3 retries -> records 1-5 once,
    record 6 four times, failure record batchSize 1, count 4, functionError null."""
    make_stream(hw)
    url, queue_arn = make_queue(hw)
    sequences = put(hw, *[orjson.dumps({"should_fail": i == 5}).decode() for i in range(6)])

    def handler(event: dict[str, Any]) -> FakeResult:
        failed = [
            {"itemIdentifier": r["kinesis"]["sequenceNumber"]}
            for r in event["Records"]
            if orjson.loads(base64.b64decode(r["kinesis"]["data"]))["should_fail"]
        ]
        return ok({"batchItemFailures": failed})

    invoker = FakeInvoker(handler)
    record = stream_mapping(
        BatchSize=3,
        MaximumRetryAttempts=3,
        FunctionResponseTypes=["ReportBatchItemFailures"],
        **on_failure(queue_arn),
    )

    async def scenario() -> None:
        async with StreamHarness(hw, clock, record, invoker) as h:
            await h.drain()
            assert h.checkpoint() == sequences[-1]

    run(scenario())
    seen = [r["kinesis"]["sequenceNumber"] for e in invoker.events for r in e["Records"]]
    assert seen == sequences[:5] + [sequences[5]] * 4
    (body,) = queue_bodies(hw, url)
    assert body["requestContext"]["approximateInvokeCount"] == 4
    assert body["responseContext"]["functionError"] is None
    assert body["KinesisBatchInfo"]["batchSize"] == 1


def test_partial_failure_redelivers_the_failed_record_and_everything_after(
    hw: Headwater, clock: ManualClock
) -> None:
    make_stream(hw)
    sequences = put(hw, "a", "b", "c", "d")
    calls: list[int] = []

    def handler(event: dict[str, Any]) -> FakeResult:
        calls.append(len(event["Records"]))
        if len(calls) == 1:
            return ok(
                {
                    "batchItemFailures": [
                        {"itemIdentifier": sequences[2]},
                        {"itemIdentifier": sequences[1]},
                    ]
                }
            )
        return ok({"batchItemFailures": []})

    invoker = FakeInvoker(handler)
    record = stream_mapping(BatchSize=4, FunctionResponseTypes=["ReportBatchItemFailures"])

    async def scenario() -> None:
        async with StreamHarness(hw, clock, record, invoker) as h:
            await h.settled()
            assert h.checkpoint() == sequences[0]  # just before the lowest failed record
            await h.drain()

    run(scenario())
    assert [datas(e) for e in invoker.events] == [["a", "b", "c", "d"], ["b", "c", "d"]]


@pytest.mark.parametrize(
    "payload",
    [
        b'{"batchItemFailures": [{"itemIdentifier": ""}]}',
        b'{"batchItemFailures": [{"itemIdentifier": null}]}',
        b'{"batchItemFailures": [{"itemIdentifier": 123}]}',
        b'{"batchItemFailures": [{"foo": 123}]}',
        b'{"batchItemFailures": [{"foo": null}]}',
    ],
)
def test_malformed_partial_response_fails_the_whole_batch(
    hw: Headwater, clock: ManualClock, payload: bytes
) -> None:
    """LS-AWS failure scenarios: 3 invocations (1 + 2 retries), functionError null."""
    make_stream(hw)
    url, queue_arn = make_queue(hw)
    put(hw, "hello", key="test")
    invoker = FakeInvoker(lambda event: raw(payload))
    record = stream_mapping(
        BatchSize=1,
        MaximumRetryAttempts=2,
        FunctionResponseTypes=["ReportBatchItemFailures"],
        **on_failure(queue_arn),
    )

    drain_mapping(hw, clock, record, invoker)
    assert len(invoker.events) == 3
    (body,) = queue_bodies(hw, url)
    assert body["requestContext"]["approximateInvokeCount"] == 3
    assert body["responseContext"]["functionError"] is None


@pytest.mark.parametrize(
    "payload",
    [b"", b"[]", b"null", b"{}", b'{"batchItemFailures": []}', b'{"batchItemFailures": null}'],
)
def test_success_forms_of_the_partial_response(
    hw: Headwater, clock: ManualClock, payload: bytes
) -> None:
    make_stream(hw)
    put(hw, "hello")
    invoker = FakeInvoker(lambda event: raw(payload))
    record = stream_mapping(
        MaximumRetryAttempts=0, FunctionResponseTypes=["ReportBatchItemFailures"]
    )

    async def scenario() -> None:
        async with StreamHarness(hw, clock, record, invoker) as h:
            await h.drain()
            snapshot = h.poller.metrics.snapshot() if h.poller else None
            assert snapshot is not None and snapshot.DroppedEventCount == 0

    run(scenario())
    assert len(invoker.events) == 1


def test_throttles_do_not_consume_retry_attempts(hw: Headwater, clock: ManualClock) -> None:
    make_stream(hw)
    put(hw, "a")
    outcomes = [ok(), throttled(), throttled(), throttled()]
    invoker = FakeInvoker(lambda event: outcomes.pop())

    async def scenario() -> None:
        async with StreamHarness(hw, clock, stream_mapping(MaximumRetryAttempts=0), invoker) as h:
            await h.drain()
            snapshot = h.poller.metrics.snapshot() if h.poller else None
            assert snapshot is not None
            assert snapshot.Throttles == 3 and snapshot.Invocations == 1
            assert snapshot.DroppedEventCount == 0

    run(scenario())
    assert len(invoker.events) == 4


def test_bisect_with_partial_response_retries_only_the_remainder(
    hw: Headwater, clock: ManualClock
) -> None:
    make_stream(hw)
    sequences = put(hw, "a", "b", "c", "d")
    answers = [{"batchItemFailures": [{"itemIdentifier": sequences[2]}]}, {}]
    invoker = FakeInvoker(lambda event: ok(answers.pop(0)))
    record = stream_mapping(
        BatchSize=4,
        BisectBatchOnFunctionError=True,
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )

    drain_mapping(hw, clock, record, invoker)
    assert [datas(e) for e in invoker.events] == [["a", "b", "c", "d"], ["c", "d"]]


def test_records_trimmed_by_retention_while_blocked_are_skipped_silently(
    hw: Headwater, clock: ManualClock
) -> None:
    make_stream(hw)
    url, queue_arn = make_queue(hw)
    put(hw, "poison")
    invoker = FakeInvoker(poison)

    async def scenario() -> None:
        async with StreamHarness(hw, clock, stream_mapping(**on_failure(queue_arn)), invoker) as h:
            await h.settled()
            assert len(invoker.events) == 1
            await h.advance(25 * 3600)  # past the 24 h retention, mid-backoff
            put(hw, "after")
            await h.until(lambda: datas(invoker.events[-1]) == ["after"])
            await h.drain()
            snapshot = h.poller.metrics.snapshot() if h.poller else None
            assert snapshot is not None and snapshot.DroppedEventCount == 0

    run(scenario())
    assert [datas(e) for e in invoker.events] == [["poison"], ["after"]]
    assert queue_bodies(hw, url) == []
