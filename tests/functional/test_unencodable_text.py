"""Text that is not UTF-8 (a lone surrogate such as ``"\\ud800"``) gets a clear error from
the in-process client and is never stored.

Over a JSON protocol boto3 sends a lone surrogate as a ``\\ud800`` escape, which headwater
refuses as malformed JSON (SerializationException) before any service reads it; the
in-process client answers the same code and message. botocore cannot encode such text for
the query and XML protocols at all (only raw bytes that are not UTF-8 carry it there), so
those services answer their own validation error. The fault used to escape as
UnicodeEncodeError or TypeError from wherever the text was first encoded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from headwater import Headwater
from tests.asgi_boto import InProcessAws

QUEUE_ARN = "arn:aws:sqs:us-east-1:000000000000:q"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:000000000000:function:f"
MALFORMED = ("SerializationException", "Malformed JSON in request body")


def error_of(call: Callable[..., Any], **params: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**params)
    error = caught.value.response["Error"]
    return error["Code"], error["Message"]


def make_table(client: Any) -> None:
    client.create_table(
        TableName="tbl",
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
    )


@pytest.fixture
def wire(hw: Headwater) -> Iterator[InProcessAws]:
    aws = InProcessAws(hw)
    try:
        yield aws
    finally:
        aws.close()


#: JSON-protocol calls holding a lone surrogate: (service, method, params).
JSON_CALLS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "dynamodb key": ("dynamodb", "put_item", {"TableName": "tbl", "Item": {"pk": {"S": "\ud800"}}}),
    "dynamodb attribute": (
        "dynamodb",
        "put_item",
        {"TableName": "tbl", "Item": {"pk": {"S": "a"}, "x": {"SS": ["b", "\udfff"]}}},
    ),
    "dynamodb attribute name": (
        "dynamodb",
        "put_item",
        {"TableName": "tbl", "Item": {"pk": {"S": "a"}, "x\ud800": {"S": "b"}}},
    ),
    "dynamodb update key": (
        "dynamodb",
        "update_item",
        {"TableName": "tbl", "Key": {"pk": {"S": "\ud800"}}},
    ),
    "dynamodb transact get table": (
        "dynamodb",
        "transact_get_items",
        {"TransactItems": [{"Get": {"TableName": "\ud800", "Key": {}}}]},
    ),
    # Refused by Kinesis's own name check before the text is encoded: still the wire's
    # answer, as over JSON the service never sees the text.
    "kinesis name": ("kinesis", "create_stream", {"StreamName": "\ud800"}),
    "kinesis policy": (
        "kinesis",
        "put_resource_policy",
        {"ResourceARN": "arn:aws:kinesis:us-east-1:000000000000:stream/s", "Policy": "\ud800"},
    ),
    "lambda tags": ("lambda", "tag_resource", {"Resource": FUNCTION_ARN, "Tags": {"a": "\ud800"}}),
    "logs tags": ("logs", "create_log_group", {"logGroupName": "g", "tags": {"a": "\ud800"}}),
    "ssm value": ("ssm", "put_parameter", {"Name": "p", "Value": "\ud800", "Type": "String"}),
    "events rule description": (
        "events",
        "put_rule",
        {"Name": "r", "EventPattern": '{"source": ["s"]}', "Description": "\ud800"},
    ),
    "events detail": (
        "events",
        "put_events",
        {"Entries": [{"Source": "s", "DetailType": "t", "Detail": '{"a": "\ud800"}'}]},
    ),
    "events pattern": ("events", "put_rule", {"Name": "r", "EventPattern": '["\ud800"]'}),
}


@pytest.mark.parametrize("case", list(JSON_CALLS))
def test_json_services_answer_the_wires_malformed_json_error(
    hw: Headwater, wire: InProcessAws, case: str
) -> None:
    service, method, params = JSON_CALLS[case]
    make_table(hw.client("dynamodb"))
    assert error_of(getattr(wire.client(service), method), **params) == MALFORMED
    assert error_of(getattr(hw.client(service), method), **params) == MALFORMED


def test_dynamodb_writes_nothing_of_a_request_holding_such_text(hw: Headwater) -> None:
    dynamodb = hw.client("dynamodb")
    make_table(dynamodb)
    good = {"PutRequest": {"Item": {"pk": {"S": "good"}}}}
    bad = {"PutRequest": {"Item": {"pk": {"S": "bad"}, "x": {"S": "\ud800"}}}}
    assert error_of(dynamodb.batch_write_item, RequestItems={"tbl": [good, bad]}) == MALFORMED
    puts = [{"Put": {"TableName": "tbl", **entry["PutRequest"]}} for entry in (good, bad)]
    assert error_of(dynamodb.transact_write_items, TransactItems=puts) == MALFORMED
    assert dynamodb.scan(TableName="tbl")["Items"] == []


def test_services_that_also_speak_query_keep_their_own_answer(hw: Headwater) -> None:
    # Over SQS's and CloudWatch's awsQuery, bytes that are not UTF-8 reach the service as
    # lone surrogates, and its own checks answer; in process too.
    assert error_of(
        hw.client("sqs").create_queue, QueueName="q", Attributes={"Policy": "\ud800"}
    ) == ("InvalidAttributeValue", "Invalid value for the parameter Policy.")
    assert hw.client("sqs").list_queues().get("QueueUrls") is None


def test_query_and_xml_services_answer_their_validation_error(hw: Headwater) -> None:
    hw.client("s3").create_bucket(Bucket="bkt")
    not_utf8 = "The request holds text that is not valid UTF-8."
    tags = [{"Key": "a", "Value": "\ud800"}]
    assert error_of(hw.client("sns").create_topic, Name="t", Tags=tags) == (
        "InvalidParameter",
        not_utf8,
    )
    assert error_of(hw.client("iam").create_user, UserName="u", Tags=tags) == (
        "ValidationError",
        not_utf8,
    )
    assert error_of(hw.client("s3").put_object, Bucket="bkt", Key="\ud800") == (
        "InvalidArgument",
        not_utf8,
    )
    assert hw.client("sns").list_topics()["Topics"] == []
    assert hw.client("iam").list_users()["Users"] == []
    assert "Contents" not in hw.client("s3").list_objects_v2(Bucket="bkt")


def test_s3_bucket_settings_holding_such_text_are_refused_and_not_stored(hw: Headwater) -> None:
    # the bucket sub-resources (tagging, website...) are served generically, outside the
    # path that turned such text into the validation error: TypeError escaped
    s3 = hw.client("s3")
    s3.create_bucket(Bucket="bkt")
    not_utf8 = ("InvalidArgument", "The request holds text that is not valid UTF-8.")
    tagging = {"TagSet": [{"Key": "a", "Value": "\ud800"}]}
    assert error_of(s3.put_bucket_tagging, Bucket="bkt", Tagging=tagging) == not_utf8
    website = {"ErrorDocument": {"Key": "\ud800"}}
    assert error_of(s3.put_bucket_website, Bucket="bkt", WebsiteConfiguration=website) == (not_utf8)
    assert error_of(s3.get_bucket_tagging, Bucket="bkt")[0] == "NoSuchTagSet"
    assert error_of(s3.get_bucket_website, Bucket="bkt")[0] == "NoSuchWebsiteConfiguration"
