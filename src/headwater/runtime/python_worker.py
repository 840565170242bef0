"""The fast execution environment: a Python worker process reached over two pipes.

One ``worker.py`` process (see ``headwater.runtime.worker`` for the frame protocol) per
environment; this module is the parent's side: starting it, framing requests, reading
its frames (blocking or on an event loop).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import select
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from headwater.runtime import limits, python_runtime
from headwater.runtime.environment import (
    Frame,
    FunctionSpec,
    WaitEnd,
    Worker,
    log_stream_name,
    open_log_file,
    worker_environment,
)
from headwater.runtime.processes import start_process
from headwater.runtime.worker import FRAME

WORKER_SCRIPT = str(Path(__file__).with_name("worker.py"))
#: Bytes one read of a worker's response pipe takes at most: what a pipe holds (64 KiB).
#: Each worker reads into its own buffer of this size: ``os.read(fd, n)`` allocates ``n``
#: bytes per call, and past glibc's mmap threshold (128 KiB) that was an mmap, an mremap
#: and an munmap per invocation (the munmap flushing the TLB of every thread).
READ_SIZE = 1 << 16


class FrameReader:
    """Incremental parser of length-prefixed frames."""

    __slots__ = ("_buffer",)

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes | memoryview) -> None:
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


@dataclass(eq=False, kw_only=True)
class PythonWorker(Worker):
    """A ``worker.py`` process: requests on one pipe, frames back on another."""

    request_fd: int
    response_fd: int
    reader: FrameReader = field(default_factory=FrameReader)
    _poll: Any = None
    _read_buffer: bytearray = field(default_factory=lambda: bytearray(READ_SIZE))

    def _read_response(self) -> memoryview:
        """What the response pipe has now (at most ``READ_SIZE`` bytes; empty at EOF),
        valid until the next read."""
        try:
            count = os.readv(self.response_fd, [self._read_buffer])
        except OSError:
            count = 0
        return memoryview(self._read_buffer)[:count]

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
            data = self._read_response()
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
            data = self._read_response()
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

    def stop(self) -> None:
        # Closing the request pipe makes an idle worker exit by itself.
        if self.request_fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self.request_fd)
            self.request_fd = -1

    def release_resources(self) -> None:
        for fd in (self.request_fd, self.response_fd):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self.request_fd = self.response_fd = -1


def spawn_worker(
    spec: FunctionSpec, *, python: str, endpoint_url: str | None, runtime_note: str = ""
) -> PythonWorker:
    """Start a worker process for ``spec`` (returns at once; init runs in the child)."""
    request_read, request_write = os.pipe()
    response_read, response_write = os.pipe()
    log_fd = open_log_file()
    stream = log_stream_name()
    env = worker_environment(spec, stream, endpoint_url)
    version = python_runtime.runtime_version(spec.runtime) or python_runtime.HOST_VERSION
    env["_HEADWATER_PATH"] = os.pathsep.join(python_runtime.import_path(spec, version))
    orjson_path = python_runtime.orjson_extension(python)
    if orjson_path is not None:
        env["_HEADWATER_ORJSON"] = orjson_path
    started = time.perf_counter()
    try:
        process = start_process(
            # -S: no site-packages, so nothing installed next to headwater is importable.
            [python, "-S", WORKER_SCRIPT, str(request_read), str(response_write)],
            env=env,
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
    return PythonWorker(
        spec=spec,
        process=process,
        request_fd=request_write,
        response_fd=response_read,
        log_fd=log_fd,
        log_stream_name=stream,
        started_at=started,
        runtime_note=runtime_note,
    )
