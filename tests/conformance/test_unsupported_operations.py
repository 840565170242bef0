"""An operation headwater does not implement answers, in every wire protocol, with an error
that names it and says headwater does not support it (never an empty message, never a code
botocore cannot parse), whether its service is built or not yet."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore import xform_name
from botocore.exceptions import ClientError

from headwater.core.errors import AwsError
from headwater.models import service_model
from headwater.wiring import SERVICES, service_class
from tests.conformance.server_process import ServerProcess, boto_client, headwater_server

pytestmark = pytest.mark.integration


def unimplemented(service: str) -> str | None:
    """An operation of ``service`` headwater does not implement that takes no parameters."""
    model = service_model(service)
    try:
        implemented = set(service_class(service).operation_names())
    except AwsError:  # listed, not built yet
        implemented = set()
    for name in model.operation_names:
        operation = model.operation_model(name)
        shape = operation.input_shape
        if any(
            p.name == "UseS3ExpressControlEndpoint" for p in operation.static_context_parameters
        ):
            continue  # signed for s3express, another endpoint: see the S3 test below
        if name not in implemented and (shape is None or not shape.required_members):
            return name
    return None


CASES = [(service, op) for service in SERVICES if (op := unimplemented(service)) is not None]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with headwater_server(tmp_path_factory.mktemp("unsupported")) as running:
        yield running


def error_of(call: Any, **params: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as caught:
        call(**params)
    error: dict[str, Any] = caught.value.response["Error"]
    return error


@pytest.mark.parametrize(("service", "operation"), CASES, ids=[f"{s}.{o}" for s, o in CASES])
def test_an_unsupported_operation_names_itself(
    server: ServerProcess, service: str, operation: str
) -> None:
    client = boto_client(server.endpoint, service)
    error = error_of(getattr(client, xform_name(operation)))
    assert error["Code"] in ("UnknownOperationException", "NotImplemented"), error
    assert f"Operation {operation} is not supported by headwater" in error["Message"], error


def test_every_protocol_is_covered() -> None:
    protocols = {service_model(service).protocol for service, _ in CASES}
    assert {"json", "query", "rest-json"} <= protocols  # rest-xml (S3): the test below


def test_an_unsupported_s3_bucket_operation_names_itself(server: ServerProcess) -> None:
    s3 = boto_client(server.endpoint, "s3")
    s3.create_bucket(
        Bucket="unsupported", CreateBucketConfiguration={"LocationConstraint": "us-west-2"}
    )
    error = error_of(s3.get_bucket_analytics_configuration, Bucket="unsupported", Id="x")
    assert error == {
        "Code": "NotImplemented",
        "Message": "Operation GetBucketAnalyticsConfiguration is not supported by headwater's s3",
    }
