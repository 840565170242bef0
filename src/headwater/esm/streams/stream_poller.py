"""The poller of one stream mapping (``engine.Poller``): shards, their order and lifecycle.

It runs a ``ShardPoller`` for every readable shard whose parents are finished (a split's
child after its parent, a merge's child after both parents), starts new shards as they
appear, and forwards puts and clock moves to the shard that needs them. Checkpoints live
in the mapping store's database (``store.checkpoints``); ``StartingPosition`` only
applies to shards that have none.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from headwater.core.clock import Clock
from headwater.core.filtering import RecordFilter
from headwater.core.mapping_config import compile_record_filter
from headwater.core.telemetry import NO_TELEMETRY, Telemetry
from headwater.esm.leases import NodeMembership, ShardLeases
from headwater.esm.metrics import MappingMetricsSnapshot
from headwater.esm.pulse import Pulse
from headwater.esm.sources import Invoker
from headwater.esm.streams.destinations import DestinationSender, OnFailureDestination
from headwater.esm.streams.metrics import StreamMetrics
from headwater.esm.streams.settings import StreamSettings
from headwater.esm.streams.shard_poller import ShardPoller
from headwater.esm.streams.source import StreamSource
from headwater.esm.streams.stream_settle import RETRY_BACKOFF_MAX_SECONDS, RETRY_BACKOFF_SECONDS
from headwater.store.checkpoints import CheckpointStore
from headwater.store.mappings import MappingRecord

log = logging.getLogger(__name__)

#: Real seconds between shard listings (new shards after a reshard) on a running clock.
DISCOVERY_INTERVAL_SECONDS = 1.0


class _FanOutPulse(Pulse):
    """The mapping's pulse (the engine fires it on clock moves): wakes every shard too."""

    def __init__(self, loop: asyncio.AbstractEventLoop, shards: dict[str, ShardPoller]) -> None:
        super().__init__(loop)
        self._shards = shards

    def fire(self) -> None:
        super().fire()
        for shard in list(self._shards.values()):
            shard.pulse.fire()


class StreamMappingHost:
    """What a stream poller needs from its surroundings besides source and invoker."""

    def __init__(
        self,
        *,
        checkpoints: CheckpointStore,
        destinations: DestinationSender | None,
        function_role: Callable[[str], str],
        processing_result: Callable[[str, str], None],
        mapping_exists: Callable[[str], bool],
        poll_interval: float | None = None,
        backoff_seconds: float = RETRY_BACKOFF_SECONDS,
        backoff_max_seconds: float = RETRY_BACKOFF_MAX_SECONDS,
        filter_kind: str = "kinesis",
        membership: NodeMembership | None = None,
        telemetry: Telemetry = NO_TELEMETRY,
    ) -> None:
        self.telemetry = telemetry
        self.checkpoints = checkpoints
        self.destinations = destinations
        self.function_role = function_role
        self.processing_result = processing_result
        self.mapping_exists = mapping_exists
        self.poll_interval = poll_interval
        self.backoff_seconds = backoff_seconds
        self.backoff_max_seconds = backoff_max_seconds
        self.filter_kind = filter_kind
        #: Set when several nodes may run the mapping: shards are then leased.
        self.membership = membership


class StreamPoller:
    """Runs one enabled stream mapping on the engine's event loop."""

    def __init__(
        self,
        record: MappingRecord,
        source: StreamSource,
        invoker: Invoker,
        clock: Clock,
        loop: asyncio.AbstractEventLoop,
        *,
        host: StreamMappingHost,
    ) -> None:
        self.uuid = record.uuid
        self.source = source
        self.invoker = invoker
        self.clock = clock
        self.loop = loop
        self.host = host
        self.telemetry = host.telemetry
        self.checkpoints = host.checkpoints
        self.poll_interval = host.poll_interval
        self.metrics = StreamMetrics()
        self.shards: dict[str, ShardPoller] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self.pulse: Pulse = _FanOutPulse(loop, self.shards)
        self.stopping = False
        self._restart_shards = False
        self._waiting = False
        self._last_result: str | None = None
        self.settings = self._settings(record)
        self.record_filter: RecordFilter | None = None
        self.destination = OnFailureDestination(host.destinations, None)
        self.role_arn = ""
        self.leases = None if host.membership is None else ShardLeases(host.membership, record.uuid)
        self.reconfigure(record)

    def _settings(self, record: MappingRecord) -> StreamSettings:
        return StreamSettings.from_record(
            record,
            backoff_seconds=self.host.backoff_seconds,
            backoff_max_seconds=self.host.backoff_max_seconds,
        )

    # ------------------------------------------------------------------ configuration

    def reconfigure(self, record: MappingRecord) -> None:
        """Apply an updated mapping from the next batch; a new ParallelizationFactor or
        tumbling window restarts the shard pollers from their checkpoints."""
        old = self.settings
        self.settings = settings = self._settings(record)
        self.record_filter = compile_record_filter(
            settings.filter_criteria,
            "kinesis" if self.host.filter_kind == "kinesis" else "dynamodb",
        )
        self.destination = OnFailureDestination(self.host.destinations, settings.destination)
        self.role_arn = self.host.function_role(settings.function_arn)
        if (old.parallelization, old.tumbling_window, old.batch_size, old.window_seconds) != (
            settings.parallelization,
            settings.tumbling_window,
            settings.batch_size,
            settings.window_seconds,
        ):
            self._restart_shards = True
        self.pulse.fire()

    def processing_result(self, result: str) -> None:
        """Record ``LastProcessingResult`` when it changes (one store write per change)."""
        if result != self._last_result:
            self._last_result = result
            try:
                self.host.processing_result(self.uuid, result)
            except Exception:  # the mapping was just deleted
                log.debug("mapping %s: cannot record processing result", self.uuid)

    # ------------------------------------------------------------------ observation

    @property
    def idle(self) -> bool:
        return self._waiting and all(s.idle or s.finished for s in self.shards.values())

    @property
    def asleep(self) -> bool:
        return self._waiting and all(s.asleep or s.finished for s in self.shards.values())

    def wake_at(self) -> float | None:
        times = [t for s in self.shards.values() if (t := s.wake_at()) is not None]
        return min(times) if times else None

    def metrics_snapshot(self) -> MappingMetricsSnapshot:
        return self.metrics.snapshot()

    # ------------------------------------------------------------------ the loop

    async def run(self) -> None:
        """Start shard pollers as shards become readable, until ``stop``."""
        unsubscribe = self.source.subscribe(self._records_added)
        try:
            while not self.stopping:
                if self._restart_shards:
                    self._restart_shards = False
                    await self._stop_shards(grace_seconds=30.0)
                await self._discover()
                self._waiting = True
                try:
                    if self.leases is not None:
                        # leases are renewed and rebalanced in real time, whatever the clock
                        await self.pulse.wait(self.leases.membership.interval)
                    else:
                        delay = self.clock.real_delay(DISCOVERY_INTERVAL_SECONDS)
                        await self.pulse.wait(None if delay is None else DISCOVERY_INTERVAL_SECONDS)
                finally:
                    self._waiting = False
        finally:
            unsubscribe()

    def _records_added(self, shard_id: str) -> None:
        """A put (any thread): wake that shard, or rediscover if it is new to us."""
        with contextlib.suppress(RuntimeError):  # the loop closed: nobody is waiting
            self.loop.call_soon_threadsafe(self._wake_shard, shard_id)

    def _wake_shard(self, shard_id: str) -> None:
        shard = self.shards.get(shard_id)
        if shard is not None:
            shard.pulse.fire()
        else:
            # A new child shard: its parents may have ended unnoticed (no puts reach a
            # closed shard), so every shard looks again.
            self.pulse.fire()

    async def _discover(self) -> None:
        """Start a shard poller for every readable shard this node may read (with leases:
        those it holds after this tick), and stop those whose lease moved elsewhere."""
        try:
            shards = self.source.shards()
            checkpoints = self.checkpoints.list(self.uuid)
        except Exception as error:
            log.warning("mapping %s: cannot list shards: %s", self.uuid, error)
            return
        finished = {shard_id for shard_id, c in checkpoints.items() if c.finished}
        readable = [
            shard
            for shard in shards
            if shard.shard_id not in finished
            and all(parent in finished for parent in shard.parent_shard_ids)
        ]
        leases = self.leases
        if leases is not None:
            try:
                _, lost = await leases.tick([s.shard_id for s in readable])
            except Exception as error:
                log.warning("mapping %s: cannot renew shard leases: %s", self.uuid, error)
                return
            for shard_id in lost:
                await self._stop_shard(shard_id)
        for shard in readable:
            if shard.shard_id in self.shards:
                continue
            lease = None
            if leases is not None:
                lease = leases.held.get(shard.shard_id)
                if lease is None:
                    continue
            poller = ShardPoller(
                self, shard, self.loop, from_start=bool(shard.parent_shard_ids), lease=lease
            )
            self.shards[shard.shard_id] = poller
            task = self.loop.create_task(poller.run())
            self._tasks[shard.shard_id] = task
            task.add_done_callback(self._shard_done)

    async def _stop_shard(self, shard_id: str) -> None:
        """Another node has this shard now: stop reading it (its checkpoint is fenced)."""
        shard = self.shards.get(shard_id)
        if shard is None:
            return
        log.info("mapping %s: %s moved to another node", self.uuid, shard_id)
        shard.lost = True
        await shard.stop(grace_seconds=0.0)
        task = self._tasks.get(shard_id)
        if task is not None:
            await asyncio.gather(task, return_exceptions=True)

    def lease_lost(self, shard_id: str) -> None:
        """A fenced checkpoint save failed: the shard is another node's (from a shard)."""
        if self.leases is not None:
            self.leases.drop(shard_id)

    def _shard_done(self, task: asyncio.Task[None]) -> None:
        for shard_id, known in list(self._tasks.items()):
            if known is task:
                del self._tasks[shard_id]
                self.shards.pop(shard_id, None)
        if not task.cancelled() and task.exception() is not None:
            log.error("mapping %s: shard poller crashed", self.uuid, exc_info=task.exception())
        self.pulse.fire()  # children of a finished shard may start now

    async def _stop_shards(self, grace_seconds: float) -> None:
        shards = list(self.shards.values())
        stopping, self.stopping = self.stopping, True
        for shard in shards:
            shard.pulse.fire()
        await asyncio.gather(*(s.stop(grace_seconds) for s in shards), return_exceptions=True)
        tasks = list(self._tasks.values())
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self.shards.clear()
        self._tasks.clear()
        self.stopping = stopping

    async def stop(self, grace_seconds: float) -> None:
        """Stop reading; running invokes get ``grace_seconds``; checkpoints stay (a deleted
        mapping's are removed)."""
        self.stopping = True
        await self._stop_shards(grace_seconds)
        self.stopping = True
        self.pulse.fire()
        if self.leases is not None:
            await self.leases.release_all()
        if not self.host.mapping_exists(self.uuid):
            self.checkpoints.delete_mapping(self.uuid)
            if self.leases is not None:
                self.leases.store.delete(self.leases.prefix)
