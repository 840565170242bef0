"""Properties: every operation headwater serves answers odd but well-formed input (what
botocore's validation lets a boto3 user send) with a result or the service's error -- never
a Python exception from the in-process client, never a 500 or an unparsable answer on the
wire.

Parameters are drawn from each operation's botocore input shape (``tests.shape_inputs``):
lone surrogates, NUL, very long text, huge and negative numbers, NaN, far-off timestamps.
Names and ARNs lean towards a few resources made per service (``odd_input_resources``) so
calls get past "not found" into the code that reads the values.

CI replays a fixed set of examples (``derandomize``). To hunt, run with more examples and
fresh randomness: ``HEADWATER_ODD_INPUT_EXAMPLES=300 pytest --hypothesis-seed=N ...``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore import xform_name
from botocore.exceptions import (
    ClientError,
    FlexibleChecksumError,
    MissingDependencyException,
    ParamValidationError,
)
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from headwater import Headwater, ManualClock
from headwater.app import service_class
from headwater.models import operation_model
from tests.asgi_boto import InProcessAws
from tests.functional.odd_input_resources import make_resources
from tests.shape_inputs import Names, operation_inputs

SERVICES = [
    "sqs",
    "kinesis",
    "dynamodb",
    "dynamodbstreams",
    "lambda",
    "s3",
    "sns",
    "cloudwatch",
    "logs",
    "iam",
    "sts",
    "ssm",
    "events",
    "scheduler",
    "cloudformation",
    "codedeploy",
    "secretsmanager",
    "firehose",
    "ses",
    "sesv2",
    "kms",
    "stepfunctions",
    "apigatewayv2",
    "apigateway",
    "cognito-idp",
]

_HUNT = int(os.environ.get("HEADWATER_ODD_INPUT_EXAMPLES", "0"))
_EMBEDDED_EXAMPLES = _HUNT or 10
_WIRE_EXAMPLES = _HUNT or 4

#: Errors that mean the server failed, not the caller.
SERVER_FAULTS = {"InternalFailure", "InternalError", "InternalServerError", "ServiceUnavailable"}

#: Operation-name prefixes that remove the resources other operations lean on: run last.
_DESTRUCTIVE = ("Delete", "Purge", "Remove", "Deregister", "Detach", "Untag", "Unsubscribe")


def _ordered(operations: list[str]) -> list[str]:
    return sorted(operations, key=lambda name: (name.startswith(_DESTRUCTIVE), name))


CASES = [
    pytest.param(service, operation, id=f"{service}.{operation}")
    for service in SERVICES
    for operation in _ordered(service_class(service).operation_names())
]


def bounded(service: str, operation: str, params: dict[str, Any]) -> dict[str, Any]:
    """``params`` with the calls that would block or run real code made quick."""
    if (service, operation) == ("sqs", "ReceiveMessage"):
        # A long poll waits on the clock (a ManualClock here: for ever); the queue's own
        # ReceiveMessageWaitTimeSeconds may have been set by a drawn call, so say 0.
        return {**params, "WaitTimeSeconds": 0}
    if service == "lambda" and operation in ("Invoke", "InvokeWithResponseStream"):
        # A real invocation starts a worker process per call (seconds each); DryRun checks
        # the same parameters and the function without running it.
        return {**params, "InvocationType": "DryRun"}
    return params


@dataclass
class World:
    """One Headwater with a service's resources; made on first use, shared by a module."""

    hw: Headwater
    names: Names
    aws: InProcessAws | None = None
    #: The wire client (boto3, through the ASGI app), made on first use.
    client: Any = None
    #: Whether the wire client's last call reached the app (a before-send hook says so).
    sent: list[bool] = field(default_factory=list)


@pytest.fixture(scope="module")
def worlds() -> Iterator[dict[tuple[str, str], World]]:
    made: dict[tuple[str, str], World] = {}
    try:
        yield made
    finally:
        for world in made.values():
            if world.aws is not None:
                world.aws.close()
            world.hw.close()


def world_for(worlds: dict[tuple[str, str], World], service: str, path: str) -> World:
    found = worlds.get((service, path))
    if found is None:
        hw = Headwater.in_memory(clock=ManualClock())
        found = worlds[(service, path)] = World(hw, make_resources(hw, service))
        if path == "wire":
            found.aws = InProcessAws(hw)
    return found


def _settings(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=not _HUNT,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.filter_too_much,
            HealthCheck.data_too_large,
            HealthCheck.function_scoped_fixture,
        ],
    )


@pytest.mark.parametrize(("service", "operation"), CASES)
def test_in_process_call_answers_a_result_or_a_client_error(
    worlds: dict[tuple[str, str], World], service: str, operation: str
) -> None:
    world = world_for(worlds, service, "embedded")
    client = world.hw.client(service)
    method = getattr(client, xform_name(operation))

    @_settings(_EMBEDDED_EXAMPLES)
    @given(st.data())
    def check(data: st.DataObject) -> None:
        params = data.draw(operation_inputs(operation_model(service, operation), world.names))
        try:
            result = method(**bounded(service, operation, params))
        except ClientError as error:
            code = error.response["Error"]["Code"]
            assert code not in SERVER_FAULTS, error
            assert error.response["ResponseMetadata"]["HTTPStatusCode"] < 500, error
            return
        except (ParamValidationError, FlexibleChecksumError, MissingDependencyException):
            # refused as boto3's own handlers refuse it before sending (an S3 bucket name
            # botocore rejects, a checksum it lacks): no request a boto3 user could send
            reject()
        assert isinstance(result, dict)

    check()


@pytest.mark.parametrize(("service", "operation"), CASES)
def test_wire_call_answers_a_parsable_result_or_a_client_error(
    worlds: dict[tuple[str, str], World], service: str, operation: str
) -> None:
    world = world_for(worlds, service, "wire")
    assert world.aws is not None
    if world.client is None:
        world.client = world.aws.client(service)
        world.client.meta.events.register_first("before-send", lambda **_: world.sent.append(True))
    sent = world.sent
    method = getattr(world.client, xform_name(operation))

    @_settings(_WIRE_EXAMPLES)
    @given(st.data())
    def check(data: st.DataObject) -> None:
        params = data.draw(operation_inputs(operation_model(service, operation), world.names))
        sent.clear()
        try:
            result = method(**bounded(service, operation, params))
        except ClientError as error:
            status = error.response["ResponseMetadata"]["HTTPStatusCode"]
            assert status < 500, error.response
            assert error.response["Error"]["Code"] not in SERVER_FAULTS, error.response
            return
        except Exception:
            if not sent:
                # botocore refused it before sending (a bucket name it rejects, text it
                # cannot encode, a checksum it lacks): no request a boto3 user could send.
                reject()
            raise
        assert isinstance(result, dict)

    check()
