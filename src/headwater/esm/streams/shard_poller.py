"""One shard of a stream mapping: read -> filter -> lanes/batch -> invoke -> settle -> checkpoint.

``run`` is a single loop: it reads while the lanes have room, hands every lane whose batch
is ready to a settle task (``stream_settle``), and sleeps until a put, a settled batch, a
window closing, a retry backoff ending or (AWS-cadence mode) the next poll. It returns
once a closed shard is read and settled to its end (its children may start).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from headwater.core.clock import Clock
from headwater.core.filtering import RecordFilter
from headwater.core.telemetry import Telemetry
from headwater.esm.batching import PendingRecord
from headwater.esm.pulse import Pulse
from headwater.esm.records import build_payload
from headwater.esm.settle import InvocationLike
from headwater.esm.sources import Invoker
from headwater.esm.streams.destinations import (
    OnFailureDestination,
    failure_record,
    s3_object_key,
)
from headwater.esm.streams.lanes import Lane, Ledger, lane_of
from headwater.esm.streams.metrics import StreamMetrics
from headwater.esm.streams.settings import StreamSettings
from headwater.esm.streams.source import ShardInfo, StreamRecord, StreamSource
from headwater.esm.streams.stream_settle import BatchSettler, Discard
from headwater.esm.streams.windows import TumblingWindows
from headwater.store.checkpoints import Checkpoint, CheckpointStore
from headwater.store.leases import Lease, LeaseLost

log = logging.getLogger(__name__)

#: How long to wait before reading a shard again after the source failed.
SOURCE_ERROR_RETRY_SECONDS = 5.0
OK_RESULT = "OK"
FAILED_RESULT = "PROBLEM: Function call failed"


@dataclass(frozen=True, slots=True)
class _NotInvoked:
    """An invoke that raised before reaching the function: retried like a service error."""

    status: str = "service_error"
    payload: bytes = b""
    function_error: str | None = None


class ShardOwner(Protocol):
    """What a shard poller reads from its mapping's poller."""

    uuid: str
    source: StreamSource
    invoker: Invoker
    clock: Clock
    checkpoints: CheckpointStore
    metrics: StreamMetrics
    settings: StreamSettings
    record_filter: RecordFilter | None
    destination: OnFailureDestination
    role_arn: str
    #: Clock seconds between polls of an idle shard (AWS cadence), ``None``: wake on put.
    poll_interval: float | None
    stopping: bool
    #: Where record journeys are reported.
    telemetry: Telemetry

    def processing_result(self, result: str) -> None: ...

    def lease_lost(self, shard_id: str) -> None: ...


class ShardPoller:
    """Reads one shard and keeps its checkpoint; see the module docstring."""

    def __init__(
        self,
        owner: ShardOwner,
        shard: ShardInfo,
        loop: asyncio.AbstractEventLoop,
        *,
        from_start: bool = False,
        lease: Lease | None = None,
    ) -> None:
        self.owner = owner
        #: The shard's lease when several nodes may run the mapping: fences checkpoints.
        self.lease = lease
        #: Set once the lease moved to another node: the loop ends, nothing more is saved.
        self.lost = False
        #: A child of shards this mapping finished: read all of it, whatever the
        #: StartingPosition (which only applies to the shards found at the start).
        self.from_start = from_start
        self.shard = shard
        self.shard_id = shard.shard_id
        self.pulse = Pulse(loop)
        self.ledger = Ledger()
        settings = owner.settings
        lanes = 1 if settings.tumbling_window else settings.parallelization
        self.lanes = [Lane(i, settings.batch_size, settings.window_seconds) for i in range(lanes)]
        self.windows = (
            TumblingWindows(settings.tumbling_window) if settings.tumbling_window else None
        )
        self._tasks: set[asyncio.Task[None]] = set()
        self._cursor: str | None = None
        self._start_applies = True
        self._end_reached = False
        self._next_read_at: float | None = None
        self._read_error_until: float | None = None
        #: True while the loop sleeps (see ``asleep``).
        self.waiting = False
        self._wait_mark: asyncio.Future[None] | None = None
        self.finished = False

    # ------------------------------------------------------------------ observation

    @property
    def asleep(self) -> bool:
        """Waiting (for records, a window, a backoff or a poll) with no invoke running."""
        if not self._sleeping():
            return False
        now = self.owner.clock.now()
        return all(
            lane.retry_at is not None and lane.retry_at > now for lane in self.lanes if lane.busy
        )

    @property
    def idle(self) -> bool:
        """Nothing read and unsettled: every record read so far is behind the checkpoint."""
        return (
            self._sleeping() and not len(self.ledger) and not any(lane.busy for lane in self.lanes)
        )

    def _sleeping(self) -> bool:
        """Waiting with no wake-up delivered yet (one may land before the loop resumes)."""
        mark = self._wait_mark
        return self.waiting and mark is not None and not mark.done()

    def wake_at(self) -> float | None:
        """The next future clock time the loop has something to do without a wake-up.

        Times already past are left out: a due backoff wakes its own task, and a due read
        or window that waits for a lane wakes with that lane's settle.
        """
        times = [lane.retry_at for lane in self.lanes if lane.retry_at is not None]
        times += [
            t
            for lane in self.lanes
            if not lane.busy and (t := lane.builder.window_closes_at()) is not None
        ]
        times += [t for t in (self._next_read_at, self._read_error_until) if t is not None]
        if self.windows is not None and not self.lanes[0].busy:
            closes = self.windows.closes_at()
            if closes is not None:
                times.append(closes)
        now = self.owner.clock.now()
        future = [t for t in times if t > now]
        return min(future) if future else None

    # ------------------------------------------------------------------ the loop

    async def run(self) -> None:
        """Process the shard until it is finished or the mapping stops."""
        owner = self.owner
        self._restore(owner.checkpoints.get(owner.uuid, self.shard_id))
        while not owner.stopping and not self.finished and not self.lost:
            # Wake-ups from here on end the wait below, though the read awaits the store.
            mark = self.pulse.mark()
            now = owner.clock.now()
            read = await self._read(now) if self._should_read(now) else 0
            self._dispatch(now)
            if self.windows is not None:
                self._close_window(now)
            if self._end_reached and self._all_settled():
                self._finish()
                break
            if read:
                await asyncio.sleep(0)  # let settle tasks run between reads
                continue
            self._wait_mark = mark
            self.waiting = True
            try:
                await self.pulse.sleep_until(owner.clock, self.wake_at(), since=mark)
            finally:
                self.waiting = False

    def _restore(self, checkpoint: Checkpoint | None) -> None:
        """Resume after the checkpoint, or apply the starting position (first run only)."""
        owner = self.owner
        if checkpoint is not None:
            self._cursor = checkpoint.sequence_number
            self._start_applies = False
            self.finished = checkpoint.finished
            if self.windows is not None:
                self.windows.restore(checkpoint.window)
            return
        start = owner.settings.start
        if self.from_start:
            self._start_applies = False  # from the trim horizon
        elif start.kind == "LATEST":
            # Pin "now" durably so a restart does not skip what arrived in between.
            self._cursor = owner.source.latest(self.shard_id)
            self._start_applies = False
            self._save(Checkpoint(self.shard_id, self._cursor))

    def _should_read(self, now: float) -> bool:
        if self._end_reached:
            return False
        if self._read_error_until is not None and now < self._read_error_until:
            return False
        if self._next_read_at is not None and now < self._next_read_at:
            return False
        batch_size = self.owner.settings.batch_size
        # Back-pressure: a lane blocked by a failing batch stops the shard's reads, and so
        # does a checkpoint lagging behind lanes that ran ahead (bounded memory, and a
        # bounded number of records re-read after a crash).
        if len(self.ledger) >= self._unsettled_limit():
            return False
        return all(lane.pending < batch_size for lane in self.lanes)

    def _unsettled_limit(self) -> int:
        """Most records read and not yet behind the checkpoint: two batches per lane."""
        return 2 * self.owner.settings.batch_size * len(self.lanes)

    async def _read(self, now: float) -> int:
        """One read of the shard; records go to their lanes (filtered ones settle at once)."""
        owner = self.owner
        settings = owner.settings
        limit = min(
            10_000,
            settings.batch_size * len(self.lanes),
            self._unsettled_limit() - len(self.ledger),
        )
        try:
            records, end = await owner.source.read(
                self.shard_id, self._cursor, limit, settings.start if self._start_applies else None
            )
        except Exception as error:
            log.warning("mapping %s: cannot read %s: %s", owner.uuid, self.shard_id, error)
            self._read_error_until = now + SOURCE_ERROR_RETRY_SECONDS
            return 0
        self._read_error_until = None
        self._end_reached = end
        if owner.poll_interval is not None:
            # AWS polls an idle shard once per interval, and again at once while it finds
            # records.
            self._next_read_at = None if records else now + owner.poll_interval
        if not records:
            return 0
        self._cursor = records[-1].sequence_number
        self._start_applies = False
        self._accept(records, now)
        return len(records)

    def _accept(self, records: Sequence[StreamRecord], now: float) -> None:
        owner = self.owner
        keep_filter = owner.record_filter
        filtered: list[str] = []
        lanes = self.lanes
        for record in records:
            self.ledger.add(record.sequence_number)
            shaped, encoded = owner.source.event_record(record, self.shard_id, owner.role_arn)
            if keep_filter is not None and not keep_filter.keep(shaped):
                filtered.append(record.sequence_number)
                continue
            pending = PendingRecord(
                message_id=record.sequence_number,
                receipt_handle=self.shard_id,
                record=shaped,
                encoded=encoded,
                group_id=record.partition_key,
                sent_timestamp=record.approximate_arrival,
                visible_again_at=float("inf"),
            )
            lanes[lane_of(record.partition_key, len(lanes))].builder.add([pending], now)
        owner.metrics.add(PolledEventCount=len(records), FilteredOutEventCount=len(filtered))
        if filtered:
            self._settled_sequences(filtered)
            owner.telemetry.esm_filtered(owner.uuid, filtered)

    def _dispatch(self, now: float) -> None:
        """Start a settle task for every free lane whose batch is ready."""
        for lane in self.lanes:
            if lane.busy or not lane.builder.ready(now):
                continue
            if self.windows is not None:
                batch = self.windows.take(lane.builder, now)
                if not batch:
                    continue
            else:
                batch = lane.builder.take(now).records
            lane.batch = batch
            task = asyncio.get_running_loop().create_task(self._settle(lane, batch))
            self._tasks.add(task)
            task.add_done_callback(self._settle_done)

    def _settle_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("mapping %s: settle failed", self.owner.uuid, exc_info=task.exception())
        self.pulse.fire()

    async def _settle(self, lane: Lane, batch: list[PendingRecord]) -> None:
        hooks = _LaneHooks(self, lane)
        try:
            await BatchSettler(self.owner.settings.policy, hooks).settle(batch)
        finally:
            lane.batch = None
            lane.retry_at = None

    def _all_settled(self) -> bool:
        if len(self.ledger) or any(lane.busy or lane.pending for lane in self.lanes):
            return False
        return self.windows is None or not self.windows.open

    def _finish(self) -> None:
        """The closed shard is read and settled to its end: children may start."""
        if self._save(Checkpoint(self.shard_id, self._cursor, finished=True)):
            self.finished = True

    # ------------------------------------------------------------------ settling

    def _settled_sequences(self, sequence_numbers: Sequence[str]) -> None:
        checkpoint = self.ledger.settle(sequence_numbers)
        if checkpoint is not None:
            window = None if self.windows is None else self.windows.snapshot()
            self._save(Checkpoint(self.shard_id, checkpoint, window=window))

    def _save(self, checkpoint: Checkpoint) -> bool:
        """Save a checkpoint, fenced by the shard's lease; ``False`` once it is lost."""
        if self.lost:
            return False
        owner = self.owner
        try:
            owner.checkpoints.save(owner.uuid, checkpoint, fence=self.lease)
        except LeaseLost:
            log.info("mapping %s: %s is another node's now", owner.uuid, self.shard_id)
            self.lost = True
            owner.lease_lost(self.shard_id)
            self.pulse.fire()
            return False
        return True

    def _close_window(self, now: float) -> None:
        assert self.windows is not None
        lane = self.lanes[0]
        if lane.busy or not self.windows.should_close(now, lane.builder, self._end_reached):
            return
        lane.batch = []
        task = asyncio.get_running_loop().create_task(self._final_invoke(lane))
        self._tasks.add(task)
        task.add_done_callback(self._settle_done)

    async def _final_invoke(self, lane: Lane) -> None:
        """The window's last invocation (``isFinalInvokeForWindow``), retried until it works."""
        assert self.windows is not None
        hooks = _LaneHooks(self, lane)
        try:
            await self.windows.finish(hooks, self.owner.settings.policy)
            window = self.windows.snapshot()
            self._save(Checkpoint(self.shard_id, self._checkpointed(), window=window))
        finally:
            lane.batch = None
            lane.retry_at = None

    def _checkpointed(self) -> str | None:
        found = self.owner.checkpoints.get(self.owner.uuid, self.shard_id)
        return None if found is None else found.sequence_number

    async def stop(self, grace_seconds: float) -> None:
        """Let running invokes finish for ``grace_seconds``; unsettled records are re-read
        after a restart (the checkpoint never passed them)."""
        self.pulse.fire()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=grace_seconds)
        await self._stop_tasks()

    async def _stop_tasks(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)


class _LaneHooks:
    """``stream_settle.SettleHooks`` for one lane of a shard poller."""

    def __init__(self, shard: ShardPoller, lane: Lane) -> None:
        self.shard = shard
        self.lane = lane
        self.owner = shard.owner

    def now(self) -> float:
        return self.owner.clock.now()

    async def invoke(self, records: Sequence[PendingRecord]) -> InvocationLike:
        owner, shard = self.owner, self.shard
        metrics = owner.metrics
        windows = shard.windows
        if windows is not None:
            payload = windows.payload(
                records, shard.shard_id, owner.source.arn, final=windows.final
            )
        else:
            payload = build_payload([r.encoded for r in records])
        if records:
            age_ms = (self.now() - records[-1].sent_timestamp) * 1000.0
            metrics.iterator_age(shard.shard_id, max(0.0, age_ms))
        metrics.concurrency(1)
        try:
            result: InvocationLike = await owner.invoker.invoke(
                owner.settings.function_arn, payload
            )
        except asyncio.CancelledError:
            raise
        except Exception as error:  # the function is gone, the runtime failed to start...
            log.warning("mapping %s: invoke failed: %s", owner.uuid, error)
            result = _NotInvoked()
        finally:
            metrics.concurrency(-1)
        self._count(result, len(records))
        failed = result.status != "ok" or bool(result.function_error)
        owner.telemetry.esm_invoked(
            owner.uuid, owner.settings.function_arn, [r.message_id for r in records], result,
            outcome="function_error" if failed else "success",
        )  # fmt: skip
        if windows is not None and result.status == "ok":
            result = windows.accept_response(result)
        return result

    def _count(self, result: InvocationLike, count: int) -> None:
        metrics = self.owner.metrics
        if result.status == "throttled":
            metrics.add(Throttles=1)
            return
        if result.status == "service_error":
            return
        metrics.add(Invocations=1, InvokedEventCount=count)
        if result.status == "function_error" or result.function_error:
            metrics.add(Errors=1, FailedInvokeEventCount=count)
            self.owner.processing_result(FAILED_RESULT)
        else:
            self.owner.processing_result(OK_RESULT)

    def settled(self, records: Sequence[PendingRecord]) -> None:
        self.shard._settled_sequences([r.message_id for r in records])

    def trimmed(self, records: Sequence[PendingRecord]) -> list[PendingRecord]:
        """The leading records older than the stream's retention (arrival order)."""
        try:
            cutoff = self.owner.source.retention_cutoff(self.now())
        except Exception:
            return []
        if cutoff is None:
            return []
        gone: list[PendingRecord] = []
        for record in records:
            if record.sent_timestamp >= cutoff:
                break
            gone.append(record)
        return gone

    async def discard(self, discard: Discard) -> None:
        owner = self.owner
        count = len(discard.records)
        destination = owner.destination
        if destination.arn is None:
            owner.metrics.add(DroppedEventCount=count)
            return
        body = failure_record(
            discard,
            function_arn=owner.settings.function_arn,
            shard_id=self.shard.shard_id,
            source=owner.source,
            now=self.now(),
        )
        payload = object_key = None
        if destination.is_s3:
            payload = build_payload([r.encoded for r in discard.records])
            object_key = s3_object_key(owner.uuid, self.shard.shard_id, self.now())
        if destination.deliver(body, payload=payload, object_key=object_key):
            owner.metrics.add(OnFailureDestinationDeliveredEventCount=count)
        else:
            owner.metrics.add(DestinationDeliveryFailures=1, DroppedEventCount=count)

    async def wait(self, seconds: float) -> None:
        """Back off in clock time; a stopping mapping abandons the batch (re-read later)."""
        owner, lane, pulse = self.owner, self.lane, self.shard.pulse
        deadline = owner.clock.now() + seconds
        lane.retry_at = deadline
        pulse.fire()  # the loop may now count the lane as asleep
        try:
            while owner.clock.now() < deadline:
                if owner.stopping:
                    raise asyncio.CancelledError
                await pulse.sleep_until(owner.clock, deadline)
        finally:
            lane.retry_at = None
