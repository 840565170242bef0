"""An execution environment: the main loop of one warm worker process.

Run as ``python /path/to/headwater/runtime/worker.py REQUEST_FD RESPONSE_FD`` (the pool
starts it by file path so that a cold start does not import headwater or botocore; it
also works as ``python -m headwater.runtime.worker``). Only the standard library and,
when installed, orjson are imported here.

Protocol, over two pipes, one invocation at a time. Every frame is
``<u32 header length><u32 body length><header JSON><body bytes>``:

- worker -> parent, once, after the init phase: header ``{"t": "ready", "error": ...}``
  where ``error`` is the init failure (Runtime.ImportModuleError, ...) or ``null``.
- parent -> worker: header ``{"id", "arn", "deadline"}`` (+ ``"identity"``,
  ``"client_context"``), body = the event JSON.
- worker -> parent: header ``{"ok": bool, "mem": peak MB, "oom": bool}``, body = the
  result JSON, or the error JSON (``errorMessage``, ``errorType``, ``requestId``,
  ``stackTrace``) when ``ok`` is false.

stdout and stderr (fds 1 and 2) are the function's log file, opened by the parent, which
reads it after each invocation (so output survives a timeout kill). Memory: the worker
reports its peak RSS (``VmHWM``) after each invocation and exits with an out-of-memory
result when it is above the function's memory size; see ``headwater.runtime.limits``.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import struct
import sys
import traceback
from collections.abc import Callable
from typing import Any


def _load_orjson() -> Any:
    """orjson for speed: imported normally in headwater's process; in a worker (started
    with ``-S``, no site-packages) loaded privately from the file headwater names, so that
    it never lands in ``sys.modules`` for the function to import."""
    try:
        import orjson

        return orjson
    except ImportError:
        pass
    path = os.environ.pop("_HEADWATER_ORJSON", "")
    if not path:
        return None  # another interpreter than headwater's: the stdlib json
    try:
        spec = importlib.util.spec_from_file_location("orjson", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    except Exception:
        return None
    return module


_orjson = _load_orjson()

FRAME = struct.Struct("<II")

MALFORMED_HANDLER = "Runtime.MalformedHandlerName"
BUILT_IN_CONFLICT = "Runtime.BuiltInModuleConflict"
IMPORT_MODULE_ERROR = "Runtime.ImportModuleError"
SYNTAX_ERROR = "Runtime.UserCodeSyntaxError"
HANDLER_NOT_FOUND = "Runtime.HandlerNotFound"
MARSHAL_ERROR = "Runtime.MarshalError"

Handler = Callable[[Any, Any], Any]


class FaultError(Exception):
    """A runtime fault with Lambda's errorType (import errors, missing handler, marshal)."""

    def __init__(self, error_type: str, message: str, trace: list[str] | None = None) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.trace = trace or []


class InitFailedError(Exception):
    """The handler could not be loaded; ``body`` is the init error payload."""

    def __init__(self, body: dict[str, Any]) -> None:
        super().__init__(body["errorMessage"])
        self.body = body


def load_handler(handler: str) -> Handler:
    """Import ``module.function`` the way Lambda's Python runtime does; raises FaultError.

    Exceptions other than import and syntax errors raised while importing propagate
    unchanged (Lambda reports them with the exception's own type).
    """
    try:
        module_name, function_name = handler.rsplit(".", 1)
    except ValueError as exc:
        raise FaultError(MALFORMED_HANDLER, f"Bad handler '{handler}': {exc}") from None
    if module_name.split(".")[0] in sys.builtin_module_names:
        raise FaultError(
            BUILT_IN_CONFLICT, f"Cannot use built-in module {module_name} as a handler module"
        )
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as exc:
        raise FaultError(
            IMPORT_MODULE_ERROR, f"Unable to import module '{module_name}': {exc}"
        ) from None
    except SyntaxError as exc:
        trace = [f'  File "{exc.filename}" Line {exc.lineno}\n    {exc.text}']
        raise FaultError(
            SYNTAX_ERROR, f"Syntax error in module '{module_name}': {exc}", trace
        ) from None
    try:
        found: Handler = getattr(module, function_name)
    except AttributeError:
        raise FaultError(
            HANDLER_NOT_FOUND, f"Handler '{function_name}' missing on module '{module_name}'"
        ) from None
    return found


def error_body(
    message: str, error_type: str, request_id: str | None, trace: list[str]
) -> dict[str, Any]:
    """Lambda's error payload, keys in Lambda's order."""
    return {
        "errorMessage": message,
        "errorType": error_type,
        "requestId": request_id or "",
        "stackTrace": trace,
    }


def exception_body(exc: BaseException, request_id: str | None) -> dict[str, Any]:
    """The error payload for an exception raised by user code (frames of this file dropped)."""
    if isinstance(exc, FaultError):
        return error_body(exc.message, exc.error_type, request_id, exc.trace)
    frames = traceback.extract_tb(exc.__traceback__)
    # Drop the runtime's own frames (this loop, or the inline runtime's call).
    runtime_dir = os.path.dirname(os.path.abspath(__file__))
    while frames and os.path.dirname(os.path.abspath(frames[0].filename)) == runtime_dir:
        del frames[0]
    return error_body(str(exc), type(exc).__name__, request_id, traceback.format_list(frames))


def error_log_text(body: dict[str, Any]) -> str:
    """What Lambda's Python runtime prints for an unhandled error."""
    lines = f"[ERROR] {body['errorType']}: {body['errorMessage']}\n"
    if body["stackTrace"]:
        lines += "Traceback (most recent call last):\n" + "".join(body["stackTrace"])
    return lines if lines.endswith("\n") else lines + "\n"


def _decimal_default(value: Any) -> Any:
    import decimal

    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError


def encode_result(result: Any) -> bytes:
    """The handler's return value as JSON; FaultError(Runtime.MarshalError) if impossible.

    Like Lambda's runtime (stdlib json semantics): datetimes, sets and dataclasses are not
    serializable; Decimals are (as numbers).
    """
    if _orjson is not None:
        try:
            encoded: bytes = _orjson.dumps(
                result,
                default=_decimal_default,
                option=_orjson.OPT_PASSTHROUGH_DATETIME | _orjson.OPT_PASSTHROUGH_DATACLASS,
            )
            return encoded
        except TypeError:
            pass  # stdlib json decides, and gives AWS's exact message
    try:
        return json.dumps(result, default=_decimal_default_json).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise FaultError(MARSHAL_ERROR, f"Unable to marshal response: {exc}") from None


def _decimal_default_json(value: Any) -> Any:
    try:
        return _decimal_default(value)
    except TypeError:
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable") from None


def decode_event(body: bytes) -> Any:
    if _orjson is not None:
        return _orjson.loads(body)
    return json.loads(body)


def _dumps(value: Any) -> bytes:
    if _orjson is not None:
        encoded: bytes = _orjson.dumps(value)
        return encoded
    return json.dumps(value).encode("utf-8")


def _read_exact(fd: int, size: int) -> bytes | None:
    chunks = []
    while size:
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _write_frame(fd: int, header: dict[str, Any], body: bytes) -> None:
    head = _dumps(header)
    data = memoryview(FRAME.pack(len(head), len(body)) + head + body)
    while data:
        written = os.write(fd, data)
        data = data[written:]


class _PeakMemory:
    """Peak resident set size of this process in MB (``VmHWM``, /proc/self/status).

    Read again only when the process took a page fault since the last read: resident
    memory grows by faulting pages in (minor or major faults, prefaulting included), so
    without one ``VmHWM`` cannot have moved. ``getrusage`` tells the fault counts for a
    seventh of reading /proc/self/status (0.5 against 3.6 us, on every invocation).
    Its own ``ru_maxrss`` will not do: it counts the image before ``exec`` too (the
    forked launcher's, about twice a small worker's peak).
    """

    def __init__(self) -> None:
        import resource

        self._getrusage = resource.getrusage
        self._self = resource.RUSAGE_SELF
        try:
            self._fd: int | None = os.open("/proc/self/status", os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            self._fd = None
        self._faults = -1
        self._megabytes = 0

    def megabytes(self) -> int:
        usage = self._getrusage(self._self)
        if self._fd is None:
            return int(usage.ru_maxrss // 1024)
        faults = usage.ru_minflt + usage.ru_majflt
        if faults != self._faults:
            # Counted before reading: a fault during the read is seen by the next call.
            self._faults = faults
            data = os.pread(self._fd, 4096, 0)
            start = data.find(b"VmHWM:")
            if start < 0:
                return 0
            end = data.find(b"kB", start)
            self._megabytes = int(data[start + 6 : end]) // 1024
        return self._megabytes


def _load_context_class() -> Any:
    # By file path: importing headwater.runtime.context would import headwater (botocore).
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "context.py")
    spec = importlib.util.spec_from_file_location("_headwater_lambda_context", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.LambdaContext


class _CurrentRequest:
    request_id = ""


def _install_logging() -> None:
    """Format the root logger like Lambda's Python runtime: level, UTC time, request id."""
    import logging
    import time

    class RequestIdFilter(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            record.aws_request_id = _CurrentRequest.request_id
            return True

    formatter = logging.Formatter(
        "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s",
        "%Y-%m-%dT%H:%M:%S",
    )
    formatter.converter = time.gmtime
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter)
    handler.addFilter(RequestIdFilter())
    logging.getLogger().addHandler(handler)


def _exit_with_parent() -> None:
    """Exit if the parent (headwater) dies, even while a handler is busy or stuck.

    Only where the kernel has no parent-death signal (Linux kills the worker itself; see
    ``headwater.runtime.processes``): headwater then names its pid in this variable.
    """
    watched = os.environ.pop("_HEADWATER_WATCH_PARENT", "")
    if not watched:
        return
    import threading
    import time

    parent = int(watched)

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="headwater-parent-watch", daemon=True).start()


def serve(request_fd: int, response_fd: int) -> int:
    """Init (import the handler), then answer invocations until the request pipe closes."""
    os.set_inheritable(request_fd, False)
    os.set_inheritable(response_fd, False)
    here = os.path.dirname(os.path.abspath(__file__))
    # Started by path, Python put this directory first on sys.path; its module names
    # (code, logs, ...) must not shadow the standard library or the user's modules.
    stdlib = [p for p in sys.path if os.path.abspath(p or ".") != here]
    task_root = os.environ.get("LAMBDA_TASK_ROOT", os.getcwd())
    # The function's code, its layers and the bundled boto3 (see python_runtime.py).
    function_path = os.environ.pop("_HEADWATER_PATH", "")
    sys.path[:] = [*(function_path.split(os.pathsep) if function_path else [task_root]), *stdlib]
    os.chdir(task_root)
    memory_limit_mb = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "0"))
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    sys.stderr.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    _exit_with_parent()
    _install_logging()
    context_class = _load_context_class()
    peak = _PeakMemory()

    handler: Handler | None = None
    init_error: dict[str, Any] | None = None
    try:
        handler = load_handler(os.environ.get("_HANDLER", ""))
    except Exception as exc:
        init_error = exception_body(exc, None)
        sys.stderr.write(error_log_text(init_error))
    sys.stdout.flush()
    sys.stderr.flush()
    _write_frame(response_fd, {"t": "ready", "error": init_error}, b"")

    static = {
        "function_name": os.environ.get("AWS_LAMBDA_FUNCTION_NAME", ""),
        "function_version": os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        "memory_limit_in_mb": os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
        "log_group_name": os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", ""),
        "log_stream_name": os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", ""),
    }
    loads = _orjson.loads if _orjson is not None else json.loads
    while True:
        sizes = _read_exact(request_fd, FRAME.size)
        if sizes is None:
            return 0
        head_size, body_size = FRAME.unpack(sizes)
        frame = _read_exact(request_fd, head_size + body_size)
        if frame is None:
            return 0
        request = loads(frame[:head_size])
        request_id = _CurrentRequest.request_id = request["id"]
        out_of_memory = False
        ok = False
        try:
            if handler is None:
                # Lambda answers every invoke of a failed init with the init error as the
                # runtime reported it: requestId "" and the import's stack trace.
                assert init_error is not None
                raise InitFailedError(init_error)
            context = context_class(
                aws_request_id=request_id,
                invoked_function_arn=request["arn"],
                deadline_ms=request["deadline"],
                identity=request.get("identity"),
                client_context=request.get("client_context"),
                **static,
            )
            event = decode_event(frame[head_size:]) if body_size else {}
            body = encode_result(handler(event, context))
            ok = True
        except MemoryError:
            out_of_memory = True
            body = b""
        except InitFailedError as exc:
            body = _dumps(exc.body)
        except Exception as exc:
            failure = exception_body(exc, request_id)
            sys.stderr.write(error_log_text(failure))
            body = _dumps(failure)
        sys.stdout.flush()
        sys.stderr.flush()
        peak_mb = peak.megabytes()
        if memory_limit_mb and peak_mb > memory_limit_mb:
            out_of_memory = True
        _write_frame(response_fd, {"ok": ok, "mem": peak_mb, "oom": out_of_memory}, body)
        if out_of_memory:
            return 137  # like the kill Lambda gives an environment over its memory


def main(argv: list[str]) -> int:
    """Entry point: ``worker.py REQUEST_FD RESPONSE_FD``."""
    if len(argv) != 3:
        sys.stderr.write("usage: worker.py REQUEST_FD RESPONSE_FD\n")
        return 2
    return serve(int(argv[1]), int(argv[2]))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
