"""The SQS poller on its own: real queues (memory and SQLite), a fake function.

Covers batching (size, window, 6 MB), settle (success, function error, timeout, partial
batch responses and their malformed forms), throttles, filtering, FIFO group order,
scaling and stop.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest

from headwater import Headwater, ManualClock
from headwater.esm.batching import MAX_PAYLOAD_BYTES
from headwater.testing import queue_counts
from headwater.wiring.adapters import LocalQueueSource
from tests.functional.esm_fakes import (
    FakeInvoker,
    PollerHarness,
    function_error,
    mapping,
    ok,
    raw,
    throttled,
)


def make_queue(hw: Headwater, name: str = "q", **attributes: str) -> str:
    url: str = hw.client("sqs").create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    return url


def send(hw: Headwater, url: str, *bodies: str, **extra: Any) -> None:
    sqs = hw.client("sqs")
    for body in bodies:
        sqs.send_message(QueueUrl=url, MessageBody=body, **extra)


def run(coroutine: Any) -> None:
    asyncio.run(coroutine)


# ----------------------------------------------------------------------------- batching


def test_window_zero_invokes_as_soon_as_messages_arrive(hw: Headwater, clock: ManualClock) -> None:
    url = make_queue(hw)
    invoker = FakeInvoker()

    async def scenario() -> None:
        async with PollerHarness(hw, clock, mapping("q"), invoker) as h:
            send(hw, url, "a")  # the send wakes the poller: no clock advance needed
            await h.until(lambda: len(invoker.events) == 1)
            await h.settled()

    run(scenario())
    assert invoker.bodies() == [["a"]]
    assert queue_counts(hw, url)["ApproximateNumberOfMessages"] == 0


def test_batch_goes_when_full_or_when_window_closes(hw: Headwater, clock: ManualClock) -> None:
    url = make_queue(hw)
    send(hw, url, *[f"m{i}" for i in range(25)])
    invoker = FakeInvoker()

    async def scenario() -> None:
        record = mapping("q", BatchSize=10, MaximumBatchingWindowInSeconds=20)
        async with PollerHarness(hw, clock, record, invoker) as h:
            await h.settled()
            assert [len(b) for b in invoker.bodies()] == [10, 10]  # full batches go at once
            await h.advance(19)
            assert len(invoker.events) == 2  # window still open
            await h.advance(1)
            assert [len(b) for b in invoker.bodies()] == [10, 10, 5]

    run(scenario())
    assert sorted(b for batch in invoker.bodies() for b in batch) == sorted(
        f"m{i}" for i in range(25)
    )


def test_window_collects_messages_sent_while_open(hw: Headwater, clock: ManualClock) -> None:
    url = make_queue(hw)
    invoker = FakeInvoker()

    async def scenario() -> None:
        record = mapping("q", BatchSize=100, MaximumBatchingWindowInSeconds=5)
        async with PollerHarness(hw, clock, record, invoker) as h:
            send(hw, url, "a")
            await h.settled()  # received: the window opens now
            await h.advance(2)
            send(hw, url, "b", "c")
            await h.settled()
            await h.advance(2)
            assert invoker.events == []
            await h.advance(1)
            await h.until(lambda: len(invoker.events) == 1)

    run(scenario())
    assert invoker.bodies() == [["a", "b", "c"]]


def test_batch_is_cut_before_the_6mb_payload_limit(hw: Headwater, clock: ManualClock) -> None:
    url = make_queue(hw)
    big = "x" * 1_000_000
    send(hw, url, *[big] * 7)
    invoker = FakeInvoker()

    async def scenario() -> None:
        record = mapping("q", BatchSize=10, MaximumBatchingWindowInSeconds=30)
        async with PollerHarness(hw, clock, record, invoker) as h:
            await h.until(lambda: len(invoker.events) == 1)
            await h.advance(30)
            await h.until(lambda: len(invoker.events) == 2)

    run(scenario())
    assert [len(b) for b in invoker.bodies()] == [6, 1]
    assert all(size <= MAX_PAYLOAD_BYTES for size in invoker.payload_sizes)
    # record metadata counts: 6 bodies alone are 6,000,000 bytes, the payload is more
    assert invoker.payload_sizes[0] > 6_000_000


# ----------------------------------------------------------------------------- settle


def test_function_error_deletes_nothing_and_messages_return_after_visibility(
    hw: Headwater, clock: ManualClock
) -> None:
    url = make_queue(hw, VisibilityTimeout="30")
    send(hw, url, "a", "b")
    outcomes = [function_error(), ok()]
    invoker = FakeInvoker(lambda event: outcomes.pop(0))

    async def scenario() -> None:
        async with PollerHarness(hw, clock, mapping("q"), invoker) as h:
            await h.settled()
            assert queue_counts(hw, url)["ApproximateNumberOfMessagesNotVisible"] == 2
            await h.advance(29)
            assert len(invoker.events) == 1  # no retry before the visibility timeout
            await h.advance(1)
            await h.until(lambda: len(invoker.events) == 2)
            await h.settled()
            snapshot = h.poller.metrics_snapshot() if h.poller else None
            assert snapshot is not None
            assert snapshot.Errors == 1
            assert snapshot.FailedInvokeEventCount == 2
            assert snapshot.DeletedEventCount == 2

    run(scenario())
    second = invoker.events[1]["Records"]
    assert [r["attributes"]["ApproximateReceiveCount"] for r in second] == ["2", "2"]
    assert invoker.events[0]["Records"][0]["receiptHandle"] != second[0]["receiptHandle"]
    assert sum(queue_counts(hw, url).values()) == 0


def test_timeout_is_a_function_error(hw: Headwater, clock: ManualClock) -> None:
    url = make_queue(hw, VisibilityTimeout="30")
    send(hw, url, "a")
    invoker = FakeInvoker(lambda event: function_error("Sandbox.Timedout"))

    async def scenario() -> None:
        async with PollerHarness(hw, clock, mapping("q"), invoker) as h:
            await h.settled()

    run(scenario())
    assert queue_counts(hw, url)["ApproximateNumberOfMessagesNotVisible"] == 1


def test_partial_batch_response_keeps_only_listed_messages(
    hw: Headwater, clock: ManualClock
) -> None:
    url = make_queue(hw, VisibilityTimeout="30")
    send(hw, url, "good1", "bad", "good2")

    def handler(event: dict[str, Any]) -> Any:
        failed = [
            {"itemIdentifier": r["messageId"]} for r in event["Records"] if r["body"] == "bad"
        ]
        return ok({"batchItemFailures": failed})

    invoker = FakeInvoker(handler)

    async def scenario() -> None:
        record = mapping("q", FunctionResponseTypes=["ReportBatchItemFailures"])
        async with PollerHarness(hw, clock, record, invoker) as h:
            await h.settled()
            assert queue_counts(hw, url)["ApproximateNumberOfMessagesNotVisible"] == 1
            await h.advance(30)
            await h.until(lambda: len(invoker.events) == 2)

    run(scenario())
    assert invoker.bodies() == [["good1", "bad", "good2"], ["bad"]]


def test_the_mapping_log_names_the_messages_a_batch_reported_failed(
    hw: Headwater, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    url = make_queue(hw, VisibilityTimeout="30")
    send(hw, url, "good", "bad")

    def handler(event: dict[str, Any]) -> Any:
        failed = [
            {"itemIdentifier": r["messageId"]} for r in event["Records"] if r["body"] == "bad"
        ]
        return ok({"batchItemFailures": failed})

    invoker = FakeInvoker(handler)

    async def scenario() -> None:
        record = mapping("q", FunctionResponseTypes=["ReportBatchItemFailures"])
        async with PollerHarness(hw, clock, record, invoker) as h:
            await h.settled()
            await h.advance(30)
            await h.until(lambda: len(invoker.events) == 2)
            await h.settled()

    with caplog.at_level(logging.INFO, logger="headwater.mappings"):
        run(scenario())
    bad = next(r["messageId"] for r in invoker.events[0]["Records"] if r["body"] == "bad")
    lines = [r.getMessage() for r in caplog.records if r.name == "headwater.mappings"]
    assert lines == [
        f"mapping {mapping('q').uuid} (q -> fake): {n} of {n_batch} messages reported failed "
        f"(batchItemFailures): {bad} (receive {receive}); they return to the queue when "
        "their visibility timeout lapses"
        for n, n_batch, receive in ((1, 2, 1), (1, 1, 2))
    ]


def test_a_visibility_timeout_that_lapses_during_the_invocation_is_warned_once(
    hw: Headwater, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    url = make_queue(hw, VisibilityTimeout="30")
    send(hw, url, "a")

    def slow(event: dict[str, Any]) -> Any:
        clock.advance(31)  # a cold start longer than the visibility timeout
        return ok()

    async def scenario() -> None:
        async with PollerHarness(hw, clock, mapping("q"), FakeInvoker(slow)) as h:
            await h.settled()
            send(hw, url, "b")
            await h.until(lambda: sum(queue_counts(hw, url).values()) == 0)

    with caplog.at_level(logging.WARNING, logger="headwater.mappings"):
        run(scenario())
    warnings = [r.getMessage() for r in caplog.records if r.name == "headwater.mappings"]
    assert len(warnings) == 1
    assert "longer than the queue's visibility timeout (30 s)" in warnings[0]


def test_batch_item_failures_are_ignored_without_report_batch_item_failures(
    hw: Headwater, clock: ManualClock
) -> None:
    url = make_queue(hw)
    send(hw, url, "a", "b")
    invoker = FakeInvoker(
        lambda event: ok(
            {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
        )
    )

    async def scenario() -> None:
        async with PollerHarness(hw, clock, mapping("q"), invoker) as h:
            await h.settled()

    run(scenario())
    assert sum(queue_counts(hw, url).values()) == 0


SUCCESS_BODIES = [
    b"null",
    b"",
    b'""',
    b"{}",
    b"[]",
    b'{"batchItemFailures": []}',
    b'{"batchItemFailures": null}',
]
FAILURE_BODIES = [
    b"not json",
    b'{"batchItemFailures": [{"itemIdentifier": ""}]}',
    b'{"batchItemFailures": [{"itemIdentifier": null}]}',
    b'{"batchItemFailures": [{}]}',
    b'{"batchItemFailures": [{"itemIdentifier": 5}]}',
    b'{"batchItemFailures": [{"foo": "bar"}]}',
    b'{"batchItemFailures": [{"itemIdentifier": "not-in-batch"}]}',
]


@pytest.mark.parametrize(
    ("body", "deleted"),
    [(b, True) for b in SUCCESS_BODIES] + [(b, False) for b in FAILURE_BODIES],
)
def test_report_batch_item_failures_response_forms(
    hw: Headwater, clock: ManualClock, body: bytes, deleted: bool
) -> None:
    url = make_queue(hw)
    send(hw, url, "a", "b")
    invoker = FakeInvoker(lambda event: raw(body))

    async def scenario() -> None:
        record = mapping("q", FunctionResponseTypes=["ReportBatchItemFailures"])
        async with PollerHarness(hw, clock, record, invoker) as h:
            await h.settled()

    run(scenario())
    left = queue_counts(hw, url)["ApproximateNumberOfMessagesNotVisible"]
    assert left == (0 if deleted else 2)


def test_throttles_are_retried_with_backoff_and_not_counted_as_failures(
    hw: Headwater, clock: ManualClock
) -> None:
    url = make_queue(hw, VisibilityTimeout="60")
    send(hw, url, "a")
    outcomes = [throttled(), throttled(), ok()]
    invoker = FakeInvoker(lambda event: outcomes.pop(0))

    async def scenario() -> None:
        async with PollerHarness(hw, clock, mapping("q"), invoker) as h:
            await h.until(lambda: len(invoker.events) == 1)
            h.clock.advance(1)  # first backoff: 1 s
            await h.until(lambda: len(invoker.events) == 2)
            h.clock.advance(2)  # then 2 s
            await h.until(lambda: len(invoker.events) == 3)
            await h.settled()
            assert h.poller is not None
            snapshot = h.poller.metrics_snapshot()
            assert (snapshot.Throttles, snapshot.Invocations, snapshot.Errors) == (2, 1, 0)

    run(scenario())
    # the same receive served every retry: the receive count did not grow
    assert {e["Records"][0]["attributes"]["ApproximateReceiveCount"] for e in invoker.events} == {
        "1"
    }
    assert sum(queue_counts(hw, url).values()) == 0


def test_throttled_until_visibility_timeout_gives_messages_back(
    hw: Headwater, clock: ManualClock
) -> None:
    url = make_queue(hw, VisibilityTimeout="5")
    send(hw, url, "a")
    invoker = FakeInvoker(lambda event: throttled())

    async def scenario() -> None:
        async with PollerHarness(hw, clock, mapping("q"), invoker) as h:
            await h.until(lambda: len(invoker.events) == 1)
            h.clock.advance(1)
            await h.until(lambda: len(invoker.events) == 2)
            h.clock.advance(2)  # t=3; the next retry (t=7) would pass the deadline (t=5)
            await h.until(lambda: len(invoker.events) == 3)
            await h.settled()
            assert len(invoker.events) == 3
            h.clock.advance(2)  # visibility lapses: received again, count 2
            await h.until(lambda: len(invoker.events) == 4)

    run(scenario())
    assert invoker.events[3]["Records"][0]["attributes"]["ApproximateReceiveCount"] == "2"


# ----------------------------------------------------------------------------- filtering


def test_filtered_out_messages_are_deleted_without_invoking(
    hw: Headwater, clock: ManualClock
) -> None:
    url = make_queue(hw)
    send(hw, url, json.dumps({"kind": "order"}), json.dumps({"kind": "noise"}), "plain")
    invoker = FakeInvoker()
    criteria = {"Filters": [{"Pattern": json.dumps({"body": {"kind": ["order"]}})}]}

    async def scenario() -> None:
        async with PollerHarness(hw, clock, mapping("q", FilterCriteria=criteria), invoker) as h:
            await h.settled()
            assert h.poller is not None
            snapshot = h.poller.metrics_snapshot()
            assert snapshot.PolledEventCount == 3
            assert snapshot.FilteredOutEventCount == 2
            assert snapshot.InvokedEventCount == 1

    run(scenario())
    assert invoker.bodies() == [[json.dumps({"kind": "order"})]]
    assert sum(queue_counts(hw, url).values()) == 0


def test_nothing_matching_means_no_invocation(hw: Headwater, clock: ManualClock) -> None:
    url = make_queue(hw)
    send(hw, url, json.dumps({"kind": "noise"}))
    invoker = FakeInvoker()
    criteria = {"Filters": [{"Pattern": json.dumps({"body": {"kind": ["order"]}})}]}

    async def scenario() -> None:
        async with PollerHarness(hw, clock, mapping("q", FilterCriteria=criteria), invoker) as h:
            await h.settled()

    run(scenario())
    assert invoker.events == []
    assert sum(queue_counts(hw, url).values()) == 0


class SilentClock(ManualClock):
    """A ManualClock that can also move without waking anyone, like real (or scaled) time
    passing while the poller is busy inside a call."""

    def drift(self, seconds: float) -> None:
        self._now += seconds


def test_message_visible_again_during_a_receive_is_not_missed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Regression: the poller asked for the next visibility time relative to the clock
    # *after* its receive, so a message that became visible in between was neither
    # received nor a reason to wake, and it waited for the next send (seen under
    # --time-scale 60 in the CLI walkthrough).
    clock = SilentClock()
    with Headwater.in_memory(clock=clock) as app:
        url = make_queue(app, VisibilityTimeout="30")
        send(app, url, "a")
        outcomes = [function_error(), ok()]
        invoker = FakeInvoker(lambda event: outcomes.pop(0))
        receive = LocalQueueSource.receive
        drifted = False

        async def receive_while_time_passes(
            source: LocalQueueSource, *args: Any, **kwargs: Any
        ) -> Any:
            nonlocal drifted
            got = await receive(source, *args, **kwargs)
            # the first empty receive after the failed invoke (settled by then: the fake
            # function answers at once and the poller awaits between receives)
            if not got and not drifted and invoker.events:
                drifted = True
                clock.drift(30)  # the failed message is visible again, silently
            return got

        monkeypatch.setattr(LocalQueueSource, "receive", receive_while_time_passes)

        async def scenario() -> None:
            async with PollerHarness(app, clock, mapping("q"), invoker) as h:
                await h.until(lambda: len(invoker.events) == 2)

        run(scenario())
        assert drifted
        assert [r["body"] for e in invoker.events for r in e["Records"]] == ["a", "a"]
