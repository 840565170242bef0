"""awsJson 1.0 / 1.1: ``X-Amz-Target: <Prefix>.<Operation>``, JSON bodies.

Any listed service whose botocore model speaks JSON is found by its model's
``targetPrefix`` (``DynamoDB_20120810``, ``Logs_20140328`` ...); only the ``__type``
namespace of error bodies differs per service.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache
from typing import Any

from headwater.api import amz_cbor
from headwater.api.errors import json_error
from headwater.api.http import WireRequest, WireResponse
from headwater.api.shapes import (
    dump_json,
    input_converter,
    read_json_input,
    validate_input,
)
from headwater.core.errors import AwsError
from headwater.models import service_model


@dataclass(frozen=True, slots=True)
class JsonProtocol:
    """How one awsJson service looks on the wire."""

    service_name: str
    content_type: str
    #: ``__type`` namespace; None for services that send bare names (Kinesis).
    namespace: str | None
    #: Bodies in CBOR (``application/x-amz-cbor-1.1``, Kinesis from the Java SDK).
    cbor: bool = False
    #: The operations of its model (a field, not a look-up: every request checks it).
    operations: frozenset[str] = frozenset()


_OPERATIONS: dict[str, frozenset[str]] = {}


def _operation_names(service_name: str) -> frozenset[str]:
    found = _OPERATIONS.get(service_name)
    if found is None:
        found = frozenset(service_model(service_name).operation_names)
        _OPERATIONS[service_name] = found
    return found


#: ``__type`` namespace of error bodies, per service (default: bare error names).
ERROR_NAMESPACES: dict[str, str] = {
    "sqs": "com.amazonaws.sqs",
    "dynamodb": "com.amazonaws.dynamodb.v20120810",
    "dynamodbstreams": "com.amazonaws.dynamodb.v20120810",
    "cloudwatch": "com.amazonaws.cloudwatch.v2010_08_01",
}


@cache
def json_targets(service_names: tuple[str, ...]) -> dict[str, JsonProtocol]:
    """X-Amz-Target prefix -> protocol, for the services among ``service_names`` whose
    botocore model speaks JSON."""
    found: dict[str, JsonProtocol] = {}
    for name in service_names:
        try:
            metadata = service_model(name).metadata
        except Exception:  # botocore without that model: headwater cannot speak it
            continue
        target = metadata.get("targetPrefix")
        if target and "json" in metadata.get("protocols", [metadata.get("protocol")]):
            version = metadata.get("jsonVersion", "1.0")
            found[target] = JsonProtocol(
                name,
                f"application/x-amz-json-{version}",
                ERROR_NAMESPACES.get(name),
                operations=_operation_names(name),
            )
    return found


#: For errors raised before the service is known (unknown target prefix).
GENERIC_JSON = JsonProtocol("", "application/x-amz-json-1.0", "com.amazon.coral.service")


#: Services that also accept CBOR bodies.
CBOR_SERVICES = frozenset({"kinesis"})


def negotiate(protocol: JsonProtocol, request: WireRequest) -> JsonProtocol:
    """``protocol``, or its CBOR variant when the request body is CBOR (Kinesis)."""
    if protocol.service_name in CBOR_SERVICES and amz_cbor.is_cbor(
        request.headers.get("content-type", "")
    ):
        return replace(protocol, content_type=amz_cbor.CONTENT_TYPE, cbor=True)
    return protocol


def parse_request(protocol: JsonProtocol, operation: str, request: WireRequest) -> dict[str, Any]:
    """The boto3-shaped params of an awsJson request; raises AwsError for bad input."""
    if protocol.cbor:
        params = amz_cbor.load_cbor_object(request.body, protocol.service_name, operation)
        convert = input_converter(protocol.service_name, operation)
        if convert is not None:
            params = convert(params)
        validate_input(protocol.service_name, operation, params)
        return params
    return read_json_input(protocol.service_name, operation, request.body)


def success(protocol: JsonProtocol, result: dict[str, Any], request_id: str) -> WireResponse:
    status = result.pop("_status", 200)
    body = amz_cbor.dump_cbor(result) if protocol.cbor else dump_json(result)
    return WireResponse(status, body, protocol.content_type, [("x-amzn-RequestId", request_id)])


def failure(protocol: JsonProtocol, error: AwsError, request_id: str) -> WireResponse:
    if protocol.cbor:
        headers = [
            ("x-amzn-RequestId", request_id),
            ("x-amzn-ErrorType", error.code),
            *error.headers.items(),
        ]
        return WireResponse(
            error.status, amz_cbor.error_body(error), protocol.content_type, headers
        )
    return json_error(
        error,
        namespace=protocol.namespace,
        content_type=protocol.content_type,
        request_id=request_id,
    )
