"""Garbage in, AWS-shaped 4xx out: every SQS, Kinesis and Lambda operation through the router
with malformed, mistyped and odd-but-well-typed input against the real in-memory services."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from botocore.model import Shape

from headwater import Headwater
from headwater.api import rest_json
from headwater.api.http import WireRequest
from headwater.api.router import Router
from headwater.models import service_model
from headwater.wiring import SERVICES

TARGETS = {"sqs": ("AmazonSQS", "1.0"), "kinesis": ("Kinesis_20131202", "1.1")}


@pytest.fixture(scope="module")
def router() -> Iterator[Router]:
    hw = Headwater.in_memory()
    try:
        yield Router(hw.service, service_names=SERVICES)
    finally:
        hw.close()


def _wrong(shape: Shape) -> Any:
    return {"string": 12, "integer": "x", "long": "x", "boolean": "yes", "list": "x"}.get(
        shape.type_name, ["x"]
    )


def _odd(shape: Shape, depth: int = 0) -> Any:
    """A well-typed but unlikely value."""
    kind = shape.type_name
    if kind == "string":
        return ""
    if kind in ("integer", "long"):
        return -1
    if kind == "boolean":
        return True
    if kind in ("float", "double"):
        return -1.5
    if kind == "blob":
        return ""
    if kind == "timestamp":
        return 0
    if kind == "list":
        return [] if depth > 2 else [_odd(shape.member, depth + 1)]
    if kind == "map":
        return {} if depth > 2 else {"k": _odd(shape.value, depth + 1)}
    if kind == "structure":
        if depth > 2:
            return {}
        return {name: _odd(member, depth + 1) for name, member in shape.members.items()}
    return None


def _bodies(shape: Shape | None) -> Iterator[bytes]:
    yield b"{"
    yield b"[]"
    yield b"{}"
    if shape is None:
        return
    odd = _odd(shape)
    yield orjson.dumps(odd)
    for name, member in shape.members.items():
        yield orjson.dumps({**odd, name: _wrong(member)})


def _json_cases() -> Iterator[tuple[str, str]]:
    for service in TARGETS:
        for op in service_model(service).operation_names:
            yield service, op


@pytest.mark.parametrize(("service", "operation"), list(_json_cases()))
def test_json_operations_never_fault(router: Router, service: str, operation: str) -> None:
    prefix, version = TARGETS[service]
    shape = service_model(service).operation_model(operation).input_shape
    for body in _bodies(shape):
        request = WireRequest(
            "POST",
            "/",
            "",
            {
                "host": "localhost:4599",
                "x-amz-target": f"{prefix}.{operation}",
                "content-type": f"application/x-amz-json-{version}",
            },
            body,
        )
        response = asyncio.run(router.handle(request))
        assert response.status < 500, (operation, body, response.body)
        if response.status >= 400:
            assert "__type" in orjson.loads(response.body)


LAMBDA_OPERATIONS = [
    "CreateFunction",
    "GetFunction",
    "GetFunctionConfiguration",
    "ListFunctions",
    "UpdateFunctionCode",
    "UpdateFunctionConfiguration",
    "DeleteFunction",
    "PutFunctionConcurrency",
    "GetFunctionConcurrency",
    "DeleteFunctionConcurrency",
    "Invoke",
    "CreateEventSourceMapping",
    "GetEventSourceMapping",
    "ListEventSourceMappings",
    "UpdateEventSourceMapping",
    "DeleteEventSourceMapping",
]


@pytest.mark.parametrize("operation", LAMBDA_OPERATIONS)
def test_lambda_operations_never_fault(router: Router, operation: str) -> None:
    op = service_model("lambda").operation_model(operation)
    path = op.http["requestUri"].split("?")[0]
    path = path.replace("{FunctionName}", "f").replace("{UUID}", "u")
    shape = op.input_shape
    route = rest_json.match("lambda", op.http["method"], path, {})
    assert route is not None and route[0].operation == operation
    for body in _bodies(shape):
        request = WireRequest(
            op.http["method"], path, "", {"host": "h", "content-type": "application/json"}, body
        )
        response = asyncio.run(router.handle(request))
        assert response.status < 500, (operation, body, response.body)
