"""Execution environments: warm worker processes, pooled per function.

A ``Worker`` is one ``worker.py`` process reached over two pipes (see
``headwater.runtime.worker`` for the frame protocol) whose stdout/stderr go to an
unlinked temporary file the parent reads after each invocation. ``WorkerPools`` keeps,
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

import asyncio
import contextlib
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import orjson

from headwater.runtime import limits
from headwater.runtime.worker import FRAME

WORKER_SCRIPT = str(Path(__file__).with_name("worker.py"))

#: Seconds a worker may spend importing the handler module (Lambda's init limit).
INIT_TIMEOUT = 10.0
#: Default seconds an idle worker is kept warm.
DEFAULT_IDLE_TIMEOUT = 300.0


def default_max_workers() -> int:
    """Global cap on live workers: a few per core (handlers often wait on I/O)."""
    return max(4, 4 * (os.cpu_count() or 1))


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    """What the runtime needs to start and run a function's workers."""

    name: str
    arn: str  # unqualified function ARN
    runtime: str
    handler: str
    code_dir: str
    timeout: int
    memory_size: int
    environment: dict[str, str]
    reserved_concurrency: int | None
    revision: str  # changes on every code or configuration update
    region: str


@dataclass(slots=True)
class Frame:
    header: dict[str, Any]
    body: bytes


class FrameReader:
    """Incremental parser of length-prefixed frames."""

    __slots__ = ("_buffer",)

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> None:
        self._buffer += data

    def next_frame(self) -> Frame | None:
        buffer = self._buffer
        if len(buffer) < FRAME.size:
            return None
        head_size, body_size = FRAME.unpack_from(buffer)
        end = FRAME.size + head_size + body_size
        if len(buffer) < end:
            return None
        header = orjson.loads(bytes(buffer[FRAME.size : FRAME.size + head_size]))
        body = bytes(buffer[FRAME.size + head_size : end])
        del buffer[:end]
        return Frame(header, body)


def encode_frame(header: dict[str, Any], body: bytes) -> bytes:
    head = orjson.dumps(header)
    return FRAME.pack(len(head), len(body)) + head + body


#: How waiting for a worker's frame ended, when not with a frame.
WaitEnd = Literal["timeout", "eof"]


@dataclass(eq=False)
class Worker:
    """One execution environment (a worker process) of one function revision."""

    spec: FunctionSpec
    process: subprocess.Popen[bytes]
    request_fd: int
    response_fd: int
    log_fd: int
    log_stream_name: str
    started_at: float  # perf_counter at spawn
    reader: FrameReader = field(default_factory=FrameReader)
    ready: bool = False
    init_error: dict[str, Any] | None = None
    init_duration_ms: float | None = None  # reported once, on the first invocation
    log_offset: int = 0
    last_used: float = 0.0  # monotonic
    busy: bool = True
    #: Why the parent killed it ("timeout", "oom"); None while it lives or if it exited.
    killed_for: str | None = None
    peak_mb: int = 0
    init_reported: bool = False
    closed: bool = False
    _poll: Any = None

    @property
    def pid(self) -> int:
        return self.process.pid

    def send(self, header: dict[str, Any], body: bytes) -> bool:
        """Write one request frame; False if the worker is gone."""
        data = memoryview(encode_frame(header, body))
        try:
            while data:
                written = os.write(self.request_fd, data)
                data = data[written:]
        except (BrokenPipeError, OSError):
            return False
        return True

    def wait_frame(self, timeout: float) -> Frame | WaitEnd:
        """Block (this thread only) for the next frame, up to ``timeout`` seconds."""
        frame = self.reader.next_frame()
        if frame is not None:
            return frame
        if self._poll is None:
            self._poll = select.poll()
            self._poll.register(self.response_fd, select.POLLIN)
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return "timeout"
            if not self._poll.poll(remaining * 1000.0 + 0.5):
                continue
            try:
                data = os.read(self.response_fd, 1 << 20)
            except OSError:
                data = b""
            if not data:
                return "eof"
            self.reader.feed(data)
            frame = self.reader.next_frame()
            if frame is not None:
                return frame

    async def wait_frame_async(self, timeout: float) -> Frame | WaitEnd:
        """Await the next frame without blocking the running event loop."""
        frame = self.reader.next_frame()
        if frame is not None:
            return frame
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Frame | WaitEnd] = loop.create_future()

        def on_readable() -> None:
            try:
                data = os.read(self.response_fd, 1 << 20)
            except OSError:
                data = b""
            if future.done():
                return
            if not data:
                future.set_result("eof")
                return
            self.reader.feed(data)
            found = self.reader.next_frame()
            if found is not None:
                future.set_result(found)

        loop.add_reader(self.response_fd, on_readable)
        try:
            return await asyncio.wait_for(future, max(0.0, timeout))
        except TimeoutError:
            return "timeout"
        finally:
            loop.remove_reader(self.response_fd)

    def read_new_log(self) -> str:
        """Log output written since the last call (stdout and stderr, interleaved)."""
        try:
            size = os.fstat(self.log_fd).st_size
        except OSError:
            return ""
        if size <= self.log_offset:
            return ""
        data = os.pread(self.log_fd, size - self.log_offset, self.log_offset)
        self.log_offset += len(data)
        if self.log_offset > 1 << 20 and not self.busy:
            os.ftruncate(self.log_fd, 0)  # the file is O_APPEND: writes restart at 0
            self.log_offset = 0
        return data.decode("utf-8", errors="replace")

    def exit_status(self, wait: float = 1.0) -> int | None:
        """The process's return code (negative for a signal), waiting up to ``wait`` s."""
        try:
            return self.process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            return None

    def kill(self, reason: str | None = None) -> None:
        """SIGKILL the worker (timeouts, memory, shutdown of a busy worker)."""
        if reason is not None and self.killed_for is None:
            self.killed_for = reason
        with contextlib.suppress(ProcessLookupError, OSError):
            self.process.send_signal(signal.SIGKILL)

    def close_pipes(self) -> None:
        if self.closed:
            return
        self.closed = True
        for fd in (self.request_fd, self.response_fd, self.log_fd):
            with contextlib.suppress(OSError):
                os.close(fd)


def log_stream_name(version: str = "$LATEST") -> str:
    """``YYYY/MM/DD/[<version>]<32 hex>``, the CloudWatch stream of one environment."""
    return time.strftime("%Y/%m/%d", time.gmtime()) + f"/[{version}]" + os.urandom(16).hex()


def worker_environment(spec: FunctionSpec, stream: str, endpoint_url: str | None) -> dict[str, str]:
    """The process environment of a worker: Lambda's variables plus the function's own."""
    env: dict[str, str] = {}
    for name in ("PATH", "HOME", "TMPDIR", "PYTHONPATH", "LD_LIBRARY_PATH", "SYSTEMROOT"):
        value = os.environ.get(name)
        if value:
            env[name] = value
    env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    env.update(
        {
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            "PYTHONUNBUFFERED": "0",
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_size),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": stream,
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_REGION": spec.region,
            "AWS_DEFAULT_REGION": spec.region,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
            "_HANDLER": spec.handler,
            "LAMBDA_TASK_ROOT": spec.code_dir,
            "LAMBDA_RUNTIME_DIR": str(Path(WORKER_SCRIPT).parent),
            # Dummy credentials: boto3 in a handler never picks up the developer's own.
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_SESSION_TOKEN": "headwater",
        }
    )
    if endpoint_url:
        env["AWS_ENDPOINT_URL"] = endpoint_url
    env.update(spec.environment)
    env["_HEADWATER_ADDRESS_SPACE_LIMIT"] = str(limits.address_space_limit(spec.memory_size))
    return env


def spawn_worker(spec: FunctionSpec, *, python: str, endpoint_url: str | None) -> Worker:
    """Start a worker process for ``spec`` (returns at once; init runs in the child)."""
    request_read, request_write = os.pipe()
    response_read, response_write = os.pipe()
    log_fd, log_name = tempfile.mkstemp(prefix="headwater-log-")
    os.close(log_fd)
    log_fd = os.open(log_name, os.O_RDWR | os.O_APPEND | os.O_CLOEXEC)
    os.unlink(log_name)
    stream = log_stream_name()
    started = time.perf_counter()
    try:
        process = subprocess.Popen(
            [python, WORKER_SCRIPT, str(request_read), str(response_write)],
            stdin=subprocess.DEVNULL,
            stdout=log_fd,
            stderr=log_fd,
            pass_fds=(request_read, response_write),
            env=worker_environment(spec, stream, endpoint_url),
            cwd=spec.code_dir,
            start_new_session=True,
        )
    except BaseException:
        for fd in (request_read, request_write, response_read, response_write, log_fd):
            os.close(fd)
        raise
    os.close(request_read)
    os.close(response_write)
    for fd in (request_write, response_read):
        os.set_inheritable(fd, False)
    return Worker(
        spec=spec,
        process=process,
        request_fd=request_write,
        response_fd=response_read,
        log_fd=log_fd,
        log_stream_name=stream,
        started_at=started,
    )


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
        python: str | None = None,
        endpoint_url: Callable[[], str | None] | None = None,
    ) -> None:
        self.max_workers = max_workers or default_max_workers()
        self.idle_timeout = idle_timeout
        self.python = python or sys.executable
        self._endpoint_url = endpoint_url or (lambda: None)
        self._lock = threading.Lock()
        self._pools: dict[str, FunctionPool] = {}
        self._live = 0
        self._dying: list[tuple[Worker, float]] = []
        self._closed = False
        self._wake = threading.Event()
        self._housekeeper: threading.Thread | None = None
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
                if pool.idle:
                    worker = pool.idle.pop()
                    worker.busy = True
                    pool.busy.add(worker)
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
            worker = spawn_worker(
                reservation.spec, python=self.python, endpoint_url=self._endpoint_url()
            )
        except BaseException:
            with self._lock:
                pool.starting -= 1
                self._live -= 1
            raise
        with self._lock:
            self.spawned += 1
            pool.starting -= 1
            pool.busy.add(worker)
        self._ensure_housekeeper()
        return worker

    def release(self, worker: Worker, *, reusable: bool) -> None:
        """Give a worker back after an invocation; stop it unless it can serve again."""
        worker.busy = False
        worker.last_used = time.monotonic()
        stop = True
        with self._lock:
            pool = self._pools.get(worker.spec.name)
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
        pool = self._pools.get(spec.name)
        if pool is None:
            pool = self._pools[spec.name] = FunctionPool(spec.revision)
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

    def drain(self, function_name: str, new_revision: str | None = None) -> None:
        """Stop idle workers of ``function_name``; busy ones stop when they finish."""
        retired: list[Worker] = []
        with self._lock:
            pool = self._pools.get(function_name)
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

    def worker_count(self, function_name: str) -> tuple[int, int]:
        """(idle, busy) workers of a function."""
        with self._lock:
            pool = self._pools.get(function_name)
            if pool is None:
                return (0, 0)
            return (len(pool.idle), len(pool.busy) + pool.starting)

    def worker_pids(self, function_name: str) -> list[int]:
        with self._lock:
            pool = self._pools.get(function_name)
            if pool is None:
                return []
            return [w.pid for w in [*pool.idle, *pool.busy]]

    def _stop_later(self, workers: list[Worker]) -> None:
        # Closing the request pipe makes an idle worker exit by itself; the housekeeper
        # reaps it and SIGKILLs it if it lingers. Called with the lock held.
        deadline = time.monotonic() + 2.0
        for worker in workers:
            with contextlib.suppress(OSError):
                os.close(worker.request_fd)
            worker.request_fd = -1
            self._dying.append((worker, deadline))
        if workers:
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
                if limits.is_over_limit(rss, worker.spec.memory_size):
                    worker.kill("oom")
            now = time.monotonic()
            if now >= next_idle_check:
                self._retire_idle(now)
                next_idle_check = now + min(1.0, self.idle_timeout / 4)
            self._reap(now)
            with self._lock:
                waiting = bool(self._dying)
            self._wake.wait(limits.RSS_POLL_INTERVAL if busy or waiting else 0.5)
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
            worker.close_pipes()
            done.append(worker)
        if done:
            with self._lock:
                self._dying = [(w, d) for w, d in self._dying if w not in done]

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
            if worker.request_fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(worker.request_fd)
                worker.request_fd = -1
            if worker.busy:
                worker.kill()
        deadline = time.monotonic() + 1.0
        for worker in workers:
            if worker.exit_status(max(0.0, deadline - time.monotonic())) is None:
                worker.kill()
                worker.exit_status(5.0)
            worker.close_pipes()
        if self._housekeeper is not None and self._housekeeper is not threading.current_thread():
            self._housekeeper.join(timeout=5.0)
