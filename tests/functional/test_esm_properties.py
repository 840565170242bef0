"""Property tests: whatever the function does (succeed, fail, fail part of a batch, get
throttled), every message is processed, nothing is lost, and FIFO groups stay in order."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from headwater import Headwater, ManualClock
from headwater.testing import queue_counts
from tests.functional.esm_fakes import (
    FakeInvoker,
    FakeResult,
    PollerHarness,
    function_error,
    mapping,
    ok,
    throttled,
)

#: What the function does with a batch: ok, raise, report the first failing record (and,
#: on FIFO, everything after it), or get throttled.
Behaviour = st.sampled_from(["ok", "error", "partial", "throttle"])


def make_handler(
    plan: list[str],
    failures_left: dict[str, int],
    fifo: bool,
    completed: list[str],
    violations: list[str],
) -> Any:
    """The fake function; ``completed`` collects bodies whose processing succeeded,
    ``violations`` FIFO deliveries that skipped ahead of an unfinished message."""
    calls = 0

    def handler(event: dict[str, Any]) -> FakeResult:
        nonlocal calls
        behaviour = plan[calls % len(plan)]
        calls += 1
        records = event["Records"]
        if fifo:
            # (an assert here would be swallowed: the poller treats exceptions from the
            # invoker as service errors)
            violations.extend(fifo_violations(records, completed))
        if behaviour == "throttle":
            return throttled()
        if behaviour == "error":
            return function_error()
        if behaviour == "partial":
            for index, record in enumerate(records):
                body = record["body"]
                if failures_left.get(body, 0) > 0:
                    failures_left[body] -= 1
                    failed = records[index:] if fifo else [record]
                    completed.extend(r["body"] for r in records if r not in failed)
                    return ok(
                        {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in failed]}
                    )
        completed.extend(r["body"] for r in records)
        return ok()

    return handler


def fifo_violations(records: list[dict[str, Any]], completed: list[str]) -> list[str]:
    """A record of a group may arrive only after every earlier record of its group succeeded
    (or earlier in this same batch)."""
    done = set(completed)
    in_batch: set[str] = set()
    found = []
    for record in records:
        group, index = record["body"].split("-")
        for earlier in range(int(index)):
            body = f"{group}-{earlier}"
            if body not in done and body not in in_batch:
                found.append(f"{record['body']} before {body}")
        in_batch.add(record["body"])
    return found


def run_until_drained(h: PollerHarness, url: str, hw: Headwater) -> Any:
    """Let the poller work; whenever it waits for time (visibility timeouts, throttle
    backoff), move the clock one second."""

    async def drain() -> None:
        assert h.poller is not None
        for _ in range(5000):
            for _ in range(4):
                await asyncio.sleep(0)
            await asyncio.sleep(0.0002)
            if h.poller.asleep and sum(queue_counts(hw, url).values()) == 0:
                return
            h.clock.advance(1)
        raise AssertionError(f"not drained: {queue_counts(hw, url)}")

    return drain()


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    plan=st.lists(Behaviour, min_size=1, max_size=6),
    sizes=st.lists(st.integers(1, 6), min_size=1, max_size=3),
    batch_size=st.integers(1, 5),
    fail_counts=st.lists(st.integers(0, 2), min_size=12, max_size=12),
)
def test_fifo_order_and_no_loss(
    plan: list[str], sizes: list[int], batch_size: int, fail_counts: list[int]
) -> None:
    clock = ManualClock()
    with Headwater.in_memory(clock=clock) as hw:
        sqs = hw.client("sqs")
        url = sqs.create_queue(
            QueueName="p.fifo",
            Attributes={
                "FifoQueue": "true",
                "ContentBasedDeduplication": "true",
                "VisibilityTimeout": "30",
            },
        )["QueueUrl"]
        sent: dict[str, list[str]] = {}
        for g, size in enumerate(sizes):
            group = f"g{g}"
            sent[group] = [f"{group}-{i}" for i in range(size)]
            for body in sent[group]:
                sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId=group)
        bodies = [b for group in sent.values() for b in group]
        failures_left = dict(zip(bodies, fail_counts, strict=False))
        completed: list[str] = []
        violations: list[str] = []
        invoker = FakeInvoker(
            make_handler([*plan, "ok"], failures_left, True, completed, violations)
        )
        record = mapping(
            "p.fifo", BatchSize=batch_size, FunctionResponseTypes=["ReportBatchItemFailures"]
        )

        async def scenario() -> None:
            async with PollerHarness(hw, clock, record, invoker) as h:
                await run_until_drained(h, url, hw)

        asyncio.run(scenario())

    # every message succeeded once (each is deleted after it succeeds); per group,
    # deliveries never skip ahead (checked in the handler) and batches are contiguous
    assert violations == []
    assert sorted(completed) == sorted(bodies)
    seen = {b for event in invoker.events for b in (r["body"] for r in event["Records"])}
    assert seen == set(bodies)
    for event in invoker.events:
        per_group: dict[str, list[int]] = defaultdict(list)
        for r in event["Records"]:
            group, index = r["body"].split("-")
            per_group[group].append(int(index))
        for indexes in per_group.values():
            assert indexes == list(range(indexes[0], indexes[0] + len(indexes)))


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    plan=st.lists(Behaviour, min_size=1, max_size=6),
    count=st.integers(1, 40),
    batch_size=st.integers(1, 10),
    fail_counts=st.lists(st.integers(0, 3), min_size=40, max_size=40),
)
def test_standard_queue_processes_everything_at_least_once(
    plan: list[str], count: int, batch_size: int, fail_counts: list[int]
) -> None:
    clock = ManualClock()
    with Headwater.in_memory(clock=clock) as hw:
        sqs = hw.client("sqs")
        url = sqs.create_queue(QueueName="p", Attributes={"VisibilityTimeout": "30"})["QueueUrl"]
        bodies = [f"m{i}" for i in range(count)]
        for body in bodies:
            sqs.send_message(QueueUrl=url, MessageBody=body)
        failures_left = dict(zip(bodies, fail_counts, strict=False))
        completed: list[str] = []
        invoker = FakeInvoker(make_handler([*plan, "ok"], failures_left, False, completed, []))
        record = mapping(
            "p", BatchSize=batch_size, FunctionResponseTypes=["ReportBatchItemFailures"]
        )

        async def scenario() -> None:
            async with PollerHarness(hw, clock, record, invoker) as h:
                await run_until_drained(h, url, hw)
                assert h.poller is not None
                metrics = h.poller.metrics_snapshot()
                assert metrics.DeletedEventCount == count  # each deleted exactly once
                assert metrics.PolledEventCount >= count

        asyncio.run(scenario())

    assert set(completed) == set(bodies)
