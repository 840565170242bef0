"""In-process clients with boto3's method names, parameters, responses and exceptions.

``hw.client("sqs").send_message(QueueUrl=..., MessageBody=...)`` validates parameters as
botocore does (``ParamValidationError``), calls the service directly (no HTTP) and raises
``botocore.exceptions.ClientError`` subclasses from ``client.exceptions``, so code written
for boto3 runs unchanged.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import botocore.session
from botocore import xform_name
from botocore.config import Config
from botocore.errorfactory import ClientExceptionsFactory
from botocore.eventstream import EventStream
from botocore.exceptions import ClientError, OperationNotPageableError, UnknownRegionError
from botocore.handlers import json_decode_policies, json_decode_template_body
from botocore.model import OperationModel, Shape
from botocore.paginate import Paginator
from botocore.parsers import EventStreamJSONParser
from botocore.response import StreamingBody
from botocore.utils import parse_to_aware_datetime
from botocore.validate import validate_parameters
from botocore.waiter import NormalizedOperationMethod, Waiter

from headwater.api import event_stream
from headwater.api.shapes import input_checker, refuse_integers_past_json
from headwater.core.errors import AwsError, HeadwaterClosed
from headwater.core.ids import request_id
from headwater.models import (
    method_to_operation,
    operation_model,
    paginator_configs,
    service_model,
    waiter_model,
)
from headwater.services.base import RequestContext, Service, holds_unencodable_text

if TYPE_CHECKING:
    from headwater.runtime.invocation import InvocationResult
    from headwater.services.lambda_ import LambdaService

T = TypeVar("T")

_exceptions_factory = ClientExceptionsFactory()


class ServiceClient:
    """A boto3-compatible client bound to one headwater service and request context."""

    def __init__(self, service: Service, context: RequestContext, *, validate: bool = True) -> None:
        self._service = service
        self._context = context
        self._validate = validate
        self._name = service.service_name
        self._methods = method_to_operation(self._name)
        self.exceptions = _exceptions_factory.create_client_exceptions(service_model(self._name))
        self.meta = _ClientMeta(self._name, context.region, context.endpoint)
        # Whether the service is served over JSON protocols alone. SQS and CloudWatch also
        # speak awsQuery, where bytes that are not UTF-8 do reach the service (as lone
        # surrogates) and get its own answer; that answer stands in process too.
        self._json_only = (
            service.unencodable_text_code is None
            and "awsQueryCompatible" not in self.meta.service_model.metadata
        )

    def __getattr__(self, name: str) -> Callable[..., dict[str, Any]]:
        operation_name = self._methods.get(name)
        if operation_name is None:
            raise AttributeError(f"'{self._name}' client has no method {name!r}")

        def api_call(**kwargs: Any) -> dict[str, Any]:
            return self._make_api_call(operation_name, kwargs)

        api_call.__name__ = name
        # Later look-ups find the method in the instance dict: no __getattr__, no new closure.
        self.__dict__[name] = api_call
        return api_call

    def close(self) -> None:
        """boto3's ``client.close()``: nothing to release (no HTTP connections here)."""

    def generate_presigned_url(
        self,
        ClientMethod: str,
        Params: dict[str, Any] | None = None,
        ExpiresIn: int = 3600,
        HttpMethod: str | None = None,
    ) -> str:
        """boto3's presigned URL for ``ClientMethod``, for this Headwater's endpoint (its
        ``endpoint_url``; AWS's without one), signed with the credentials boto3 finds."""
        url: str = self._presigner().generate_presigned_url(
            ClientMethod, Params=Params, ExpiresIn=ExpiresIn, HttpMethod=HttpMethod
        )
        return url

    def _presigner(self) -> Any:
        """A botocore client made as ``boto3.client(name, endpoint_url=...)`` would be: it
        presigns exactly as boto3's does; it never sends a request."""
        found = self.__dict__.get("_botocore_client")
        if found is None:
            found = botocore.session.get_session().create_client(
                self._name,
                region_name=self._context.region,
                endpoint_url=self._context.endpoint,
            )
            self.__dict__["_botocore_client"] = found
        return found

    def can_paginate(self, operation_name: str) -> bool:
        """Whether boto3 has a paginator for the method ``operation_name``."""
        actual = self._methods.get(operation_name)
        return actual is not None and actual in paginator_configs(self._name)

    def get_paginator(self, operation_name: str) -> Paginator:
        """boto3's paginator for the method ``operation_name``, paging through this client."""
        if not self.can_paginate(operation_name):
            raise OperationNotPageableError(operation_name=operation_name)
        actual = self._methods[operation_name]
        return Paginator(
            getattr(self, operation_name),
            paginator_configs(self._name)[actual],
            operation_model(self._name, actual),
        )

    @property
    def waiter_names(self) -> list[str]:
        """boto3's waiter names for this service."""
        model = waiter_model(self._name)
        return [] if model is None else [xform_name(name) for name in model.waiter_names]

    def get_waiter(self, waiter_name: str) -> Waiter:
        """boto3's waiter ``waiter_name``, polling through this client (in real time, as
        boto3's does: a state that waits on a ``ManualClock`` is never reached)."""
        model = waiter_model(self._name)
        names = {} if model is None else {xform_name(n): n for n in model.waiter_names}
        if model is None or waiter_name not in names:
            raise ValueError(f"Waiter does not exist: {waiter_name}")
        config = model.get_waiter(names[waiter_name])
        # boto3 builds the same Waiter (in a subclass that only adds a docstring)
        method = NormalizedOperationMethod(getattr(self, xform_name(config.operation)))
        return Waiter(names[waiter_name], config, method)

    def _make_api_call(self, operation_name: str, params: dict[str, Any]) -> dict[str, Any]:
        shape = _operation_shape(self._name, operation_name)
        rid = request_id()
        if shape.checker is not None and not shape.checker(params):
            if self._validate:
                validate_parameters(params, shape.model.input_shape)
                # Valid, yet not as the service reads it: a value botocore also takes in
                # another form, which it converts as it serializes.
                _as_boto3_sends(params, shape.model.input_shape)
            try:
                # the server's body reader refuses these whatever the client checked
                refuse_integers_past_json(self._name, operation_name, params)
            except AwsError as error:
                raise self._client_error(error, operation_name, rid) from None
        self._check_open()
        try:
            result = self._service.call(operation_name, params, self._context)
        except AwsError as error:
            if (
                self._json_only
                and error.code != "SerializationException"
                and holds_unencodable_text(params)
            ):
                # Over a JSON protocol such text never reaches the service: the body is
                # refused as malformed first. A service that found another fault before it
                # met the text answers here as it would over the wire.
                error = self._service.unencodable_text_error()
            raise self._client_error(error, operation_name, rid) from None
        if shape.after_call is not None:
            shape.after_call(result, shape.model)
        for name in shape.flattened_lists:
            if name in result and not result[name]:
                del result[name]
        if shape.blob_payload is not None:
            body = result.get(shape.blob_payload, b"")
            if isinstance(body, bytes | bytearray):
                result[shape.blob_payload] = StreamingBody(io.BytesIO(body), len(body))
        result["ResponseMetadata"] = {
            # An operation whose result has its own request id (Invoke) answers with it.
            "RequestId": result.pop("_request_id", rid),
            "HTTPStatusCode": result.pop("_status", shape.status),
            "HTTPHeaders": {},
            "RetryAttempts": 0,
        }
        return result

    def _check_open(self) -> None:
        if self._service.env.closed:
            raise HeadwaterClosed(
                f"{self._name} client of a closed Headwater: this Headwater is closed; "
                "create a new one"
            )

    def _client_error(self, error: AwsError, operation_name: str, rid: str) -> ClientError:
        body: dict[str, Any] = {"Code": error.code, "Message": error.message}
        if error.query_code is not None:
            # awsJson + awsQueryCompatible (SQS): botocore reports the legacy code and
            # keeps the modeled name as QueryErrorCode, but raises the modeled class.
            body["Code"] = error.query_code
            body["QueryErrorCode"] = error.code
            body["Type"] = "Sender" if error.sender_fault else "Receiver"
        elif self.meta.service_model.protocol == "query":
            # botocore's query parser reports the <Type> of the error document too.
            body["Type"] = "Sender" if error.sender_fault else "Receiver"
        response: dict[str, Any] = {
            "Error": body,
            "ResponseMetadata": {
                "RequestId": rid,
                "HTTPStatusCode": error.status,
                "HTTPHeaders": dict(error.headers),
                "RetryAttempts": 0,
            },
        }
        if self.meta.service_model.protocol == "rest-xml":
            # restXml (S3) errors carry extra elements inside <Error>, where botocore puts
            # them; elsewhere botocore keeps only the error shape's members (below).
            for key, value in error.fields.items():
                body.setdefault(key, value)
        for key, value in self._modeled_error_fields(error, body["Code"]).items():
            response.setdefault(key, value)
        # botocore raises the class of the code it reports; SQS alone (a handler of its
        # own) the class of the modeled name it keeps as QueryErrorCode.
        raised = error.code if self._name == "sqs" else body["Code"]
        cls = self.exceptions.from_code(raised)
        exc: ClientError = cls(response, operation_name)
        return exc

    def _modeled_error_fields(self, error: AwsError, code: str) -> dict[str, Any]:
        """The members of the error's modeled shape that botocore parses out of the error
        body onto the top of the response (``message`` of most JSON errors), as the wire
        layer writes that body for this service's protocol."""
        shape = self.meta.service_model.shape_for_error_code(code)
        # The protocol boto3 speaks (CloudWatch: JSON, the first of its model's list that
        # botocore ranks highest), whose error body the modeled fields are parsed from.
        protocol = self.meta.service_model.resolved_protocol
        if shape is None or protocol == "query":
            # awsQuery: botocore parses the shape from <ErrorResponse>, which holds none.
            return {}
        written: dict[str, Any] = {}
        if protocol == "rest-json":
            written["Type"] = "User" if error.sender_fault else "Service"
            if "Message" not in error.fields:
                written["message"] = error.message
        elif (
            protocol in ("json", "smithy-rpc-v2-cbor")
            and (error.message or protocol == "json")
            and "Message" not in error.fields  # DynamoDB's ConditionalCheckFailed
        ):
            written["message"] = error.message
        written.update(error.fields)
        headers = {name.lower(): value for name, value in error.headers.items()}
        fields: dict[str, Any] = {}
        for name, member in shape.members.items():
            if member.serialization.get("location") == "header":
                header = headers.get(member.serialization["name"].lower())
                if header is not None:
                    fields[name] = int(header) if member.type_name == "integer" else header
            elif (wire_name := member.serialization.get("name", name)) in written:
                fields[name] = written[wire_name]
        return fields


def _as_boto3_sends(value: Any, shape: Shape) -> Any:
    """``value`` (changed in place where it is a dict or list) with what botocore's
    serializers convert made so: a blob given as text its UTF-8 bytes, a timestamp given as
    text or epoch seconds a datetime. Returns the converted value."""
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        for name, member in shape.members.items():
            if name in value:
                value[name] = _as_boto3_sends(value[name], member)
    elif kind == "list" and isinstance(value, list):
        for index, item in enumerate(value):
            value[index] = _as_boto3_sends(item, shape.member)
    elif kind == "map" and isinstance(value, dict):
        for key, item in value.items():
            value[key] = _as_boto3_sends(item, shape.value)
    elif kind == "blob" and isinstance(value, str):
        return value.encode("utf-8")
    elif kind == "timestamp" and not isinstance(value, dt.datetime):
        return parse_to_aware_datetime(value)
    return value


@dataclass(frozen=True, slots=True)
class _OperationShape:
    """What every call of one operation needs of its model, looked up once."""

    model: OperationModel
    #: The fast parameter check (``None``: the operation takes no input).
    checker: Callable[[Any], bool] | None
    #: The output member answered as a stream (S3 GetObject's Body), if any.
    blob_payload: str | None
    #: botocore's ``after-call`` handler that rewrites this operation's parsed result, if
    #: any: IAM's policy documents (answered URL-encoded) and CloudFormation GetTemplate's
    #: JSON TemplateBody become dicts, as boto3 hands them out.
    after_call: Callable[[dict[str, Any], OperationModel], None] | None
    status: int
    #: Top-level list members that XML writes without a wrapper (S3's ``Uploads``): an
    #: empty one is no element at all, which boto3 parses as no key.
    flattened_lists: tuple[str, ...]


@cache
def _operation_shape(service_name: str, operation_name: str) -> _OperationShape:
    model = operation_model(service_name, operation_name)
    output = model.output_shape
    payload = None if output is None else output.serialization.get("payload")
    blob = output is not None and payload and output.members[payload].type_name == "blob"
    return _OperationShape(
        model=model,
        checker=(
            None if model.input_shape is None else input_checker(service_name, operation_name)
        ),
        blob_payload=payload if blob else None,
        after_call=_after_call(service_name, operation_name, output),
        status=model.http.get("responseCode", 200),
        flattened_lists=tuple(
            name
            for name, member in (output.members.items() if output is not None else ())
            if member.type_name == "list" and member.serialization.get("flattened")
        )
        if model.metadata["protocol"] in ("rest-xml", "query")
        else (),
    )


def _after_call(
    service_name: str, operation_name: str, output: Shape | None
) -> Callable[[dict[str, Any], OperationModel], None] | None:
    if service_name == "iam" and output is not None:
        decode_policies: Callable[[dict[str, Any], OperationModel], None] = json_decode_policies
        return decode_policies
    if service_name == "cloudformation" and operation_name == "GetTemplate":
        return lambda result, _: json_decode_template_body(result)
    payload = None if output is None else output.serialization.get("payload")
    members: dict[str, Shape] = getattr(output, "members", {})
    if payload is not None and members[payload].serialization.get("eventstream"):
        # InvokeWithResponseStream: boto3 hands out the events as an EventStream
        return lambda result, model: _as_event_stream(result, payload, model)
    return None


class _EncodedEvents(io.BytesIO):
    """An event stream's bytes, read as botocore reads a response body (``stream()``)."""

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.getvalue()


def _as_event_stream(result: dict[str, Any], member: str, model: OperationModel) -> None:
    """The service's list of events as boto3 hands them out: botocore's ``EventStream``
    (iterated, closed), reading them as framed on the wire."""
    events = result.get(member)
    if isinstance(events, list):
        shape = model.output_shape.members[member]
        encoded = _EncodedEvents(event_stream.encode(shape, events))
        result[member] = EventStream(encoded, shape, EventStreamJSONParser(), model.name)


class _ClientMeta:
    """What code reads of a boto3 client's ``meta``. No ``events``: handlers registered
    there would never be called, as no request is sent."""

    def __init__(self, service_name: str, region: str, endpoint: str | None) -> None:
        self.service_model = service_model(service_name)
        self.region_name = region
        self.endpoint_url = endpoint or f"https://{service_name}.{region}.amazonaws.com"
        self.method_to_api_mapping = dict(method_to_operation(service_name))

    @cached_property
    def partition(self) -> str:
        """The AWS partition of the client's region (``aws``, ``aws-cn``...)."""
        return _partition(self.region_name)

    @cached_property
    def config(self) -> Config:
        """The client's botocore ``Config`` (made when first read: most code never does)."""
        return Config(region_name=self.region_name)


@cache
def _partition(region: str) -> str:
    """The AWS partition of ``region`` as boto3 names it (``aws`` for a region it does not
    know, as its clients do)."""
    import boto3.session  # here: importing boto3 costs a tenth of a second, rarely needed

    try:
        partition: str = boto3.session.Session().get_partition_for_region(region)
    except UnknownRegionError:
        return "aws"
    return partition


class LambdaClient(ServiceClient):
    """The Lambda client, plus the Python-API extras that have no AWS operation.

    Extras raise the same ``ClientError`` subclasses as the boto3 methods.
    """

    _service: LambdaService

    def create_function_from_directory(
        self,
        name: str,
        directory: str | Path,
        handler: str,
        *,
        runtime: str = "python3.12",
        role: str | None = None,
        timeout: int = 3,
        memory_size: int = 128,
        environment: dict[str, str] | None = None,
        description: str = "",
        reserved_concurrency: int | None = None,
    ) -> dict[str, Any]:
        """Create a function whose code is the local ``directory``, used in place.

        Returns the FunctionConfiguration. After editing files there, call
        ``update_function_code_from_directory`` to restart its workers on the new code.
        """
        return self._extra(
            "CreateFunction",
            lambda: self._service.create_function_from_directory(
                name,
                directory,
                handler,
                runtime=runtime,
                role=role,
                timeout=timeout,
                memory_size=memory_size,
                environment=environment,
                description=description,
                reserved_concurrency=reserved_concurrency,
                region=self._context.region,
            ),
        )

    def update_function_code_from_directory(
        self, name: str, directory: str | Path
    ) -> dict[str, Any]:
        """Point a function at (or re-read) a local code directory; drains its workers."""
        return self._extra(
            "UpdateFunctionCode",
            lambda: self._service.update_function_code_from_directory(
                name, directory, region=self._context.region
            ),
        )

    def invoke_function(
        self,
        function_ref: str,
        payload: bytes | str | dict[str, Any] | list[Any] = b"",
        *,
        invocation_type: str = "RequestResponse",
        log_tail: bool = False,
        qualifier: str | None = None,
    ) -> InvocationResult:
        """Invoke and wait; the result carries the payload, error, logs and request id.

        A full ARN is invoked in its own region (the Python API is not bound to one).
        """
        region = None if function_ref.startswith("arn:") else self._context.region
        return self._extra(
            "Invoke",
            lambda: self._service.invoke_function(
                function_ref,
                payload,
                invocation_type=invocation_type,
                log_tail=log_tail,
                qualifier=qualifier,
                region=region,
            ),
        )

    def function_logs(self, function_name: str) -> str:
        """The retained log text of a function (START/END/REPORT and its output)."""
        return self._extra(
            "GetFunction",
            lambda: self._service.function_logs(function_name, region=self._context.region),
        )

    def _extra(self, operation_name: str, call: Callable[[], T]) -> T:
        self._check_open()
        try:
            return call()
        except AwsError as error:
            raise self._client_error(error, operation_name, request_id()) from None
