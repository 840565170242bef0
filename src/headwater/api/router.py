"""Route one HTTP request to a service operation and back, whatever the protocol.

Order (aws-wire-protocols.md §1.2): ``X-Amz-Target`` (awsJson: SQS, Kinesis), then form
``Action`` + ``Version`` (SQS query, also POSTed to a queue URL path), then Lambda's REST
path prefixes, then the credential scope to shape a 404. Services are called with
boto3-shaped params; only calls that may wait (long-poll receive, Lambda) leave the event
loop for the thread pool, the rest run inline because a thread hop costs more than they do.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

import orjson

from headwater.api import aws_json, aws_query, rest_json
from headwater.api.errors import internal_failure, unknown_operation
from headwater.api.http import WireRequest, WireResponse
from headwater.api.sigv4 import credential_scope
from headwater.core.arn import DEFAULT_ACCOUNT, DEFAULT_REGION
from headwater.core.errors import AwsError
from headwater.core.ids import request_id
from headwater.services.base import RequestContext, Service

log = logging.getLogger(__name__)

ServiceLookup = Callable[[str], Service]


class Router:
    """Translates requests for the services found through ``services(name)``."""

    def __init__(
        self,
        services: ServiceLookup,
        *,
        executor: Executor | None = None,
        region: str = DEFAULT_REGION,
        account: str = DEFAULT_ACCOUNT,
    ) -> None:
        self._services = services
        self._executor = executor
        self._region = region
        self._account = account
        self._contexts: dict[tuple[str, str | None, str | None], RequestContext] = {}

    # ---- entry point ----

    async def handle(self, request: WireRequest) -> WireResponse:
        """The response to ``request``; never raises (faults become AWS-shaped 500s)."""
        rid = request_id()
        headers = request.headers
        target = headers.get("x-amz-target")
        if target is not None:
            return await self._handle_json(target, request, rid)
        content_type = headers.get("content-type", "")
        if content_type.startswith("application/x-www-form-urlencoded") or (
            "Action=" in request.query_string
        ):
            form = aws_query.read_form(request)
            if "Action" in form:
                return await self._handle_query(form, request, rid)
        if rest_json.claims_path("lambda", request.raw_path):
            return await self._handle_rest("lambda", request, rid)
        return _not_found(request, rid)

    # ---- protocols ----

    async def _handle_json(self, target: str, request: WireRequest, rid: str) -> WireResponse:
        prefix, _, operation = target.partition(".")
        protocol = aws_json.JSON_TARGETS.get(prefix)
        if protocol is None:
            return aws_json.failure(aws_json.GENERIC_JSON, unknown_operation(), rid)
        try:
            if operation not in protocol.operations:
                raise unknown_operation(f"Unknown operation {operation}")
            params = aws_json.parse_request(protocol, operation, request)
            service = self._service(protocol.service_name)
            result = await self._call(service, operation, params, self._context(request))
            return aws_json.success(protocol, result, rid)
        except AwsError as error:
            return aws_json.failure(protocol, error, rid)
        except Exception:
            log.exception("%s %s failed", protocol.service_name, operation)
            return aws_json.failure(protocol, internal_failure(), rid)

    async def _handle_query(
        self, form: dict[str, str], request: WireRequest, rid: str
    ) -> WireResponse:
        operation = form["Action"]
        try:
            if not aws_query.is_sqs_query(form):
                raise AwsError(
                    "InvalidAction",
                    f"The action {operation} is not valid for this web service.",
                )
            params = aws_query.parse_request(operation, form, request)
            service = self._service("sqs")
            result = await self._call(service, operation, params, self._context(request))
            return aws_query.success(operation, result, rid)
        except AwsError as error:
            return aws_query.failure(error, rid)
        except Exception:
            log.exception("sqs %s (query) failed", operation)
            return aws_query.failure(internal_failure(), rid)

    async def _handle_rest(self, service_name: str, request: WireRequest, rid: str) -> WireResponse:
        operation = "?"
        try:
            query_items = request.query_items()
            found = rest_json.match(
                service_name, request.method, request.raw_path, dict(query_items)
            )
            if found is None:
                raise AwsError(
                    "UnknownOperationException",
                    f"No {service_name} operation for {request.method} {request.raw_path}",
                    status=404,
                )
            route, labels = found
            operation = route.operation
            params = rest_json.parse_request(service_name, route, labels, request, query_items)
            service = self._service(service_name)
            result = await self._call(service, operation, params, self._context(request))
            return rest_json.success(service_name, operation, result, rid)
        except AwsError as error:
            return rest_json.failure(error, rid)
        except Exception:
            log.exception("%s %s failed", service_name, operation)
            return rest_json.failure(internal_failure(), rid)

    # ---- services ----

    def _service(self, name: str) -> Service:
        try:
            return self._services(name)
        except (ValueError, ImportError) as exc:
            raise AwsError(
                "UnknownOperationException", f"headwater does not serve {name}: {exc}"
            ) from None

    def _context(self, request: WireRequest) -> RequestContext:
        scope = credential_scope(request.headers.get("authorization"), request.query_string)
        key = (request.host, scope.region, scope.access_key)
        found = self._contexts.get(key)
        if found is None:
            found = RequestContext(
                region=scope.region or self._region,
                account=self._account,
                endpoint=f"http://{request.host}",
                access_key=scope.access_key,
            )
            if len(self._contexts) > 1024:
                self._contexts.clear()
            self._contexts[key] = found
        return found

    async def _call(
        self, service: Service, operation: str, params: dict[str, Any], ctx: RequestContext
    ) -> dict[str, Any]:
        if may_wait(service.service_name, operation, params):
            if _can_try_receive_now(service.service_name, operation, params):
                # A receive that may wait returns at once when messages are there; try that
                # on the loop first, and only wait (in a thread) if the queue is empty.
                found = service.call(operation, {**params, "WaitTimeSeconds": 0}, ctx)
                if found.get("Messages"):
                    return found
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._executor, service.call, operation, params, ctx)
        return service.call(operation, params, ctx)


def may_wait(service_name: str, operation: str, params: dict[str, Any]) -> bool:
    """Whether a call can block for long: such calls run in the thread pool.

    A ReceiveMessage without ``WaitTimeSeconds`` uses the queue's default wait time, which
    may be up to 20 s, so only an explicit 0 runs inline. Lambda calls start or talk to
    worker processes.
    """
    if service_name == "sqs":
        return operation == "ReceiveMessage" and params.get("WaitTimeSeconds") != 0
    return service_name == "lambda"


def _can_try_receive_now(service_name: str, operation: str, params: dict[str, Any]) -> bool:
    if service_name != "sqs" or operation != "ReceiveMessage":
        return False
    if "ReceiveRequestAttemptId" in params:  # FIFO receive replays are keyed by attempt
        return False
    wait = params.get("WaitTimeSeconds")
    # out-of-range values must reach the service unchanged to be rejected
    return wait is None or (type(wait) is int and 0 < wait <= 20)


def _not_found(request: WireRequest, rid: str) -> WireResponse:
    """A 404 both JSON protocols' parsers read as UnknownOperationException."""
    message = f"No AWS operation for {request.method} {request.raw_path}"
    body = {
        "__type": "com.amazon.coral.service#UnknownOperationException",
        "Type": "User",
        "message": message,
    }
    headers = [("x-amzn-RequestId", rid), ("x-amzn-ErrorType", "UnknownOperationException")]
    return WireResponse(404, orjson.dumps(body), "application/json", headers)
