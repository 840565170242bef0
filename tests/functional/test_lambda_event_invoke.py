"""Asynchronous invocation: the EventInvokeConfig API with AWS's errors, retries bounded by
MaximumRetryAttempts / MaximumEventAgeInSeconds (ManualClock), and OnSuccess / OnFailure
destinations (SQS, SNS, Lambda, S3) receiving AWS's destination record."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from headwater import Headwater, ManualClock

ACCOUNT = "000000000000"
REGION = "us-east-1"

CODE = """
import json, os

def handler(event, context):
    messages = [r["Sns"]["Message"] for r in event.get("Records", [])]
    if event.get("raise_error") or "fail" in messages:
        raise Exception("Test exception (this is intentional)")
    return {"echo": event}

def recorder(event, context):
    with open(os.environ["OUT"], "a") as out:
        out.write(json.dumps(event) + "\\n")
"""


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def hw(tmp_path: Path, clock: ManualClock) -> Iterator[Headwater]:
    code = tmp_path / "code"
    code.mkdir()
    (code / "app.py").write_text(CODE)
    app = Headwater.in_memory(clock=clock, functions="inline")
    app.lambda_.create_function_from_directory("worker", code, "app.handler")
    app.lambda_.create_function_from_directory(
        "recorder", code, "app.recorder", environment={"OUT": str(tmp_path / "recorded")}
    )
    try:
        yield app
    finally:
        app.close()


def queue(hw: Headwater, name: str) -> tuple[str, str]:
    url = hw.sqs.create_queue(QueueName=name)["QueueUrl"]
    return url, f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"


def error_of(call: Any, **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


def settle(hw: Headwater) -> None:
    assert hw.service("lambda").wait_for_event_invocations(10)


def messages(hw: Headwater, url: str) -> list[dict[str, Any]]:
    found = hw.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in found]


def test_config_lifecycle(hw: Headwater) -> None:
    lam = hw.client("lambda")
    put = lam.put_function_event_invoke_config(FunctionName="worker", MaximumRetryAttempts=0)
    assert put["FunctionArn"] == f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:worker:$LATEST"
    assert put["MaximumRetryAttempts"] == 0
    assert put["DestinationConfig"] == {"OnSuccess": {}, "OnFailure": {}}
    replaced = lam.put_function_event_invoke_config(
        FunctionName="worker", MaximumEventAgeInSeconds=60
    )
    assert "MaximumRetryAttempts" not in replaced  # Put replaces
    updated = lam.update_function_event_invoke_config(FunctionName="worker", MaximumRetryAttempts=1)
    assert (updated["MaximumEventAgeInSeconds"], updated["MaximumRetryAttempts"]) == (60, 1)
    got = lam.get_function_event_invoke_config(FunctionName="worker")
    assert got["MaximumRetryAttempts"] == 1
    listed = lam.list_function_event_invoke_configs(FunctionName="worker")
    assert len(listed["FunctionEventInvokeConfigs"]) == 1
    lam.delete_function_event_invoke_config(FunctionName="worker")
    assert error_of(lam.get_function_event_invoke_config, FunctionName="worker") == (
        "ResourceNotFoundException",
        f"The function arn:aws:lambda:{REGION}:{ACCOUNT}:function:worker:$LATEST doesn't have "
        "an EventInvokeConfig",
    )


def test_config_errors_are_awss(hw: Headwater) -> None:
    lam = hw.client("lambda")
    assert error_of(
        lam.put_function_event_invoke_config, FunctionName="nope", MaximumRetryAttempts=1
    ) == ("ResourceNotFoundException", "The function doesn't exist.")
    assert error_of(lam.put_function_event_invoke_config, FunctionName="worker") == (
        "InvalidParameterValueException",
        "You must specify at least one of error handling or destination setting.",
    )
    missing = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:doesnotexist"
    assert error_of(
        lam.put_function_event_invoke_config,
        FunctionName="worker",
        DestinationConfig={"OnFailure": {"Destination": missing}},
    ) == ("InvalidParameterValueException", f"The destination ARN {missing} is invalid.")
    itself = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:worker"
    assert error_of(
        lam.put_function_event_invoke_config,
        FunctionName="worker",
        DestinationConfig={"OnSuccess": {"Destination": itself}},
    ) == (
        "InvalidParameterValueException",
        "You can't specify the function as a destination for itself.",
    )
    iam = f"arn:aws:iam:{REGION}:{ACCOUNT}:function:worker"
    assert error_of(
        lam.put_function_event_invoke_config,
        FunctionName="worker",
        DestinationConfig={"OnSuccess": {"Destination": iam}},
    ) == (
        "InvalidParameterValueException",
        f"The provided destination config DestinationConfig(onSuccess=OnSuccess(destination="
        f"{iam}), onFailure=null) is invalid.",
    )
    code, message = error_of(
        lam.put_function_event_invoke_config,
        FunctionName="worker",
        DestinationConfig={"OnFailure": {"Destination": "arn:aws:_-/!lambda:x"}},
    )
    assert code == "ValidationException"
    assert "at 'destinationConfig.onFailure.destination' failed to satisfy constraint" in message
    assert (
        error_of(
            lam.put_function_event_invoke_config, FunctionName="worker", MaximumRetryAttempts=3
        )[0]
        == "ValidationException"
    )


def test_success_and_failure_records_reach_an_sqs_queue(hw: Headwater, clock: ManualClock) -> None:
    url, arn = queue(hw, "outcomes")
    hw.lambda_.put_function_event_invoke_config(
        FunctionName="worker",
        MaximumRetryAttempts=0,
        DestinationConfig={"OnSuccess": {"Destination": arn}, "OnFailure": {"Destination": arn}},
    )
    hw.lambda_.invoke(FunctionName="worker", InvocationType="Event", Payload=b"{}")
    settle(hw)
    (success,) = messages(hw, url)
    assert list(success) == [
        "version",
        "timestamp",
        "requestContext",
        "requestPayload",
        "responseContext",
        "responsePayload",
    ]
    assert success["requestContext"]["condition"] == "Success"
    assert success["requestContext"]["approximateInvokeCount"] == 1
    assert success["requestContext"]["functionArn"].endswith(":function:worker:$LATEST")
    assert success["requestPayload"] == {}
    assert success["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}
    assert success["responsePayload"] == {"echo": {}}
    hw.lambda_.invoke(FunctionName="worker", InvocationType="Event", Payload=b'{"raise_error": 1}')
    settle(hw)
    (failure,) = messages(hw, url)
    assert failure["requestContext"]["condition"] == "RetriesExhausted"
    assert failure["requestPayload"] == {"raise_error": 1}
    assert failure["responseContext"]["functionError"] == "Unhandled"
    assert failure["responsePayload"]["errorMessage"] == "Test exception (this is intentional)"


def test_default_retries_then_the_failure_destination(hw: Headwater, clock: ManualClock) -> None:
    url, arn = queue(hw, "failures")
    hw.lambda_.put_function_event_invoke_config(
        FunctionName="worker", DestinationConfig={"OnFailure": {"Destination": arn}}
    )
    hw.lambda_.invoke(FunctionName="worker", InvocationType="Event", Payload=b'{"raise_error": 1}')
    settle(hw)
    assert messages(hw, url) == []
    for delay in (60, 120):  # Lambda's two retries, a minute then two minutes later
        clock.advance(delay)
        settle(hw)
    (record,) = messages(hw, url)
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3


def test_maximum_event_age_ends_retries_early(hw: Headwater, clock: ManualClock) -> None:
    url, arn = queue(hw, "aged")
    hw.lambda_.put_function_event_invoke_config(
        FunctionName="worker",
        MaximumEventAgeInSeconds=60,
        DestinationConfig={"OnFailure": {"Destination": arn}},
    )
    hw.lambda_.invoke(FunctionName="worker", InvocationType="Event", Payload=b'{"raise_error": 1}')
    settle(hw)
    (record,) = messages(hw, url)  # the first retry would come 60 s later: too old by then
    assert record["requestContext"]["condition"] == "EventAgeExceeded"
    assert record["requestContext"]["approximateInvokeCount"] == 1


def test_sns_lambda_and_s3_destinations(hw: Headwater, tmp_path: Path) -> None:
    sns = hw.sns
    topic = sns.create_topic(Name="outcomes")["TopicArn"]
    url, arn = queue(hw, "via-topic")
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    hw.s3.create_bucket(Bucket="failed-invocations")
    recorder = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:recorder"
    hw.lambda_.put_function_event_invoke_config(
        FunctionName="worker",
        MaximumRetryAttempts=0,
        DestinationConfig={
            "OnSuccess": {"Destination": topic},
            "OnFailure": {"Destination": "arn:aws:s3:::failed-invocations"},
        },
    )
    hw.lambda_.invoke(FunctionName="worker", InvocationType="Event", Payload=b'{"n": 1}')
    hw.lambda_.invoke(FunctionName="worker", InvocationType="Event", Payload=b'{"raise_error": 1}')
    settle(hw)
    (envelope,) = messages(hw, url)
    assert json.loads(envelope["Message"])["requestContext"]["condition"] == "Success"
    (stored,) = hw.s3.list_objects_v2(Bucket="failed-invocations")["Contents"]
    assert stored["Key"].startswith("aws/lambda/async/worker/")
    stored_object = hw.s3.get_object(Bucket="failed-invocations", Key=stored["Key"])
    body = json.loads(stored_object["Body"].read())
    assert body["requestContext"]["condition"] == "RetriesExhausted"
    hw.lambda_.put_function_event_invoke_config(
        FunctionName="worker",
        MaximumRetryAttempts=0,
        DestinationConfig={"OnSuccess": {"Destination": recorder}},
    )
    hw.lambda_.invoke(FunctionName="worker", InvocationType="Event", Payload=b'{"n": 2}')
    deadline = time.monotonic() + 10
    out = tmp_path / "recorded"
    while time.monotonic() < deadline and not out.exists():
        settle(hw)
        time.sleep(0.01)
    (received,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert received["requestPayload"] == {"n": 2}
    assert received["requestContext"]["condition"] == "Success"


def test_an_sns_triggered_function_uses_its_async_settings(
    hw: Headwater, clock: ManualClock
) -> None:
    url, arn = queue(hw, "sns-failures")
    hw.lambda_.put_function_event_invoke_config(
        FunctionName="worker",
        MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": arn}},
    )
    topic = hw.sns.create_topic(Name="jobs")["TopicArn"]
    hw.sns.subscribe(
        TopicArn=topic,
        Protocol="lambda",
        Endpoint=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:worker",
    )
    hw.sns.publish(TopicArn=topic, Message="fine")
    hw.sns.publish(TopicArn=topic, Message="fail")
    sns_service: Any = hw.service("sns")
    assert sns_service.deliverer.wait_idle()
    settle(hw)
    (record,) = messages(hw, url)  # SNS invokes asynchronously: the failure is reported
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    (sns_record,) = record["requestPayload"]["Records"]
    assert sns_record["Sns"]["Message"] == "fail"


def test_a_version_or_alias_invoked_uses_its_own_configuration(hw: Headwater) -> None:
    """Configurations are per qualifier: the alias's applies to invocations of the alias,
    $LATEST's to unqualified ones; the record names the qualifier invoked."""
    alias_url, alias_queue = queue(hw, "alias-failures")
    latest_url, latest_queue = queue(hw, "latest-failures")
    lam = hw.lambda_
    lam.publish_version(FunctionName="worker")
    lam.create_alias(FunctionName="worker", Name="live", FunctionVersion="1")
    for qualifier, target in (("live", alias_queue), ("$LATEST", latest_queue)):
        lam.put_function_event_invoke_config(
            FunctionName="worker",
            Qualifier=qualifier,
            MaximumRetryAttempts=0,
            DestinationConfig={"OnFailure": {"Destination": target}},
        )
    lam.invoke(
        FunctionName="worker",
        Qualifier="live",
        InvocationType="Event",
        Payload=b'{"raise_error": 1}',
    )
    settle(hw)
    (record,) = messages(hw, alias_url)
    assert record["requestContext"]["functionArn"].endswith(":function:worker:live")
    assert record["requestContext"]["approximateInvokeCount"] == 1  # the alias's 0 retries
    assert record["responseContext"]["executedVersion"] == "1"
    assert messages(hw, latest_url) == []
    lam.invoke(FunctionName="worker", InvocationType="Event", Payload=b'{"raise_error": 1}')
    settle(hw)
    (record,) = messages(hw, latest_url)
    assert record["requestContext"]["functionArn"].endswith(":function:worker:$LATEST")
    assert messages(hw, alias_url) == []


def test_the_functions_dead_letter_queue_gets_the_discarded_event(
    hw: Headwater, clock: ManualClock
) -> None:
    """DeadLetterConfig (SQS or SNS) takes the event itself with RequestID, ErrorCode and
    ErrorMessage attributes, beside the OnFailure destination; successes never go there."""
    dlq_url, dlq_arn = queue(hw, "worker-dlq")
    failures_url, failures_arn = queue(hw, "worker-failures")
    lam = hw.lambda_
    lam.update_function_configuration(
        FunctionName="worker", DeadLetterConfig={"TargetArn": dlq_arn}
    )
    lam.put_function_event_invoke_config(
        FunctionName="worker", DestinationConfig={"OnFailure": {"Destination": failures_arn}}
    )
    lam.invoke(FunctionName="worker", InvocationType="Event", Payload=b"{}")
    lam.invoke(FunctionName="worker", InvocationType="Event", Payload=b'{"raise_error": 1}')
    settle(hw)
    for delay in (60, 120):  # the default two retries come first
        assert hw.sqs.receive_message(QueueUrl=dlq_url).get("Messages", []) == []
        clock.advance(delay)
        settle(hw)
    (dead,) = hw.sqs.receive_message(
        QueueUrl=dlq_url, MessageAttributeNames=["All"], MaxNumberOfMessages=10
    )["Messages"]
    assert json.loads(dead["Body"]) == {"raise_error": 1}
    attributes = dead["MessageAttributes"]
    assert attributes["ErrorCode"] == {"DataType": "Number", "StringValue": "200"}
    assert attributes["ErrorMessage"] == {
        "DataType": "String",
        "StringValue": "Test exception (this is intentional)",
    }
    (record,) = messages(hw, failures_url)
    assert attributes["RequestID"]["StringValue"] == record["requestContext"]["requestId"]

    topic = hw.sns.create_topic(Name="worker-dead")["TopicArn"]
    inbox_url, inbox_arn = queue(hw, "dead-inbox")
    hw.sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=inbox_arn)
    lam.update_function_configuration(FunctionName="worker", DeadLetterConfig={"TargetArn": topic})
    lam.put_function_event_invoke_config(FunctionName="worker", MaximumRetryAttempts=0)
    lam.invoke(FunctionName="worker", InvocationType="Event", Payload=b'{"raise_error": 2}')
    settle(hw)
    (envelope,) = messages(hw, inbox_url)
    assert json.loads(envelope["Message"]) == {"raise_error": 2}
    assert envelope["MessageAttributes"]["ErrorCode"] == {"Type": "Number", "Value": "200"}


def test_the_202_request_id_is_the_invocations_through_its_retries(
    hw: Headwater, clock: ManualClock
) -> None:
    url, arn = queue(hw, "same-id")
    hw.lambda_.put_function_event_invoke_config(
        FunctionName="worker",
        MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": arn}},
    )
    accepted = hw.lambda_.invoke(
        FunctionName="worker", InvocationType="Event", Payload=b'{"raise_error": 1}'
    )
    request_id = accepted["ResponseMetadata"]["RequestId"]
    settle(hw)
    clock.advance(60)
    settle(hw)
    (record,) = messages(hw, url)
    assert record["requestContext"]["requestId"] == request_id
    assert record["requestContext"]["approximateInvokeCount"] == 2
    log_text = hw.service("lambda").function_logs("worker")
    assert log_text.count(f"START RequestId: {request_id} ") == 2
    assert hw.service("lambda")._event_queue().pending() == 0  # settled: forgotten


def test_a_pending_retry_and_its_age_survive_a_restart(tmp_path: Path) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "app.py").write_text(CODE)
    data = tmp_path / "data"
    clock = ManualClock()
    with Headwater(data, clock=clock, functions="inline") as first:
        first.lambda_.create_function_from_directory("worker", code, "app.handler")
        url, arn = queue(first, "after-restart")
        first.lambda_.put_function_event_invoke_config(
            FunctionName="worker",
            MaximumEventAgeInSeconds=150,
            DestinationConfig={"OnFailure": {"Destination": arn}},
        )
        accepted = first.lambda_.invoke(
            FunctionName="worker", InvocationType="Event", Payload=b'{"raise_error": 1}'
        )
        settle(first)  # the first attempt failed; the first retry is due 60 s later
    restarted_clock = ManualClock(clock.now())
    with Headwater(data, clock=restarted_clock, functions="inline") as second:
        settle(second)
        assert second.service("lambda").function_logs("worker").count("START RequestId") == 1
        restarted_clock.advance(60)  # the retry runs in this process, and fails again
        settle(second)
        # the second retry would come at 180 s, past the 150 s the event may live
        (record,) = messages(second, url)
    assert record["requestContext"]["requestId"] == accepted["ResponseMetadata"]["RequestId"]
    assert record["requestContext"]["condition"] == "EventAgeExceeded"
    assert record["requestContext"]["approximateInvokeCount"] == 2
