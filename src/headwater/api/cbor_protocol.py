"""Smithy RPC v2 CBOR: ``POST /service/<TargetPrefix>/operation/<Operation>``, CBOR bodies.

Current botocore speaks CloudWatch this way (its model lists ``smithy-rpc-v2-cbor``
first). Requests carry ``smithy-protocol: rpc-v2-cbor``; responses echo that header, use
``application/cbor`` and encode timestamps as CBOR tag 1 (epoch seconds) and blobs as
byte strings, so cbor2's own mapping of datetimes and bytes is exactly the boto3 shape.
Errors are a map with ``__type`` (``<namespace>#<Shape>``) and ``message``; services that
were awsQuery (``awsQueryCompatible``) also send ``x-amzn-query-error: <Code>;<Fault>``.

cbor2 (agronholm) is the maintained CBOR library for Python, with a C extension; CBOR is
a full binary format with indefinite lengths, tags and half floats, not worth owning.
"""

from __future__ import annotations

import datetime as dt
import logging
from functools import cache
from typing import Any

import cbor2

from headwater.api.errors import (
    FRAMEWORK_NAMESPACES,
    MAX_NESTING,
    serialization_error,
    server_fault,
    too_deeply_nested,
)
from headwater.api.http import WireRequest, WireResponse
from headwater.api.router import Dispatch
from headwater.api.shapes import validate_input
from headwater.api.sigv4 import CredentialScope
from headwater.core.errors import AwsError
from headwater.models import service_model
from headwater.services.base import RequestContext

log = logging.getLogger(__name__)

PROTOCOL = "rpc-v2-cbor"
CONTENT_TYPE = "application/cbor"
PREFIX = "/service/"

#: ``__type`` namespace of each CBOR service's errors (the Smithy service namespace).
ERROR_NAMESPACES: dict[str, str] = {"cloudwatch": "com.amazonaws.cloudwatch.v2010_08_01"}


@cache
def cbor_targets(service_names: tuple[str, ...]) -> dict[str, str]:
    """Target prefix -> service name, for the services whose model speaks CBOR."""
    found: dict[str, str] = {}
    for name in service_names:
        try:
            metadata = service_model(name).metadata
        except Exception:  # botocore without that model: headwater cannot speak it
            continue
        if "smithy-rpc-v2-cbor" in metadata.get("protocols", [metadata.get("protocol")]):
            found[str(metadata["targetPrefix"])] = name
    return found


class CborProtocol:
    """The ``WireProtocol`` for Smithy RPC v2 CBOR services."""

    def __init__(self, service_names: tuple[str, ...]) -> None:
        self._targets = cbor_targets(tuple(service_names))

    def claims(self, request: WireRequest, scope: CredentialScope) -> bool:
        return request.raw_path.startswith(PREFIX) and (
            request.headers.get("smithy-protocol") == PROTOCOL
        )

    async def handle(
        self, request: WireRequest, request_id: str, ctx: RequestContext, dispatch: Dispatch
    ) -> WireResponse:
        service_name = ""
        operation = "?"
        try:
            service_name, operation = self._route(request)
            params = decode_body(request.body)
            validate_input(service_name, operation, params)
            result = await dispatch(service_name, operation, params, ctx)
            return success(result, request_id)
        except AwsError as error:
            return failure(error, service_name, request_id)
        except RecursionError:  # a value in the request a service parses, nested too deep
            return failure(too_deeply_nested(), service_name, request_id)
        except Exception as exc:
            fault = server_fault(exc, f"{service_name} {operation} (cbor)")
            return failure(fault, service_name, request_id)

    def _route(self, request: WireRequest) -> tuple[str, str]:
        parts = request.raw_path.split("?", 1)[0].strip("/").split("/")
        if len(parts) != 4 or parts[0] != "service" or parts[2] != "operation":
            raise AwsError("UnknownOperationException", f"No operation at {request.raw_path}")
        service_name = self._targets.get(parts[1])
        if service_name is None:
            raise AwsError("UnknownOperationException", f"Unknown service {parts[1]}")
        if request.method != "POST":
            raise AwsError(
                "UnknownOperationException", "Smithy RPC v2 requests must use POST", status=405
            )
        operation = parts[3]
        if operation not in service_model(service_name).operation_names:
            raise AwsError("UnknownOperationException", f"Unknown operation {operation}")
        return service_name, operation


def decode_body(body: bytes) -> dict[str, Any]:
    """The boto3-shaped params of a CBOR body (``{}`` when empty)."""
    if not body:
        return {}
    try:
        value = cbor2.loads(body, max_depth=MAX_NESTING)
    except RecursionError:
        raise too_deeply_nested() from None
    except (cbor2.CBORDecodeError, ValueError, EOFError):
        raise serialization_error("Malformed CBOR in request body") from None
    if not isinstance(value, dict):
        raise serialization_error("Request body must be a CBOR map")
    return value


def _default(encoder: cbor2.CBOREncoder, value: Any) -> None:
    if isinstance(value, tuple | set | frozenset):
        encoder.encode(list(value))
        return
    raise cbor2.CBOREncodeError(f"cannot serialize {type(value).__name__}")


def encode(value: Any) -> bytes:
    return cbor2.dumps(value, datetime_as_timestamp=True, timezone=dt.UTC, default=_default)


def success(result: dict[str, Any], request_id: str) -> WireResponse:
    status = result.pop("_status", 200)
    body = {k: v for k, v in result.items() if not k.startswith("_") and v is not None}
    headers = [("smithy-protocol", PROTOCOL), ("x-amzn-RequestId", request_id)]
    return WireResponse(status, encode(body), CONTENT_TYPE, headers)


def failure(error: AwsError, service_name: str, request_id: str) -> WireResponse:
    namespace = FRAMEWORK_NAMESPACES.get(
        error.code, ERROR_NAMESPACES.get(service_name, "com.amazon.coral.service")
    )
    body: dict[str, Any] = {"__type": f"{namespace}#{error.code}"}
    if error.message:
        body["message"] = error.message
    for key, value in error.fields.items():
        body.setdefault(key, value)
    headers = [("smithy-protocol", PROTOCOL), ("x-amzn-RequestId", request_id)]
    headers.extend(error.headers.items())
    if error.query_code is not None:
        fault = "Sender" if error.sender_fault else "Receiver"
        headers.append(("x-amzn-query-error", f"{error.query_code};{fault}"))
    return WireResponse(error.status, encode(body), CONTENT_TYPE, headers)
