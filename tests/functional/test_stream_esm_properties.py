"""Property: with random function failures, partial responses, throttles, bisects, batch
sizes and ParallelizationFactor, records of one partition key are never delivered out of
order nor two batches at once, and every record is either processed or reported to the
on-failure destination (nothing lost or skipped silently); the checkpoint ends at the tip."""

from __future__ import annotations

import asyncio
import random
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from headwater import Headwater, ManualClock
from headwater.esm.streams.lanes import lane_of
from tests.functional.esm_fakes import FakeInvoker, FakeResult, function_error, ok, throttled
from tests.functional.test_stream_esm_support import (
    StreamHarness,
    make_queue,
    make_stream,
    put,
    queue_bodies,
    stream_mapping,
)

KEYS = ["k0", "k1", "k2", "k3", "k4", "k5", "k6"]


class Recorder:
    """The fake function: random outcomes; remembers what was delivered and processed."""

    def __init__(self, rng: random.Random, failure_rate: float) -> None:
        self.rng = rng
        self.failure_rate = failure_rate
        self.in_flight_keys: set[str] = set()
        self.first_delivery: dict[str, list[int]] = {}
        self.delivered: set[int] = set()
        self.processed: set[int] = set()
        self.violations: list[str] = []

    def identify(self, record: dict[str, Any]) -> tuple[str, int]:
        """(partition key, sequence number) of an event record (other sources override)."""
        return record["kinesis"]["partitionKey"], int(record["kinesis"]["sequenceNumber"])

    async def handler(self, event: dict[str, Any]) -> FakeResult:
        records = [self.identify(r) for r in event["Records"]]
        keys = {k for k, _ in records}
        if keys & self.in_flight_keys:
            self.violations.append(f"keys {keys & self.in_flight_keys} in two batches at once")
        for key, seq in records:
            if seq not in self.delivered:
                self.delivered.add(seq)
                order = self.first_delivery.setdefault(key, [])
                if order and order[-1] > seq:
                    self.violations.append(f"{key}: {seq} first delivered after {order[-1]}")
                order.append(seq)
        self.in_flight_keys |= keys
        try:
            await asyncio.sleep(0)  # let other lanes run meanwhile
            roll = self.rng.random()
            if roll < self.failure_rate * 0.15:
                return throttled()
            if roll < self.failure_rate * 0.6:
                return function_error()
            if roll < self.failure_rate:
                failed = self.rng.choice(records)[1]
                self.processed.update(s for _, s in records if s < failed)
                ids = [
                    {"itemIdentifier": str(s)}
                    for _, s in records
                    if s >= failed and self.rng.random() < 0.5
                ] or [{"itemIdentifier": str(failed)}]
                lowest = min(int(i["itemIdentifier"]) for i in ids)
                self.processed.update(s for _, s in records if s < lowest)
                return ok({"batchItemFailures": ids})
            self.processed.update(s for _, s in records)
            return ok()
        finally:
            self.in_flight_keys -= keys


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    seed=st.integers(0, 2**32 - 1),
    count=st.integers(1, 60),
    batch_size=st.integers(1, 12),
    parallelization=st.integers(1, 10),
    bisect=st.booleans(),
    retries=st.sampled_from([-1, 0, 1, 3]),
    failure_rate=st.sampled_from([0.0, 0.3, 0.6]),
)
def test_order_per_key_and_nothing_lost(
    seed: int,
    count: int,
    batch_size: int,
    parallelization: int,
    bisect: bool,
    retries: int,
    failure_rate: float,
) -> None:
    rng = random.Random(seed)
    clock = ManualClock()
    hw = Headwater.in_memory(clock=clock)
    try:
        make_stream(hw)
        url, queue_arn = make_queue(hw)
        keys = [rng.choice(KEYS) for _ in range(count)]
        sequences: list[int] = []
        for key in keys:
            sequences += [int(s) for s in put(hw, f"{key}", key=key)]
        key_of = dict(zip(sequences, keys, strict=True))
        recorder = Recorder(rng, failure_rate if retries != -1 else min(failure_rate, 0.3))
        invoker = FakeInvoker(recorder.handler)
        record = stream_mapping(
            BatchSize=batch_size,
            ParallelizationFactor=parallelization,
            BisectBatchOnFunctionError=bisect,
            MaximumRetryAttempts=retries,
            FunctionResponseTypes=["ReportBatchItemFailures"],
            DestinationConfig={"OnFailure": {"Destination": queue_arn}},
        )

        async def scenario() -> str | None:
            async with StreamHarness(hw, clock, record, invoker, backoff_seconds=0.01) as h:
                await h.drain()
                return h.checkpoint()

        checkpoint = asyncio.run(scenario())
        assert recorder.violations == []
        assert checkpoint == str(sequences[-1])
        discarded: set[int] = set()
        for body in queue_bodies(hw, url):
            info = body["KinesisBatchInfo"]
            start, end = int(info["startSequenceNumber"]), int(info["endSequenceNumber"])
            lane = lane_of(key_of[start], parallelization)
            batch = {
                s
                for s in sequences
                if start <= s <= end and lane_of(key_of[s], parallelization) == lane
            }
            assert len(batch) == info["batchSize"]
            discarded |= batch
        if retries == -1:
            assert discarded == set()
        missing = set(sequences) - recorder.processed - discarded
        assert missing == set()
    finally:
        hw.close()
