"""Tumbling windows (reference §4.6): state carried between invocations of a window, the
final invocation, early termination on a large state, and the window in the checkpoint."""

from __future__ import annotations

import asyncio
from typing import Any

from headwater import Headwater, ManualClock
from headwater.esm.batching import MAX_PAYLOAD_BYTES
from tests.functional.esm_fakes import FakeInvoker, FakeResult, ok
from tests.functional.test_stream_esm_support import (
    StreamHarness,
    datas,
    make_stream,
    put,
    stream_mapping,
)

S0 = "shardId-000000000000"


def counting(event: dict[str, Any]) -> FakeResult:
    state = dict(event["state"])
    state["count"] = state.get("count", 0) + len(event["Records"])
    return ok({"state": state})


def test_state_is_carried_and_the_window_ends_with_a_final_invoke(
    hw: Headwater, clock: ManualClock
) -> None:
    arn = make_stream(hw)
    clock.set(1_700_000_040.0)  # a window boundary for 60 s windows
    invoker = FakeInvoker(counting)
    record = stream_mapping(BatchSize=2, TumblingWindowInSeconds=60)

    async def scenario() -> None:
        async with StreamHarness(hw, clock, record, invoker) as h:
            put(hw, "a", "b", "c")
            await h.until(lambda: len(invoker.events) == 2)
            await h.settled()
            await h.advance(10)
            put(hw, "d")
            await h.until(lambda: len(invoker.events) == 3)
            await h.settled()
            assert h.poller is not None
            saved = h.host.checkpoints.get(h.record.uuid, S0)
            assert saved is not None and saved.window is not None
            assert saved.window["state"] == {"count": 4}
            await h.advance(50)  # the window is over
            await h.until(lambda: len(invoker.events) == 4)
            await h.settled()
            put(hw, "e")  # next window starts with a fresh state
            await h.until(lambda: len(invoker.events) == 5)

    run = asyncio.run
    run(scenario())
    events = invoker.events
    assert [datas(e) for e in events] == [["a", "b"], ["c"], ["d"], [], ["e"]]
    assert [e["state"] for e in events] == [{}, {"count": 2}, {"count": 3}, {"count": 4}, {}]
    assert [e["isFinalInvokeForWindow"] for e in events] == [False, False, False, True, False]
    assert all(e["isWindowTerminatedEarly"] is False for e in events)
    assert events[0]["window"] == {"start": "2023-11-14T22:14:00Z", "end": "2023-11-14T22:15:00Z"}
    assert events[4]["window"]["start"] == "2023-11-14T22:15:00Z"
    assert events[0]["shardId"] == S0 and events[0]["eventSourceARN"] == arn
    assert list(events[0]) == [
        "Records",
        "window",
        "state",
        "shardId",
        "eventSourceARN",
        "isFinalInvokeForWindow",
        "isWindowTerminatedEarly",
    ]


def test_a_response_without_state_fails_the_invocation(hw: Headwater, clock: ManualClock) -> None:
    make_stream(hw)
    answers = [ok({"state": {"n": 1}}), ok(None)]
    invoker = FakeInvoker(lambda event: answers.pop() if answers else ok({"state": {}}))

    async def scenario() -> None:
        record = stream_mapping(TumblingWindowInSeconds=60, MaximumRetryAttempts=5)
        async with StreamHarness(hw, clock, record, invoker) as h:
            put(hw, "a")
            await h.until(lambda: len(invoker.events) == 1)
            await h.settled()
            await h.advance(1)  # backoff, then the retry
            await h.until(lambda: len(invoker.events) == 2)

    asyncio.run(scenario())
    assert [datas(e) for e in invoker.events] == [["a"], ["a"]]


def test_a_large_state_ends_the_window_early(hw: Headwater, clock: ManualClock) -> None:
    make_stream(hw)
    clock.set(1_700_000_040.0)

    def big(event: dict[str, Any]) -> FakeResult:
        return ok({"state": {"blob": "x" * 1_100_000}}) if event["Records"] else ok({"state": {}})

    invoker = FakeInvoker(big)

    async def scenario() -> None:
        record = stream_mapping(BatchSize=1, TumblingWindowInSeconds=60)
        async with StreamHarness(hw, clock, record, invoker) as h:
            put(hw, "a", "b")
            await h.until(lambda: len(invoker.events) >= 2)
            await h.settled()

    asyncio.run(scenario())
    events = invoker.events
    assert datas(events[0]) == ["a"]
    assert events[1]["isFinalInvokeForWindow"] is True
    assert events[1]["isWindowTerminatedEarly"] is True


def test_windowed_payloads_stay_within_6_mb_with_their_state(
    hw: Headwater, clock: ManualClock
) -> None:
    make_stream(hw)
    clock.set(1_700_000_040.0)
    put(hw, *[b"x" * 900_000 for _ in range(10)])

    def keep_big_state(event: dict[str, Any]) -> FakeResult:
        return ok({"state": {"blob": "y" * 900_000}})

    invoker = FakeInvoker(keep_big_state)

    async def scenario() -> None:
        record = stream_mapping(BatchSize=100, TumblingWindowInSeconds=60)
        async with StreamHarness(hw, clock, record, invoker) as h:
            await h.until(lambda: sum(len(e["Records"]) for e in invoker.events) == 10)

    asyncio.run(scenario())
    assert all(size <= MAX_PAYLOAD_BYTES for size in invoker.payload_sizes)
    # 5 records of 1.2 MB fill a payload; with the 0.9 MB state only 4 do
    assert [len(e["Records"]) for e in invoker.events] == [5, 4, 1]
