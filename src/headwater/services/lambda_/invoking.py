"""Invoking functions: Invoke, the Python invoke API, Event queue and runtime lifecycle.

``InvokeOperations`` is the invoking half of ``FunctionOperations`` (which adds function
resources and resolution); it owns the function runtime (worker pools or inline mode),
created on the first invocation, and stops it in ``close``.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson

from headwater.core.errors import AwsError
from headwater.core.ids import request_id as new_request_id
from headwater.core.values import as_bytes
from headwater.runtime.environment import FunctionSpec
from headwater.runtime.families import LaunchSettings
from headwater.runtime.inline import InlineRuntime
from headwater.runtime.invocation import (
    EventInvocation,
    EventQueue,
    FunctionRuntime,
    InvocationRequest,
    InvocationResult,
    result_without_run,
)
from headwater.runtime.pool import WorkerPools
from headwater.services.base import Params, RequestContext, Result, Service, operation
from headwater.services.lambda_ import validation as check
from headwater.services.lambda_.qualifiers import LATEST
from headwater.services.logs.function_logs import function_logs_for
from headwater.store.async_invocations import open_async_invocation_store

#: Sync invoke request/response payload limit (bytes).
MAX_SYNC_PAYLOAD = 6_291_456
#: Largest PayloadChunk event InvokeWithResponseStream sends.
STREAM_CHUNK = 32 * 1024
#: The media type of InvokeWithResponseStream's answer (``ResponseStreamContentType``).
EVENT_STREAM_CONTENT_TYPE = "application/vnd.amazon.eventstream"
#: Async (Event) invoke payload limit (bytes).
MAX_ASYNC_PAYLOAD = 1_048_576
#: What Lambda's error message says the response limit is.
RESPONSE_LIMIT_IN_MESSAGE = 6_291_556


class InvokeOperations(Service):
    """Invoke and the runtime behind it (mixed into ``FunctionOperations``)."""

    if TYPE_CHECKING:
        # Provided by FunctionOperations.
        def _arn(self, region: str, name: str, qualifier: str | None = None) -> str: ...

        def _locate(
            self,
            ref: str,
            qualifier: str | None = None,
            region: str | None = None,
            *,
            create: bool = False,
        ) -> tuple[check.FunctionRef, str]: ...

        def _cached_spec(self, region: str, name: str) -> FunctionSpec | None: ...

        def _qualified_spec(
            self, region: str, name: str, qualifier: str | None
        ) -> FunctionSpec | None: ...

        def _function_key(self, region: str, name: str) -> str: ...

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._runtime: FunctionRuntime | InlineRuntime | None = None
        self._pools: WorkerPools | None = None
        self._process: FunctionRuntime | None = None
        self._events: EventQueue | None = None
        self._runtime_lock = threading.Lock()
        self._runtime_closed = False
        self.function_logs_store = function_logs_for(self.env)

    def _drain(self, function_key: str) -> None:
        """Stop a function's idle workers (busy ones stop when they finish)."""
        if isinstance(self._runtime, InlineRuntime):
            self._runtime.drain(function_key)
        if self._pools is not None:
            self._pools.drain(function_key)

    def _get_runtime(self, spec: FunctionSpec | None = None) -> FunctionRuntime | InlineRuntime:
        """The runtime that runs ``spec``: inline mode runs Python handlers in process; other
        runtimes (Node.js, provided) always run in their own processes."""
        runtime = self._runtime
        if runtime is None:
            with self._runtime_lock:
                if self._runtime_closed:
                    raise RuntimeError("the Lambda service is closed")
                if self._runtime is None:
                    if self.env.options.functions == "inline":
                        self._runtime = InlineRuntime(
                            self.function_logs_store, lambda: self.env.endpoint_url
                        )
                    else:
                        self._runtime = self._process_runtime()
                runtime = self._runtime
        if (
            isinstance(runtime, InlineRuntime)
            and spec is not None
            and not spec.runtime.startswith("python")
        ):
            with self._runtime_lock:
                return self._process_runtime()
        return runtime

    def _process_runtime(self) -> FunctionRuntime:
        """Worker pools and the runtime over them (created once; lock held)."""
        if self._process is None:
            options = self.env.options
            self._pools = WorkerPools(
                max_workers=options.function_workers,
                idle_timeout=options.function_idle_timeout,
                settings=LaunchSettings(
                    interpreters=dict(options.function_interpreters),
                    endpoint_url=lambda: self.env.endpoint_url,
                    node=options.function_node,
                    node_runtime_client=options.function_node_runtime_client,
                    python_runtime_client=options.function_python_runtime_client,
                ),
            )
            self._process = FunctionRuntime(self._pools, self.function_logs_store)
        return self._process

    @property
    def worker_pools(self) -> WorkerPools | None:
        """The worker pools (``None`` before the first invocation or in inline mode)."""
        return self._pools

    def _prepare(
        self,
        function_ref: str,
        payload: bytes,
        invocation_type: str,
        qualifier: str | None,
        region: str | None,
        *,
        log_tail: bool,
        client_context: dict[str, Any] | None,
        check_json: bool = True,
        request_id: str | None = None,
    ) -> tuple[FunctionSpec, InvocationRequest] | InvocationResult:
        """The function and request to run, or the final result when nothing runs here.

        A refused request (service error), an Event (queued) and a DryRun end here, so the
        blocking and the asyncio entry points share every check and only differ in how they run.
        """
        try:
            parsed, home = self._locate(function_ref, qualifier, region)
            spec = self._qualified_spec(home, parsed.name, parsed.qualifier)
            if spec is None:  # AWS names the version it looked for: $LATEST if none
                raise check.not_found(self._arn(home, parsed.name, parsed.qualifier or LATEST))
            if invocation_type not in ("RequestResponse", "Event", "DryRun"):
                raise check.invalid_parameter(f"Invalid invocation type: {invocation_type}")
            limit = MAX_SYNC_PAYLOAD if invocation_type != "Event" else MAX_ASYNC_PAYLOAD
            if len(payload) > limit:
                operation_name = "InvokeFunction" if invocation_type != "Event" else "InvokeAsync"
                raise check.user_error(
                    "RequestTooLargeException",
                    f"Request must be smaller than {limit} bytes for the {operation_name} "
                    "operation",
                    413,
                )
            if payload and check_json:
                try:
                    orjson.loads(payload)
                except orjson.JSONDecodeError as exc:
                    raise check.user_error(
                        "InvalidRequestContentException",
                        f"Could not parse request body into json: Could not parse payload into "
                        f"json: {exc}",
                    ) from None
        except AwsError as error:
            return _service_error(error)
        if invocation_type != "RequestResponse":
            return self._not_run(spec, payload, invocation_type, parsed.qualifier)
        invoked_arn = self._arn(spec.region, spec.name, parsed.qualifier)
        return spec, InvocationRequest(
            payload, invoked_arn, log_tail, client_context, request_id=request_id
        )

    def invoke_function(
        self,
        function_ref: str,
        payload: bytes | str | dict[str, Any] | list[Any] = b"",
        *,
        invocation_type: str = "RequestResponse",
        log_tail: bool = False,
        qualifier: str | None = None,
        client_context: dict[str, Any] | None = None,
        region: str | None = None,
        request_id: str | None = None,
    ) -> InvocationResult:
        """Invoke a function and wait for the result (blocking; any thread).

        A full ARN is invoked in its region; a name in ``region`` (default: the
        environment's). A function that is not there is a ``service_error`` result.
        ``request_id``: the invocation's id when the caller has given it out already (a
        function URL's event carries it), else a new one.
        """
        prepared = self._prepare(
            function_ref,
            _payload_bytes(payload),
            invocation_type,
            qualifier,
            region,
            log_tail=log_tail,
            client_context=client_context,
            request_id=request_id,
        )
        if isinstance(prepared, InvocationResult):
            return prepared
        spec, request = prepared
        telemetry = self.env.telemetry
        started = telemetry.lambda_started(spec.arn)
        try:
            ran = self._get_runtime(spec).invoke(spec, request)
            result = _check_response_size(_ran(spec, ran))
        except BaseException:
            telemetry.lambda_ended(started, None)
            raise
        telemetry.lambda_ended(started, result)
        return result

    async def invoke_async(
        self,
        function_ref: str,
        payload: bytes | str | dict[str, Any] | list[Any] = b"",
        *,
        invocation_type: str = "RequestResponse",
        log_tail: bool = False,
        qualifier: str | None = None,
        client_context: dict[str, Any] | None = None,
        region: str | None = None,
    ) -> InvocationResult:
        """Invoke a function from any asyncio loop without blocking it (regions as in
        ``invoke_function``: the ESM engine passes the mapping's full function ARN)."""
        # No JSON parse of the payload on the loop (the ESM builds it; 6 MB would stall the
        # loop): a malformed payload fails in the worker as an Unhandled decode error.
        prepared = self._prepare(
            function_ref,
            _payload_bytes(payload),
            invocation_type,
            qualifier,
            region,
            log_tail=log_tail,
            client_context=client_context,
            check_json=False,
        )
        if isinstance(prepared, InvocationResult):
            return prepared
        spec, request = prepared
        telemetry = self.env.telemetry
        started = telemetry.lambda_started(spec.arn)
        try:
            ran = await self._get_runtime(spec).invoke_async(spec, request)
            result = _check_response_size(_ran(spec, ran))
        except BaseException:
            telemetry.lambda_ended(started, None)
            raise
        telemetry.lambda_ended(started, result)
        return result

    def prewarm(self, function_ref: str, count: int = 1, *, region: str | None = None) -> int:
        """Start ``count`` warm execution environments now (like provisioned concurrency).

        Returns how many workers are warm and idle; fewer when reserved concurrency or the
        global worker limit stop it, or init fails. In inline mode nothing is started (0).
        """
        parsed, home = self._locate(function_ref, region=region)
        spec = self._cached_spec(home, parsed.name)
        if spec is None:
            raise check.not_found(self._arn(home, parsed.name, parsed.qualifier))
        runtime = self._get_runtime(spec)
        if isinstance(runtime, InlineRuntime):
            return 0
        return runtime.prewarm(spec, count)

    def accept_event(self, function_arn: str, payload: bytes) -> Callable[[], None]:
        """Store an Event invocation of ``function_arn`` (optionally qualified) inside the
        caller's transaction, so it is durable exactly when that commits (S3 event
        notifications store it with the object's index row); returns what starts running
        it, to call after the commit. Raises AwsError as Invoke would refuse it."""
        parsed, home = self._locate(function_arn, None, None)
        spec = self._qualified_spec(home, parsed.name, parsed.qualifier)
        if spec is None:
            raise check.not_found(self._arn(home, parsed.name, parsed.qualifier or LATEST))
        if len(payload) > MAX_ASYNC_PAYLOAD:
            raise check.user_error(
                "RequestTooLargeException",
                f"Request must be smaller than {MAX_ASYNC_PAYLOAD} bytes for the InvokeAsync "
                "operation",
                413,
            )
        queue = self._event_queue()
        item = queue.accept(spec.name, payload, spec.region, parsed.qualifier)
        return lambda: queue.dispatch(item)

    def _not_run(
        self, spec: FunctionSpec, payload: bytes, invocation_type: str, qualifier: str | None
    ) -> InvocationResult:
        """Event (queued) and DryRun (validated only) invocations."""
        if invocation_type == "Event":
            rid = self._event_queue().submit(spec.name, payload, spec.region, qualifier)
            return result_without_run("ok", rid)  # the 202's request id is the invocation's
        return result_without_run("ok", new_request_id())

    def _event_queue(self) -> EventQueue:
        with self._runtime_lock:
            if self._events is None:
                if self._runtime_closed:
                    raise RuntimeError("the Lambda service is closed")
                self._events = self._make_event_queue(self._run_event)
            return self._events

    def _make_event_queue(
        self, run: Callable[[EventInvocation], InvocationResult | None]
    ) -> EventQueue:
        """The Event queue (event_invoke.py adds destinations and per-function limits)."""
        return EventQueue(
            run,
            self.env.clock,
            self.env.database.store(open_async_invocation_store),
            lease_ttl=self.env.options.esm_lease_ttl_seconds,
        )

    def _run_event(self, item: EventInvocation) -> InvocationResult | None:
        region = item.region or self.env.region
        spec = self._qualified_spec(region, item.function_name, item.qualifier)
        if spec is None:
            return None  # deleted meanwhile: the event is dropped
        request = InvocationRequest(
            item.payload,
            self._arn(region, item.function_name, item.qualifier),
            request_id=item.request_id,
        )
        telemetry = self.env.telemetry
        started = telemetry.lambda_started(spec.arn)
        try:
            result = _ran(spec, self._get_runtime(spec).invoke(spec, request))
        except BaseException:
            telemetry.lambda_ended(started, None)
            raise
        telemetry.lambda_ended(started, result)
        return result

    def wait_for_event_invocations(self, timeout: float = 10.0) -> bool:
        """Wait until no Event invocation is running or due; False on timeout."""
        events = self._events
        return True if events is None else events.wait_idle(timeout)

    @property
    def event_results(self) -> list[tuple[EventInvocation, InvocationResult]]:
        """Recent Event invocation attempts and their results (oldest first)."""
        events = self._events
        return [] if events is None else list(events.results)

    def function_logs(self, function_name: str, region: str | None = None) -> str:
        """The retained log text of a function (START/END/REPORT and its output)."""
        key = self._function_key(region or self.env.region, function_name)
        return self.function_logs_store.read(key)

    def _invoke_params(self, params: Params, ctx: RequestContext) -> InvocationResult:
        """Run the invocation an Invoke or InvokeWithResponseStream request asks for."""
        client_context = None
        if params.get("ClientContext"):
            try:
                client_context = orjson.loads(base64.b64decode(params["ClientContext"]))
            except (binascii.Error, ValueError):
                raise check.invalid_parameter(
                    "Client context must be a valid Base64-encoded JSON object."
                ) from None
        payload = as_bytes(params["Payload"]) if params.get("Payload") is not None else b""
        result = self.invoke_function(
            params.get("FunctionName", ""),
            payload,
            invocation_type=params.get("InvocationType", "RequestResponse"),
            log_tail=params.get("LogType", "None") == "Tail",
            qualifier=params.get("Qualifier"),
            client_context=client_context,
            region=ctx.region,
        )
        if result.status in ("throttled", "service_error"):
            raise _result_error(result)
        return result

    @operation("InvokeWithResponseStream")
    def invoke_with_response_stream(self, params: Params, ctx: RequestContext) -> Result:
        """Invoke, the result as an event stream: its payload in ``PayloadChunk`` events, then
        ``InvokeComplete`` (with the error type and body when the function failed, and the
        log tail when asked).

        The function answers in buffered mode (as a function that does not stream does on
        AWS): the whole response, at most 6 MB, is sent once it has finished.
        """
        invocation_type = params.get("InvocationType", "RequestResponse")
        result = self._invoke_params(params, ctx)
        response: Result = {
            "StatusCode": 200,
            "_status": 200,
            "_request_id": result.request_id,
            # The Content-Type header boto3 reads back into this member.
            "ResponseStreamContentType": EVENT_STREAM_CONTENT_TYPE,
        }
        if invocation_type == "DryRun":
            # An empty stream: boto3 still hands out an event stream, with no events.
            response.update(StatusCode=204, _status=204, EventStream=[])
            return response
        response["ExecutedVersion"] = result.executed_version
        complete: dict[str, Any] = {}
        events: list[dict[str, dict[str, Any]]] = []
        if result.function_error is not None:
            complete["ErrorCode"] = _error_type(result.payload) or result.function_error
            complete["ErrorDetails"] = as_bytes(result.payload).decode("utf-8", "replace")
        else:
            body = as_bytes(result.payload)
            for start in range(0, len(body), STREAM_CHUNK):
                events.append({"PayloadChunk": {"Payload": body[start : start + STREAM_CHUNK]}})
        if result.log_tail is not None:
            complete["LogResult"] = base64.b64encode(result.log_tail.encode()).decode()
        events.append({"InvokeComplete": complete})
        response["EventStream"] = events
        return response

    @operation("Invoke")
    def invoke(self, params: Params, ctx: RequestContext) -> Result:
        invocation_type = params.get("InvocationType", "RequestResponse")
        result = self._invoke_params(params, ctx)
        status = {"RequestResponse": 200, "Event": 202, "DryRun": 204}[invocation_type]
        # x-amzn-RequestId is the invocation's id: context.aws_request_id, START/END/REPORT.
        response: Result = {
            "StatusCode": status,
            "_status": status,
            "_request_id": result.request_id,
        }
        if invocation_type == "RequestResponse":
            response["ExecutedVersion"] = result.executed_version
            if result.function_error is not None:
                response["FunctionError"] = result.function_error
            if result.log_tail is not None:
                response["LogResult"] = base64.b64encode(result.log_tail.encode()).decode()
        response["Payload"] = result.payload
        return response

    # -- lifecycle -------------------------------------------------------------------------

    def close(self) -> None:
        """Stop Event dispatchers and every worker process."""
        with self._runtime_lock:
            self._runtime_closed = True
            events, runtime = self._events, self._runtime
        if events is not None:
            events.close(wait=False)  # no new dispatches; running ones end with the pools
        if self._pools is not None:
            self._pools.close()
        if isinstance(runtime, InlineRuntime):
            runtime.close()
        if events is not None:
            events.close()
        self.function_logs_store.close()
        super().close()


def _ran(spec: FunctionSpec, result: InvocationResult) -> InvocationResult:
    """The result with the version that ran (the runtime reports $LATEST)."""
    if spec.version == result.executed_version:
        return result
    return dataclasses.replace(result, executed_version=spec.version)


def _payload_bytes(payload: bytes | str | dict[str, Any] | list[Any]) -> bytes:
    """An invoke payload as bytes: JSON text as given, dicts and lists encoded."""
    if isinstance(payload, dict | list):
        return orjson.dumps(payload)
    return as_bytes(payload)


def _error_type(payload: bytes | str) -> str | None:
    """The ``errorType`` of a function's error payload, when it has one."""
    try:
        found = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return None
    error_type = found.get("errorType") if isinstance(found, dict) else None
    return str(error_type) if error_type else None


def _service_error(error: AwsError) -> InvocationResult:
    return result_without_run(
        "service_error", new_request_id(), error_code=error.code, error_message=error.message
    )


def _result_error(result: InvocationResult) -> AwsError:
    if result.status == "throttled":
        return AwsError(
            "TooManyRequestsException",
            result.error_message or "Rate Exceeded.",
            status=429,
            fields={"Type": "User", "Reason": result.reason},
            headers={"Retry-After": "1"},
        )
    code = result.error_code or "ServiceException"
    status = {
        "ResourceNotFoundException": 404,
        "RequestTooLargeException": 413,
        "ServiceException": 500,
    }.get(code, 400)
    return check.user_error(code, result.error_message or code, status)


def _check_response_size(result: InvocationResult) -> InvocationResult:
    if result.status != "ok" or len(result.payload) <= MAX_SYNC_PAYLOAD:
        return result
    body = orjson.dumps(
        {
            "errorMessage": "Response payload size exceeded maximum allowed payload size "
            f"({RESPONSE_LIMIT_IN_MESSAGE} bytes).",
            "errorType": "Function.ResponseSizeTooLarge",
        }
    )
    return InvocationResult(
        status="function_error",
        payload=body,
        function_error="Unhandled",
        executed_version=result.executed_version,
        request_id=result.request_id,
        log_tail=result.log_tail,
        duration_ms=result.duration_ms,
    )
