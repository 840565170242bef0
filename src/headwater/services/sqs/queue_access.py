"""What every SQS operation shares: the store, queue lookup by URL/ARN, and wake-ups."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from headwater.core.arn import Arn, sqs_queue_arn
from headwater.core.listeners import Listeners
from headwater.services.base import RequestContext, ServiceEnvironment
from headwater.services.sqs.attributes import QueueSettings, settings_of
from headwater.services.sqs.errors import queue_does_not_exist
from headwater.store.queues import QueueRecord, QueueStore, open_queue_store

_log = logging.getLogger(__name__)

#: Real seconds a long poll sleeps at most between re-checks (guards against lost wake-ups).
MAX_REAL_WAIT = 1.0
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class QueueInfo:
    """What the ESM engine needs to know about a queue."""

    arn: str
    name: str
    url: str
    region: str
    fifo: bool
    visibility_timeout: int


@dataclass(frozen=True, slots=True)
class ResolvedQueue:
    """A stored queue with its parsed settings and ARN (cached per queue version)."""

    record: QueueRecord
    settings: QueueSettings
    arn: str


def parse_queue_url(url: str) -> tuple[str, str] | None:
    """(account, name) from any queue URL form, keyed on the last two path segments."""
    path = url.split("?", 1)[0].rstrip("/")
    parts = path.rsplit("/", 2)
    if len(parts) < 3 or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


class QueueAccess:
    """What every SQS operation group shares (owned by ``SqsService``): the store, queue
    resolution (cached per definition version), wake-ups of long polls and listeners."""

    def __init__(self, env: ServiceEnvironment) -> None:
        self.env = env
        self.db = env.database
        self.clock = env.clock
        with self.db.transaction():
            self.store: QueueStore = self.db.store(open_queue_store)
        #: Resolved queues, valid while the database's "sqs" version stays the same (any
        #: process's CreateQueue, DeleteQueue or SetQueueAttributes changes it).
        self._cache: dict[tuple[str, str, str], ResolvedQueue] = {}
        self._cache_version = -1
        #: FIFO ReceiveRequestAttemptId -> (expires at, receipt handles); process memory only.
        self.receive_attempts: dict[tuple[int, str], tuple[float, list[str]]] = {}
        self._wake = threading.Condition()
        self._wake_generation = 0
        self._waiters = 0
        self._listeners: Listeners[Callable[[str], None]] = Listeners()
        #: Whether other nodes hear of commits through the database (not SQLite: they
        #: see its data_version move; not memory: nobody else).
        self._publish = self.db.kind == "postgresql"

    # -- URLs and ARNs --------------------------------------------------------------------
    def queue_url(self, record: QueueRecord, ctx: RequestContext | None = None) -> str:
        endpoint = None if ctx is None else ctx.endpoint
        if endpoint:
            return f"{endpoint.rstrip('/')}/{record.account}/{record.name}"
        return f"https://sqs.{record.region}.amazonaws.com/{record.account}/{record.name}"

    @staticmethod
    def queue_arn(record: QueueRecord) -> str:
        return sqs_queue_arn(record.region, record.account, record.name)

    # -- lookup (call inside a transaction) -----------------------------------------------
    def _lookup(self, account: str, region: str, name: str) -> ResolvedQueue | None:
        version = self.db.version("sqs")
        if version != self._cache_version:
            self._cache = {}
            self._cache_version = version
        key = (account, region, name)
        found = self._cache.get(key)
        if found is not None:
            return found
        record = self.store.get_queue(account, region, name)
        if record is None:
            return None
        found = ResolvedQueue(
            record, settings_of(record.attributes, record.fifo), self.queue_arn(record)
        )
        self._cache[key] = found
        return found

    def resolve_url(self, url: str, ctx: RequestContext) -> ResolvedQueue:
        """The queue a QueueUrl names (any host); raises QueueDoesNotExist."""
        parsed = parse_queue_url(url)
        if parsed is None:
            raise queue_does_not_exist()
        found = self._lookup(parsed[0], ctx.region, parsed[1])
        if found is None:
            raise queue_does_not_exist()
        return found

    def resolve_arn(self, arn: str) -> ResolvedQueue | None:
        parsed = Arn.try_parse(arn)
        if parsed is None or parsed.service != "sqs":
            return None
        return self._lookup(parsed.account, parsed.region, parsed.resource)

    def require_arn(self, arn: str) -> ResolvedQueue:
        found = self.resolve_arn(arn)
        if found is None:
            raise queue_does_not_exist()
        return found

    def forget(self, record: QueueRecord) -> None:
        """Drop a queue from every process's lookup cache (its attributes or existence
        changed); call inside the transaction that changed it."""
        self._cache.pop((record.account, record.region, record.name), None)
        self.db.bump("sqs")

    def now(self) -> float:
        return self.clock.now()

    # -- wake-ups -------------------------------------------------------------------------
    def add_listener(self, callback: Callable[[str], None]) -> Callable[[], None]:
        """Call ``callback(queue_arn)`` after commits that may make messages receivable."""
        return self._listeners.add(callback)

    def notify(self, arns: Iterable[str]) -> None:
        """Wake long polls and tell listeners; call after the transaction committed."""
        if self._publish:
            arns = list(arns)
            for arn in arns:
                self.db.publish(arn)  # other nodes' pollers (PostgreSQL NOTIFY)
        if self._waiters:
            self.wake_waiters()
        listeners = self._listeners.snapshot()
        if listeners:
            for arn in arns:
                for callback in listeners:
                    # A broken listener must not fail the send that already committed.
                    try:
                        callback(arn)
                    except Exception:
                        _log.exception("SQS listener failed for %s", arn)

    def wake_waiters(self) -> None:
        with self._wake:
            self._wake_generation += 1
            self._wake.notify_all()

    def receive_waiting(
        self,
        attempt: Callable[[], tuple[list[T], float | None]],
        wait_seconds: int,
    ) -> list[T]:
        """Call ``attempt`` until it yields messages or ``wait_seconds`` of clock time pass.

        ``attempt`` runs one receive transaction and returns the deliveries and the next
        time a hidden message becomes visible. Between attempts the thread sleeps on a
        condition woken by sends (``notify``) and by clock jumps (``ManualClock``).
        """
        deadline = self.clock.now() + wait_seconds
        if wait_seconds <= 0:
            return attempt()[0]
        # Count ourselves as a waiter and subscribe before the first attempt, so a send or
        # clock jump that lands between an attempt and the wait still bumps the generation.
        with self._wake:
            self._waiters += 1
        unsubscribe = self.clock.subscribe(self.wake_waiters)
        # Sends by other processes sharing the database wake us within the poll fallback.
        unwatch = self.db.watch(lambda _resource: self.wake_waiters())
        try:
            while True:
                with self._wake:
                    generation = self._wake_generation
                deliveries, next_visible = attempt()
                now = self.clock.now()
                if deliveries or now >= deadline:
                    return deliveries
                target = deadline if next_visible is None else min(deadline, next_visible)
                delay = self.clock.real_delay(target - now)
                timeout = MAX_REAL_WAIT if delay is None else min(delay, MAX_REAL_WAIT)
                with self._wake:
                    if self._wake_generation == generation:
                        self._wake.wait(timeout)
        finally:
            unsubscribe()
            unwatch()
            with self._wake:
                self._waiters -= 1
