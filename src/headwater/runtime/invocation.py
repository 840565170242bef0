"""Invoking functions: the sync and asyncio paths over worker pools, and Event invokes.

``FunctionRuntime.invoke`` (blocking, any thread) and ``invoke_async`` (awaitable, never
blocks the loop: it awaits the worker's pipe with ``loop.add_reader`` and starts new
processes in the default executor) share one result builder, so both report Lambda's
error shapes and log lines identically. ``EventQueue`` runs ``InvocationType=Event``
invokes in the background and retries a failed one twice (after 1 and 2 minutes of clock
time), like Lambda's asynchronous invocation.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import signal
import threading
import time
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

    # -- sync ------------------------------------------------------------------------------

    def invoke(self, spec: FunctionSpec, request: InvocationRequest) -> InvocationResult:
        """Run one invocation, blocking this thread until it ends."""
        rid = new_request_id()
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
        rid = new_request_id()
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


@dataclass(slots=True)
class EventInvocation:
    function_name: str
    payload: bytes
    enqueued_at: float
    attempt: int = 0
    throttles: int = 0
    #: The function's region ("" for the environment's).
    region: str = ""
    #: The version or alias invoked (``None``: unqualified).
    qualifier: str | None = None


class EventQueue:
    """Background ``InvocationType=Event`` invocations, with Lambda's two retries."""

    def __init__(
        self,
        run: Callable[[EventInvocation], InvocationResult | None],
        clock: Clock,
        *,
        concurrency: int = 4,
    ) -> None:
        self._run = run
        self._clock = clock
        self._concurrency = concurrency
        self._heap: list[tuple[float, int, EventInvocation]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._running = 0
        self._closed = False
        self._threads: list[threading.Thread] = []
        self._unsubscribe = clock.subscribe(self._wake)
        #: Recent results (newest last), for tests and diagnostics.
        self.results: deque[tuple[EventInvocation, InvocationResult]] = deque(maxlen=1000)

    def _wake(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def submit(
        self, function_name: str, payload: bytes, region: str = "", qualifier: str | None = None
    ) -> None:
        """Queue an Event invocation (runs as soon as a dispatcher is free)."""
        item = EventInvocation(
            function_name, payload, self._clock.now(), region=region, qualifier=qualifier
        )
        with self._cond:
            if self._closed:
                raise RuntimeError("the function runtime is closed")
            heapq.heappush(self._heap, (self._clock.now(), next(self._seq), item))
            if len(self._threads) < self._concurrency and self._running + len(self._heap) > len(
                self._threads
            ):
                thread = threading.Thread(
                    target=self._dispatch, name="headwater-event-invoke", daemon=True
                )
                self._threads.append(thread)
                thread.start()
            self._cond.notify()

    def pending(self) -> int:
        """Invocations queued or running (including retries scheduled for later)."""
        with self._cond:
            return len(self._heap) + self._running

    def wait_idle(self, timeout: float) -> bool:
        """Wait (real seconds) until no invocation is running or due now; True if so."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._running or (self._heap and self._heap[0][0] <= self._clock.now()):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(min(remaining, 0.05))
            return True

    def _dispatch(self) -> None:
        while True:
            with self._cond:
                item: EventInvocation | None = None
                while item is None:
                    if self._closed:
                        return
                    now = self._clock.now()
                    if self._heap and self._heap[0][0] <= now:
                        item = heapq.heappop(self._heap)[2]
                        break
                    wait: float | None = None
                    if self._heap:
                        wait = self._clock.real_delay(self._heap[0][0] - now)
                    self._cond.wait(1.0 if wait is None else min(max(wait, 0.001), 1.0))
                self._running += 1
            try:
                result = self._run(item)
            except Exception:
                result = None
            with self._cond:
                self._running -= 1
                if result is not None and not self._closed:
                    self.results.append((item, result))
                    self._schedule_retry(item, result)
                self._cond.notify_all()

    def _schedule_retry(self, item: EventInvocation, result: InvocationResult) -> None:
        now = self._clock.now()
        if result.status == "ok" or now - item.enqueued_at > EVENT_MAX_AGE:
            return
        if result.status in {"throttled", "service_error"}:
            delay = min(EVENT_THROTTLE_MAX_DELAY, EVENT_THROTTLE_DELAY * 2**item.throttles)
            item.throttles += 1
        elif item.attempt < len(EVENT_RETRY_DELAYS):
            delay = EVENT_RETRY_DELAYS[item.attempt]
            item.attempt += 1
        else:
            return
        heapq.heappush(self._heap, (now + delay, next(self._seq), item))

    def close(self, *, wait: bool = True) -> None:
        """Stop dispatching (queued invocations are dropped); ``wait`` joins the threads."""
        with self._cond:
            self._closed = True
            self._heap.clear()
            self._cond.notify_all()
        self._unsubscribe()
        if not wait:
            return
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(timeout=5.0)
