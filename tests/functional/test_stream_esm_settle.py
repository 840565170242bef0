"""The settle algorithm alone (``stream_settle.BatchSettler``) with scripted outcomes:
split points, attempt counting across bisects and partial responses, what is reported."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

import orjson

from headwater.esm.batching import PendingRecord
from headwater.esm.settle import InvocationLike
from headwater.esm.streams.stream_settle import BatchSettler, Discard, RetryPolicy, bisect
from tests.functional.esm_fakes import FakeResult, function_error, ok, throttled


def records(count: int, arrival: float = 100.0) -> list[PendingRecord]:
    return [
        PendingRecord(str(1000 + i), "shard", {}, b"{}", "k", arrival, float("inf"))
        for i in range(count)
    ]


class ScriptedHooks:
    """Answers invokes from a function of the batch; records everything."""

    def __init__(self, answer: Callable[[list[str]], FakeResult], now: float = 100.0) -> None:
        self.answer = answer
        self.clock = now
        self.invoked: list[list[str]] = []
        self.settled_ids: list[str] = []
        self.discards: list[Discard] = []
        self.waits: list[float] = []

    def now(self) -> float:
        return self.clock

    async def invoke(self, batch: Sequence[PendingRecord]) -> InvocationLike:
        ids = [r.message_id for r in batch]
        self.invoked.append(ids)
        return self.answer(ids)

    def settled(self, batch: Sequence[PendingRecord]) -> None:
        self.settled_ids.extend(r.message_id for r in batch)

    async def discard(self, discard: Discard) -> None:
        self.discards.append(discard)

    async def wait(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.clock += seconds

    def trimmed(self, batch: Sequence[PendingRecord]) -> list[PendingRecord]:
        return []


def settle(policy: RetryPolicy, hooks: ScriptedHooks, batch: list[PendingRecord]) -> None:
    asyncio.run(BatchSettler(policy, hooks).settle(batch))


def test_bisect_first_half_is_the_larger() -> None:
    first, second = bisect(records(5))
    assert [len(first), len(second)] == [3, 2]
    assert bisect(records(2))[0][0].message_id == "1000"


def test_bisect_recurses_to_single_records_in_order() -> None:
    hooks = ScriptedHooks(lambda ids: function_error() if "1003" in ids else ok())
    settle(RetryPolicy(maximum_retry_attempts=0, bisect=True), hooks, records(5))
    assert hooks.invoked == [
        ["1000", "1001", "1002", "1003", "1004"],
        ["1000", "1001", "1002"],
        ["1003", "1004"],
        ["1003"],
        ["1004"],
    ]
    (discard,) = hooks.discards
    assert [r.message_id for r in discard.records] == ["1003"]
    assert discard.invoke_count == 1 and discard.function_error == "Unhandled"
    assert hooks.settled_ids == ["1000", "1001", "1002", "1003", "1004"]


def test_backoff_doubles_and_throttles_are_not_attempts() -> None:
    answers = [throttled(), function_error(), throttled(), function_error(), function_error()]
    hooks = ScriptedHooks(lambda ids: answers.pop(0))
    settle(RetryPolicy(maximum_retry_attempts=2), hooks, records(1))
    assert len(hooks.invoked) == 5
    assert hooks.waits == [1.0, 2.0, 4.0, 8.0]
    (discard,) = hooks.discards
    assert discard.invoke_count == 3


def test_partial_response_counts_as_an_attempt_and_reports_no_function_error() -> None:
    def answer(ids: list[str]) -> FakeResult:
        return ok({"batchItemFailures": [{"itemIdentifier": "1002"}]})

    hooks = ScriptedHooks(answer)
    settle(RetryPolicy(maximum_retry_attempts=1, report_item_failures=True), hooks, records(4))
    assert hooks.invoked == [["1000", "1001", "1002", "1003"], ["1002", "1003"]]
    (discard,) = hooks.discards
    assert [r.message_id for r in discard.records] == ["1002", "1003"]
    assert discard.invoke_count == 2 and discard.function_error is None
    assert hooks.settled_ids == ["1000", "1001", "1002", "1003"]


def test_record_age_discards_only_the_expired_records_before_an_invoke() -> None:
    batch = [
        PendingRecord("1", "s", {}, b"{}", "k", 0.0, 0.0),
        PendingRecord("2", "s", {}, b"{}", "k", 50.0, 0.0),
        PendingRecord("3", "s", {}, b"{}", "k", 90.0, 0.0),
    ]
    hooks = ScriptedHooks(lambda ids: ok(), now=120.0)
    settle(RetryPolicy(maximum_record_age=60), hooks, batch)
    (discard,) = hooks.discards
    assert [r.message_id for r in discard.records] == ["1", "2"]
    assert discard.condition == "RecordAgeExceeded" and discard.invoke_count == 1
    assert hooks.invoked == [["3"]]


def test_unknown_item_identifier_fails_the_whole_batch() -> None:
    payload = orjson.dumps({"batchItemFailures": [{"itemIdentifier": "999"}]})
    hooks = ScriptedHooks(lambda ids: FakeResult(payload=payload))
    settle(RetryPolicy(maximum_retry_attempts=0, report_item_failures=True), hooks, records(2))
    (discard,) = hooks.discards
    assert len(discard.records) == 2 and discard.function_error is None
