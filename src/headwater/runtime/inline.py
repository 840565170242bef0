"""In-process mode: handlers run as plain calls in the calling process.

``Headwater.in_memory(functions="inline")`` selects it. Handlers get the same context
object and errors have the same shapes (Unhandled with errorMessage/errorType/requestId/
stackTrace, Runtime.ImportModuleError, Runtime.HandlerNotFound, Runtime.MarshalError),
and logs have the same START/END/REPORT lines, but nothing is isolated:

- no timeout kill: a call that overruns still finishes, then is reported as
  ``Sandbox.Timedout`` (its result discarded), as a killed worker would be;
- no memory limit, and *Max Memory Used* is the test process's peak RSS;
- stdout/stderr are captured with ``contextlib.redirect_stdout``/``redirect_stderr``
  (Python-level output only), and the function's environment variables are set in
  ``os.environ`` for the duration of the import and of each call.

Calls are serialized by a lock (one process-wide ``os.environ`` and ``sys.stdout``).
Each function revision imports its handler module once, under its own code directory
(modules of the same name are evicted from ``sys.modules`` first).
"""

from __future__ import annotations

import contextlib
import importlib
import io
import os
import resource
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson

from headwater.core.ids import request_id as new_request_id
from headwater.runtime import logs
from headwater.runtime.context import LambdaContext
from headwater.runtime.environment import FunctionSpec, log_stream_name, worker_environment
from headwater.runtime.invocation import (
    InvocationRequest,
    InvocationResult,
    result_of_run,
    sandbox_error,
    throttled,
)
from headwater.runtime.pool import RESERVED_LIMIT
from headwater.runtime.worker import (
    InitFailedError,
    encode_result,
    error_log_text,
    exception_body,
    load_handler,
)

Handler = Callable[[Any, Any], Any]


class InlineRuntime:
    """Runs handlers in this process; same interface as ``FunctionRuntime``."""

    def __init__(self, log_store: logs.LogStore, endpoint_url: Callable[[], str | None]) -> None:
        self.logs = log_store
        self._endpoint_url = endpoint_url
        self._lock = threading.RLock()
        self._loaded: dict[str, tuple[str, Handler | None, dict[str, Any] | None, float, str]] = {}
        self._active: dict[str, int] = {}
        self._active_lock = threading.Lock()

    def invoke(self, spec: FunctionSpec, request: InvocationRequest) -> InvocationResult:
        rid = request.request_id or new_request_id()
        with self._active_lock:
            active = self._active.get(spec.key, 0)
            limit = spec.reserved_concurrency
            if limit == 0 or (limit is not None and active >= limit):
                return throttled(RESERVED_LIMIT, rid)
            self._active[spec.key] = active + 1
        try:
            with self._lock:
                return self._invoke(spec, request, rid)
        finally:
            with self._active_lock:
                self._active[spec.key] -= 1

    async def invoke_async(
        self, spec: FunctionSpec, request: InvocationRequest
    ) -> InvocationResult:
        """Inline calls are plain calls: this runs the handler on the calling loop."""
        return self.invoke(spec, request)

    def drain(self, function_key: str) -> None:
        with self._lock:
            self._loaded.pop(function_key, None)

    def close(self) -> None:
        with self._lock:
            self._loaded.clear()

    def _invoke(self, spec: FunctionSpec, request: InvocationRequest, rid: str) -> InvocationResult:
        stream = ""
        init_log = ""
        init_ms: float | None = None
        loaded = self._loaded.get(spec.key)
        if loaded is None or loaded[0] != spec.revision:
            stream = log_stream_name()
            handler, init_error, init_ms, init_log = self._load(spec, stream)
            loaded = (spec.revision, handler, init_error, init_ms, stream)
            self._loaded[spec.key] = loaded
        _, handler, init_error, _, stream = loaded
        context = LambdaContext(
            function_name=spec.name,
            function_version=spec.version,
            invoked_function_arn=request.invoked_arn,
            memory_limit_in_mb=str(spec.memory_size),
            aws_request_id=rid,
            log_group_name=f"/aws/lambda/{spec.name}",
            log_stream_name=stream,
            deadline_ms=time.time() * 1000.0 + spec.timeout * 1000.0,
            client_context=request.client_context,
        )
        output = io.StringIO()
        ok = False
        started = time.perf_counter()
        with self._environment(spec, stream), _capture(output):
            try:
                if handler is None:
                    assert init_error is not None
                    raise InitFailedError(init_error)
                event = orjson.loads(request.payload) if request.payload else {}
                payload = encode_result(handler(event, context))
                ok = True
            except InitFailedError as exc:
                payload = orjson.dumps(exc.body)
            except Exception as exc:
                failure = exception_body(exc, rid)
                output.write(error_log_text(failure))
                payload = orjson.dumps(failure)
        duration_ms = (time.perf_counter() - started) * 1000.0
        status = None
        extra = ""
        if duration_ms > spec.timeout * 1000.0:
            detail = f"Task timed out after {spec.timeout:.2f} seconds"
            payload = sandbox_error("Sandbox.Timedout", rid, detail)
            extra = f"{rid} {detail}\n"
            status = "timeout"
            ok = False
        if handler is None:
            self._loaded.pop(spec.key, None)  # like a failed init: retried next time
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
        text = (
            init_log
            + logs.start_line(rid, spec.version)
            + output.getvalue()
            + extra
            + logs.end_line(rid)
            + logs.report_line(
                rid,
                duration_ms=duration_ms,
                memory_size=spec.memory_size,
                max_memory_used=int(peak),
                init_duration_ms=init_ms,
                status=status,
            )
        )
        self.logs.append(spec.key, text)
        return result_of_run(
            ok, payload, rid, text, log_tail=request.log_tail, duration_ms=duration_ms
        )

    def _load(
        self, spec: FunctionSpec, stream: str
    ) -> tuple[Handler | None, dict[str, Any] | None, float, str]:
        output = io.StringIO()
        started = time.perf_counter()
        root = str(Path(spec.code_dir).resolve())
        module_name = spec.handler.rsplit(".", 1)[0].replace("/", ".")
        _evict_modules(module_name.split(".")[0])
        handler: Handler | None = None
        error: dict[str, Any] | None = None
        with self._environment(spec, stream), _capture(output):
            sys.path.insert(0, root)
            try:
                importlib.invalidate_caches()
                handler = load_handler(spec.handler)
            except Exception as exc:
                error = exception_body(exc, None)
                output.write(error_log_text(error))
            finally:
                with contextlib.suppress(ValueError):
                    sys.path.remove(root)
        init_log = logs.init_start_line(spec.runtime, spec.region) + output.getvalue()
        return handler, error, (time.perf_counter() - started) * 1000.0, init_log

    @contextlib.contextmanager
    def _environment(self, spec: FunctionSpec, stream: str) -> Iterator[None]:
        wanted = worker_environment(spec, stream, self._endpoint_url())
        for name in ("PATH", "HOME", "TMPDIR", "PYTHONPATH", "LD_LIBRARY_PATH", "SYSTEMROOT"):
            wanted.pop(name, None)
        saved = {name: os.environ.get(name) for name in wanted}
        os.environ.update(wanted)
        try:
            yield
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


@contextlib.contextmanager
def _capture(output: io.StringIO) -> Iterator[None]:
    with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
        yield


def _evict_modules(top_level: str) -> None:
    """Forget modules named like the handler's package, so this revision imports afresh."""
    if top_level in sys.builtin_module_names:
        return
    for name in list(sys.modules):
        if name == top_level or name.startswith(top_level + "."):
            del sys.modules[name]
