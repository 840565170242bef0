"""The legacy SQS query protocol: botocore's query serializer/parser on a legacy model.

The legacy model is today's SQS model with the query names restored from
``headwater.api.aws_query``'s tables, the way botocore < 1.34.90 shipped it.
"""

from __future__ import annotations

import copy
from typing import Any

from botocore.model import ServiceModel

from headwater.api import aws_query
from headwater.api.http import WireRequest
from headwater.models import _loader
from tests.unit.api_wire_fakes import (
    FakeServices,
    botocore_parse,
    botocore_request,
    handle,
    make_router,
)


def legacy_sqs_model() -> ServiceModel:
    data: dict[str, Any] = copy.deepcopy(_loader().load_service_model("sqs", "service-2"))
    data["metadata"]["protocol"] = "query"
    data["metadata"]["protocols"] = ["query"]
    data["metadata"]["xmlNamespace"] = aws_query.SQS_NAMESPACE
    shapes = data["shapes"]
    for op_name, op in data["operations"].items():
        output = op.get("output")
        if output and shapes[output["shape"]].get("members"):
            output["resultWrapper"] = f"{op_name}Result"
    for name, shape in shapes.items():
        if name in aws_query.LIST_ITEM_NAMES:
            shape["member"]["locationName"] = aws_query.LIST_ITEM_NAMES[name]
        if name in aws_query.FLATTENED_LISTS:
            shape["flattened"] = True
        if name in aws_query.MAP_ENTRY_NAMES:
            key, value = aws_query.MAP_ENTRY_NAMES[name]
            shape["key"]["locationName"] = key
            shape["value"]["locationName"] = value
        for member_name, member in shape.get("members", {}).items():
            if (name, member_name) in aws_query.MEMBER_NAMES:
                member["locationName"] = aws_query.MEMBER_NAMES[(name, member_name)]
    return ServiceModel(data, service_name="sqs")


LEGACY = legacy_sqs_model()


def test_create_queue_with_attributes_and_tags(services: FakeServices) -> None:
    request = botocore_request(
        LEGACY,
        "CreateQueue",
        {"QueueName": "q2", "Attributes": {"VisibilityTimeout": "180"}, "tags": {"team": "a"}},
    )
    assert b"Attribute.1.Name=VisibilityTimeout" in request.body
    assert b"Tag.1.Key=team" in request.body
    response = handle(make_router(services), request)
    assert response.status == 200, response.body
    parsed = botocore_parse(LEGACY, "CreateQueue", response)
    assert parsed["QueueUrl"] == "http://127.0.0.1:4599/000000000000/q2"
    _, params, _ = services.sqs.calls[-1]
    assert params == {
        "QueueName": "q2",
        "Attributes": {"VisibilityTimeout": "180"},
        "tags": {"team": "a"},
    }


def test_send_message_batch_entries_and_attributes(services: FakeServices) -> None:
    request = botocore_request(
        LEGACY,
        "SendMessageBatch",
        {
            "QueueUrl": "http://h/000000000000/q1",
            "Entries": [
                {
                    "Id": "a",
                    "MessageBody": "one",
                    "MessageAttributes": {"k": {"DataType": "Binary", "BinaryValue": b"\x00"}},
                },
                {"Id": "b", "MessageBody": "two", "DelaySeconds": 5},
            ],
        },
    )
    assert b"SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.DataType=Binary" in (
        request.body
    )
    response = handle(make_router(services), request)
    parsed = botocore_parse(LEGACY, "SendMessageBatch", response)
    assert [e["Id"] for e in parsed["Successful"]] == ["a", "b"]
    _, params, _ = services.sqs.calls[-1]
    assert params["Entries"][0]["MessageAttributes"]["k"]["BinaryValue"] == b"\x00"
    assert params["Entries"][1]["DelaySeconds"] == 5


def test_receive_message_xml(services: FakeServices) -> None:
    request = botocore_request(
        LEGACY,
        "ReceiveMessage",
        {
            "QueueUrl": "http://h/000000000000/q1",
            "AttributeNames": ["All"],
            "MessageAttributeNames": ["All"],
            "MaxNumberOfMessages": 10,
        },
    )
    response = handle(make_router(services), request)
    assert b"<ReceiveMessageResult><Message>" in response.body
    parsed = botocore_parse(LEGACY, "ReceiveMessage", response)
    message = parsed["Messages"][0]
    assert message["Body"] == "hello\r\n<&>"
    assert message["Attributes"] == {"ApproximateReceiveCount": "1"}
    assert message["MessageAttributes"]["bin"]["BinaryValue"] == b"\x00\xff"
    _, params, _ = services.sqs.calls[-1]
    assert params["AttributeNames"] == ["All"]
    assert params["MaxNumberOfMessages"] == 10


def test_error_response_with_legacy_code(services: FakeServices) -> None:
    request = botocore_request(
        LEGACY, "GetQueueAttributes", {"QueueUrl": "http://h/000000000000/nope"}
    )
    response = handle(make_router(services), request)
    assert response.status == 400
    parsed = botocore_parse(LEGACY, "GetQueueAttributes", response)
    assert parsed["Error"]["Code"] == "AWS.SimpleQueueService.NonExistentQueue"
    assert parsed["Error"]["Type"] == "Sender"


def test_post_to_queue_url_path_takes_queue_from_path(services: FakeServices) -> None:
    request = WireRequest(
        method="POST",
        raw_path="/000000000000/q1",
        query_string="",
        headers={
            "host": "localhost:4599",
            "content-type": "application/x-www-form-urlencoded; charset=utf-8",
        },
        body=b"Action=SendMessage&Version=2012-11-05&MessageBody=hi",
    )
    response = handle(make_router(services), request)
    assert response.status == 200, response.body
    _, params, _ = services.sqs.calls[-1]
    assert params["QueueUrl"] == "http://localhost:4599/000000000000/q1"


def test_missing_parameter_and_bad_integer(services: FakeServices) -> None:
    def form(body: bytes) -> WireRequest:
        return WireRequest(
            "POST",
            "/",
            "",
            {"host": "h", "content-type": "application/x-www-form-urlencoded"},
            body,
        )

    missing = handle(make_router(services), form(b"Action=SendMessage&Version=2012-11-05"))
    assert missing.status == 400
    assert b"<Code>MissingParameter</Code>" in missing.body
    bad = handle(
        make_router(services),
        form(
            b"Action=ReceiveMessage&Version=2012-11-05&QueueUrl=http://h/0/q1"
            b"&MaxNumberOfMessages=ten"
        ),
    )
    assert bad.status == 400
    assert b"<Code>InvalidParameterValue</Code>" in bad.body
    other = handle(make_router(services), form(b"Action=DescribeInstances&Version=2016-11-15"))
    assert b"<Code>InvalidAction</Code>" in other.body
    unknown = handle(make_router(services), form(b"Action=Nonsense&Version=2010-03-31"))
    assert b"<Code>InvalidAction</Code>" in unknown.body
    assert b'xmlns="http://sns.amazonaws.com/doc/2010-03-31/"' in unknown.body


def test_get_with_action_in_query_string(services: FakeServices) -> None:
    request = WireRequest("GET", "/", "Action=ListQueues&Version=2012-11-05", {"host": "h:1"}, b"")
    response = handle(make_router(services), request)
    assert response.status == 200
    parsed = botocore_parse(LEGACY, "ListQueues", response)
    assert parsed["QueueUrls"] == ["http://h:1/000000000000/q1"]
