"""The ESM engine: runs a poller for every enabled mapping on one asyncio loop.

It follows a ``MappingFeed`` (the Lambda service's mappings): every committed
Create/Update/Delete (and Lambda-initiated state change) reaches ``_reconcile``, which
starts, reconfigures or stops that mapping's poller. Pollers are made per source kind by
the factories registered with ``register_poller_kind``; the composition root
(``headwater.wiring``) registers the local SQS, Kinesis and DynamoDB Streams ones. The
engine itself knows no service: only these interfaces.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from typing import Any, Protocol

from headwater.core.clock import Clock
from headwater.core.mapping_config import source_kind
from headwater.esm.leases import NodeMembership
from headwater.esm.metrics import MappingMetricsSnapshot
from headwater.esm.pulse import Pulse
from headwater.store.mappings import MappingRecord

log = logging.getLogger(__name__)

#: Real seconds before a crashed poller is started again.
POLLER_RESTART_DELAY_SECONDS = 1.0
#: Real seconds ``stop()`` lets in-flight batches finish before returning their messages.
DEFAULT_STOP_GRACE_SECONDS = 10.0


class Poller(Protocol):
    """What the engine needs from a per-mapping poller (SQS, Kinesis, DynamoDB Streams)."""

    uuid: str
    pulse: Pulse

    async def run(self) -> None: ...
    async def stop(self, grace_seconds: float) -> None: ...
    def reconfigure(self, record: MappingRecord) -> None: ...
    @property
    def idle(self) -> bool: ...
    @property
    def asleep(self) -> bool: ...
    def wake_at(self) -> float | None: ...
    def metrics_snapshot(self) -> MappingMetricsSnapshot: ...


class MappingFeed(Protocol):
    """Where mappings come from (the Lambda service's mapping store)."""

    def list_mapping_records(self) -> list[MappingRecord]: ...

    def get_mapping_record(self, uuid: str) -> MappingRecord | None: ...

    def add_mapping_listener(self, callback: Callable[[str], None]) -> Callable[[], None]:
        """Call ``callback(uuid)`` (any thread) after a mapping changed; returns unsubscribe."""
        ...


#: Makes the poller of one enabled mapping, on the engine's loop.
PollerFactory = Callable[[MappingRecord, asyncio.AbstractEventLoop], Poller]


_HEAP_FROZEN = False


def _freeze_startup_heap() -> None:
    """Once per process: collect, then move everything alive (botocore models, services,
    stores: they live as long as the process) out of the garbage collector's reach.

    Full collections otherwise re-walk that heap and cost a third of the engine's CPU at
    high message rates. Only servers ask for it (``esm_gc_freeze``): an embedding
    process's heap is its own business.
    """
    global _HEAP_FROZEN
    if _HEAP_FROZEN:
        return
    _HEAP_FROZEN = True
    gc.collect()
    gc.freeze()


class EsmEngine:
    """All pollers of one headwater, on a loop of their own or one given by the server."""

    def __init__(
        self,
        feed: MappingFeed,
        clock: Clock,
        *,
        stop_grace_seconds: float = DEFAULT_STOP_GRACE_SECONDS,
        gc_freeze: bool = False,
        membership: NodeMembership | None = None,
    ) -> None:
        self.feed = feed
        self.clock = clock
        self.stop_grace_seconds = stop_grace_seconds
        self.gc_freeze = gc_freeze
        #: This node among the engine nodes sharing the database (heartbeat, leases).
        self.membership = membership
        self.loop: asyncio.AbstractEventLoop | None = None
        self._own_thread: threading.Thread | None = None
        self._factories: dict[str, PollerFactory] = {}
        self._pollers: dict[str, Poller] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._unsubscribes: list[Callable[[], None]] = []
        self._reconcile_lock: asyncio.Lock | None = None
        self._state_lock = threading.Lock()
        self.running = False

    def register_poller_kind(self, kind: str, factory: PollerFactory) -> None:
        """Run mappings whose source is of ``kind`` ("sqs", "kinesis", "dynamodb")."""
        self._factories[kind] = factory

    # ------------------------------------------------------------------ lifecycle (sync)

    def start(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        """Run the engine on ``loop``, or on a new loop in a background thread."""
        with self._state_lock:
            if self.running:
                return
            self.running = True
        if loop is None:
            loop = asyncio.new_event_loop()
            ready = threading.Event()

            def run_loop() -> None:
                asyncio.set_event_loop(loop)
                loop.call_soon(ready.set)
                loop.run_forever()
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()

            self._own_thread = threading.Thread(target=run_loop, name="headwater-esm", daemon=True)
            self._own_thread.start()
            ready.wait()
        self.loop = loop
        self._run_on_loop(self.astart())

    def stop(self, timeout: float | None = None) -> None:
        """Stop every poller; in-flight batches settle or their messages are returned."""
        with self._state_lock:
            if not self.running or self.loop is None or self.loop.is_closed():
                self.running = False
                return
            self.running = False
        loop = self.loop
        grace = self.stop_grace_seconds if timeout is None else timeout
        self._run_on_loop(self.astop(grace), wait=grace + 30.0)
        if self._own_thread is not None:
            loop.call_soon_threadsafe(loop.stop)
            self._own_thread.join(timeout=30.0)
            self._own_thread = None

    def _run_on_loop(self, coroutine: Coroutine[Any, Any, None], wait: float = 30.0) -> None:
        assert self.loop is not None
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self.loop or not self.loop.is_running():
            # Called from the loop's own thread (the wire server), or before the loop runs:
            # cannot wait for it; the coroutine runs as soon as the loop does.
            asyncio.run_coroutine_threadsafe(coroutine, self.loop)
            return
        future: Future[None] = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        future.result(timeout=wait)

    # ------------------------------------------------------------------ lifecycle (async)

    async def astart(self) -> None:
        """Subscribe to mapping changes and clock moves; start every enabled mapping."""
        self.loop = asyncio.get_running_loop()
        if self.gc_freeze:
            _freeze_startup_heap()
        if self.membership is not None:
            self.membership.start()
        self._reconcile_lock = asyncio.Lock()
        self._unsubscribes.append(self.feed.add_mapping_listener(self._mapping_changed))
        self._unsubscribes.append(self.clock.subscribe(self._clock_moved))
        for record in self.feed.list_mapping_records():
            await self._reconcile(record.uuid)

    async def astop(self, grace_seconds: float = DEFAULT_STOP_GRACE_SECONDS) -> None:
        """Stop all pollers (the wire server awaits this on its own loop)."""
        with self._state_lock:
            self.running = False
        for unsubscribe in self._unsubscribes:
            unsubscribe()
        self._unsubscribes.clear()
        uuids = list(self._pollers)
        await asyncio.gather(*(self._stop_poller(u, grace_seconds) for u in uuids))
        if self.membership is not None:
            await self.membership.stop()

    def _mapping_changed(self, uuid: str) -> None:
        loop = self.loop
        if loop is None or loop.is_closed():
            return

        def schedule() -> None:
            if self.running:
                loop.create_task(self._reconcile(uuid))

        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(schedule)

    def _clock_moved(self) -> None:
        loop = self.loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(self._wake_all)

    def _wake_all(self) -> None:
        for poller in list(self._pollers.values()):
            poller.pulse.fire()

    async def _reconcile(self, uuid: str) -> None:
        assert self._reconcile_lock is not None
        async with self._reconcile_lock:
            record = self.feed.get_mapping_record(uuid)
            kind = None if record is None else source_kind(record.source_arn)
            factory = None if kind is None else self._factories.get(kind)
            poller = self._pollers.get(uuid)
            if record is None or record.state != "Enabled" or factory is None:
                if poller is not None:
                    await self._stop_poller(uuid, self.stop_grace_seconds)
                return
            if poller is not None:
                poller.reconfigure(record)
                return
            try:
                poller = factory(record, asyncio.get_running_loop())
            except Exception:
                log.exception("mapping %s: cannot start", uuid)
                return
            self._pollers[uuid] = poller
            self._tasks[uuid] = asyncio.get_running_loop().create_task(self._run(poller))

    async def _run(self, poller: Poller) -> None:
        try:
            await poller.run()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("mapping %s: poller crashed; restarting it", poller.uuid)
            await asyncio.sleep(POLLER_RESTART_DELAY_SECONDS)
            if self.running and self._pollers.get(poller.uuid) is poller:
                # stop what is left of it (in-flight batches, held messages), start afresh
                await self._stop_poller(poller.uuid, self.stop_grace_seconds, current=True)
                await self._reconcile(poller.uuid)

    async def _stop_poller(self, uuid: str, grace_seconds: float, *, current: bool = False) -> None:
        """Stop a mapping's poller; ``current`` when called from that poller's own task."""
        poller = self._pollers.pop(uuid, None)
        task = self._tasks.pop(uuid, None)
        if poller is None:
            return
        await poller.stop(grace_seconds)
        if task is not None and not current:
            try:
                await asyncio.wait_for(task, timeout=5.0)
            except (TimeoutError, asyncio.CancelledError):
                task.cancel()

    # ------------------------------------------------------------------ observation

    def mapping_uuids(self) -> list[str]:
        """Mappings with a running poller."""
        return list(self._pollers)

    def metrics(self, uuid: str) -> MappingMetricsSnapshot | None:
        """Counters of a running mapping (``None`` if it has no poller)."""
        poller = self._pollers.get(uuid)
        return None if poller is None else poller.metrics_snapshot()

    def is_asleep(self, uuid: str) -> bool:
        """Whether the mapping waits (for messages, a window, time) with nothing in flight."""
        poller = self._pollers.get(uuid)
        return poller is None or poller.asleep

    def wake_at(self, uuid: str) -> float | None:
        """Clock time the mapping next acts on its own (window close, message visible)."""
        poller = self._pollers.get(uuid)
        return None if poller is None else poller.wake_at()

    def is_idle(self, uuid: str) -> bool:
        """Whether the mapping has no batch in flight and none being assembled."""
        poller = self._pollers.get(uuid)
        return poller is None or poller.idle
