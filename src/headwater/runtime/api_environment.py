"""An execution environment that runs any bootstrap through the Lambda Runtime API.

The process (a ``provided`` bootstrap, node with headwater's bootstrap or aws-lambda-ric,
python with awslambdaric) finds the API at ``AWS_LAMBDA_RUNTIME_API`` and, as on AWS:

- ``GET /2018-06-01/runtime/invocation/next`` waits for an invocation (the first call
  ends the init phase) and answers the event with the ``Lambda-Runtime-*`` headers:
  ``Aws-Request-Id``, ``Deadline-Ms``, ``Invoked-Function-Arn``, ``Trace-Id``,
  ``Client-Context`` and ``Cognito-Identity`` when the caller gave them;
- ``POST /2018-06-01/runtime/invocation/{id}/response`` (at most 6 MB, else 413 and the
  invoke fails with ``Function.ResponseSizeTooLarge``) or ``/error`` (the error JSON,
  its type in ``Lambda-Runtime-Function-Error-Type``) ends the invocation; a request id
  that is not the current one gets 400 ``InvalidRequestID``;
- ``POST /2018-06-01/runtime/init/error`` reports an init failure: every invoke answers
  it until a new environment initializes;
- the Extensions API (``/2020-01-01/extension/register``, ``/event/next``: INVOKE and
  SHUTDOWN events) and the Telemetry/Logs API subscriptions (accepted) let extensions
  start and follow invocations (``headwater.runtime.extensions``).

Everything here runs on the API host's loop; callers on other threads reach it through
``send`` and a ``Mailbox`` of frames (the ``Worker`` interface).
"""

from __future__ import annotations

import asyncio
import os
import random
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from headwater.runtime import limits
from headwater.runtime.api_server import Exchange, Listener, RuntimeApiHost
from headwater.runtime.environment import (
    Frame,
    FunctionSpec,
    WaitEnd,
    Worker,
    log_stream_name,
    open_log_file,
    worker_environment,
)
from headwater.runtime.extensions import ExtensionRegistry
from headwater.runtime.processes import start_process

#: Largest response a function may return (buffered mode), as the Runtime API counts it.
MAX_RESPONSE_BYTES = 6_291_556

INVOCATION = "/2018-06-01/runtime/invocation/"
NEXT = "/2018-06-01/runtime/invocation/next"
INIT_ERROR = "/2018-06-01/runtime/init/error"
#: Longest wait, after a runtime process exits, for what it wrote before to be read.
EXIT_DRAIN_SECONDS = 0.1

#: Seconds extensions have between SHUTDOWN and the kill (AWS: up to 2,000 ms).
SHUTDOWN_GRACE = 2.0


class Mailbox:
    """Frames from the API loop to one waiting caller, blocking or on its own loop."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ready = threading.Condition(self._lock)
        self._items: deque[Frame | WaitEnd] = deque()
        self._waiter: tuple[asyncio.AbstractEventLoop, asyncio.Future[Frame | WaitEnd]] | None = (
            None
        )

    def put(self, item: Frame | WaitEnd) -> None:
        with self._lock:
            waiter, self._waiter = self._waiter, None
            if waiter is None:
                self._items.append(item)
                self._ready.notify()
                return
        loop, future = waiter
        try:
            loop.call_soon_threadsafe(self._hand_over, future, item)
        except RuntimeError:  # the waiter's loop is closed
            self._requeue(item)

    def _hand_over(self, future: asyncio.Future[Frame | WaitEnd], item: Frame | WaitEnd) -> None:
        if future.done():  # timed out or cancelled meanwhile: keep it for the next wait
            self._requeue(item)
        else:
            future.set_result(item)

    def _requeue(self, item: Frame | WaitEnd) -> None:
        with self._lock:
            self._items.appendleft(item)
            self._ready.notify()

    def get(self, timeout: float) -> Frame | WaitEnd:
        deadline = time.monotonic() + timeout
        with self._lock:
            while not self._items:
                remaining = deadline - time.monotonic()
                if (remaining <= 0 or not self._ready.wait(remaining)) and not self._items:
                    return "timeout"
            return self._items.popleft()

    async def get_async(self, timeout: float) -> Frame | WaitEnd:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Frame | WaitEnd] = loop.create_future()
        with self._lock:
            if self._items:
                return self._items.popleft()
            self._waiter = (loop, future)
        timer = loop.call_later(max(0.0, timeout), _expire, future)
        try:
            return await future
        finally:
            timer.cancel()
            with self._lock:
                if self._waiter is not None and self._waiter[1] is future:
                    self._waiter = None


def _expire(future: asyncio.Future[Frame | WaitEnd]) -> None:
    if not future.done():
        future.set_result("timeout")


@dataclass(slots=True)
class Invocation:
    request_id: str
    header: dict[str, Any]
    body: bytes
    trace_id: str


def trace_header(request_id: str) -> str:
    """An X-Ray trace header like the one Lambda passes (not sampled)."""
    now = int(time.time())
    ids = random.getrandbits(160)  # trace ids need to be unique, not secret
    return f"Root=1-{now:08x}-{ids >> 64:024x};Parent={ids & (2**64 - 1):016x};Sampled=0"


@dataclass(eq=False, kw_only=True)
class RuntimeApiEnvironment(Worker):
    """A bootstrap process and the Runtime API it talks to."""

    host: RuntimeApiHost
    mailbox: Mailbox = field(default_factory=Mailbox)
    listener: Listener | None = None
    extensions: ExtensionRegistry | None = None
    #: API-loop state: the /next request waiting for an invocation, the invocation not
    #: yet handed out, the one being run.
    _parked: Exchange | None = None
    _pending: Invocation | None = None
    _current: Invocation | None = None
    _init_done: bool = False
    _runtime_waiting: bool = False
    _pidfd: int | None = None
    _status_fd: int | None = None

    # -- Worker interface (any thread) ----------------------------------------------------

    def send(self, header: dict[str, Any], body: bytes) -> bool:
        # No liveness check here: a dead process has already put "eof" in the mailbox.
        rid = header["id"]
        self.host.call(self._deliver, Invocation(rid, header, body, trace_header(rid)))
        return True

    def wait_frame(self, timeout: float) -> Frame | WaitEnd:
        return self.mailbox.get(timeout)

    async def wait_frame_async(self, timeout: float) -> Frame | WaitEnd:
        return await self.mailbox.get_async(timeout)

    def stop(self) -> None:
        # Extensions get SHUTDOWN; the runtime itself is killed (as on AWS: the runtime
        # gets no shutdown event), its extensions when the reaper's grace ends.
        self.host.call(self._shutdown)

    def release_resources(self) -> None:
        self.host.call(self._close_api)

    # -- API loop ---------------------------------------------------------------------------

    def attach(self) -> None:
        """Watch the process (on the API loop) so a death ends any wait with "eof"."""
        loop = self.host.loop
        try:
            self._pidfd = os.pidfd_open(self.pid)
        except (AttributeError, OSError):
            loop.call_later(0.05, self._poll_exit)
            return
        loop.add_reader(self._pidfd, self._on_exit)

    def _poll_exit(self) -> None:
        if self.process.poll() is not None:
            self._on_exit()
        elif not self.closed:
            self.host.loop.call_later(0.05, self._poll_exit)

    def _on_exit(self) -> None:
        if self._pidfd is not None:
            self.host.loop.remove_reader(self._pidfd)
            os.close(self._pidfd)
            self._pidfd = None
        self._eof_once_drained(time.monotonic() + EXIT_DRAIN_SECONDS, 0)

    def _eof_once_drained(self, deadline: float, rounds: int) -> None:
        # The process is gone, but what it wrote just before (a response, then an
        # uncaught error's report on a connection of its own) may still be unread when
        # the loop sees the exit first (a loaded machine): read it, so the invocation
        # ends with what the runtime said, then report the death. A few loop turns let a
        # last connection be accepted; its close (the process's sockets are closed) ends
        # the wait. Extensions' connections stay open, hence the deadline.
        listener = self.listener
        open_connections = listener is not None and any(
            not connection.closed for connection in listener.connections
        )
        if (rounds < 4 or open_connections) and time.monotonic() < deadline:
            self.host.loop.call_later(0.001, self._eof_once_drained, deadline, rounds + 1)
            return
        self.mailbox.put("eof")

    def _close_api(self) -> None:
        if self.listener is not None:
            self.listener.server.close()
            self.listener = None
        if self._pidfd is not None:
            self.host.loop.remove_reader(self._pidfd)
            os.close(self._pidfd)
            self._pidfd = None
        if self._status_fd is not None:
            os.close(self._status_fd)
            self._status_fd = None
        if self.extensions is not None:
            self.extensions.close()

    def _shutdown(self) -> None:
        if self.extensions is not None and self.extensions.shutdown():
            # As on AWS: extensions get SHUTDOWN and up to 2 s to exit; then everything
            # is killed (the reaper's grace period ends at about the same time).
            self._kill_when_extensions_exit(time.monotonic() + SHUTDOWN_GRACE)
            return
        self.process.kill()

    def _kill_when_extensions_exit(self, deadline: float) -> None:
        assert self.extensions is not None
        if self.extensions.running() and time.monotonic() < deadline:
            self.host.loop.call_later(0.02, self._kill_when_extensions_exit, deadline)
            return
        self.extensions.close()
        self.process.kill()

    def _deliver(self, invocation: Invocation) -> None:
        self._current = None
        if self.extensions is not None:
            self.extensions.invoke(invocation)
        parked, self._parked = self._parked, None
        if parked is not None and parked.open:
            self._hand_out(parked, invocation)
        else:
            self._pending = invocation

    def _hand_out(self, exchange: Exchange, invocation: Invocation) -> None:
        header = invocation.header
        headers = {
            "Lambda-Runtime-Aws-Request-Id": invocation.request_id,
            "Lambda-Runtime-Deadline-Ms": str(int(header["deadline"])),
            "Lambda-Runtime-Invoked-Function-Arn": header["arn"],
            "Lambda-Runtime-Trace-Id": invocation.trace_id,
        }
        if header.get("client_context") is not None:
            headers["Lambda-Runtime-Client-Context"] = orjson.dumps(
                header["client_context"]
            ).decode()
        if header.get("identity") is not None:
            headers["Lambda-Runtime-Cognito-Identity"] = orjson.dumps(header["identity"]).decode()
        self._current = invocation
        exchange.respond(200, invocation.body or b"{}", headers)

    def handle(self, exchange: Exchange) -> None:
        """Route one Runtime API request (the listener's handler)."""
        request = exchange.request
        path = request.path
        if path == NEXT and request.method == "GET":
            self._next(exchange)
        elif path.startswith(INVOCATION) and request.method == "POST":
            request_id, _, kind = path[len(INVOCATION) :].partition("/")
            self._result(exchange, request_id, kind)
        elif path == INIT_ERROR and request.method == "POST":
            self._init_error(exchange)
        elif self.extensions is not None and self.extensions.handles(path):
            self.extensions.handle(exchange)
        else:
            exchange.respond_json(
                404, {"errorMessage": f"Unknown path {path}", "errorType": "InvalidPath"}
            )

    def _next(self, exchange: Exchange) -> None:
        self._runtime_waiting = True
        if not self._init_done:
            self._check_init_done()
        pending, self._pending = self._pending, None
        if pending is not None:
            self._hand_out(exchange, pending)
        else:
            self._parked = exchange

    def _check_init_done(self) -> None:
        """Init ends when the runtime waits for work and every extension registered and
        waits for events (called again when an extension gets there last)."""
        if self._init_done or not self._runtime_waiting:
            return
        if self.extensions is not None and not self.extensions.ready():
            return
        self._init_done = True
        self.mailbox.put(Frame({"t": "ready", "error": None}, b""))

    def _result(self, exchange: Exchange, request_id: str, kind: str) -> None:
        current = self._current
        if kind not in ("response", "error"):
            exchange.respond_json(404, {"errorMessage": "Unknown path", "errorType": "InvalidPath"})
            return
        if current is None or current.request_id != request_id:
            exchange.respond_json(
                400, {"errorMessage": "Invalid request ID", "errorType": "InvalidRequestID"}
            )
            return
        self._current = None
        self._runtime_waiting = False
        body = exchange.request.body
        if kind == "response" and len(body) > MAX_RESPONSE_BYTES:
            exchange.respond_json(
                413,
                {
                    "errorMessage": "Exceeded maximum allowed payload size "
                    f"({MAX_RESPONSE_BYTES} bytes).",
                    "errorType": "RequestEntityTooLarge",
                },
            )
            body = orjson.dumps(
                {
                    "errorMessage": "Response payload size exceeded maximum allowed payload "
                    f"size ({MAX_RESPONSE_BYTES} bytes).",
                    "errorType": "Function.ResponseSizeTooLarge",
                }
            )
            kind = "error"
        else:
            exchange.respond_json(202, {"status": "OK"})
        if kind == "error":
            body = error_payload(body, exchange.request.headers)
        peak = self._peak_rss_mb()
        header = {"ok": kind == "response", "mem": peak, "oom": peak > self.spec.memory_size}
        if self.extensions is not None:
            self.extensions.after_invoke(
                lambda: self.mailbox.put(Frame(header, body)), request_id, kind == "response"
            )
        else:
            self.mailbox.put(Frame(header, body))

    def _peak_rss_mb(self) -> int:
        """The process's peak RSS (VmHWM) in MB: one pread of its open status file."""
        if self._status_fd is None:
            try:
                self._status_fd = os.open(f"/proc/{self.pid}/status", os.O_RDONLY | os.O_CLOEXEC)
            except OSError:
                return limits.peak_rss_mb(self.pid) or 0
        try:
            data = os.pread(self._status_fd, 4096, 0)
        except OSError:
            return 0
        start = data.find(b"VmHWM:")
        return int(data[start + 6 : data.find(b"kB", start)]) // 1024 if start >= 0 else 0

    def _init_error(self, exchange: Exchange) -> None:
        exchange.respond_json(202, {"status": "OK"})
        if self._init_done:
            return
        self._init_done = True
        error = orjson.loads(error_payload(exchange.request.body, exchange.request.headers))
        self.mailbox.put(Frame({"t": "ready", "error": error}, b""))


def error_payload(body: bytes, headers: dict[str, str]) -> bytes:
    """What the invoker gets for a runtime's /error or /init/error post: the runtime's own
    JSON, or (not JSON) an error of the type the runtime named in its header."""
    try:
        parsed = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        parsed = None
    if isinstance(parsed, dict):
        return body
    error_type = headers.get("lambda-runtime-function-error-type", "Runtime.Unknown")
    return orjson.dumps(
        {
            "errorType": error_type,
            "errorMessage": body.decode("utf-8", "replace") if body else error_type,
        }
    )


def start_api_environment(
    spec: FunctionSpec,
    command: Sequence[str],
    *,
    host: RuntimeApiHost,
    endpoint_url: str | None,
    extra_env: dict[str, str] | None = None,
    runtime_note: str = "",
    extension_commands: Sequence[str] = (),
) -> RuntimeApiEnvironment:
    """Open an API endpoint, start extensions then the bootstrap ``command`` against it."""
    log_fd = open_log_file()
    stream = log_stream_name()
    env = worker_environment(spec, stream, endpoint_url)
    env.update(extra_env or {})
    started = time.perf_counter()
    holder: list[RuntimeApiEnvironment] = []
    registry = (
        ExtensionRegistry(spec, host, len(extension_commands)) if extension_commands else None
    )

    #: Requests that came before the environment existed (API loop only), in order.
    early: list[Exchange] = []

    def route(exchange: Exchange) -> None:
        if holder and not early:
            holder[0].handle(exchange)
        elif not holder and registry is not None and registry.handles(exchange.request.path):
            # An extension may register before the bootstrap's process (started after the
            # extensions, as on AWS) and its environment exist, on a slow machine.
            registry.handle(exchange)
        else:
            # The bootstrap's first request can come before this thread has made its
            # environment (a loaded machine): it was answered 404, and the runtime exited
            # (a custom runtime's init error became Runtime.ExitError). It waits instead.
            early.append(exchange)

    def route_early() -> None:
        while early:
            exchange = early.pop(0)
            if exchange.open:
                holder[0].handle(exchange)

    listener = host.listen(route)
    env["AWS_LAMBDA_RUNTIME_API"] = listener.address
    try:
        if registry is not None:
            registry.start(extension_commands, env, log_fd)
        process = start_process(
            command,
            env=env,
            cwd=spec.code_dir,
            output_fd=log_fd,
            data_limit_bytes=limits.data_limit_bytes(spec.memory_size),
        )
    except BaseException:
        host.close_listener(listener)
        if registry is not None:
            registry.close()
        os.close(log_fd)
        raise
    environment = RuntimeApiEnvironment(
        spec=spec,
        process=process,
        log_fd=log_fd,
        log_stream_name=stream,
        started_at=started,
        runtime_note=runtime_note,
        host=host,
        listener=listener,
        extensions=registry,
    )
    if registry is not None:
        registry.on_ready = lambda: host.call(environment._check_init_done)
    holder.append(environment)
    host.call(environment.attach)
    host.call(route_early)
    return environment
