"""The SQS poller: receive -> filter -> batch -> invoke -> settle, for one mapping.

One coroutine (``run``) receives messages while the mapping has spare concurrency and
hands each finished batch to its own task (``_process``): invoke, then settle. Everything
the queue does (visibility timeouts, receive counts, redrive to the DLQ, FIFO group
locking) stays the queue's job; the poller only decides what to delete.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from headwater.core.clock import Clock
from headwater.core.filtering import RecordFilter
from headwater.core.mapping_config import MappingConfig, compile_record_filter
from headwater.core.telemetry import NO_TELEMETRY, Telemetry
from headwater.esm.batching import Batch, BatchBuilder, PendingRecord
from headwater.esm.mapping_log import log_settlement, warn_visibility_lapsed
from headwater.esm.metrics import MappingMetrics, MappingMetricsSnapshot
from headwater.esm.pulse import Pulse
from headwater.esm.records import build_payload, encode_record, sqs_record
from headwater.esm.scaling import ConcurrencyScaler, ScalingPolicy
from headwater.esm.settle import BatchOutcome, classify, decide
from headwater.esm.sources import Invoker, QueueFacts, QueueSource
from headwater.store.mappings import MappingRecord

log = logging.getLogger(__name__)

#: First retry delay after a throttled or failed-to-start invoke, doubled each time.
THROTTLE_BACKOFF_SECONDS = 1.0
THROTTLE_BACKOFF_MAX_SECONDS = 30.0
#: Upper bound of one receive that fills several batches at once (standard queues).
MAX_MESSAGES_PER_RECEIVE = 500
#: Real seconds queue settings (visibility timeout, FIFO) are cached between receives.
FACTS_TTL_SECONDS = 1.0
#: Real seconds the function's timeout and reserved concurrency are cached.
LIMITS_TTL_SECONDS = 1.0
#: How long to wait before checking a queue that could not be read again.
SOURCE_ERROR_RETRY_SECONDS = 5.0

FilterFactory = Callable[[dict[str, Any] | None], RecordFilter | None]


def _sqs_filter(criteria: dict[str, Any] | None) -> RecordFilter | None:
    return compile_record_filter(criteria, "sqs")


class SqsPoller:
    """Runs one enabled SQS mapping on the engine's event loop."""

    def __init__(
        self,
        record: MappingRecord,
        source: QueueSource,
        invoker: Invoker,
        clock: Clock,
        loop: asyncio.AbstractEventLoop,
        *,
        policy: ScalingPolicy | None = None,
        filter_factory: FilterFactory = _sqs_filter,
        telemetry: Telemetry = NO_TELEMETRY,
        share: Callable[[int], int] | None = None,
    ) -> None:
        self.uuid = record.uuid
        self.telemetry = telemetry
        self.source = source
        self.invoker = invoker
        self.clock = clock
        self.metrics = MappingMetrics()
        self.pulse = Pulse(loop)
        self._filter_factory = filter_factory
        # With several engine nodes: this node's share of the mapping's concurrency.
        self.scaler = ConcurrencyScaler(
            policy or ScalingPolicy(), clock.now(), *(() if share is None else (share,))
        )
        self.builder = BatchBuilder(1, 0)
        self._in_flight: dict[asyncio.Task[None], Batch] = {}
        self._stopping = False
        self._backlog = False
        #: True only while the receive loop sleeps for lack of messages (see ``idle``).
        self._waiting = False
        self._wait_mark: asyncio.Future[None] | None = None
        #: Clock time of the last receive: visibility is asked relative to it.
        self._received_at = clock.now()
        self._facts: QueueFacts | None = None
        self._facts_read_at = 0.0
        self._limits_read_at = 0.0
        self._deletes: list[tuple[list[str], asyncio.Future[int]]] = []
        self._wake_at: float | None = None
        #: Delete flushes under way (a reference keeps each task alive).
        self._flushes: set[asyncio.Task[None]] = set()
        self._function_timeout: int | None = None
        self._warned_visibility = False
        self.mapping = record
        self._filter: RecordFilter | None = None
        self.reconfigure(record)

    # ------------------------------------------------------------------ configuration

    def reconfigure(self, record: MappingRecord) -> None:
        """Apply an updated mapping; takes effect from the next batch."""
        self.mapping = record
        config = record.config
        self._filter = self._filter_factory(config.filter_criteria)
        self.builder.configure(config.batch_size, config.window_seconds)
        self._refresh_function_limits()
        self.pulse.fire()

    def _refresh_function_limits(self) -> None:
        """Function timeout and reserved concurrency (PutFunctionConcurrency may change it)."""
        timeout, reserved = self.invoker.function_limits(self.mapping.function_arn)
        self._function_timeout = timeout
        self.scaler.configure(self.config.concurrency_cap, reserved)
        self._limits_read_at = time.monotonic()

    @property
    def config(self) -> MappingConfig:
        return self.mapping.config

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    @property
    def idle(self) -> bool:
        """Asleep for lack of messages, with nothing in flight or waiting to be batched.

        Read from other threads (test helpers): ``_waiting`` is only set at the await, so a
        receive half-way through its batching never looks idle.
        """
        return self._sleeping() and not self._in_flight and not self.builder.pending

    @property
    def asleep(self) -> bool:
        """Waiting for messages, a window to close or time to pass, nothing in flight."""
        return self._sleeping() and not self._in_flight

    def _sleeping(self) -> bool:
        """Waiting with no wake-up delivered yet (one may have landed before it resumes)."""
        mark = self._wait_mark
        return self._waiting and mark is not None and not mark.done()

    def wake_at(self) -> float | None:
        """Clock time the poller next has something to do without a wake-up (as of the
        last time it went to sleep)."""
        return self._wake_at

    def metrics_snapshot(self) -> MappingMetricsSnapshot:
        snapshot = self.metrics.snapshot()
        with contextlib.suppress(Exception):
            snapshot.ApproximateAgeOfOldestMessage = self.source.approximate_age_of_oldest_message()
        return snapshot

    # ------------------------------------------------------------------ the loop

    async def run(self) -> None:
        """Receive and dispatch batches until ``stop``."""
        unsubscribe = self.source.subscribe(self.pulse.fire_threadsafe)
        try:
            while not self._stopping:
                now = self.clock.now()
                if time.monotonic() - self._limits_read_at > LIMITS_TTL_SECONDS:
                    self._refresh_function_limits()
                if self._backlog:
                    self.scaler.observe_backlog(now)
                if self.in_flight >= self.scaler.target:
                    if self.scaler.target == 0:
                        # reserved concurrency 0: nothing may run; look again later
                        await self.pulse.wait(LIMITS_TTL_SECONDS)
                        continue
                    # A finishing batch, a config change or (with a backlog) the next
                    # scale-up step lets another batch go.
                    step = self.scaler.seconds_per_step if self._backlog else None
                    await self.pulse.sleep_until(self.clock, None if step is None else now + step)
                    continue
                batch = await self._next_batch()
                if batch is not None:
                    self._dispatch(batch)
        finally:
            unsubscribe()

    async def _next_batch(self) -> Batch | None:
        """Receive (and filter) until a batch is ready; ``None`` when stopping."""
        while not self._stopping:
            # Wake-ups from here on end the wait below, though receives await the store.
            mark = self.pulse.mark()
            now = self.clock.now()
            self._received_at = now
            received = 0
            try:
                wanted = self._wanted()
                if wanted > 0:
                    received = await self._receive(wanted, now)
            except Exception as error:  # queue deleted, database closing: retry later
                log.warning("mapping %s: cannot read %s: %s", self.uuid, self.source.arn, error)
                self._facts = None
                await self.pulse.sleep_until(self.clock, now + SOURCE_ERROR_RETRY_SECONDS)
                continue
            if self.builder.ready(now):
                return await self._take_batch(now)
            if received:
                continue  # the queue may hold more to fill the batch right away
            if not self._in_flight and not self.builder.pending:
                self.scaler.observe_empty(now)
            wake_at = self._wake_at = await self._next_wake_time()
            self._wait_mark = mark
            self._waiting = True
            try:
                await self.pulse.sleep_until(self.clock, wake_at, since=mark)
            finally:
                self._waiting = False
        return None

    async def _next_wake_time(self) -> float | None:
        """When to look again without a wake-up: window close or next message visible.

        Visibility is asked relative to the last receive, not the current time: a message
        that became visible after that receive (clock time moves on while we work, quickly
        under --time-scale) must wake us at once instead of being missed until a send.
        """
        after = self._received_at
        times = [self.builder.window_closes_at(), await self.source.next_visible_at(after)]
        known = [t for t in times if t is not None]
        return min(known) if known else None

    def _wanted(self) -> int:
        """How many messages to receive now.

        Enough for every free concurrency slot in one receive (one transaction) on standard
        queues; on FIFO queues one batch at a time, so no two batches share a group.
        """
        per_batch = self.config.batch_size
        fifo = self._current_facts().fifo
        free = 1 if fifo else max(1, self.scaler.target - self.in_flight)
        total = min(per_batch * free, max(per_batch, MAX_MESSAGES_PER_RECEIVE))
        return total - len(self.builder.pending)

    def _current_facts(self) -> QueueFacts:
        """Queue settings, re-read at most every ``FACTS_TTL_SECONDS`` of real time."""
        now = time.monotonic()
        if self._facts is None or now - self._facts_read_at > FACTS_TTL_SECONDS:
            self._facts = self.source.facts()
            self._facts_read_at = now
        return self._facts

    async def _receive(self, wanted: int, now: float) -> int:
        """One receive: records that pass the filter join the builder, others are deleted."""
        facts = self._current_facts()
        visibility = self._visibility_timeout(facts)
        messages = await self.source.receive(wanted, None if visibility is None else visibility)
        if not messages:
            self._backlog = False
            return 0
        self._backlog = len(messages) >= wanted
        if self._backlog:
            self.scaler.observe_backlog(now)
        hidden_until = now + (visibility or facts.visibility_timeout)
        keep: list[PendingRecord] = []
        filtered_out: list[str] = []
        for message in messages:
            record = sqs_record(message, facts.arn, facts.region)
            if self._filter is not None and not self._filter.keep(record):
                filtered_out.append(message.receipt_handle)
                self.telemetry.esm_filtered(self.uuid, (message.message_id,))
                continue
            keep.append(
                PendingRecord(
                    message_id=message.message_id,
                    receipt_handle=message.receipt_handle,
                    record=None,
                    encoded=encode_record(record),
                    group_id=message.attributes.get("MessageGroupId"),
                    sent_timestamp=message.sent_timestamp,
                    visible_again_at=hidden_until,
                )
            )
        if filtered_out:
            await self.source.delete(filtered_out)
        self.metrics.add(PolledEventCount=len(messages), FilteredOutEventCount=len(filtered_out))
        self.builder.add(keep, now)
        return len(messages)

    def _visibility_timeout(self, facts: QueueFacts) -> int | None:
        """AWS stretches visibility to window + function timeout + 30 s when needed (§3.2)."""
        window = self.config.window_seconds
        timeout = self._function_timeout
        if window > 0 and timeout is not None and window + timeout > facts.visibility_timeout:
            return window + timeout + 30
        return None

    async def _take_batch(self, now: float) -> Batch:
        batch = self.builder.take(now)
        if self.builder.pending and self._facts is not None and self._facts.fifo:
            # A FIFO batch cut by the 6 MB cap: hand the rest back so its groups stay in
            # order behind the in-flight batch instead of forming a concurrent one.
            leftovers = self.builder.drain()
            await self.source.change_visibility([r.receipt_handle for r in leftovers], 0)
        return batch

    def _dispatch(self, batch: Batch) -> None:
        task = asyncio.get_running_loop().create_task(self._process(batch))
        self._in_flight[task] = batch
        self.metrics.set_concurrency(self.in_flight, self.scaler.target)
        task.add_done_callback(self._batch_done)

    def _batch_done(self, task: asyncio.Task[None]) -> None:
        self._in_flight.pop(task, None)
        self.metrics.set_concurrency(self.in_flight, self.scaler.target)
        if not task.cancelled() and task.exception() is not None:
            log.error("mapping %s: batch failed", self.uuid, exc_info=task.exception())
        self.pulse.fire()

    # ------------------------------------------------------------------ invoke + settle

    async def _process(self, batch: Batch) -> None:
        """Invoke the function with the batch, then settle it."""
        started = time.monotonic()
        outcome = await self._invoke(batch, self.mapping)
        if not self._warned_visibility and batch.records:
            self._check_visibility(batch, time.monotonic() - started)
        settlement = decide(outcome, batch.message_ids, batch.receipt_handles)
        log_settlement(
            self.uuid, self.source.arn, self.mapping.function_arn, outcome, batch.records
        )
        deleted = await self._delete(settlement.delete) if settlement.delete else 0
        if settlement.function_failed:
            self.scaler.observe_function_error(self.clock.now())
        self.metrics.add(
            DeletedEventCount=deleted,
            FailedInvokeEventCount=settlement.failed_count,
            Errors=1 if settlement.function_failed else 0,
        )

    def _check_visibility(self, batch: Batch, real_seconds: float) -> None:
        """Warn once when messages became visible again before their invocation ended
        (a scaled visibility timeout shorter than the function's cold start, say)."""
        if self.clock.now() <= min(r.visible_again_at for r in batch.records):
            return
        self._warned_visibility = True
        facts = self._facts
        warn_visibility_lapsed(
            self.uuid,
            self.source.arn,
            facts.visibility_timeout if facts is not None else 0,
            real_seconds,
            getattr(self.clock, "time_scale", 1.0),
        )

    def _delete(self, receipt_handles: list[str]) -> asyncio.Future[int]:
        """Delete messages; batches settling in the same loop turn share one transaction."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[int] = loop.create_future()
        if not self._deletes:
            loop.call_soon(self._start_flush)
        self._deletes.append((receipt_handles, future))
        return future

    def _start_flush(self) -> None:
        task = asyncio.get_running_loop().create_task(self._flush_deletes())
        self._flushes.add(task)
        task.add_done_callback(self._flushes.discard)

    async def _flush_deletes(self) -> None:
        pending, self._deletes = self._deletes, []
        handles = [h for batch_handles, _ in pending for h in batch_handles]
        try:
            remaining = await self.source.delete(handles)
        except Exception as error:
            # Undeleted messages reappear after their visibility timeout: at least once.
            log.warning("mapping %s: delete failed: %s", self.uuid, error)
            for _, future in pending:
                future.set_result(0)
            return
        for batch_handles, future in pending:
            # stale handles (already redelivered) are skipped by the queue: count what was
            # really deleted, in order
            counted = min(len(batch_handles), remaining)
            remaining -= counted
            future.set_result(counted)

    async def _invoke(self, batch: Batch, mapping: MappingRecord) -> BatchOutcome:
        """Invoke until the result is not a throttle or a service error, or visibility runs out."""
        payload = build_payload([r.encoded for r in batch.records])
        give_up_at = min(r.visible_again_at for r in batch.records)
        delay = THROTTLE_BACKOFF_SECONDS
        while True:
            try:
                result = await self.invoker.invoke(mapping.function_arn, payload)
                outcome = classify(
                    result,
                    batch.message_ids,
                    report_item_failures=mapping.config.report_item_failures,
                )
                self.telemetry.esm_invoked(
                    self.uuid, mapping.function_arn, batch.message_ids, result,
                    outcome=outcome.kind, failed_ids=tuple(outcome.failed_ids),
                )  # fmt: skip
            except asyncio.CancelledError:
                raise
            except Exception as error:  # function gone, runtime down: a service error
                log.warning("mapping %s: invoke failed: %s", self.uuid, error)
                outcome = BatchOutcome("service_error", detail=str(error))
            if outcome.kind == "throttled":
                self.metrics.add(Throttles=1)
                self.scaler.observe_throttle(self.clock.now())
            elif outcome.kind != "service_error":
                self.metrics.add(Invocations=1, InvokedEventCount=len(batch))
            if not outcome.retry_invoke:
                return outcome
            retry_at = self.clock.now() + delay
            if retry_at >= give_up_at or self._stopping:
                return outcome  # messages reappear when their visibility timeout lapses
            await self.pulse.sleep_until(self.clock, retry_at)
            while self.clock.now() < retry_at and not self._stopping:
                await self.pulse.sleep_until(self.clock, retry_at)
            delay = min(delay * 2, THROTTLE_BACKOFF_MAX_SECONDS)

    # ------------------------------------------------------------------ shutdown

    async def stop(self, grace_seconds: float) -> None:
        """Stop receiving; let in-flight batches settle for ``grace_seconds`` (real time),
        then cancel the rest and make their messages visible again (nothing is lost)."""
        self._stopping = True
        self.pulse.fire()
        if self._in_flight:
            _, pending = await asyncio.wait(list(self._in_flight), timeout=grace_seconds)
            returned: list[str] = []
            for task in pending:
                batch = self._in_flight.get(task)
                task.cancel()
                if batch is not None:
                    returned.extend(batch.receipt_handles)
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
            if returned:
                await self._return_messages(returned)
        leftovers = self.builder.drain()
        if leftovers:
            await self._return_messages([r.receipt_handle for r in leftovers])

    async def _return_messages(self, receipt_handles: list[str]) -> None:
        try:
            await self.source.change_visibility(receipt_handles, 0)
        except Exception:  # the queue is gone or closed: messages reappear on their own
            log.warning("mapping %s: could not return %d messages", self.uuid, len(receipt_handles))
