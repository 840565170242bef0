"""Route one HTTP request to a service operation and back, whatever the protocol.

Order (aws-wire-protocols.md §1.2): ``X-Amz-Target`` (awsJson: any service whose model has
that target prefix), then form ``Action`` + ``Version`` (awsQuery: SQS's legacy flavour,
also POSTed to a queue URL path, or SNS / IAM / STS / CloudFormation / CloudWatch by their
API version), then the protocols registered with ``add_protocol`` (rpc-v2-cbor, restXml),
then Lambda's REST path prefixes, then a 404 both JSON parsers understand. Services are
called with boto3-shaped params; only calls that may wait (long-poll receive, Lambda)
leave the event loop for the thread pool, the rest run inline because a thread hop costs
more than they do.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from concurrent.futures import Executor
from typing import Any, Protocol

import orjson

from headwater.api import aws_json, aws_query, rest_json
from headwater.api.errors import (
    nested_value_error,
    server_fault,
    too_deeply_nested,
    unknown_operation,
)
from headwater.api.http import WireRequest, WireResponse
from headwater.api.sigv4 import CredentialScope, credential_scope
from headwater.api.xml_text import xml_escape
from headwater.core.arn import DEFAULT_ACCOUNT, DEFAULT_REGION
from headwater.core.errors import AwsError
from headwater.core.ids import request_id
from headwater.services.base import RequestContext, Service

log = logging.getLogger(__name__)

ServiceLookup = Callable[[str], Service]
#: Calls ``operation`` of service ``name`` with ``params`` (off the loop when it may wait).
Dispatch = Callable[[str, str, dict[str, Any], RequestContext], Awaitable[dict[str, Any]]]
#: The error that refuses a request, in the shape of an error family ("json" for awsJson,
#: restJson and rpc-v2-cbor, "query" for awsQuery, "xml" for S3): ``server.request_checks``.
RefusalError = Callable[[Any], AwsError]


class WireProtocol(Protocol):
    """A protocol the router does not know by itself (rpc-v2-cbor, restXml for S3)."""

    def claims(self, request: WireRequest, scope: CredentialScope) -> bool:
        """Whether ``request`` is this protocol's (cheap: headers, path, scope)."""
        ...

    async def handle(
        self, request: WireRequest, request_id: str, ctx: RequestContext, dispatch: Dispatch
    ) -> WireResponse:
        """The response; never raises (errors become this protocol's error shape)."""
        ...


class Router:
    """Translates requests for the services found through ``services(name)``."""

    def __init__(
        self,
        services: ServiceLookup,
        *,
        executor: Executor | None = None,
        region: str = DEFAULT_REGION,
        account: str = DEFAULT_ACCOUNT,
        service_names: Iterable[str],
        protocols: Iterable[WireProtocol] = (),
    ) -> None:
        self._services = services
        self._executor = executor
        self._region = region
        self._account = account
        self._service_names = tuple(service_names)
        self._protocols = list(protocols)
        self._contexts: dict[tuple[str, str | None, str | None], RequestContext] = {}
        self._json_targets: dict[str, aws_json.JsonProtocol] | None = None

    def add_protocol(self, protocol: WireProtocol) -> None:
        """Try ``protocol`` for requests that are neither awsJson nor awsQuery."""
        self._protocols.append(protocol)

    # ---- entry point ----

    async def handle(
        self, request: WireRequest, refusal: RefusalError | None = None
    ) -> WireResponse:
        """The response to ``request``; never raises (faults become AWS-shaped 500s).

        With ``refusal``, the request is refused before any operation runs, with the
        error ``refusal(family)`` in the shape of the request's protocol.
        """
        answer = self.answer(request, refusal)
        if isinstance(answer, WireResponse):
            return answer
        return await answer

    def answer(
        self, request: WireRequest, refusal: RefusalError | None = None
    ) -> WireResponse | Coroutine[Any, Any, WireResponse]:
        """``handle``'s response when it is known without waiting (every awsJson call of a
        service that never waits: a DynamoDB call), else an awaitable of it. No coroutine
        is made for the former: three of them were a tenth of a DynamoDB call's routing."""
        rid = request_id()
        target = request.headers.get("x-amz-target")
        if target is not None:
            return self._answer_json(target, request, rid, refusal)
        return self._handle_other(request, rid, refusal)

    async def _handle_other(
        self, request: WireRequest, rid: str, refusal: RefusalError | None
    ) -> WireResponse:
        """The response to a request that is not awsJson."""
        headers = request.headers
        content_type = headers.get("content-type", "")
        form: dict[str, str] | None = None
        if content_type.startswith("application/x-www-form-urlencoded") or (
            "Action=" in request.query_string
        ):
            form = aws_query.read_form(request)
            if "Action" in form:
                return await self._handle_query(form, request, rid, refusal)
        if self._protocols:
            scope = credential_scope(headers.get("authorization"), request.query_string)
            for protocol in self._protocols:
                if protocol.claims(request, scope):
                    dispatch = self.call if refusal is None else _refused(refusal, protocol)
                    ctx = self._context(request) if refusal is None else _REFUSED_CONTEXT
                    return await protocol.handle(request, rid, ctx, dispatch)
        if refusal is not None:
            return rest_json.failure(refusal("json"), rid)
        if rest_json.claims_path("lambda", request.raw_path):
            return await self._handle_rest("lambda", request, rid)
        if rest_json.claims_path("scheduler", request.raw_path) and (
            # /schedules and /schedule-groups are the Scheduler's; /tags/{arn} is API
            # Gateway's too, so there the request's signing scope says whose it is.
            not request.raw_path.startswith("/tags/")
            or credential_scope(headers.get("authorization"), request.query_string).service
            == "scheduler"
        ):
            return await self._handle_rest("scheduler", request, rid)
        if request.raw_path.startswith("/v2/email/"):  # SES v2, beside API Gateway's /v2
            return await self._handle_rest("sesv2", request, rid)
        if rest_json.claims_path("apigatewayv2", request.raw_path):  # /v2/apis, /v2/tags
            return await self._handle_rest("apigatewayv2", request, rid)
        if rest_json.claims_path("apigateway", request.raw_path):  # /restapis, /tags
            return await self._handle_rest("apigateway", request, rid)
        if form is not None:  # a query-protocol post without its Action: answer in XML
            return aws_query.failure(aws_query.missing_action(), rid, self._form_dialect(form))
        return _not_found(request, rid)

    def _form_dialect(self, form: dict[str, str]) -> aws_query.QueryDialect:
        """The dialect a form's error is written in: its ``Version``'s service, else SQS's."""
        found = aws_query.service_for_query(form.get("Version"), None, self._service_names)
        return aws_query.SQS if found is None else aws_query.dialect(found)

    # ---- protocols ----

    def _answer_json(
        self, target: str, request: WireRequest, rid: str, refusal: RefusalError | None
    ) -> WireResponse | Coroutine[Any, Any, WireResponse]:
        prefix, _, operation = target.partition(".")
        targets = self._json_targets
        if targets is None:  # first awsJson call: the models load now, not at start-up
            targets = self._json_targets = aws_json.json_targets(self._service_names)
        protocol = targets.get(prefix)
        if protocol is None:
            error = unknown_operation() if refusal is None else refusal("json")
            return aws_json.failure(aws_json.GENERIC_JSON, error, rid)
        if protocol.service_name in aws_json.CBOR_SERVICES:
            protocol = aws_json.negotiate(protocol, request)
        try:
            if refusal is not None:
                raise refusal("json")
            if operation not in protocol.operations:
                raise unknown_operation(f"Unknown operation {operation}")
            params = aws_json.parse_request(protocol, operation, request)
            service = self._service(protocol.service_name, operation)
            ctx = self._context(request)
            if service.service_name in MAY_WAIT_SERVICES:
                return self._finish_json(protocol, service, operation, params, ctx=ctx, rid=rid)
            # the common call, which never waits, is answered here
            return aws_json.success(protocol, service.call(operation, params, ctx), rid)
        except Exception as exc:
            return _json_failure(protocol, operation, exc, rid)

    async def _finish_json(
        self,
        protocol: aws_json.JsonProtocol,
        service: Service,
        operation: str,
        params: dict[str, Any],
        *,
        ctx: RequestContext,
        rid: str,
    ) -> WireResponse:
        """The response to an awsJson call of a service whose calls may wait."""
        try:
            result = await self._call(service, operation, params, ctx)
            return aws_json.success(protocol, result, rid)
        except Exception as exc:
            return _json_failure(protocol, operation, exc, rid)

    async def _handle_query(
        self, form: dict[str, str], request: WireRequest, rid: str, refusal: RefusalError | None
    ) -> WireResponse:
        operation = form["Action"]
        dialect: aws_query.QueryDialect = aws_query.SQS
        try:
            if refusal is not None:
                if not aws_query.is_sqs_query(form):
                    with contextlib.suppress(AwsError):
                        dialect = self._query_dialect(form, request)
                raise refusal("query")
            if not aws_query.is_sqs_query(form):
                dialect = self._query_dialect(form, request)
                if operation not in aws_query.operation_names(dialect.service_name):
                    raise AwsError(
                        "InvalidAction",
                        f"The action {operation} is not valid for this web service.",
                    )
            params = aws_query.parse_request(operation, form, request, dialect)
            service = self._service(dialect.service_name, operation)
            result = await self._call(service, operation, params, self._context(request))
            return aws_query.success(operation, result, rid, dialect)
        except AwsError as error:
            return aws_query.failure(error, rid, dialect)
        except RecursionError:
            return aws_query.failure(nested_value_error(), rid, dialect)
        except Exception as exc:
            fault = server_fault(exc, f"{dialect.service_name} {operation} (query)")
            return aws_query.failure(fault, rid, dialect)

    def _query_dialect(self, form: dict[str, str], request: WireRequest) -> aws_query.QueryDialect:
        """The query service of a non-SQS form: by ``Version``, else by the signing scope."""
        scope = credential_scope(request.headers.get("authorization"), request.query_string)
        found = aws_query.service_for_query(
            form.get("Version"), scope.service, self._service_names, form.get("Action")
        )
        if found is None:
            raise AwsError(
                "InvalidAction",
                f"The action {form['Action']} is not valid for this web service.",
            )
        return aws_query.dialect(found)

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
            service = self._service(service_name, operation)
            result = await self._call(service, operation, params, self._context(request))
            return rest_json.success(service_name, operation, result, rid)
        except AwsError as error:
            return rest_json.failure(error, rid)
        except RecursionError:
            return rest_json.failure(too_deeply_nested(), rid)
        except Exception as exc:
            return rest_json.failure(server_fault(exc, f"{service_name} {operation}"), rid)

    # ---- services ----

    def _service(self, name: str, operation: str) -> Service:
        """The service ``name``; a service headwater lists but has not built yet is an
        error that names the operation asked for."""
        try:
            return self._services(name)
        except (ValueError, ImportError) as exc:
            raise AwsError(
                "UnknownOperationException",
                f"Operation {operation} is not supported by headwater: it does not serve "
                f"{name}: {exc}",
            ) from None
        except AwsError as error:
            if error.code != "UnknownOperationException":
                raise
            raise AwsError(
                error.code,
                f"Operation {operation} is not supported by headwater: {error.message}",
                status=error.status,
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

    async def call(
        self, service_name: str, operation: str, params: dict[str, Any], ctx: RequestContext
    ) -> dict[str, Any]:
        """Run one operation of ``service_name`` (for protocols registered with the router)."""
        return await self._call(self._service(service_name, operation), operation, params, ctx)

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


def _json_failure(
    protocol: aws_json.JsonProtocol, operation: str, exc: Exception, rid: str
) -> WireResponse:
    """The awsJson response to a call that raised ``exc``."""
    if isinstance(exc, AwsError):
        return aws_json.failure(protocol, exc, rid)
    if isinstance(exc, RecursionError):  # a value a service parses nests too deep
        return aws_json.failure(protocol, too_deeply_nested(), rid)
    fault = server_fault(exc, f"{protocol.service_name} {operation}")
    return aws_json.failure(protocol, fault, rid)


#: The context a refused request's protocol is handed: never used, as nothing runs.
_REFUSED_CONTEXT = RequestContext(region=DEFAULT_REGION, account=DEFAULT_ACCOUNT)


def _refused(refusal: RefusalError, protocol: WireProtocol) -> Dispatch:
    """A dispatch that runs nothing: it raises the refusal in ``protocol``'s family."""
    family = getattr(protocol, "error_family", "json")

    async def dispatch(
        service_name: str, operation: str, params: dict[str, Any], ctx: RequestContext
    ) -> dict[str, Any]:
        raise refusal(family)

    return dispatch


#: Services some of whose calls may block; others' calls never do (``may_wait`` says
#: which calls; the awsJson path calls the others' services directly).
MAY_WAIT_SERVICES = frozenset({"sqs", "s3", "lambda", "cloudformation", "cognito-idp"})


def may_wait(service_name: str, operation: str, params: dict[str, Any]) -> bool:
    """Whether a call can block for long: such calls run in the thread pool.

    A ReceiveMessage without ``WaitTimeSeconds`` uses the queue's default wait time, which
    may be up to 20 s, so only an explicit 0 runs inline. Lambda calls start or talk to
    worker processes.
    """
    if service_name not in MAY_WAIT_SERVICES:
        return False
    if service_name == "sqs":
        return operation == "ReceiveMessage" and params.get("WaitTimeSeconds") != 0
    # S3 object data calls read or write files of up to gigabytes.
    if service_name == "s3":
        return operation in S3_DATA_OPERATIONS
    # Lambda and CloudFormation: CloudFormation calls run transforms and may wait for a
    # stack operation to finish.
    return True


#: S3 operations that move object bytes (files on disk): off the event loop.
S3_DATA_OPERATIONS = frozenset(
    {"PutObject", "GetObject", "UploadPart", "CompleteMultipartUpload", "CopyObject"}
)


def _can_try_receive_now(service_name: str, operation: str, params: dict[str, Any]) -> bool:
    if service_name != "sqs" or operation != "ReceiveMessage":
        return False
    if "ReceiveRequestAttemptId" in params:  # FIFO receive replays are keyed by attempt
        return False
    wait = params.get("WaitTimeSeconds")
    # out-of-range values must reach the service unchanged to be rejected
    return wait is None or (type(wait) is int and 0 < wait <= 20)


def _not_found(request: WireRequest, rid: str) -> WireResponse:
    """A 404 both JSON protocols' parsers read as UnknownOperationException; for a request
    signed for an XML service (S3 Express's control plane), S3's NotImplemented document."""
    message = f"No AWS operation for {request.method} {request.raw_path}"
    scope = credential_scope(request.headers.get("authorization"), request.query_string)
    if scope.service is not None and scope.service.startswith("s3"):
        named = dict(request.query_items()).get("x-id")
        what = f"Operation {named}" if named else f"{request.method} {request.raw_path}"
        xml = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NotImplemented</Code>'
            f"<Message>{xml_escape(what)} is not supported by headwater's {scope.service}"
            f"</Message><RequestId>{rid}</RequestId></Error>"
        )
        return WireResponse(501, xml.encode(), "application/xml", [("x-amz-request-id", rid)])
    body = {
        "__type": "com.amazon.coral.service#UnknownOperationException",
        "Type": "User",
        "message": message,
    }
    headers = [("x-amzn-RequestId", rid), ("x-amzn-ErrorType", "UnknownOperationException")]
    return WireResponse(404, orjson.dumps(body), "application/json", headers)
