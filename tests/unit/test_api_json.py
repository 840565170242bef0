"""awsJson through the router with a fake SQS: botocore's own serializer and parser."""

from __future__ import annotations

import base64
from typing import Any

import orjson
import pytest

from headwater.api.http import WireRequest
from headwater.api.shapes import validate_input
from headwater.core.errors import AwsError
from headwater.services.base import RequestContext
from tests.unit.api_wire_fakes import (
    FakeServices,
    botocore_parse,
    botocore_request,
    handle,
    make_router,
    sqs_model,
)


def test_send_message_round_trip_with_context(services: FakeServices) -> None:
    router = make_router(services)
    request = botocore_request(
        sqs_model(),
        "SendMessage",
        {
            "QueueUrl": "https://sqs.us-west-2.amazonaws.com/000000000000/q1",
            "MessageBody": "hi",
            "MessageAttributes": {"b": {"DataType": "Binary", "BinaryValue": b"\x01\x02"}},
        },
    )
    response = handle(router, request)
    assert response.status == 200
    assert response.content_type == "application/x-amz-json-1.0"
    parsed = botocore_parse(sqs_model(), "SendMessage", response)
    assert parsed["MessageId"] == "m-1"
    name, params, ctx = services.sqs.calls[-1]
    assert name == "SendMessage"
    # blobs arrive as bytes, as boto3 passes them in process
    assert params["MessageAttributes"]["b"]["BinaryValue"] == b"\x01\x02"
    assert ctx == RequestContext(
        region="eu-west-1",
        account="000000000000",
        endpoint="http://127.0.0.1:4599",
        access_key="AKIDEXAMPLE",
    )


def test_receive_serializes_blobs_as_base64(services: FakeServices) -> None:
    router = make_router(services)
    request = botocore_request(
        sqs_model(), "ReceiveMessage", {"QueueUrl": "http://h/000000000000/q1"}
    )
    response = handle(router, request)
    body = orjson.loads(response.body)
    attr = body["Messages"][0]["MessageAttributes"]["bin"]
    assert base64.b64decode(attr["BinaryValue"]) == b"\x00\xff"
    parsed = botocore_parse(sqs_model(), "ReceiveMessage", response)
    assert parsed["Messages"][0]["MessageAttributes"]["bin"]["BinaryValue"] == b"\x00\xff"


def test_error_has_namespace_and_query_error_header(services: FakeServices) -> None:
    router = make_router(services)
    request = botocore_request(
        sqs_model(),
        "DeleteMessage",
        {"QueueUrl": "http://h/000000000000/nope", "ReceiptHandle": "r"},
    )
    response = handle(router, request)
    assert response.status == 400
    assert orjson.loads(response.body) == {
        "__type": "com.amazonaws.sqs#QueueDoesNotExist",
        "message": "The specified queue does not exist.",
    }
    assert ("x-amzn-query-error", "AWS.SimpleQueueService.NonExistentQueue;Sender") in (
        response.headers
    )


def _raw(target: str, body: bytes) -> WireRequest:
    return WireRequest(
        method="POST",
        raw_path="/",
        query_string="",
        headers={
            "host": "localhost:4599",
            "x-amz-target": target,
            "content-type": "application/x-amz-json-1.0",
        },
        body=body,
    )


@pytest.mark.parametrize(
    ("target", "body", "status", "type_"),
    [
        (
            "AmazonSQS.SendMessage",
            b"{not json",
            400,
            "com.amazon.coral.service#SerializationException",
        ),
        ("AmazonSQS.SendMessage", b"[1]", 400, "com.amazon.coral.service#SerializationException"),
        (
            "AmazonSQS.SendMessage",
            b'{"QueueUrl": 5, "MessageBody": "x"}',
            400,
            "com.amazon.coral.service#SerializationException",
        ),
        (
            "AmazonSQS.SendMessage",
            b'{"QueueUrl": "http://h/0/q1"}',
            400,
            "com.amazon.coral.service#MissingRequiredParameterException",
        ),
        ("AmazonSQS.NoSuchOp", b"{}", 400, "com.amazon.coral.service#UnknownOperationException"),
        ("Nope_2020.Op", b"{}", 400, "com.amazon.coral.service#UnknownOperationException"),
        (
            "AmazonSQS.PurgeQueue",
            b'{"QueueUrl": "u"}',
            500,
            "com.amazon.coral.service#InternalFailure",
        ),
        # a modeled operation the fake does not implement
        (
            "AmazonSQS.TagQueue",
            b'{"QueueUrl": "u", "Tags": {}}',
            400,
            "com.amazon.coral.service#UnknownOperationException",
        ),
    ],
)
def test_bad_requests_get_aws_shaped_errors(
    services: FakeServices, target: str, body: bytes, status: int, type_: str
) -> None:
    response = handle(make_router(services), _raw(target, body))
    assert response.status == status
    assert orjson.loads(response.body)["__type"] == type_


def test_missing_parameter_reports_legacy_code(services: FakeServices) -> None:
    response = handle(make_router(services), _raw("AmazonSQS.SendMessage", b'{"QueueUrl": "u"}'))
    assert ("x-amzn-query-error", "MissingParameter;Sender") in response.headers
    assert orjson.loads(response.body)["message"] == (
        "The request must contain the parameter MessageBody."
    )


def test_unknown_members_are_ignored(services: FakeServices) -> None:
    body = b'{"QueueUrl": "http://h/0/q1", "MessageBody": "x", "Bogus": 1}'
    response = handle(make_router(services), _raw("AmazonSQS.SendMessage", body))
    assert response.status == 200
    assert "Bogus" not in services.sqs.calls[-1][1]


def test_kinesis_unavailable_is_unknown_operation_with_bare_type(services: FakeServices) -> None:
    response = handle(make_router(services), _raw("Kinesis_20131202.ListStreams", b"{}"))
    assert response.status == 400
    assert response.content_type == "application/x-amz-json-1.1"
    assert orjson.loads(response.body)["__type"] == "UnknownOperationException"


def test_unrouted_request_is_404(services: FakeServices) -> None:
    request = WireRequest("GET", "/nothing/here", "", {"host": "h"}, b"")
    response = handle(make_router(services), request)
    assert response.status == 404
    assert ("x-amzn-ErrorType", "UnknownOperationException") in response.headers


def test_json_null_members_are_absent(services: FakeServices) -> None:
    body = b'{"QueueUrl": "http://h/0/q1", "MessageBody": "x", "DelaySeconds": null}'
    response = handle(make_router(services), _raw("AmazonSQS.SendMessage", body))
    assert response.status == 200
    assert "DelaySeconds" not in services.sqs.calls[-1][1]


@pytest.mark.parametrize(
    ("service_name", "operation_name", "params", "where"),
    [
        (
            "dynamodb",
            "CreateTable",
            {"TableName": "abc", "KeySchema": [{"KeyType": "HASH"}]},
            "keySchema.1.member.attributeName",
        ),
        # as recorded against AWS (tests/data/recorded/sns.json): a map value is its member
        (
            "sns",
            "Publish",
            {"Message": "m", "MessageAttributes": {"attr1": {"StringValue": "v"}}},
            "messageAttributes.attr1.member.dataType",
        ),
    ],
)
def test_a_missing_nested_member_is_named_as_aws_names_it(
    service_name: str, operation_name: str, params: dict[str, Any], where: str
) -> None:
    with pytest.raises(AwsError) as caught:
        validate_input(service_name, operation_name, params)
    assert caught.value.message == (
        f"1 validation error detected: Value null at '{where}' failed to satisfy constraint: "
        "Member must not be null"
    )


def test_missing_members_are_reported_together_up_to_ten() -> None:
    """As dynalite's AWS-checked CreateTable tests show: every null member at once."""
    with pytest.raises(AwsError) as caught:
        validate_input(
            "dynamodb",
            "CreateTable",
            {"TableName": "abc", "AttributeDefinitions": [{}]},
        )
    assert caught.value.message == (
        "2 validation errors detected: Value null at "
        "'attributeDefinitions.1.member.attributeName' failed to satisfy constraint: Member "
        "must not be null; Value null at 'attributeDefinitions.1.member.attributeType' failed "
        "to satisfy constraint: Member must not be null"
    )
    with pytest.raises(AwsError) as caught:
        validate_input(
            "dynamodb", "CreateTable", {"TableName": "abc", "LocalSecondaryIndexes": [{}] * 9}
        )
    assert caught.value.message.startswith("10 validation errors detected: ")
    assert caught.value.message.count("Member must not be null") == 10


@pytest.mark.parametrize(
    "operation_name", ["CreateTable", "UpdateTable", "DeleteTable", "DescribeTable"]
)
def test_dynamodb_table_operations_name_a_missing_table_name(operation_name: str) -> None:
    """AWS's text (dynalite's AWS-checked tests; CreateTable run against AWS in 2026 by
    the nubo-db conformance suite); item operations keep the generic form."""
    with pytest.raises(AwsError) as caught:
        validate_input("dynamodb", operation_name, {})
    assert caught.value.message == (
        "The parameter 'TableName' is required but was not present in the request"
    )
    with pytest.raises(AwsError) as caught:
        validate_input("dynamodb", "GetItem", {"Key": {}})
    assert caught.value.message.startswith("1 validation error detected: Value null at 'tableName'")


_UPDATE = {"UpdateExpression": "SET a = :a", "ExpressionAttributeValues": {":a": {"S": "x"}}}
_NO_KEY = "Value null at 'key' failed to satisfy constraint: Member must not be null"
_EMPTY_TABLE_NAME = (
    "Value '' at 'tableName' failed to satisfy constraint: Member must have length greater "
    "than or equal to 1"
)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"TableName": "", **_UPDATE},
            f"2 validation errors detected: {_EMPTY_TABLE_NAME}; {_NO_KEY}",
        ),
        (
            {
                "TableName": "",
                **_UPDATE,
                "ReturnConsumedCapacity": "INVALID",
                "ReturnValues": "INVALID",
            },
            "4 validation errors detected: Value 'INVALID' at 'returnConsumedCapacity' failed "
            "to satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]; "
            f"{_EMPTY_TABLE_NAME}; Value 'INVALID' at 'returnValues' failed to satisfy "
            "constraint: Member must satisfy enum value set: [ALL_NEW, UPDATED_OLD, ALL_OLD, "
            f"NONE, UPDATED_NEW]; {_NO_KEY}",
        ),
        (
            {
                "TableName": "absent",
                "AttributeUpdates": {"x": {"Action": "PUT", "Value": {"S": "1"}}},
                "Expected": {"a": {"Exists": False}, "b": {"Exists": False}},
                "ConditionalOperator": "XOR",
            },
            "2 validation errors detected: Value 'XOR' at 'conditionalOperator' failed to "
            f"satisfy constraint: Member must satisfy enum value set: [OR, AND]; {_NO_KEY}",
        ),
        ({"TableName": "table", **_UPDATE}, f"1 validation error detected: {_NO_KEY}"),
    ],
)
def test_update_item_without_its_key_joins_the_other_member_errors(
    params: dict[str, Any], message: str
) -> None:
    """AWS lists an empty table name and bad enums, then the missing key, in one message
    (a conformance suite, eu-west-2 and us-east-1 alike)."""
    with pytest.raises(AwsError) as caught:
        validate_input("dynamodb", "UpdateItem", params)
    assert caught.value.message == message
