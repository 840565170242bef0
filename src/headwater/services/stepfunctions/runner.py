"""``ExecutionRunner``: the threads that advance executions, and their crash safety.

Each execution is advanced by a thread of its own until it ends or parks on a Wait; the
record is stored at every top-level transition (``checkpoint``), never over an execution
that was stopped meanwhile or that another runner holds.

A runner *leases* each execution it advances (``owner``/``lease_until`` in its row, real
time, renewed while it runs; released when it parks, ends or headwater closes), so the
processes and PostgreSQL nodes sharing a database never advance one execution twice. At
start, and then on every tick of its ``ClockTicker``, a runner resumes the RUNNING,
unparked executions nobody holds: those whose headwater closed (at once) or was killed
(once its lease ran out, ``LEASE_SECONDS``). The state such an execution was in runs again
from its start, a Task calling its resource again. The ticker also wakes parked
executions whose Wait is over.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid

from headwater.services.base import ServiceEnvironment
from headwater.services.stepfunctions.interpreter import ExecutionRun
from headwater.services.stepfunctions.store import ExecutionRecord, StepFunctionsStore
from headwater.services.stepfunctions.tokens import TaskTokens
from headwater.services.ticker import ClockTicker

log = logging.getLogger(__name__)

#: Clock seconds between looks for parked executions whose Wait is over.
WAKE_CHECK_INTERVAL = 1.0
#: Real seconds a runner's hold on an execution lasts unless renewed: how long an execution
#: whose headwater was killed waits before another runner resumes it.
LEASE_SECONDS = 15.0
#: Real seconds between renewals of the leases a runner holds.
RENEW_SECONDS = 5.0


class ExecutionRunner:
    def __init__(self, env: ServiceEnvironment, store: StepFunctionsStore) -> None:
        self.env = env
        self.store = store
        self.tokens = TaskTokens(store)
        #: This runner's name in the leases.
        self.node = uuid.uuid4().hex
        self._lock = threading.Lock()
        #: Executions this runner advances (threads and StartSyncExecution calls).
        self._held: set[str] = set()
        self._renewer = threading.Thread(
            target=self._renew, name="stepfunctions-leases", daemon=True
        )
        self._threads: dict[str, threading.Thread] = {}
        self._stops: dict[str, threading.Event] = {}
        self._closing = threading.Event()
        self._ticker = ClockTicker(
            env.clock, WAKE_CHECK_INTERVAL, self.wake_due, name="stepfunctions-waits"
        )

    def start(self) -> ExecutionRunner:
        self._renewer.start()
        self._ticker.start()
        self.wake_due(self.env.clock.now())
        return self

    def lease(self) -> float:
        """Until when (real time) a lease taken now lasts."""
        return time.time() + LEASE_SECONDS

    def resume_orphans(self) -> None:
        """Resume the running executions no runner holds."""
        for record in self.store.orphans(time.time()):
            if self._closing.is_set():
                return
            if self.store.claim(record.arn, self.node, self.lease(), time.time()):
                # Its waiting tasks run again with new tokens: the old ones answer TaskTimedOut.
                self.store.drop_tokens_of(record.arn)
                self.run(record)

    def run(self, record: ExecutionRecord) -> None:
        """Advance ``record`` (leased to this runner) on a thread of its own."""
        with self._lock:
            if self._closing.is_set() or record.arn in self._threads:
                return
            self._held.add(record.arn)
            stop = self._stops.setdefault(record.arn, threading.Event())
            execution = ExecutionRun(self.env, record, self.checkpoint, stop, self.tokens)
            thread = threading.Thread(
                target=self._advance, args=(execution,), name=f"sfn-{record.name}", daemon=True
            )
            self._threads[record.arn] = thread
        thread.start()

    def run_here(self, record: ExecutionRecord) -> ExecutionRecord:
        """Advance ``record`` in the calling thread (StartSyncExecution); the final record."""
        stop = threading.Event()
        execution = ExecutionRun(
            self.env, record, self.checkpoint, stop, self.tokens, park_waits=False
        )
        with self._lock:
            self._held.add(record.arn)
        try:
            execution.advance()
        finally:
            with self._lock:
                self._held.discard(record.arn)
        return execution.record

    def _advance(self, execution: ExecutionRun) -> None:
        try:
            execution.advance()
        except Exception:
            log.exception("execution %s failed in headwater", execution.record.arn)
        finally:
            with self._lock:
                self._threads.pop(execution.record.arn, None)
                self._stops.pop(execution.record.arn, None)
                self._held.discard(execution.record.arn)

    def checkpoint(self, record: ExecutionRecord) -> bool:
        """Store ``record`` unless it was stopped meanwhile (or headwater is closing);
        whether the execution goes on."""
        if self._closing.is_set():
            return False
        with self.store.db.transaction():
            stored = self.store.get_execution(record.arn, for_update=True)
            if stored is None or stored.status != "RUNNING":
                return False
            if self.store.owner_of(record.arn) != self.node:
                return False  # its lease ran out and another runner took it
            self.store.put_execution(record)
            if record.status != "RUNNING" or record.wake_at is not None:
                self.store.release(self.node, record.arn)  # ended or parked
        return record.status == "RUNNING"

    def stop(self, arn: str) -> None:
        with self._lock:
            event = self._stops.get(arn)
        if event is not None:
            event.set()

    def wake_due(self, now: float) -> None:
        """Wake the parked executions whose Wait is over, and resume the orphans."""
        for record in self.store.due(now):
            if record.wake_at is not None and self.store.claim_wake(
                record.arn, record.wake_at, self.node, self.lease()
            ):
                self.run(record)
        self.resume_orphans()

    def _renew(self) -> None:
        while not self._closing.wait(RENEW_SECONDS):
            with self._lock:
                held = sorted(self._held)
            if held:
                try:
                    self.store.renew(self.node, held, self.lease())
                except Exception:
                    log.exception("renewing the leases of %d executions failed", len(held))

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait (real seconds) until no execution is being advanced (each ended or parked);
        ``False`` if some still were at the timeout. For tests and orderly shutdowns."""
        deadline = threading.Event()
        timer = threading.Timer(timeout, deadline.set)
        timer.start()
        try:
            while not deadline.is_set():
                with self._lock:
                    threads = list(self._threads.values())
                if not threads:
                    return True
                threads[0].join(0.05)
            return False
        finally:
            timer.cancel()

    def close(self) -> None:
        self._closing.set()
        self._ticker.stop()
        with self._lock:
            # Taken before the threads stop: a thread that ends forgets what it held.
            held = sorted(self._held)
            for event in self._stops.values():
                event.set()
            threads = list(self._threads.values())
        for thread in threads:
            thread.join(2.0)
        for arn in held:  # a restart (or another node) resumes them at once
            self.store.release(self.node, arn)
        if self._renewer.is_alive():
            self._renewer.join(1.0)
