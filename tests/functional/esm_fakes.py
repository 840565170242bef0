"""Fakes for driving a poller on its own: an ``Invoker`` whose function is a Python
callable, ``PollerRun`` (start, stop and wait on any poller inside the test's
``asyncio.run``) and ``PollerHarness``, one ``SqsPoller`` over a real in-memory queue.

The invoker implements ``headwater.esm.sources.Invoker`` (and returns objects shaped like
``headwater.runtime.InvocationResult``), so tests control exactly what the "function" does:
return a body, fail, time out, get throttled, or block until released.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, Self

import orjson

from headwater import Headwater, ManualClock
from headwater.core.mapping_config import MappingConfig
from headwater.esm.pulse import Pulse
from headwater.esm.scaling import ScalingPolicy
from headwater.esm.sqs_poller import SqsPoller
from headwater.store.mappings import MappingRecord
from headwater.wiring.adapters import LocalQueueSource

ACCOUNT_ARN = "arn:aws:sqs:us-east-1:000000000000:"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:000000000000:function:fake"


@dataclass(frozen=True)
class FakeResult:
    status: str = "ok"
    payload: bytes = b"null"
    function_error: str | None = None
    executed_version: str = "$LATEST"
    request_id: str = "fake"
    log_tail: str | None = None
    duration_ms: float = 0.0
    error_code: str | None = None


def ok(body: Any = None) -> FakeResult:
    return FakeResult(payload=orjson.dumps(body))


def raw(payload: bytes) -> FakeResult:
    return FakeResult(payload=payload)


def function_error(error_type: str = "Exception") -> FakeResult:
    body = {"errorMessage": "boom", "errorType": error_type}
    return FakeResult("function_error", orjson.dumps(body), "Unhandled")


def throttled() -> FakeResult:
    return FakeResult("throttled", b"", None, error_code="TooManyRequestsException")


Handler = Callable[[dict[str, Any]], FakeResult | Awaitable[FakeResult]]


class FakeInvoker:
    """Calls ``handler(event)`` for each invoke and records every event it got."""

    def __init__(
        self,
        handler: Handler | None = None,
        *,
        timeout: int | None = 3,
        reserved_concurrency: int | None = None,
    ) -> None:
        self.handler: Handler = handler or (lambda event: ok())
        self.timeout = timeout
        self.reserved_concurrency = reserved_concurrency
        self.events: list[dict[str, Any]] = []
        self.payload_sizes: list[int] = []
        self.running = 0
        self.max_running = 0

    async def invoke(self, function_arn: str, payload: bytes) -> FakeResult:
        event = orjson.loads(payload)
        self.events.append(event)
        self.payload_sizes.append(len(payload))
        self.running += 1
        self.max_running = max(self.max_running, self.running)
        try:
            result = self.handler(event)
            if inspect.isawaitable(result):
                result = await result
            assert isinstance(result, FakeResult)
            return result
        finally:
            self.running -= 1

    def function_limits(self, function_arn: str) -> tuple[int | None, int | None]:
        return self.timeout, self.reserved_concurrency

    def bodies(self) -> list[list[str]]:
        """Message bodies of each invocation, in order."""
        return [[r["body"] for r in event["Records"]] for event in self.events]


def mapping(queue_name: str, **params: Any) -> MappingRecord:
    """An SQS mapping with CreateEventSourceMapping ``params`` (AWS's defaults otherwise)."""
    return MappingRecord(
        uuid="00000000-0000-4000-8000-000000000001",
        source_arn=ACCOUNT_ARN + queue_name,
        function_arn=FUNCTION_ARN,
        function_name="fake",
        state="Enabled",
        state_reason="USER_INITIATED",
        last_modified=0.0,
        config=MappingConfig.create("sqs", params),
    )


class RunnablePoller(Protocol):
    """What ``PollerRun`` drives: the SQS and the stream poller both are one."""

    pulse: Pulse

    @property
    def asleep(self) -> bool: ...

    async def run(self) -> None: ...

    async def stop(self, grace_seconds: float) -> None: ...


class PollerRun:
    """One poller of ``hw`` run inside ``asyncio.run`` by the test; subclasses build it.

    The clock's subscribers fire the poller's pulse, so ``advance`` wakes it as a real
    clock would.
    """

    #: Real seconds ``until`` waits by default before giving up.
    until_timeout = 5.0
    #: Real seconds given to the poller's first pass on entry.
    start_pause = 0.001

    def __init__(
        self, hw: Headwater, clock: ManualClock, record: MappingRecord, invoker: FakeInvoker
    ) -> None:
        self.hw = hw
        self.clock = clock
        self.record = record
        self.invoker = invoker
        self._running: RunnablePoller | None = None
        self._task: asyncio.Task[None] | None = None
        self._unsubscribe: Callable[[], None] | None = None

    def start_poller(self, loop: asyncio.AbstractEventLoop) -> RunnablePoller:
        """Build the poller (and keep it where the test reads it)."""
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        loop = asyncio.get_running_loop()
        poller = self._running = self.start_poller(loop)
        self._unsubscribe = self.clock.subscribe(poller.pulse.fire_threadsafe)
        self._task = loop.create_task(poller.run())
        await asyncio.sleep(self.start_pause)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        await self.running().stop(0.5)
        await asyncio.wait_for(self._task, 5)
        if self._unsubscribe:
            self._unsubscribe()

    def running(self) -> RunnablePoller:
        """The poller started on entry."""
        assert self._running is not None
        return self._running

    async def advance(self, seconds: float) -> None:
        """Move the clock, then let the poller react."""
        self.clock.advance(seconds)
        await self.settled()

    async def until(self, condition: Callable[[], bool], timeout: float | None = None) -> None:
        """Yield to the poller until ``condition()`` holds (real-time deadline)."""
        deadline = time.monotonic() + (self.until_timeout if timeout is None else timeout)
        while True:
            await asyncio.sleep(0.001)
            if condition():
                return
            if time.monotonic() > deadline:
                raise TimeoutError("condition not reached")

    async def settled(self) -> None:
        """Wait until the poller sleeps with nothing in flight."""
        poller = self.running()
        await self.until(lambda: poller.asleep)


class PollerHarness(PollerRun):
    """One ``SqsPoller`` over a real queue of ``hw``."""

    def __init__(
        self,
        hw: Headwater,
        clock: ManualClock,
        record: MappingRecord,
        invoker: FakeInvoker,
        policy: ScalingPolicy | None = None,
    ) -> None:
        super().__init__(hw, clock, record, invoker)
        self.policy = policy
        self.poller: SqsPoller | None = None

    def start_poller(self, loop: asyncio.AbstractEventLoop) -> SqsPoller:
        source = LocalQueueSource(self.hw.service("sqs"), self.record.source_arn)
        self.poller = SqsPoller(
            self.record, source, self.invoker, self.clock, loop, policy=self.policy
        )
        return self.poller
