"""Function logs: Lambda's START / END / REPORT lines and a per-function log store.

Each function's log is a text file ``<data_dir>/logs/<name>.log``, appended once per
invocation (the invocation's captured stdout/stderr framed by START, END and REPORT).
Retention is by size: when the file grows past half of ``retention_bytes`` it becomes
``<name>.log.1`` (replacing the previous one), so at most ``retention_bytes`` are kept per
function. Readable from Python (``LogStore.read``) and by ``headwater logs`` (which only
needs the data directory).
"""

from __future__ import annotations

import hashlib
import math
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

#: Default bytes of log kept per function.
DEFAULT_RETENTION_BYTES = 10 * 1024 * 1024
#: Bytes of log returned by LogType=Tail.
TAIL_BYTES = 4096


def runtime_version_arn(runtime: str, region: str, partition: str = "aws") -> str:
    """The ARN of the runtime version headwater runs for ``runtime`` (AWS's shape:
    ``arn:aws:lambda:<region>::runtime:<64 hex>``, one per runtime version and region).

    headwater has one version per runtime, so the hash is derived from the runtime's name:
    the same for every function of that runtime, stable across restarts.
    """
    digest = hashlib.sha256(f"headwater:{runtime}".encode()).hexdigest()
    return f"arn:{partition}:lambda:{region}::runtime:{digest}"


def init_start_line(runtime: str, region: str, note: str = "") -> str:
    """The line Lambda logs when an execution environment starts its init phase.

    ``note`` says what really runs when it is not what the runtime asks for (a missing
    interpreter), appended after the version as ``(note)``.
    """
    if runtime.startswith("provided."):
        version = "provided:" + runtime.removeprefix("provided.")
    elif runtime.startswith("nodejs"):
        version = "nodejs:" + runtime.removeprefix("nodejs").removesuffix(".x")
    else:
        version = runtime.replace("python", "python:")
    version += ".headwater"
    if note.startswith("runs on"):
        version += f" ({note})"
    return (
        f"INIT_START Runtime Version: {version}\t"
        f"Runtime Version ARN: {runtime_version_arn(runtime, region)}\n"
    )


def start_line(request_id: str, version: str) -> str:
    return f"START RequestId: {request_id} Version: {version}\n"


def end_line(request_id: str) -> str:
    return f"END RequestId: {request_id}\n"


def billed_duration_ms(duration_ms: float) -> int:
    """Lambda bills each invocation rounded up to the next millisecond (at least 1 ms)."""
    return max(1, math.ceil(duration_ms))


def report_line(
    request_id: str,
    *,
    duration_ms: float,
    memory_size: int,
    max_memory_used: int,
    init_duration_ms: float | None = None,
    status: str | None = None,
    error_type: str | None = None,
) -> str:
    """Lambda's REPORT line (tab separated, trailing tab as in CloudWatch)."""
    # One f-string for the fields every REPORT has: this runs once per invocation.
    billed = math.ceil(duration_ms) if duration_ms > 1.0 else 1
    line = (
        f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
        f"Billed Duration: {billed} ms\tMemory Size: {memory_size} MB\t"
        f"Max Memory Used: {max_memory_used} MB\t"
    )
    if init_duration_ms is not None:
        line += f"Init Duration: {init_duration_ms:.2f} ms\t"
    if status is not None:
        line += f"Status: {status}\t"
    if error_type is not None:
        line += f"Error Type: {error_type}\t"
    return line + "\n"


def tail(text: str, limit: int = TAIL_BYTES) -> str:
    """The last ``limit`` bytes of ``text`` (cut on a character boundary)."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[-limit:].decode("utf-8", errors="ignore")


def log_path(data_dir: Path, function_name: str) -> Path:
    return data_dir / "logs" / f"{function_name}.log"


class LogStore:
    """Per-function log files with size-based retention; thread-safe."""

    def __init__(self, data_dir: Path, retention_bytes: int = DEFAULT_RETENTION_BYTES) -> None:
        self.data_dir = data_dir
        self.retention_bytes = max(1024, retention_bytes)
        self._lock = threading.Lock()
        self._files: dict[str, tuple[int, int]] = {}  # name -> (fd, size)

    def append(self, function_name: str, text: str) -> None:
        """Append one invocation's log text to the function's log."""
        data = text.encode("utf-8", errors="replace")
        with self._lock:
            entry = self._files.get(function_name)
            if entry is None:
                path = log_path(self.data_dir, function_name)
                path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
                entry = (fd, os.fstat(fd).st_size)
            fd, size = entry
            if size and size + len(data) > self.retention_bytes // 2:
                os.close(fd)
                path = log_path(self.data_dir, function_name)
                os.replace(path, path.with_name(path.name + ".1"))
                fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
                size = 0
            os.write(fd, data)
            self._files[function_name] = (fd, size + len(data))

    def read(self, function_name: str) -> str:
        """Everything retained for ``function_name`` (oldest first); ``""`` if none."""
        return read_logs(self.data_dir, function_name)

    def delete(self, function_name: str) -> None:
        """Forget a deleted function's logs."""
        with self._lock:
            entry = self._files.pop(function_name, None)
            if entry is not None:
                os.close(entry[0])
            path = log_path(self.data_dir, function_name)
            for candidate in (path, path.with_name(path.name + ".1")):
                candidate.unlink(missing_ok=True)

    def close(self) -> None:
        with self._lock:
            for fd, _ in self._files.values():
                os.close(fd)
            self._files.clear()


def read_logs(data_dir: Path, function_name: str) -> str:
    """A function's retained log text, read straight from the data directory."""
    path = log_path(data_dir, function_name)
    chunks = []
    for candidate in (path.with_name(path.name + ".1"), path):
        try:
            chunks.append(candidate.read_bytes())
        except FileNotFoundError:
            continue
    return b"".join(chunks).decode("utf-8", errors="replace")


def follow_logs(
    data_dir: Path, function_name: str, *, poll_interval: float = 0.25
) -> Iterator[str]:
    """Yield new log text as it is appended (like ``tail -f``), forever."""
    path = log_path(data_dir, function_name)
    offset = path.stat().st_size if path.exists() else 0
    while True:
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            size = 0
        if size < offset:  # rotated: start over on the new file
            offset = 0
        if size > offset:
            with open(path, "rb") as handle:
                handle.seek(offset)
                data = handle.read(size - offset)
            offset += len(data)
            yield data.decode("utf-8", errors="replace")
        else:
            time.sleep(poll_interval)
