"""One execution environment: a warm worker process and the pipes to it.

A ``Worker`` is one ``worker.py`` process reached over two pipes (see
``headwater.runtime.worker`` for the frame protocol) whose stdout/stderr go to an
unlinked temporary file (``O_APPEND``) the parent reads after each invocation, so output
written before a timeout kill is kept. Workers get a clean environment: Lambda's
variables, the function's own, a few of the parent's (PATH, HOME, TMPDIR, PYTHONPATH,
LD_LIBRARY_PATH) and dummy credentials, never the developer's AWS credentials.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import select
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import orjson

from headwater.runtime import limits
from headwater.runtime.processes import EnvironmentProcess, start_process
from headwater.runtime.worker import FRAME

WORKER_SCRIPT = str(Path(__file__).with_name("worker.py"))

#: Seconds a worker may spend importing the handler module (Lambda's init limit).
INIT_TIMEOUT = 10.0


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
    region: str  # the function's region: AWS_REGION, AWS_DEFAULT_REGION, its ARN
    #: The runtime's name for the function (pools, log file): unique across regions.
    key: str


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
    process: EnvironmentProcess
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
    #: Init-phase log of a prewarmed worker, written with its first invocation.
    pending_log: str = ""
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

        def on_timeout() -> None:
            if not future.done():
                future.set_result("timeout")

        # A timer and a reader on one future: cheaper than asyncio.wait_for (no extra task).
        timer = loop.call_later(max(0.0, timeout), on_timeout)
        loop.add_reader(self.response_fd, on_readable)
        try:
            return await future
        finally:
            timer.cancel()
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
        if self.log_offset > 1 << 20:
            # Called once the worker has answered (it waits for the next request), so
            # nothing is lost; the file is O_APPEND: the next writes start at 0 again.
            os.ftruncate(self.log_fd, 0)
            self.log_offset = 0
        return data.decode("utf-8", errors="replace")

    def exit_status(self, wait: float = 1.0) -> int | None:
        """The process's return code (negative for a signal), waiting up to ``wait`` s."""
        return self.process.wait(wait)

    def kill(self, reason: str | None = None) -> None:
        """SIGKILL the worker's process tree (timeouts, memory, shutdown of a busy worker)."""
        if reason is not None and self.killed_for is None:
            self.killed_for = reason
        self.process.kill()

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
        process = start_process(
            [python, WORKER_SCRIPT, str(request_read), str(response_write)],
            env=worker_environment(spec, stream, endpoint_url),
            cwd=spec.code_dir,
            output_fd=log_fd,
            pass_fds=(request_read, response_write),
            data_limit_bytes=limits.data_limit_bytes(spec.memory_size),
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
