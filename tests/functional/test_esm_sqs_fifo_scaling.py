"""The SQS poller: FIFO group order and blocking, scaling limits, stop."""

from __future__ import annotations

import asyncio
from typing import Any

from headwater import Headwater, ManualClock
from headwater.esm.scaling import ScalingPolicy
from headwater.testing import queue_counts
from tests.functional.esm_fakes import (
    FakeInvoker,
    FakeResult,
    PollerHarness,
    function_error,
    mapping,
    ok,
)


def fifo_queue(hw: Headwater, name: str = "q.fifo", visibility: int = 30) -> str:
    url: str = hw.client("sqs").create_queue(
        QueueName=name,
        Attributes={
            "FifoQueue": "true",
            "ContentBasedDeduplication": "true",
            "VisibilityTimeout": str(visibility),
        },
    )["QueueUrl"]
    return url


def send_group(hw: Headwater, url: str, group: str, *bodies: str) -> None:
    sqs = hw.client("sqs")
    for body in bodies:
        sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId=group)


def test_fifo_failure_blocks_the_rest_of_its_group(hw: Headwater, clock: ManualClock) -> None:
    url = fifo_queue(hw)
    send_group(hw, url, "1", "m1", "m2", "m3", "m4")
    calls = 0

    def handler(event: dict[str, Any]) -> FakeResult:
        nonlocal calls
        calls += 1
        if calls > 1:
            return ok()
        # AWS's advice for FIFO: report the first failure and everything after it
        failed = [{"itemIdentifier": r["messageId"]} for r in event["Records"][1:]]
        return ok({"batchItemFailures": failed})

    invoker = FakeInvoker(handler)

    async def scenario() -> None:
        record = mapping("q.fifo", FunctionResponseTypes=["ReportBatchItemFailures"])
        async with PollerHarness(hw, clock, record, invoker) as h:
            await h.settled()
            send_group(hw, url, "1", "m5")
            send_group(hw, url, "2", "n1")
            await h.until(lambda: len(invoker.events) == 2)
            await h.settled()
            # group 2 is free; m5 waits behind the failed m2..m4
            assert invoker.bodies()[1] == ["n1"]
            await h.advance(30)
            await h.until(lambda: len(invoker.events) == 3)
            await h.settled()

    run(scenario())
    assert invoker.bodies() == [["m1", "m2", "m3", "m4"], ["n1"], ["m2", "m3", "m4", "m5"]]
    third = invoker.events[2]["Records"]
    assert [r["attributes"]["ApproximateReceiveCount"] for r in third] == ["2", "2", "2", "1"]
    assert [r["attributes"]["MessageGroupId"] for r in third] == ["1"] * 4
    assert sum(queue_counts(hw, url).values()) == 0


def test_fifo_never_has_two_batches_of_one_group_in_flight(
    hw: Headwater, clock: ManualClock
) -> None:
    url = fifo_queue(hw)
    for group in "ABC":
        send_group(hw, url, group, *[f"{group}{i}" for i in range(3)])
    release = asyncio.Event()
    running_groups: list[str] = []
    overlaps: list[str] = []

    async def handler(event: dict[str, Any]) -> FakeResult:
        groups = [r["attributes"]["MessageGroupId"] for r in event["Records"]]
        overlaps.extend(g for g in groups if g in running_groups)
        running_groups.extend(groups)
        await release.wait()
        for g in groups:
            running_groups.remove(g)
        return ok()

    invoker = FakeInvoker(handler)

    async def scenario() -> None:
        async with PollerHarness(hw, clock, mapping("q.fifo", BatchSize=1), invoker) as h:
            await h.until(lambda: invoker.running == 3)
            await asyncio.sleep(0.01)
            assert invoker.running == 3  # one batch per group, no more
            release.set()
            await h.until(lambda: len(invoker.events) == 9)
            await h.settled()

    run(scenario())
    assert overlaps == []
    per_group: dict[str, list[str]] = {}
    for bodies in invoker.bodies():
        for body in bodies:
            per_group.setdefault(body[0], []).append(body)
    assert per_group == {g: [f"{g}{i}" for i in range(3)] for g in "ABC"}


def test_fifo_function_error_retries_the_group_in_order(hw: Headwater, clock: ManualClock) -> None:
    url = fifo_queue(hw, visibility=10)
    send_group(hw, url, "g", "a", "b")
    calls = 0

    def handler(event: dict[str, Any]) -> FakeResult:
        nonlocal calls
        calls += 1
        return function_error() if calls == 1 else ok()

    invoker = FakeInvoker(handler)

    async def scenario() -> None:
        async with PollerHarness(hw, clock, mapping("q.fifo", BatchSize=1), invoker) as h:
            await h.settled()
            send_group(hw, url, "g", "c")
            await h.settled()
            assert invoker.bodies() == [["a"]]  # b and c wait behind a
            await h.advance(10)
            await h.until(lambda: len(invoker.events) == 4)
            await h.settled()

    run(scenario())
    assert invoker.bodies() == [["a"], ["a"], ["b"], ["c"]]


def blocking_invoker(**kwargs: Any) -> tuple[FakeInvoker, asyncio.Event]:
    gate = asyncio.Event()

    async def handler(event: dict[str, Any]) -> FakeResult:
        await gate.wait()
        return ok()

    return FakeInvoker(handler, **kwargs), gate


def make_backlog(hw: Headwater, count: int) -> str:
    sqs = hw.client("sqs")
    url: str = sqs.create_queue(QueueName="q", Attributes={"VisibilityTimeout": "300"})["QueueUrl"]
    for start in range(0, count, 10):
        sqs.send_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(i), "MessageBody": f"m{i}"} for i in range(start, start + 10)],
        )
    return url


def test_scaling_starts_at_five_and_grows_with_time(hw: Headwater, clock: ManualClock) -> None:
    make_backlog(hw, 100)

    async def scenario() -> None:
        invoker, gate = blocking_invoker()
        policy = ScalingPolicy(initial=5, scale_up_per_minute=300)
        async with PollerHarness(hw, clock, mapping("q", BatchSize=1), invoker, policy) as h:
            await h.until(lambda: invoker.running == 5)
            await asyncio.sleep(0.01)
            assert invoker.running == 5
            clock.advance(2)  # 300/min -> +10 batches after 2 s
            await h.until(lambda: invoker.running == 15)
            await asyncio.sleep(0.01)
            assert invoker.running == 15
            gate.set()
            await h.until(lambda: len(invoker.events) == 100)
            await h.settled()
            assert h.poller is not None
            assert h.poller.scaler.target == 5  # queue empty: back to the start

    run(scenario())


def test_scaling_stops_at_maximum_concurrency(hw: Headwater, clock: ManualClock) -> None:
    make_backlog(hw, 60)

    async def scenario() -> None:
        invoker, gate = blocking_invoker()
        record = mapping("q", BatchSize=1, ScalingConfig={"MaximumConcurrency": 8})
        async with PollerHarness(hw, clock, record, invoker) as h:
            await h.until(lambda: invoker.running == 5)
            clock.advance(10)  # +50 at 300/min, but capped
            await h.until(lambda: invoker.running == 8)
            await asyncio.sleep(0.02)
            assert invoker.running == 8
            # at the cap the mapping stops receiving: no over-pull
            assert (
                queue_counts(hw, "arn:aws:sqs:us-east-1:000000000000:q")[
                    "ApproximateNumberOfMessagesNotVisible"
                ]
                == 8
            )
            gate.set()
            await h.until(lambda: len(invoker.events) == 60)
            await h.settled()
            assert h.poller is not None
            assert h.poller.metrics_snapshot().MaxConcurrentExecutions == 8

    run(scenario())


def test_reserved_concurrency_caps_the_mapping(hw: Headwater, clock: ManualClock) -> None:
    make_backlog(hw, 20)

    async def scenario() -> None:
        invoker, gate = blocking_invoker(reserved_concurrency=3)
        async with PollerHarness(hw, clock, mapping("q", BatchSize=1), invoker) as h:
            await h.until(lambda: invoker.running == 3)
            clock.advance(10)  # +50 at 300/min, but capped
            await asyncio.sleep(0.02)
            assert invoker.running == 3
            gate.set()
            await h.until(lambda: len(invoker.events) == 20)

    run(scenario())


def test_update_takes_effect_on_the_next_batch(hw: Headwater, clock: ManualClock) -> None:
    url = make_backlog(hw, 0)
    invoker = FakeInvoker()

    async def scenario() -> None:
        record = mapping("q", BatchSize=2)
        async with PollerHarness(hw, clock, record, invoker) as h:
            hw.client("sqs").send_message_batch(
                QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": f"a{i}"} for i in range(4)]
            )
            await h.until(lambda: len(invoker.events) == 2)
            await h.settled()
            assert h.poller is not None
            h.poller.reconfigure(
                record.with_changes(config=record.config.updated({"BatchSize": 4}))
            )
            hw.client("sqs").send_message_batch(
                QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": f"b{i}"} for i in range(4)]
            )
            await h.until(lambda: len(invoker.events) == 3)
            await h.settled()

    run(scenario())
    assert [len(b) for b in invoker.bodies()] == [2, 2, 4]


def test_stop_returns_in_flight_messages(hw: Headwater, clock: ManualClock) -> None:
    url = make_backlog(hw, 10)

    async def scenario() -> None:
        invoker, _gate = blocking_invoker()
        async with PollerHarness(hw, clock, mapping("q", BatchSize=5), invoker) as h:
            await h.until(lambda: invoker.running == 2)
            assert h.poller is not None
            await h.poller.stop(0.01)
        assert queue_counts(hw, url)["ApproximateNumberOfMessages"] == 10

    run(scenario())


def run(coroutine: Any) -> None:
    asyncio.run(coroutine)


def test_fifo_one_group_is_one_batch_at_a_time_from_the_first_receive(
    hw: Headwater, clock: ManualClock
) -> None:
    url = fifo_queue(hw)
    send_group(hw, url, "only", *[f"m{i}" for i in range(6)])

    async def scenario() -> None:
        invoker, gate = blocking_invoker()
        async with PollerHarness(hw, clock, mapping("q.fifo", BatchSize=2), invoker) as h:
            await h.until(lambda: invoker.running == 1)
            await asyncio.sleep(0.02)
            assert invoker.running == 1
            gate.set()
            await h.until(lambda: len(invoker.events) == 3)
            await h.settled()
        assert invoker.bodies() == [["m0", "m1"], ["m2", "m3"], ["m4", "m5"]]
        # no over-receive handed back: every message was received exactly once
        counts = {
            r["attributes"]["ApproximateReceiveCount"] for e in invoker.events for r in e["Records"]
        }
        assert counts == {"1"}

    run(scenario())


def test_reserved_concurrency_zero_invokes_nothing_until_raised(
    hw: Headwater, clock: ManualClock
) -> None:
    make_backlog(hw, 10)
    invoker = FakeInvoker(reserved_concurrency=0)

    async def scenario() -> None:
        async with PollerHarness(hw, clock, mapping("q", BatchSize=10), invoker) as h:
            await asyncio.sleep(0.05)
            assert invoker.events == []
            invoker.reserved_concurrency = 2  # PutFunctionConcurrency; re-read within 1 s
            await h.until(lambda: len(invoker.events) == 1, timeout=5)

    run(scenario())


def test_window_plus_timeout_stretches_the_visibility_timeout(
    hw: Headwater, clock: ManualClock
) -> None:
    url: str = hw.client("sqs").create_queue(QueueName="q", Attributes={"VisibilityTimeout": "30"})[
        "QueueUrl"
    ]
    hw.client("sqs").send_message(QueueUrl=url, MessageBody="a")
    calls = 0

    def handler(event: dict[str, Any]) -> FakeResult:
        nonlocal calls
        calls += 1
        return function_error() if calls == 1 else ok()

    invoker = FakeInvoker(handler, timeout=30)

    async def scenario() -> None:
        record = mapping("q", BatchSize=20, MaximumBatchingWindowInSeconds=5)
        async with PollerHarness(hw, clock, record, invoker) as h:
            await h.settled()
            await h.advance(5)  # window closes: invoked, fails
            await h.until(lambda: calls == 1)
            await h.settled()
            # window 5 + function timeout 30 > visibility 30: Lambda used 5 + 30 + 30 = 65 s
            await h.advance(59)
            assert calls == 1
            await h.advance(1)  # 65 s after the receive
            await h.advance(5)  # and its new window
            await h.until(lambda: calls == 2)

    run(scenario())
