"""Execution environments: warm worker processes, pooled per function.

Workers (any ``headwater.runtime.environment.Worker``: Python workers, Runtime API
environments; ``headwater.runtime.families.launch`` starts the right one) are pooled per
function. ``WorkerPools`` keeps,
per function, a stack of idle workers (the most recently used is reused first, so a
steady trickle keeps one environment warm) and:

- grows on demand up to the function's reserved concurrency, or the global
  ``max_workers`` (idle workers of other functions are evicted to make room), and
  throttles beyond that;
- shrinks: a worker idle for ``idle_timeout`` real seconds is stopped;
- replaces: a worker that timed out, crashed or ran out of memory is never reused;
- drains on update: workers of an older revision of the function are stopped when idle.

Function time (timeouts, durations) is real time: handlers run in real processes.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from headwater.runtime import limits
from headwater.runtime.environment import FunctionSpec, Worker
from headwater.runtime.families import LaunchSettings, launch

#: Default seconds an idle worker is kept warm.
DEFAULT_IDLE_TIMEOUT = 300.0


def default_max_workers() -> int:
    """Global cap on live workers: a few per core (handlers often wait on I/O)."""
    return max(4, 4 * (os.cpu_count() or 1))


@dataclass(frozen=True, slots=True)
class Throttle:
    """Why a worker could not be had: Lambda's throttle ``Reason``."""

    reason: str
    message: str


RESERVED_LIMIT = Throttle("ReservedFunctionConcurrentInvocationLimitExceeded", "Rate Exceeded.")
ACCOUNT_LIMIT = Throttle("ConcurrentInvocationLimitExceeded", "Rate Exceeded.")


@dataclass(slots=True)
class FunctionPool:
    revision: str
    idle: list[Worker] = field(default_factory=list)
    busy: set[Worker] = field(default_factory=set)
    starting: int = 0


@dataclass(frozen=True, slots=True)
class Reservation:
    """A slot in a function's pool for a worker that still has to be started."""

    spec: FunctionSpec
    pool: FunctionPool


class WorkerPools:
    """Every function's pool of workers, under one global cap; thread-safe."""

    def __init__(
        self,
        *,
        max_workers: int | None = None,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
        interpreters: dict[str, str] | None = None,
        endpoint_url: Callable[[], str | None] | None = None,
        settings: LaunchSettings | None = None,
    ) -> None:
        self.max_workers = max_workers or default_max_workers()
        self.idle_timeout = idle_timeout
        self.settings = settings or LaunchSettings(
            interpreters=dict(interpreters or {}),
            endpoint_url=endpoint_url or (lambda: None),
        )
        self._lock = threading.Lock()
        self._pools: dict[str, FunctionPool] = {}
        self._live = 0
        self._dying: list[tuple[Worker, float]] = []
        self._closed = False
        self._wake = threading.Event()
        self._sleeping_long = False
        self._housekeeper: threading.Thread | None = None
        #: Where output a worker wrote after its last invocation's log was read goes when
        #: the worker is retired (a Node timer that logs after the handler returned): AWS
        #: keeps such lines in the function's log stream. Set by ``FunctionRuntime``.
        self.leftover_log: Callable[[FunctionSpec, str], None] | None = None
        #: Counters for tests and benchmarks.
        self.spawned = 0

    # -- checkout -------------------------------------------------------------------------

    def acquire(self, spec: FunctionSpec) -> Worker | Throttle:
        """A worker for ``spec`` (warm if one is idle, else a new one), or a throttle."""
        got = self.reserve(spec)
        if isinstance(got, Reservation):
            return self.start(got)
        return got

    def reserve(self, spec: FunctionSpec) -> Worker | Throttle | Reservation:
        """An idle worker, a throttle, or a reserved slot to ``start`` a new worker in.

        Never blocks on a process start, so it is safe on an event loop.
        """
        if spec.reserved_concurrency == 0:
            return RESERVED_LIMIT
        retired: list[Worker] = []
        with self._lock:
            if self._closed:
                raise RuntimeError("the function runtime is closed")
            pool = self._pool_for(spec, retired)
            try:
                while pool.idle:
                    worker = pool.idle.pop()
                    if worker.process.poll() is not None:  # died while idle: replace it
                        retired.append(worker)
                        self._live -= 1
                        continue
                    worker.busy = True
                    pool.busy.add(worker)
                    self._poll_now()
                    return worker
                in_use = len(pool.busy) + pool.starting
                if spec.reserved_concurrency is not None and in_use >= spec.reserved_concurrency:
                    return RESERVED_LIMIT
                if self._live >= self.max_workers and not self._evict_one(retired):
                    return ACCOUNT_LIMIT
                pool.starting += 1
                self._live += 1
                return Reservation(spec, pool)
            finally:
                self._stop_later(retired)

    def start(self, reservation: Reservation) -> Worker:
        """Start the worker process of a reservation (blocks for the ``Popen``)."""
        pool = reservation.pool
        try:
            worker = launch(reservation.spec, self.settings)
        except BaseException:
            with self._lock:
                pool.starting -= 1
                self._live -= 1
            raise
        with self._lock:
            self.spawned += 1
            pool.starting -= 1
            closed = self._closed
            if not closed:
                pool.busy.add(worker)
                self._poll_now()
        if closed:  # closed while it started: close() could not see it
            worker.kill()
            worker.exit_status(1.0)
            self._close_worker(worker)
            raise RuntimeError("the function runtime is closed")
        self._ensure_housekeeper()
        return worker

    def release(self, worker: Worker, *, reusable: bool) -> None:
        """Give a worker back after an invocation; stop it unless it can serve again."""
        worker.busy = False
        worker.last_used = time.monotonic()
        stop = True
        with self._lock:
            pool = self._pools.get(worker.spec.key)
            if pool is not None:
                pool.busy.discard(worker)
            if (
                reusable
                and not self._closed
                and pool is not None
                and pool.revision == worker.spec.revision
                and worker.process.poll() is None
            ):
                pool.idle.append(worker)
                stop = False
            if stop:
                self._live -= 1
                self._stop_later([worker])

    def _pool_for(self, spec: FunctionSpec, retired: list[Worker]) -> FunctionPool:
        pool = self._pools.get(spec.key)
        if pool is None:
            pool = self._pools[spec.key] = FunctionPool(spec.revision)
        elif pool.revision != spec.revision:
            # Drain: idle workers of the old revision stop now, busy ones on release.
            pool.revision = spec.revision
            retired.extend(pool.idle)
            self._live -= len(pool.idle)
            pool.idle.clear()
        return pool

    def _evict_one(self, retired: list[Worker]) -> bool:
        oldest: tuple[float, FunctionPool] | None = None
        for pool in self._pools.values():
            if pool.idle and (oldest is None or pool.idle[0].last_used < oldest[0]):
                oldest = (pool.idle[0].last_used, pool)
        if oldest is None:
            return False
        retired.append(oldest[1].idle.pop(0))
        self._live -= 1
        return True

    # -- lifecycle ------------------------------------------------------------------------

    def drain(self, function_key: str, new_revision: str | None = None) -> None:
        """Stop idle workers of ``function_key``; busy ones stop when they finish."""
        retired: list[Worker] = []
        with self._lock:
            pool = self._pools.get(function_key)
            if pool is None:
                return
            retired.extend(pool.idle)
            self._live -= len(pool.idle)
            pool.idle.clear()
            if new_revision is None:
                pool.revision = f"deleted:{time.monotonic()}"
            else:
                pool.revision = new_revision
            self._stop_later(retired)

    def worker_count(self, function_key: str) -> tuple[int, int]:
        """(idle, busy) workers of a function."""
        with self._lock:
            pool = self._pools.get(function_key)
            if pool is None:
                return (0, 0)
            return (len(pool.idle), len(pool.busy) + pool.starting)

    def worker_pids(self, function_key: str) -> list[int]:
        with self._lock:
            pool = self._pools.get(function_key)
            if pool is None:
                return []
            return [w.pid for w in [*pool.idle, *pool.busy]]

    def _stop_later(self, workers: list[Worker]) -> None:
        # An idle worker asked to stop exits by itself; the housekeeper reaps it and
        # SIGKILLs it if it lingers. Called with the lock held.
        deadline = time.monotonic() + 2.0
        for worker in workers:
            worker.stop()
            self._dying.append((worker, deadline))
        if workers:
            self._wake.set()

    def _poll_now(self) -> None:
        # A worker just became busy: a housekeeper in its long idle sleep would miss an
        # environment that outgrows its memory size and dies within that sleep (a
        # ``provided`` bootstrap hitting the data limit lives ~100 ms above it). Called
        # with the lock held, so the flag and the housekeeper's choice of sleep agree.
        if self._sleeping_long:
            self._sleeping_long = False
            self._wake.set()

    def _ensure_housekeeper(self) -> None:
        with self._lock:
            if self._housekeeper is not None or self._closed:
                return
            self._housekeeper = threading.Thread(
                target=self._housekeeping, name="headwater-workers", daemon=True
            )
            self._housekeeper.start()

    def _housekeeping(self) -> None:
        next_idle_check = time.monotonic()
        while True:
            with self._lock:
                if self._closed:
                    return
                busy = [w for p in self._pools.values() for w in p.busy]
            for worker in busy:
                rss = limits.current_rss_mb(worker.pid)
                if rss is not None and rss > worker.peak_mb:
                    worker.peak_mb = int(rss)
                if limits.is_over_limit(rss, worker.spec.memory_size):
                    worker.kill("oom")
            now = time.monotonic()
            if now >= next_idle_check:
                self._retire_idle(now)
                next_idle_check = now + min(1.0, self.idle_timeout / 4)
            self._reap(now)
            with self._lock:
                waiting = bool(self._dying)
                self._sleeping_long = not (
                    busy or waiting or any(p.busy for p in self._pools.values())
                )
            self._wake.wait(0.5 if self._sleeping_long else limits.RSS_POLL_INTERVAL)
            self._wake.clear()

    def _retire_idle(self, now: float) -> None:
        with self._lock:
            retired: list[Worker] = []
            for pool in self._pools.values():
                keep = [w for w in pool.idle if now - w.last_used < self.idle_timeout]
                if len(keep) != len(pool.idle):
                    retired.extend(w for w in pool.idle if w not in keep)
                    pool.idle[:] = keep
            self._live -= len(retired)
            self._stop_later(retired)

    def _reap(self, now: float) -> None:
        with self._lock:
            dying = list(self._dying)
        done: list[Worker] = []
        for worker, deadline in dying:
            if worker.process.poll() is None:
                if now < deadline:
                    continue
                worker.kill()
                if worker.exit_status(1.0) is None:
                    continue
            self._close_worker(worker)
            done.append(worker)
        if done:
            with self._lock:
                self._dying = [(w, d) for w, d in self._dying if w not in done]

    def _close_worker(self, worker: Worker) -> None:
        """Release a worker whose process is gone, keeping what it wrote since its last
        invocation's log was read."""
        if not worker.closed and self.leftover_log is not None:
            leftover = worker.read_new_log()
            if leftover:
                self.leftover_log(worker.spec, leftover)
        worker.close_pipes()

    def close(self) -> None:
        """Stop every worker (busy ones are killed) and the housekeeping thread."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            workers = [w for p in self._pools.values() for w in [*p.idle, *p.busy]]
            workers += [w for w, _ in self._dying]
            self._pools.clear()
            self._dying.clear()
            self._live = 0
        self._wake.set()
        for worker in workers:
            worker.stop()
            if worker.busy:
                worker.kill()
        deadline = time.monotonic() + 1.0
        for worker in workers:
            if worker.exit_status(max(0.0, deadline - time.monotonic())) is None:
                worker.kill()
                worker.exit_status(5.0)
            self._close_worker(worker)
        if self._housekeeper is not None and self._housekeeper is not threading.current_thread():
            self._housekeeper.join(timeout=5.0)
