"""``hw.client``'s errors are the ones boto3 raises over the wire: the same class, and the
modeled members of the error's shape that botocore parses onto the top of the response."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from headwater import Headwater, ManualClock
from headwater.in_process import boto3_in_process

ENDPOINT = "http://127.0.0.1:4599"  # never connected to: boto3_in_process answers


@pytest.fixture
def hw() -> Iterator[Headwater]:
    with Headwater.in_memory(clock=ManualClock(), endpoint_url=ENDPOINT) as hw:
        yield hw


def _error(call: Callable[[], Any]) -> tuple[str, dict[str, Any]]:
    """The raised class's name (each client has its own classes) and the response."""
    with pytest.raises(ClientError) as caught:
        call()
    response = {k: v for k, v in caught.value.response.items() if k != "ResponseMetadata"}
    return type(caught.value).__name__, response


def _both(hw: Headwater, service: str, method: str, **params: Any) -> list[Any]:
    """The error of one call through ``hw.client`` and through boto3 over the wire."""
    ours = _error(lambda: getattr(hw.client(service), method)(**params))
    with boto3_in_process(hw):
        real = boto3.client(
            service,
            endpoint_url=ENDPOINT,
            region_name="us-east-1",
            aws_access_key_id="AKIDHEADWATERTEST",
            aws_secret_access_key="secret",
            config=Config(retries={"max_attempts": 1}),
        )
        theirs = _error(lambda: getattr(real, method)(**params))
    return [ours, theirs]


def test_json_errors_carry_the_modeled_message_member(hw: Headwater) -> None:
    ours, theirs = _both(hw, "kinesis", "describe_stream", StreamName="missing")
    assert ours == theirs
    assert ours[1]["message"] == ours[1]["Error"]["Message"]


def test_an_empty_message_is_still_the_member(hw: Headwater) -> None:
    ours, theirs = _both(hw, "ssm", "get_parameter", Name="/missing")
    assert ours == theirs
    assert ours[1]["message"] == ""


def test_query_compatible_errors_raise_the_class_of_the_reported_code(hw: Headwater) -> None:
    ours, theirs = _both(
        hw,
        "cloudwatch",
        "put_metric_alarm",
        AlarmName="x",
        EvaluationPeriods=1,
        ComparisonOperator="GreaterThanThreshold",
    )
    assert ours == theirs
    assert ours[0] == "ValidationException"


def test_awsquery_errors_have_no_modeled_members_on_top(hw: Headwater) -> None:
    ours, theirs = _both(hw, "iam", "get_role", RoleName="missing")
    assert ours == theirs
    assert set(ours[1]) == {"Error"}


def test_unmodeled_error_fields_stay_off_the_top(hw: Headwater) -> None:
    # Lambda's ValidationException has no shape in its model: boto3 keeps none of its
    # body's members, where hw.client put its Type on top of the response
    ours, theirs = _both(hw, "lambda", "invoke", FunctionName="not a name", Payload=b"{}")
    assert ours == theirs
    assert set(ours[1]) == {"Error"}


def test_a_failed_condition_has_its_message_as_dynamodb_spells_it(hw: Headwater) -> None:
    # DynamoDB's ConditionalCheckFailed body says "Message" (recorded from AWS): botocore
    # puts no "message" on top, and the wire said "message", so boto3 over the wire had one
    hw.client("dynamodb").create_table(
        TableName="conditions",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    item = {"pk": {"S": "a"}}
    hw.client("dynamodb").put_item(TableName="conditions", Item=item)
    ours, theirs = _both(
        hw,
        "dynamodb",
        "put_item",
        TableName="conditions",
        Item=item,
        ConditionExpression="attribute_not_exists(pk)",
        ReturnValuesOnConditionCheckFailure="ALL_OLD",
    )
    assert ours == theirs
    assert set(ours[1]) == {"Error", "Item"}


def test_integers_past_64_bits_are_refused_as_a_json_body_reads_them(hw: Headwater) -> None:
    """botocore's validator takes a Python int of any size; a JSON (or CBOR) body's reader
    makes one past 64 bits a float, which an Integer or Long member refuses, so the
    in-process client refuses it alike, whether it validates or not, and no service sees
    it (one past 64 bits once failed a SQLite write with a 500)."""
    url = hw.sqs.create_queue(QueueName="wide")["QueueUrl"]
    unchecked = hw.client("sqs", validate=False)
    apis = hw.client("apigatewayv2")
    logs, wide = hw.client("logs"), 2**64
    calls: list[tuple[str, Callable[[], Any]]] = [
        ("DelaySeconds",
         lambda: hw.sqs.send_message(QueueUrl=url, MessageBody="x", DelaySeconds=wide)),
        ("Entries[1].DelaySeconds", lambda: unchecked.send_message_batch(QueueUrl=url, Entries=[
            {"Id": "a", "MessageBody": "x"},
            {"Id": "b", "MessageBody": "x", "DelaySeconds": 2**70}])),
        ("startTime",
         lambda: hw.client("logs", validate=False).filter_log_events(
             logGroupName="absent", startTime=-(2**63) - 1)),
        ("Timeout",
         lambda: hw.lambda_.update_function_configuration(FunctionName="f", Timeout=wide)),
        ("CorsConfiguration.MaxAge", lambda: apis.create_api(
            Name="wide", ProtocolType="HTTP", CorsConfiguration={"MaxAge": wide})),
        ("limit", lambda: logs.describe_log_groups(limit=wide)),
        ("ShardCount", lambda: hw.kinesis.create_stream(StreamName="wide", ShardCount=wide)),
        ("Limit", lambda: hw.events.list_rules(Limit=wide)),
    ]  # fmt: skip
    for path, call in calls:
        with pytest.raises(ClientError) as caught:
            call()
        assert caught.value.response["Error"] == {
            "Code": "SerializationException",
            "Message": f"Unexpected value type for {path}: float",
        }, path
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "Messages" not in hw.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    # A query string carries any integer to the service, whose range check answers; the
    # largest a body carries (2**64 - 1, an unsigned long) does too.
    too_many = _error(lambda: hw.lambda_.list_functions(MaxItems=2**64))
    assert too_many[1]["Error"]["Code"] == "ValidationException"
    unsigned = _error(
        lambda: hw.sqs.send_message(QueueUrl=url, MessageBody="x", DelaySeconds=2**64 - 1)
    )
    assert unsigned[1]["Error"]["Code"] == "InvalidParameterValue"
