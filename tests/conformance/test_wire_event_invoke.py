"""Asynchronous invocation settings and destinations over the wire (restJson), replaying AWS's
recordings of the EventInvokeConfig API and of an OnFailure record delivered to SQS."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conformance.recorded_data import like, recorded
from tests.conformance.server_process import (
    ServerProcess,
    boto_client,
    headwater_server,
    zip_of,
)

pytestmark = pytest.mark.integration

HANDLER = """
def handler(event, context):
    if event.get("raise_error"):
        raise Exception("Test exception (this is intentional)")
    return {"event": event}
"""
REGION = "us-west-2"
ACCOUNT = "000000000000"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with headwater_server(tmp_path_factory.mktemp("event-invoke")) as running:
        yield running


@pytest.fixture(scope="module")
def lam(server: ServerProcess) -> Any:
    client = boto_client(server.endpoint, "lambda", region=REGION)
    for name in ("async-fn", "other-fn"):
        client.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=f"arn:aws:iam::{ACCOUNT}:role/r",
            Handler="handler.handler",
            Code={"ZipFile": zip_of(HANDLER, "handler.py")},
        )
    return client


def snapshot(test: str) -> dict[str, Any]:
    return recorded("lambda_event_invoke")[test]


def failure(call: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    response: dict[str, Any] = caught.value.response
    return response


def assert_like(expected: Any, actual: Any) -> None:
    problems = like(expected, actual)
    assert not problems, problems


def test_event_invoke_config_api_as_recorded(lam: Any) -> None:
    shot = snapshot("TestLambdaEventInvokeConfig::test_lambda_eventinvokeconfig_exceptions")
    fn = "async-fn"
    fn_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{fn}"
    put = lam.put_function_event_invoke_config
    assert_like(
        shot["put_functionname_name_notfound"],
        failure(put, FunctionName="doesnotexist", MaximumRetryAttempts=1),
    )
    assert_like(
        shot["put_functionname_arn_notfound"],
        failure(put, FunctionName=f"{fn_arn}x", MaximumRetryAttempts=1),
    )
    assert_like(shot["put_functionname_nootherargs"], failure(put, FunctionName=fn))
    missing = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:doesnotexist"
    assert_like(
        shot["put_destination_lambda_doesntexist"],
        failure(put, FunctionName=fn, DestinationConfig={"OnSuccess": {"Destination": missing}}),
    )
    assert_like(
        shot["put_destination_recursive"],
        failure(put, FunctionName=fn, DestinationConfig={"OnSuccess": {"Destination": fn_arn}}),
    )
    other = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:other-fn"
    assert_like(
        shot["put_destination_other_lambda"],
        put(FunctionName=fn, DestinationConfig={"OnSuccess": {"Destination": other}}),
    )
    iam = f"arn:aws:iam:{REGION}:{ACCOUNT}:function:{fn}"
    assert_like(
        shot["put_destination_invalid_service_arn"],
        failure(put, FunctionName=fn, DestinationConfig={"OnSuccess": {"Destination": iam}}),
    )
    bad = f"arn:aws:_-/!lambda:{REGION}:{ACCOUNT}:function:{fn}"
    assert_like(
        shot["put_destination_invalid_arn_pattern"],
        failure(put, FunctionName=fn, DestinationConfig={"OnFailure": {"Destination": bad}}),
    )
    assert_like(shot["put_destination_latest"], put(FunctionName=fn, MaximumRetryAttempts=1))
    assert_like(
        shot["put_maxevent_maxvalue_result"],
        put(FunctionName=fn, MaximumRetryAttempts=2, MaximumEventAgeInSeconds=21600),
    )
    assert_like(
        shot["put_pre_overwrite"],
        put(FunctionName=fn, MaximumRetryAttempts=2, MaximumEventAgeInSeconds=60),
    )
    assert_like(
        shot["second_overwrite_existing_response"], put(FunctionName=fn, MaximumRetryAttempts=0)
    )
    update = lam.update_function_event_invoke_config
    assert_like(shot["update_response"], update(FunctionName=fn, MaximumEventAgeInSeconds=60))
    assert_like(shot["delete_latest"], lam.delete_function_event_invoke_config(FunctionName=fn))
    assert_like(
        shot["delete_function_not_found"],
        failure(lam.delete_function_event_invoke_config, FunctionName=fn),
    )
    assert_like(
        shot["get_function_doesnotexist"],
        failure(lam.get_function_event_invoke_config, FunctionName="doesnotexist"),
    )
    assert_like(
        shot["list_function_doesnotexist"],
        failure(lam.list_function_event_invoke_configs, FunctionName="doesnotexist"),
    )
    assert_like(
        shot["update_eventinvokeconfig_function_doesnotexist"],
        failure(update, FunctionName="doesnotexist", MaximumRetryAttempts=0),
    )
    assert_like(
        shot["update_eventinvokeconfig_config_doesnotexist_without_qualifier"],
        failure(update, FunctionName=fn, MaximumRetryAttempts=0),
    )


def test_on_failure_record_in_sqs_as_recorded(lam: Any, server: ServerProcess) -> None:
    shot = snapshot("TestLambdaDestinationSqs::test_assess_lambda_destination_invocation[payload1]")
    sqs = boto_client(server.endpoint, "sqs", region=REGION)
    url = sqs.create_queue(QueueName="async-outcomes")["QueueUrl"]
    arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:async-outcomes"
    configured = lam.put_function_event_invoke_config(
        FunctionName="other-fn",
        MaximumRetryAttempts=0,
        DestinationConfig={"OnSuccess": {"Destination": arn}, "OnFailure": {"Destination": arn}},
    )
    assert_like(shot["put_function_event_invoke_config"], configured)
    lam.invoke(FunctionName="other-fn", InvocationType="Event", Payload=b'{"raise_error": 1}')
    deadline = time.monotonic() + 30
    messages: list[dict[str, Any]] = []
    while not messages and time.monotonic() < deadline:
        messages = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", [])
    received = {"Messages": messages}
    for message in messages:
        message["Body"] = json.loads(message["Body"])
    expected = dict(shot["receive_message_result"])
    expected.pop("ResponseMetadata")
    # the stack trace names AWS's file layout; headwater's names its own
    expected_body = expected["Messages"][0]["Body"]
    expected_body["responsePayload"].pop("stackTrace")
    expected_body["responsePayload"].pop("requestId", None)
    received["Messages"][0]["Body"]["responsePayload"].pop("stackTrace", None)
    assert_like(expected, received)
