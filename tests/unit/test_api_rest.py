"""Lambda restJson1 through the router with a fake Lambda service."""

from __future__ import annotations

import orjson
import pytest

from headwater.api import rest_json
from headwater.api.http import WireRequest
from headwater.models import service_model
from tests.unit.api_wire_fakes import (
    FakeServices,
    botocore_parse,
    botocore_request,
    handle,
    make_router,
)

LAMBDA = service_model("lambda")
ARN = "arn:aws:lambda:us-east-1:000000000000:function:f"


@pytest.fixture
def services() -> FakeServices:
    return FakeServices()


@pytest.mark.parametrize("name", ["f", "000000000000:function:f", ARN, f"{ARN}:$LATEST"])
def test_get_function_by_name_partial_and_full_arn(services: FakeServices, name: str) -> None:
    request = botocore_request(
        LAMBDA, "GetFunction", {"FunctionName": name, "Qualifier": "$LATEST"}
    )
    response = handle(make_router(services), request)
    assert response.status == 200
    assert services.lambda_.calls[-1] == (
        "GetFunction",
        {"FunctionName": name, "Qualifier": "$LATEST"},
    )


def test_create_function_zip_is_bytes_and_status_201(services: FakeServices) -> None:
    request = botocore_request(
        LAMBDA,
        "CreateFunction",
        {
            "FunctionName": "f",
            "Role": "arn:aws:iam::000000000000:role/r",
            "Runtime": "python3.12",
            "Handler": "app.handler",
            "Code": {"ZipFile": b"PK\x03\x04zip"},
        },
    )
    response = handle(make_router(services), request)
    assert response.status == 201
    assert botocore_parse(LAMBDA, "CreateFunction", response)["CodeSize"] == 7
    assert services.lambda_.calls[-1][1]["Code"]["ZipFile"] == b"PK\x03\x04zip"


def test_invoke_headers_payload_and_function_error(services: FakeServices) -> None:
    request = botocore_request(
        LAMBDA,
        "Invoke",
        {"FunctionName": "f", "Payload": b'{"a": 1}', "LogType": "Tail", "Qualifier": "$LATEST"},
    )
    response = handle(make_router(services), request)
    assert response.status == 200
    headers = dict(response.headers)
    assert headers["X-Amz-Function-Error"] == "Unhandled"
    assert headers["X-Amz-Log-Result"] == "bG9n"
    assert headers["X-Amz-Executed-Version"] == "$LATEST"
    assert response.body == b'{"errorMessage":"boom"}'
    _, params = services.lambda_.calls[-1]
    assert params["Payload"] == b'{"a": 1}'
    assert params["LogType"] == "Tail"
    assert params["Qualifier"] == "$LATEST"


def test_invoke_event_is_202_with_empty_body(services: FakeServices) -> None:
    request = botocore_request(
        LAMBDA, "Invoke", {"FunctionName": "f", "Payload": b"{}", "InvocationType": "Event"}
    )
    response = handle(make_router(services), request)
    assert response.status == 202
    assert response.body == b""


def test_not_found_errors(services: FakeServices) -> None:
    response = handle(
        make_router(services), botocore_request(LAMBDA, "GetFunction", {"FunctionName": "missing"})
    )
    assert response.status == 404
    assert ("x-amzn-ErrorType", "ResourceNotFoundException") in response.headers
    assert orjson.loads(response.body) == {
        "Type": "User",
        "message": "Function not found: missing",
    }
    mapping = handle(
        make_router(services),
        botocore_request(
            LAMBDA, "GetEventSourceMapping", {"UUID": "00000000-0000-0000-0000-000000000000"}
        ),
    )
    parsed = botocore_parse(LAMBDA, "GetEventSourceMapping", mapping)
    assert parsed["Error"]["Code"] == "ResourceNotFoundException"
    assert orjson.loads(mapping.body)["Message"] == "The resource you requested does not exist."
    assert "message" not in orjson.loads(mapping.body)


def test_list_mappings_query_and_timestamps(services: FakeServices) -> None:
    request = botocore_request(
        LAMBDA,
        "ListEventSourceMappings",
        {
            "FunctionName": "f",
            "EventSourceArn": "arn:aws:sqs:us-east-1:000000000000:q",
            "MaxItems": 5,
        },
    )
    response = handle(make_router(services), request)
    body = orjson.loads(response.body)
    assert isinstance(body["EventSourceMappings"][0]["LastModified"], float)
    assert services.lambda_.calls[-1][1] == {
        "FunctionName": "f",
        "EventSourceArn": "arn:aws:sqs:us-east-1:000000000000:q",
        "MaxItems": 5,
    }


def test_create_mapping_is_202(services: FakeServices) -> None:
    request = botocore_request(
        LAMBDA,
        "CreateEventSourceMapping",
        {
            "FunctionName": "f",
            "EventSourceArn": "arn:aws:sqs:us-east-1:000000000000:q",
            "BatchSize": 5,
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
        },
    )
    response = handle(make_router(services), request)
    assert response.status == 202
    assert services.lambda_.calls[-1][1]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def _raw(method: str, path: str, body: bytes = b"", query: str = "") -> WireRequest:
    return WireRequest(method, path, query, {"host": "h", "content-type": "application/json"}, body)


def test_malformed_and_mistyped_bodies(services: FakeServices) -> None:
    router = make_router(services)
    bad_json = handle(router, _raw("POST", "/2015-03-31/functions", b"{nope"))
    assert bad_json.status == 400
    assert ("x-amzn-ErrorType", "SerializationException") in bad_json.headers
    missing = handle(router, _raw("POST", "/2015-03-31/functions", b"{}"))
    assert missing.status == 400
    assert ("x-amzn-ErrorType", "ValidationException") in missing.headers
    bad_zip = handle(
        router,
        _raw(
            "POST",
            "/2015-03-31/functions",
            orjson.dumps({"FunctionName": "f", "Role": "r", "Code": {"ZipFile": "not base64!"}}),
        ),
    )
    assert ("x-amzn-ErrorType", "SerializationException") in bad_zip.headers
    bad_int = handle(router, _raw("GET", "/2015-03-31/functions", query="MaxItems=x"))
    assert ("x-amzn-ErrorType", "InvalidParameterValueException") in bad_int.headers
    unknown = handle(router, _raw("PATCH", "/2015-03-31/functions/f"))
    assert unknown.status == 404
    assert ("x-amzn-ErrorType", "UnknownOperationException") in unknown.headers


def test_routes_prefer_literal_query_and_longer_literals() -> None:
    found = rest_json.match(
        "lambda", "GET", "/2019-09-30/functions/f/provisioned-concurrency", {"List": "ALL"}
    )
    assert found is not None
    assert found[0].operation == "ListProvisionedConcurrencyConfigs"
    found = rest_json.match("lambda", "GET", "/2019-09-30/functions/f/provisioned-concurrency", {})
    assert found is not None
    assert found[0].operation == "GetProvisionedConcurrencyConfig"
    found = rest_json.match("lambda", "GET", "/2015-03-31/functions/", {})
    assert found is not None and found[0].operation == "ListFunctions"


def test_number_in_the_path_is_read_as_a_number(services: FakeServices) -> None:
    # GetLayerVersion's VersionNumber is a long in the path: it was passed on as text and
    # refused as "Unexpected value type for VersionNumber: str" (terraform's
    # aws_lambda_layer_version could not read back the layer it had published).
    request = botocore_request(
        LAMBDA, "GetLayerVersion", {"LayerName": "shared", "VersionNumber": 3}
    )
    response = handle(make_router(services), request)
    assert response.status == 200, response.body
    assert services.lambda_.calls[-1] == (
        "GetLayerVersion",
        {"LayerName": "shared", "VersionNumber": 3},
    )
    assert botocore_parse(LAMBDA, "GetLayerVersion", response)["Version"] == 3
