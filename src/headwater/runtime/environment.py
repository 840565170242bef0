"""Execution environments: the one interface every runtime family implements.

An execution environment is one warm process of one function revision that runs one
invocation at a time. ``Worker`` is the interface the pools and ``FunctionRuntime`` use:

- ``send(header, body)`` hands it an invocation (``header``: request id, invoked ARN,
  deadline, client context), ``wait_frame`` / ``wait_frame_async`` wait for what it says
  back as a ``Frame``: first, once, ``{"t": "ready", "error": ...}`` when its init phase
  ended; then per invocation ``{"ok", "mem", "oom"}`` with the result (or error JSON) as
  body; or how the wait ended otherwise ("timeout", "eof": the process is gone);
- ``stop()`` asks it to end (idle), ``kill()`` ends its process tree now;
- its stdout/stderr go to an unlinked temporary file (``O_APPEND``) that the parent reads
  after each invocation (``read_new_log``), so output written before a kill is kept.

Implementations: ``headwater.runtime.python_worker.PythonWorker`` (the fast path: a
Python worker over two pipes) and ``headwater.runtime.api_environment.RuntimeApiEnvironment``
(any bootstrap speaking the Lambda Runtime API: Node.js, ``provided``, awslambdaric).
Processes get a clean environment: Lambda's variables, the function's own, a few of the
parent's (PATH, HOME, TMPDIR, LD_LIBRARY_PATH) and dummy credentials, never the
developer's AWS credentials.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from headwater.runtime.processes import EnvironmentProcess

RUNTIME_DIR = str(Path(__file__).parent)

#: Seconds a worker may spend in its init phase (Lambda's init limit).
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
    #: The function's layers, unpacked, in the function's order (AWS's /opt).
    layer_dirs: tuple[str, ...] = ()
    #: ``$LATEST`` or the published version number (AWS_LAMBDA_FUNCTION_VERSION).
    version: str = "$LATEST"


@dataclass(slots=True)
class Frame:
    """What an environment said: its init outcome or one invocation's result."""

    header: dict[str, Any]
    body: bytes


#: How waiting for a worker's frame ended, when not with a frame.
WaitEnd = Literal["timeout", "eof"]


@dataclass(eq=False, kw_only=True)
class Worker:
    """One execution environment (a process) of one function revision."""

    spec: FunctionSpec
    process: EnvironmentProcess
    log_fd: int
    log_stream_name: str
    started_at: float  # perf_counter at spawn
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
    #: What INIT_START says about the runtime (e.g. the interpreter really used).
    runtime_note: str = ""
    _extra: dict[str, Any] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.process.pid

    # -- the part each runtime family implements ------------------------------------------

    def send(self, header: dict[str, Any], body: bytes) -> bool:
        """Hand over one invocation; False if the environment is gone."""
        raise NotImplementedError

    def wait_frame(self, timeout: float) -> Frame | WaitEnd:
        """Block (this thread only) for the next frame, up to ``timeout`` seconds."""
        raise NotImplementedError

    async def wait_frame_async(self, timeout: float) -> Frame | WaitEnd:
        """Await the next frame without blocking the running event loop."""
        raise NotImplementedError

    def stop(self) -> None:
        """Ask an idle environment to end (it is reaped, and killed if it lingers)."""
        raise NotImplementedError

    def release_resources(self) -> None:
        """Free what the environment holds besides its log file (pipes, server)."""

    # -- shared ---------------------------------------------------------------------------

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
        """Release everything once the process is gone."""
        if self.closed:
            return
        self.closed = True
        self.release_resources()
        with contextlib.suppress(OSError):
            os.close(self.log_fd)


def open_log_file() -> int:
    """An unlinked, append-only temporary file for an environment's stdout and stderr."""
    log_fd, log_name = tempfile.mkstemp(prefix="headwater-log-")
    os.close(log_fd)
    log_fd = os.open(log_name, os.O_RDWR | os.O_APPEND | os.O_CLOEXEC)
    os.unlink(log_name)
    return log_fd


def log_stream_name(version: str = "$LATEST") -> str:
    """``YYYY/MM/DD/[<version>]<32 hex>``, the CloudWatch stream of one environment."""
    return time.strftime("%Y/%m/%d", time.gmtime()) + f"/[{version}]" + os.urandom(16).hex()


#: The access key functions sign with, when ``headwater serve --verify-signatures`` set one
#: for its process (these variables themselves are not passed on).
FUNCTION_KEY_ID_VARIABLE = "HEADWATER_FUNCTION_ACCESS_KEY_ID"
FUNCTION_SECRET_VARIABLE = "HEADWATER_FUNCTION_SECRET_ACCESS_KEY"


def worker_environment(spec: FunctionSpec, stream: str, endpoint_url: str | None) -> dict[str, str]:
    """The process environment of an environment: Lambda's variables plus the function's own."""
    env: dict[str, str] = {}
    for name in ("PATH", "HOME", "TMPDIR", "LD_LIBRARY_PATH", "SYSTEMROOT"):
        value = os.environ.get(name)
        if value:
            env[name] = value
    env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    env.update(
        {
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_VERSION": spec.version,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_size),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": stream,
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_REGION": spec.region,
            "AWS_DEFAULT_REGION": spec.region,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
            "_HANDLER": spec.handler,
            "LAMBDA_TASK_ROOT": spec.code_dir,
            "LAMBDA_RUNTIME_DIR": RUNTIME_DIR,
            # Dummy credentials: boto3 in a handler never picks up the developer's own;
            # a server that verifies signatures gives its functions a key of their own.
            "AWS_ACCESS_KEY_ID": os.environ.get(FUNCTION_KEY_ID_VARIABLE, "test"),
            "AWS_SECRET_ACCESS_KEY": os.environ.get(FUNCTION_SECRET_VARIABLE, "test"),
            "AWS_SESSION_TOKEN": "headwater",
        }
    )
    if endpoint_url:
        env["AWS_ENDPOINT_URL"] = endpoint_url
    env.update(spec.environment)
    return env
