"""``ExecutionRunner``: the threads that advance executions, and their crash safety.

Each execution is advanced by a thread of its own until it ends or parks on a Wait; the
record is stored at every top-level transition (``checkpoint``), never over an execution
that was stopped meanwhile. At start the runner resumes every RUNNING execution that is
not parked (one that was advancing when headwater stopped: the state it was in runs
again from its start, a Task calling its resource again), and a ``ClockTicker`` resumes
parked executions whose Wait is over. Executions are not shared out between nodes: a
database used by two headwater nodes resumes an interrupted execution on each of them.
"""

from __future__ import annotations

import logging
import threading

from headwater.services.base import ServiceEnvironment
from headwater.services.stepfunctions.interpreter import ExecutionRun
from headwater.services.stepfunctions.store import ExecutionRecord, StepFunctionsStore
from headwater.services.stepfunctions.tokens import TaskTokens
from headwater.services.ticker import ClockTicker

log = logging.getLogger(__name__)

#: Clock seconds between looks for parked executions whose Wait is over.
WAKE_CHECK_INTERVAL = 1.0


class ExecutionRunner:
    def __init__(self, env: ServiceEnvironment, store: StepFunctionsStore) -> None:
        self.env = env
        self.store = store
        self.tokens = TaskTokens(store)
        self._lock = threading.Lock()
        self._threads: dict[str, threading.Thread] = {}
        self._stops: dict[str, threading.Event] = {}
        self._closing = threading.Event()
        self._ticker = ClockTicker(
            env.clock, WAKE_CHECK_INTERVAL, self.wake_due, name="stepfunctions-waits"
        )

    def start(self) -> ExecutionRunner:
        for record in self.store.running():
            # Its waiting tasks run again with new tokens: the old ones answer TaskTimedOut.
            self.store.drop_tokens_of(record.arn)
            self.run(record)
        self._ticker.start()
        self.wake_due(self.env.clock.now())
        return self

    def run(self, record: ExecutionRecord) -> None:
        """Advance ``record`` on a thread of its own."""
        with self._lock:
            if self._closing.is_set() or record.arn in self._threads:
                return
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
        execution.advance()
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

    def checkpoint(self, record: ExecutionRecord) -> bool:
        """Store ``record`` unless it was stopped meanwhile (or headwater is closing);
        whether the execution goes on."""
        if self._closing.is_set():
            return False
        with self.store.db.transaction():
            stored = self.store.get_execution(record.arn, for_update=True)
            if stored is None or stored.status != "RUNNING":
                return False
            self.store.put_execution(record)
        return record.status == "RUNNING"

    def stop(self, arn: str) -> None:
        with self._lock:
            event = self._stops.get(arn)
        if event is not None:
            event.set()

    def wake_due(self, now: float) -> None:
        for record in self.store.due(now):
            if record.wake_at is not None and self.store.claim_wake(record.arn, record.wake_at):
                self.run(record)

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
            for event in self._stops.values():
                event.set()
            threads = list(self._threads.values())
        for thread in threads:
            thread.join(2.0)
