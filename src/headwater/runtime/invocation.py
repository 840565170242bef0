"""Invoking functions: the sync and asyncio paths over worker pools, and Event invokes.

``FunctionRuntime.invoke`` (blocking, any thread) and ``invoke_async`` (awaitable, never
blocks the loop: it awaits the worker's pipe with ``loop.add_reader`` and starts new
processes in the default executor) share one result builder, so both report Lambda's
error shapes and log lines identically. ``EventQueue`` runs ``InvocationType=Event``
invokes in the background and retries a failed one twice (after 1 and 2 minutes of clock
time), like Lambda's asynchronous invocation; accepted invocations are kept in the store
until they settle, so they survive a crash.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import orjson

from headwater.core.clock import Clock
from headwater.core.ids import request_id as new_request_id
from headwater.runtime import limits, logs
from headwater.runtime.environment import INIT_TIMEOUT, Frame, FunctionSpec, WaitEnd, Worker
from headwater.runtime.families import EntrypointError
from headwater.runtime.pool import Reservation, Throttle, WorkerPools
from headwater.store.async_invocations import AsyncInvocation, AsyncInvocationStore

log = logging.getLogger(__name__)

Status = Literal["ok", "function_error", "throttled", "service_error"]


@dataclass(frozen=True, slots=True)
class InvocationResult:
    """The outcome of one invocation, as the ESM engine and the wire layer consume it."""

    status: Status
    payload: bytes  # response body; error JSON for function errors
    function_error: str | None  # "Unhandled" for function errors
    executed_version: str  # "$LATEST"
    request_id: str
    log_tail: str | None  # last 4 KB of the invocation's log when asked
    duration_ms: float
    error_code: str | None = None  # e.g. "TooManyRequestsException" for throttles
    error_message: str | None = None  # for throttles and service errors
    reason: str | None = None  # throttle Reason


@dataclass(frozen=True, slots=True)
class InvocationRequest:
    """One invocation's input."""

    payload: bytes
    invoked_arn: str
    log_tail: bool = False
    client_context: dict[str, Any] | None = None
    #: The invocation's request id when it has one already (an Event invocation keeps the
    #: id its 202 answered with across retries, as on AWS); ``None``: a new one.
    request_id: str | None = None


def result_without_run(
    status: Status,
    rid: str,
    *,
    error_code: str | None = None,
    error_message: str | None = None,
    reason: str | None = None,
) -> InvocationResult:
    """The result of an invocation that ran no function code: empty payload, no time taken."""
    return InvocationResult(
        status=status,
        payload=b"",
        function_error=None,
        executed_version="$LATEST",
        request_id=rid,
        log_tail=None,
        duration_ms=0.0,
        error_code=error_code,
        error_message=error_message,
        reason=reason,
    )


def result_of_run(
    ok: bool, payload: bytes, rid: str, log_text: str, *, log_tail: bool, duration_ms: float
) -> InvocationResult:
    """The result of an invocation that ran: the function's answer or its Unhandled error."""
    return InvocationResult(
        status="ok" if ok else "function_error",
        payload=payload,
        function_error=None if ok else "Unhandled",
        executed_version="$LATEST",
        request_id=rid,
        log_tail=logs.tail(log_text) if log_tail else None,
        duration_ms=duration_ms,
    )


def throttled(reason: Throttle, rid: str) -> InvocationResult:
    return result_without_run(
        "throttled",
        rid,
        error_code="TooManyRequestsException",
        error_message=reason.message,
        reason=reason.reason,
    )


def start_failed(error: OSError, rid: str) -> InvocationResult:
    """A worker process could not be started (code directory gone, bad interpreter...)."""
    return result_without_run(
        "service_error",
        rid,
        error_code="ServiceException",
        error_message=f"headwater could not start the function's worker process: {error}",
    )


_SIGNAL_NAMES = {
    signal.SIGKILL: "killed",
    signal.SIGSEGV: "segmentation fault",
    signal.SIGABRT: "aborted",
    signal.SIGTERM: "terminated",
    signal.SIGBUS: "bus error",
    signal.SIGFPE: "floating point exception",
    signal.SIGINT: "interrupt",
}


def exit_reason(returncode: int | None) -> str:
    """How Lambda describes a runtime exit (Go's ``exec.ExitError`` wording)."""
    if returncode is None or returncode == 0:
        return "Runtime exited without providing a reason"
    if returncode < 0:
        name = _SIGNAL_NAMES.get(signal.Signals(-returncode), f"signal {-returncode}")
        return f"Runtime exited with error: signal: {name}"
    return f"Runtime exited with error: exit status {returncode}"


def sandbox_error(error_type: str, rid: str, detail: str) -> bytes:
    """Error payload for environment failures (timeout, exit, out of memory)."""
    return orjson.dumps(
        {"errorType": error_type, "errorMessage": f"RequestId: {rid} Error: {detail}"}
    )


def init_error_frame(worker: Worker) -> Frame:
    """The answer to every invoke of an environment whose init failed: the init error as
    the runtime reported it (no request id), without running anything."""
    return Frame({"ok": False, "mem": worker.peak_mb}, orjson.dumps(worker.init_error))


class FunctionRuntime:
    """Runs invocations on warm worker processes and records their logs."""

    def __init__(self, pools: WorkerPools, log_store: logs.LogStore) -> None:
        self.pools = pools
        self.logs = log_store
        pools.leftover_log = self._append_leftover_log

    def _append_leftover_log(self, spec: FunctionSpec, text: str) -> None:
        # A retired worker's last output: it belongs to no START..END block (on AWS it
        # follows the last REPORT in the stream). The store may already be gone at close.
        with contextlib.suppress(OSError):
            self.logs.append(spec.key, text)

    # -- sync ------------------------------------------------------------------------------

    def invoke(self, spec: FunctionSpec, request: InvocationRequest) -> InvocationResult:
        """Run one invocation, blocking this thread until it ends."""
        rid = request.request_id or new_request_id()
        try:
            got = self.pools.acquire(spec)
        except OSError as error:
            return start_failed(error, rid)
        except EntrypointError as error:
            return self._entrypoint_failed(spec, request, rid, error)
        if isinstance(got, Throttle):
            return throttled(got, rid)
        worker = got
        try:
            init_log, worker.pending_log = worker.pending_log, ""
            if not worker.ready:
                end = worker.wait_frame(INIT_TIMEOUT)
                init_log = self._on_init(worker, end)
                if not worker.ready:
                    return self._finish(
                        worker, request, rid, end=end, duration_ms=0.0, init_log=init_log
                    )
            started = time.perf_counter()
            if worker.init_error is not None:
                end = init_error_frame(worker)
            else:
                sent = worker.send(self._header(spec, worker, request, rid), request.payload)
                end = worker.wait_frame(float(spec.timeout)) if sent else "eof"
            duration_ms = (time.perf_counter() - started) * 1000.0
        except BaseException:
            self._abandon(worker)
            raise
        return self._finish(
            worker, request, rid, end=end, duration_ms=duration_ms, init_log=init_log
        )

    def prewarm(self, spec: FunctionSpec, count: int) -> int:
        """Make ``count`` workers of ``spec`` warm and idle (init done); returns how many are.

        Like provisioned concurrency: the init phases run in parallel, stops early when the
        pool throttles; workers whose init failed are discarded.
        """
        held: list[Worker] = []
        try:
            for _ in range(count):
                got = self.pools.acquire(spec)
                if isinstance(got, Throttle):
                    break
                held.append(got)
        finally:
            warm = 0
            for worker in held:
                if not worker.ready:
                    end = worker.wait_frame(INIT_TIMEOUT)
                    worker.pending_log = self._on_init(worker, end)
                ok = worker.ready and worker.init_error is None
                if not ok and worker.pending_log:
                    self.logs.append(spec.key, worker.pending_log)
                self.pools.release(worker, reusable=ok)
                warm += ok
        return warm

    # -- asyncio ---------------------------------------------------------------------------

    async def invoke_async(
        self, spec: FunctionSpec, request: InvocationRequest
    ) -> InvocationResult:
        """Run one invocation without blocking the running event loop.

        Cancelling the awaiting task kills the worker (its invocation is abandoned).
        """
        rid = request.request_id or new_request_id()
        got = self.pools.reserve(spec)
        if isinstance(got, Throttle):
            return throttled(got, rid)
        if isinstance(got, Reservation):
            starting = asyncio.get_running_loop().run_in_executor(None, self.pools.start, got)
            try:
                worker = await asyncio.shield(starting)
            except asyncio.CancelledError:
                starting.add_done_callback(self._abandon_started)
                raise
            except OSError as error:
                return start_failed(error, rid)
            except EntrypointError as error:
                return self._entrypoint_failed(spec, request, rid, error)
        else:
            worker = got
        try:
            init_log, worker.pending_log = worker.pending_log, ""
            if not worker.ready:
                end = await worker.wait_frame_async(INIT_TIMEOUT)
                init_log = self._on_init(worker, end)
                if not worker.ready:
                    return self._finish(
                        worker, request, rid, end=end, duration_ms=0.0, init_log=init_log
                    )
            started = time.perf_counter()
            if worker.init_error is not None:
                end = init_error_frame(worker)
            else:
                sent = worker.send(self._header(spec, worker, request, rid), request.payload)
                end = await worker.wait_frame_async(float(spec.timeout)) if sent else "eof"
            duration_ms = (time.perf_counter() - started) * 1000.0
        except BaseException:
            self._abandon(worker)
            raise
        return self._finish(
            worker, request, rid, end=end, duration_ms=duration_ms, init_log=init_log
        )

    def _abandon(self, worker: Worker) -> None:
        """An invocation was interrupted (cancelled task, KeyboardInterrupt): drop its worker."""
        worker.kill("abandoned")
        self.pools.release(worker, reusable=False)

    def _abandon_started(self, starting: asyncio.Future[Worker]) -> None:
        if not starting.cancelled() and starting.exception() is None:
            self._abandon(starting.result())

    # -- shared ----------------------------------------------------------------------------

    @staticmethod
    def _header(
        spec: FunctionSpec, worker: Worker, request: InvocationRequest, rid: str
    ) -> dict[str, Any]:
        header: dict[str, Any] = {
            "id": rid,
            "arn": request.invoked_arn,
            "deadline": time.time() * 1000.0 + spec.timeout * 1000.0,
        }
        if request.client_context is not None:
            header["client_context"] = request.client_context
        return header

    @staticmethod
    def _on_init(worker: Worker, end: Frame | WaitEnd) -> str:
        """Record the init phase's outcome; returns the output it logged."""
        worker.init_duration_ms = (time.perf_counter() - worker.started_at) * 1000.0
        if isinstance(end, Frame):
            worker.ready = True
            worker.init_error = end.header.get("error")
        elif end == "timeout":
            worker.kill("init-timeout")
        spec = worker.spec
        return (
            logs.init_start_line(spec.runtime, spec.region, worker.runtime_note)
            + worker.read_new_log()
        )

    def _entrypoint_failed(
        self, spec: FunctionSpec, request: InvocationRequest, rid: str, error: EntrypointError
    ) -> InvocationResult:
        """The environment could not even start its runtime (no bootstrap...)."""
        text = "".join(
            (
                logs.init_start_line(spec.runtime, spec.region),
                f"{error.body['errorType']}: {error.body['errorMessage']}\n",
                logs.start_line(rid, spec.version),
                logs.end_line(rid),
                logs.report_line(
                    rid,
                    duration_ms=0.0,
                    memory_size=spec.memory_size,
                    max_memory_used=0,
                    status="error",
                    error_type=error.body["errorType"],
                ),
            )
        )
        self.logs.append(spec.key, text)
        return result_of_run(
            False, orjson.dumps(error.body), rid, text, log_tail=request.log_tail, duration_ms=0.0
        )

    def _finish(
        self,
        worker: Worker,
        request: InvocationRequest,
        rid: str,
        *,
        end: Frame | WaitEnd,
        duration_ms: float,
        init_log: str,
    ) -> InvocationResult:
        spec = worker.spec
        status: str | None = None
        error_type: str | None = None
        extra_log = ""
        function_log = ""
        reusable = False
        if isinstance(end, Frame):
            worker.peak_mb = int(end.header.get("mem", worker.peak_mb))
            if end.header.get("oom"):
                error_type = limits.OUT_OF_MEMORY_ERROR
                payload = sandbox_error(error_type, rid, exit_reason(-signal.SIGKILL))
                status = "error"
            elif end.header.get("ok"):
                payload = end.body
                reusable = worker.init_error is None
            else:
                payload = end.body
                reusable = worker.init_error is None
        elif end == "timeout":
            rss = limits.current_rss_mb(worker.pid)
            if rss is not None:
                worker.peak_mb = max(worker.peak_mb, int(rss))
            worker.kill("timeout")
            limit = INIT_TIMEOUT if worker.killed_for == "init-timeout" else float(spec.timeout)
            detail = f"Task timed out after {limit:.2f} seconds"
            payload = sandbox_error("Sandbox.Timedout", rid, detail)
            extra_log = f"{_timestamp()} {rid} {detail}\n"
            status = "timeout"
        else:
            returncode = worker.exit_status(2.0)
            function_log = worker.read_new_log()
            # peak_mb: the worker's own reports and the RSS polls while it ran (wait4's
            # ru_maxrss would count the forked copy of headwater before exec); a runtime
            # that died between two polls tells by its last output.
            if worker.killed_for == "oom" or (
                returncode != 0
                and (worker.peak_mb >= spec.memory_size or limits.says_out_of_memory(function_log))
            ):
                error_type = limits.OUT_OF_MEMORY_ERROR
            else:
                error_type = "Runtime.ExitError"
            payload = sandbox_error(error_type, rid, exit_reason(returncode))
            extra_log = f"RequestId: {rid} Error: {exit_reason(returncode)}\n"
            status = "error"
        function_log += worker.read_new_log()
        self.pools.release(worker, reusable=reusable)

        init_ms = None
        if worker.init_duration_ms is not None and not worker.init_reported:
            init_ms = worker.init_duration_ms
            worker.init_reported = True
        ok = isinstance(end, Frame) and bool(end.header.get("ok")) and status is None
        text = "".join(
            (
                init_log,
                logs.start_line(rid, spec.version),
                function_log,
                extra_log,
                logs.end_line(rid),
                logs.report_line(
                    rid,
                    duration_ms=duration_ms,
                    memory_size=spec.memory_size,
                    max_memory_used=worker.peak_mb,
                    init_duration_ms=init_ms,
                    status=status,
                    error_type=error_type,
                ),
            )
        )
        self.logs.append(spec.key, text)
        return result_of_run(
            ok, payload, rid, text, log_tail=request.log_tail, duration_ms=duration_ms
        )


def _timestamp() -> str:
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}Z"


# -- Event invocations ------------------------------------------------------------------------

#: Clock seconds before the first and second retry of a failed Event invocation.
EVENT_RETRY_DELAYS = (60.0, 120.0)
#: Clock seconds before re-attempting a throttled Event invocation (not counted as a retry);
#: doubles per throttle up to EVENT_THROTTLE_MAX_DELAY.
EVENT_THROTTLE_DELAY = 1.0
EVENT_THROTTLE_MAX_DELAY = 300.0
#: Clock seconds after which Lambda drops an undelivered Event invocation.
EVENT_MAX_AGE = 6 * 3600.0
#: Wall-clock seconds a dispatcher's lease on a running invocation lasts without renewal
#: (renewed every third of it): the invocations of a process that died run again this long
#: after, on another process or node sharing the store.
EVENT_LEASE_TTL = 10.0
#: Real seconds between looks at the store for invocations this process was not told of
#: (accepted by another process, or whose dead dispatcher's lease expired).
EVENT_POLL_INTERVAL = 1.0

#: An accepted Event invocation, as stored (``accepted_at`` starts its age).
EventInvocation = AsyncInvocation


class EventQueue:
    """Background ``InvocationType=Event`` invocations, with Lambda's two retries.

    The invocations live in an ``AsyncInvocationStore`` from the moment they are accepted
    until they settle, so a process killed meanwhile loses none: whichever process runs on
    the store next (or another node sharing it) runs them, at least once. An invocation is
    stored leased to the process that accepted it, which runs it straight from memory (no
    claim); retries, and invocations whose dispatcher died, are claimed from the store by
    due time. Leases are wall-clock and renewed while this process holds them.
    """

    def __init__(
        self,
        run: Callable[[EventInvocation], InvocationResult | None],
        clock: Clock,
        store: AsyncInvocationStore | None = None,
        *,
        concurrency: int = 4,
        lease_ttl: float = EVENT_LEASE_TTL,
    ) -> None:
        self._run = run
        self._clock = clock
        if store is None:  # a private in-memory store (nothing outlives the process anyway)
            from headwater.store.async_invocations.memory import MemoryAsyncInvocationStore

            store = MemoryAsyncInvocationStore()
        self._store = store
        self._concurrency = concurrency
        self._lease_ttl = lease_ttl
        #: This dispatcher's lease owner name: unique per process and queue.
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._cond = threading.Condition()
        #: The earliest due time an unclaimed invocation may have, as far as this process
        #: knows (``None``: nothing known; the periodic poll still looks).
        self._due_hint: float | None = None
        self._poll_at = 0.0  # time.monotonic() of the next look at the store
        self._running: dict[str, EventInvocation] = {}
        #: Accepted here, leased to this dispatcher, waiting for a free thread (in order).
        self._local: deque[EventInvocation] = deque()
        #: Dispatchers between deciding to claim and knowing what they claimed (a claimed
        #: invocation is leased, so the store no longer shows it as due: ``wait_idle``
        #: counts these as busy).
        self._claiming = 0
        self._closed = False
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._unsubscribe = clock.subscribe(self._wake)
        #: Recent results (newest last), for tests and diagnostics.
        self.results: deque[tuple[EventInvocation, InvocationResult]] = deque(maxlen=1000)

    def _wake(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def _hint(self, due_at: float | None) -> None:
        """Note that an invocation may be due at ``due_at`` (lock held)."""
        if due_at is not None and (self._due_hint is None or due_at < self._due_hint):
            self._due_hint = due_at

    def start(self) -> None:
        """Start the dispatcher threads (if not yet): they run what the store holds."""
        with self._cond:
            if self._closed:
                raise RuntimeError("the function runtime is closed")
            if self._threads:
                return
            for _ in range(self._concurrency):
                self._spawn(self._dispatch, "headwater-event-invoke")
            self._spawn(self._renew_leases, "headwater-event-lease")

    def _spawn(self, target: Callable[[], None], name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

    def submit(
        self,
        function_name: str,
        payload: bytes,
        region: str = "",
        qualifier: str | None = None,
        request_id: str | None = None,
    ) -> str:
        """Accept an Event invocation: stored (committed) before this returns, run as soon as
        a dispatcher is free. Returns its request id."""
        item = self.accept(function_name, payload, region, qualifier, request_id)
        self.dispatch(item)
        return item.request_id

    def accept(
        self,
        function_name: str,
        payload: bytes,
        region: str = "",
        qualifier: str | None = None,
        request_id: str | None = None,
    ) -> EventInvocation:
        """Store an Event invocation leased to this dispatcher, inside the caller's
        transaction when there is one (so it is durable exactly when that commits); hand it
        to ``dispatch`` after the commit. Should this process die in between, the lease
        expires and another process runs it."""
        now = self._clock.now()
        item = EventInvocation(
            request_id=request_id or new_request_id(),
            region=region,
            function_name=function_name,
            qualifier=qualifier,
            payload=payload,
            accepted_at=now,
            due_at=now,
        )
        if self._closed:
            raise RuntimeError("the function runtime is closed")
        self._store.add(item, self.owner, time.time() + self._lease_ttl)
        return item

    def dispatch(self, item: EventInvocation) -> None:
        """Run an invocation ``accept`` stored as soon as a dispatcher is free."""
        self.start()
        with self._cond:
            self._local.append(item)
            self._cond.notify()

    def pending(self) -> int:
        """Invocations stored: queued, running, or waiting for a retry (every process's)."""
        return self._store.count()

    def wait_idle(self, timeout: float) -> bool:
        """Wait (real seconds) until no invocation is running here or due now; True if so."""
        deadline = time.monotonic() + timeout
        while True:
            with self._cond:
                busy = bool(self._running or self._claiming or self._local)
            if not busy:
                due = self._store.next_due(time.time())
                if due is None or due > self._clock.now():
                    with self._cond:
                        if not (self._running or self._claiming or self._local):
                            return True
                else:
                    with self._cond:
                        self._hint(due)
                        self._cond.notify()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            with self._cond:
                self._cond.wait(min(remaining, 0.05))

    def _next_claim(self) -> float | EventInvocation | None:
        """Wait until there is something to run or claim: an invocation accepted here (now
        in ``_running``), the clock time to claim at (counted in ``_claiming``), or ``None``
        once closed (lock held)."""
        while True:
            if self._closed:
                return None
            if self._local:
                item = self._local.popleft()
                self._running[item.request_id] = item
                return item
            now = self._clock.now()
            if self._due_hint is not None and self._due_hint <= now:
                self._due_hint = None  # consumed: a failed claim sets it from the store
                self._claiming += 1
                return now
            real_now = time.monotonic()
            if real_now >= self._poll_at:
                self._poll_at = real_now + EVENT_POLL_INTERVAL
                self._claiming += 1
                return now
            wait = self._poll_at - real_now
            if self._due_hint is not None:
                delay = self._clock.real_delay(self._due_hint - now)
                if delay is not None:
                    wait = min(wait, delay)
            self._cond.wait(max(wait, 0.001))

    def _dispatch(self) -> None:
        while True:
            with self._cond:
                now = self._next_claim()
            if now is None:
                return
            if isinstance(now, AsyncInvocation):
                self._run_and_settle(now)
                continue
            wall = time.time()
            try:
                claimed = self._store.claim_due(now, self.owner, wall, wall + self._lease_ttl, 1)
                upcoming = None if claimed else self._store.next_due(wall)
            except Exception:  # the store is closing (shutdown) or failing: look again later
                log.exception("asynchronous invocation queue: claim failed")
                with self._cond:
                    self._claiming -= 1
                continue
            with self._cond:
                self._claiming -= 1
                if not claimed:
                    self._hint(upcoming)
                    continue
                item = claimed[0]
                if self._closed:
                    break
                self._running[item.request_id] = item
                self._hint(now)  # more may be due: another dispatcher looks
                self._cond.notify()
            self._run_and_settle(item)

    def _run_and_settle(self, item: EventInvocation) -> None:
        """Run ``item`` (in ``_running``, leased here) and settle its outcome."""
        try:
            result = self._run(item)
        except Exception:
            log.exception("asynchronous invocation %s failed to run", item.request_id)
            result = None
        self._settle(item, result)

    def _settle(self, item: EventInvocation, result: InvocationResult | None) -> None:
        with self._cond:
            closed = self._closed
        if closed:
            # stopping: the invocation stays stored and runs again in the next process
            with self._cond:
                self._running.pop(item.request_id, None)
                self._cond.notify_all()
            return
        retry_at: float | None = None
        try:
            if result is not None:
                with self._cond:
                    self.results.append((item, result))
                delay = self._schedule_retry(item, result)
                if delay is not None:
                    retry_at = self._clock.now() + delay
            if retry_at is None:
                self._store.delete(item.request_id)
            else:
                item.due_at = retry_at
                self._store.reschedule(self.owner, item)
        except Exception:  # the lease runs out and the invocation runs again
            log.exception("asynchronous invocation %s: could not settle", item.request_id)
        with self._cond:
            self._running.pop(item.request_id, None)
            self._hint(retry_at)
            self._cond.notify_all()

    def _schedule_retry(self, item: EventInvocation, result: InvocationResult) -> float | None:
        """Clock seconds until ``item`` runs again (its counts updated), or ``None``: it is
        settled (the caller forgets it)."""
        now = self._clock.now()
        if result.status == "ok" or now - item.accepted_at > EVENT_MAX_AGE:
            return None
        if result.status in {"throttled", "service_error"}:
            delay = min(EVENT_THROTTLE_MAX_DELAY, EVENT_THROTTLE_DELAY * 2.0**item.throttles)
            item.throttles += 1
            return delay
        if item.attempt < len(EVENT_RETRY_DELAYS):
            delay = EVENT_RETRY_DELAYS[item.attempt]
            item.attempt += 1
            return delay
        return None

    def _renew_leases(self) -> None:
        """Extend the leases of the invocations this process holds, running or accepted and
        waiting (every third of a lease)."""
        while not self._stopping.wait(self._lease_ttl / 3):
            with self._cond:
                holding = bool(self._running or self._local)
            if not holding:
                continue
            try:
                self._store.renew(self.owner, time.time() + self._lease_ttl)
            except Exception:
                log.exception("asynchronous invocation queue: lease renewal failed")

    def close(self, *, wait: bool = True) -> None:
        """Stop dispatching; ``wait`` joins the threads and frees this dispatcher's leases.

        Invocations not settled stay stored: the next process on the store runs them.
        """
        with self._cond:
            self._closed = True
            self._local.clear()  # still stored: released below, or their leases expire
            self._cond.notify_all()
        self._stopping.set()
        self._unsubscribe()
        if not wait:
            return
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(timeout=5.0)
        try:
            self._store.release(self.owner)
        except Exception:  # the database is already closed: the leases expire instead
            log.debug("asynchronous invocation queue: leases not released", exc_info=True)
