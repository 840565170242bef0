"""Asynchronous invocation settings and destinations over the wire (restJson), replaying AWS's
recordings of the EventInvokeConfig API ($LATEST, versions and aliases), of the OnSuccess and
OnFailure records delivered to SQS, and of the event a function's dead-letter queue gets."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conformance.recorded import assert_like_recording, recordings
from tests.conformance.server_process import (
    ServerProcess,
    boto_client,
    headwater_server,
    zip_of,
)
from tests.conformance.test_lambda_control_plane_recorded import VERSION_KEYS, check_keys

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


def create(client: Any, name: str, **settings: Any) -> dict[str, Any]:
    created: dict[str, Any] = client.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=f"arn:aws:iam::{ACCOUNT}:role/r",
        Handler="handler.handler",
        Code={"ZipFile": zip_of(HANDLER, "handler.py")},
        **settings,
    )
    return created


@pytest.fixture(scope="module")
def lam(server: ServerProcess) -> Any:
    client = boto_client(server.endpoint, "lambda", region=REGION)
    for name in ("async-fn", "other-fn"):
        create(client, name)
    return client


def snapshot(test: str) -> dict[str, Any]:
    return recordings("lambda_event_invoke")[test]


def failure(call: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    response: dict[str, Any] = caught.value.response
    return response


def assert_like(expected: Any, actual: Any) -> None:
    # headwater's answers carry members newer than the recording (State,
    # LastUpdateStatus, Type, requestId): every recorded member must be there
    assert_like_recording(expected, actual, "us-west-2", extra_keys=True)


def test_event_invoke_config_api_as_recorded(lam: Any) -> None:
    """AWS's recorded sequence: errors, then configurations of $LATEST, a version and an
    alias named every way Lambda accepts (qualifier, qualified ARN, ``name:qualifier``)."""
    shot = snapshot("TestLambdaEventInvokeConfig::test_lambda_eventinvokeconfig_exceptions")
    fn = "async-fn"
    fn_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{fn}"
    put = lam.put_function_event_invoke_config
    version = lam.publish_version(FunctionName=fn)
    check_keys(shot["fn_version_result"], version, VERSION_KEYS)
    alias_name = "eventinvokealias"
    alias = lam.create_alias(FunctionName=fn, Name=alias_name, FunctionVersion="1")
    assert_like(shot["fn_alias_result"], alias)
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
    assert_like(
        shot["put_destination_success_no_destination_arn"],
        put(FunctionName=fn, DestinationConfig={"OnSuccess": {}}),
    )
    assert_like(
        shot["put_destination_failure_no_destination_arn"],
        put(FunctionName=fn, DestinationConfig={"OnFailure": {}}),
    )
    bad = f"arn:aws:_-/!lambda:{REGION}:{ACCOUNT}:function:{fn}"
    assert_like(
        shot["put_destination_invalid_arn_pattern"],
        failure(put, FunctionName=fn, DestinationConfig={"OnFailure": {"Destination": bad}}),
    )
    # every way of naming $LATEST, the version and the alias
    named: list[tuple[str, dict[str, str]]] = [
        ("put_destination_latest", {"FunctionName": fn}),
        ("put_destination_latest_explicit_qualifier", {"FunctionName": fn, "Qualifier": "$LATEST"}),
        ("put_destination_version", {"FunctionName": fn, "Qualifier": "1"}),
        ("put_alias_functionname_qualifier", {"FunctionName": fn, "Qualifier": alias_name}),
        ("put_alias_qualifiedarn", {"FunctionName": alias["AliasArn"]}),
        (
            "put_alias_qualifiedarn_qualifier",
            {"FunctionName": alias["AliasArn"], "Qualifier": alias_name},
        ),
        ("put_alias_shorthand", {"FunctionName": f"{fn}:{alias_name}"}),
        (
            "put_alias_shorthand_qualifier",
            {"FunctionName": f"{fn}:{alias_name}", "Qualifier": alias_name},
        ),
        ("put_version_shorthand", {"FunctionName": f"{fn}:1"}),
        (
            "put_shorthand_qualifier_match",
            {"FunctionName": f"{fn}:$LATEST", "Qualifier": "$LATEST"},
        ),
    ]
    for key, names in named:
        assert_like(shot[key], put(**names, MaximumRetryAttempts=1))
    refused: list[tuple[str, dict[str, str]]] = [
        ("put_alias_doesnotexist", {"FunctionName": fn, "Qualifier": f"{alias_name}doesnotexist"}),
        (
            "put_alias_qualifiedarn_qualifierconflict",
            {"FunctionName": alias["AliasArn"], "Qualifier": f"{alias_name}doesnotexist"},
        ),
        (
            "put_alias_shorthand_qualifierconflict",
            {"FunctionName": f"{fn}:{alias_name}", "Qualifier": f"{alias_name}doesnotexist"},
        ),
        ("put_shorthand_qualifier_mismatch_1", {"FunctionName": f"{fn}:1", "Qualifier": "$LATEST"}),
        ("put_shorthand_qualifier_mismatch_2", {"FunctionName": f"{fn}:$LATEST", "Qualifier": "1"}),
        (
            "put_shorthand_qualifier_mismatch_3",
            {"FunctionName": f"{fn}:1", "Qualifier": alias_name},
        ),
    ]
    for key, names in refused:
        assert_like(shot[key], failure(put, **names, MaximumRetryAttempts=1))
    assert_like(
        shot["put_maxevent_maxvalue_result"],
        put(FunctionName=fn, MaximumRetryAttempts=2, MaximumEventAgeInSeconds=21600),
    )
    # Put replaces the whole configuration, Update merges into it
    assert_like(
        shot["put_pre_overwrite"],
        put(FunctionName=fn, MaximumRetryAttempts=2, MaximumEventAgeInSeconds=60),
    )
    assert_like(shot["put_post_overwrite"], put(FunctionName=fn, MaximumRetryAttempts=0))
    assert_like(
        shot["second_overwrite_existing_response"], put(FunctionName=fn, MaximumRetryAttempts=0)
    )
    assert_like(shot["get_post_overwrite"], lam.get_function_event_invoke_config(FunctionName=fn))
    assert_like(
        shot["pre_update_response"],
        put(FunctionName=fn, MaximumRetryAttempts=2, MaximumEventAgeInSeconds=60),
    )
    update = lam.update_function_event_invoke_config
    assert_like(shot["update_response"], update(FunctionName=fn, MaximumRetryAttempts=0))
    assert_like(shot["update_response_existing"], update(FunctionName=fn, MaximumRetryAttempts=0))
    got = lam.get_function_event_invoke_config(FunctionName=fn)
    assert (got["MaximumRetryAttempts"], got["MaximumEventAgeInSeconds"]) == (0, 60)
    assert_like(shot["list_configs"], lam.list_function_event_invoke_configs(FunctionName=fn))
    paged = lam.list_function_event_invoke_configs(FunctionName=fn, MaxItems=2)
    assert len(paged["FunctionEventInvokeConfigs"]) == 2 and paged["NextMarker"]
    rest = lam.list_function_event_invoke_configs(FunctionName=fn, Marker=paged["NextMarker"])
    assert [c["FunctionArn"] for c in paged["FunctionEventInvokeConfigs"]] + [
        c["FunctionArn"] for c in rest["FunctionEventInvokeConfigs"]
    ] == [f"{fn_arn}:$LATEST", f"{fn_arn}:1", alias["AliasArn"]]
    assert "NextMarker" not in rest
    delete = lam.delete_function_event_invoke_config
    assert_like(shot["delete_latest"], delete(FunctionName=fn, Qualifier="$LATEST"))
    assert_like(shot["delete_version"], delete(FunctionName=fn, Qualifier="1"))
    assert_like(shot["delete_alias"], delete(FunctionName=fn, Qualifier=alias_name))
    assert_like(
        shot["list_configs_postdelete"], lam.list_function_event_invoke_configs(FunctionName=fn)
    )
    assert_like(shot["delete_function_not_found"], failure(delete, FunctionName=fn))
    assert_like(shot["delete_function_doesnotexist"], failure(delete, FunctionName="doesnotexist"))
    assert_like(
        shot["list_function_doesnotexist"],
        failure(lam.list_function_event_invoke_configs, FunctionName="doesnotexist"),
    )
    get = lam.get_function_event_invoke_config
    assert_like(shot["get_function_doesnotexist"], failure(get, FunctionName="doesnotexist"))
    assert_like(
        shot["get_qualifier_doesnotexist"],
        failure(get, FunctionName=fn, Qualifier="doesnotexist"),
    )
    assert_like(
        shot["update_eventinvokeconfig_function_doesnotexist"],
        failure(update, FunctionName="doesnotexist", MaximumRetryAttempts=0),
    )
    assert_like(
        shot["get_eventinvokeconfig_doesnotexist"], failure(get, FunctionName=alias["AliasArn"])
    )
    assert_like(
        shot["update_eventinvokeconfig_config_doesnotexist_with_qualifier"],
        failure(update, FunctionName=alias["AliasArn"], MaximumRetryAttempts=0),
    )
    assert_like(
        shot["update_eventinvokeconfig_config_doesnotexist_without_qualifier"],
        failure(update, FunctionName=fn_arn, MaximumRetryAttempts=0),
    )


def test_event_invoke_config_lifecycle_as_recorded(lam: Any) -> None:
    shot = snapshot("TestLambdaEventInvokeConfig::test_lambda_eventinvokeconfig_lifecycle")
    fn = "lifecycle-fn"
    create(lam, fn)
    put = lam.put_function_event_invoke_config
    update = lam.update_function_event_invoke_config
    get = lam.get_function_event_invoke_config
    assert_like(shot["put_invokeconfig_retries_0"], put(FunctionName=fn, MaximumRetryAttempts=0))
    assert_like(
        shot["put_invokeconfig_eventage_60"], put(FunctionName=fn, MaximumEventAgeInSeconds=60)
    )
    assert_like(
        shot["update_invokeconfig_eventage_nochange"],
        update(FunctionName=fn, MaximumEventAgeInSeconds=60),
    )
    assert_like(
        shot["update_invokeconfig_retries"], update(FunctionName=fn, MaximumRetryAttempts=1)
    )
    assert_like(shot["get_invokeconfig"], get(FunctionName=fn))
    assert_like(shot["get_invokeconfig_latest"], get(FunctionName=fn, Qualifier="$LATEST"))
    assert_like(
        shot["list_single_invokeconfig"], lam.list_function_event_invoke_configs(FunctionName=fn)
    )
    check_keys(shot["publish_version_result"], lam.publish_version(FunctionName=fn), VERSION_KEYS)
    assert_like(shot["get_invokeconfig_postpublish"], failure(get, FunctionName=fn, Qualifier="1"))
    assert_like(
        shot["put_published_invokeconfig"],
        put(FunctionName=fn, Qualifier="1", MaximumEventAgeInSeconds=120),
    )
    assert_like(shot["get_published_invokeconfig"], get(FunctionName=fn, Qualifier="1"))
    lam.delete_function_event_invoke_config(FunctionName=fn)
    assert_like(
        shot["list_paging_nolimit_postdelete"],
        lam.list_function_event_invoke_configs(FunctionName=fn),
    )


def test_get_event_invoke_config_of_missing_functions_as_recorded(lam: Any) -> None:
    get = lam.get_function_event_invoke_config
    version = snapshot(
        "TestLambdaFunction::test_ops_on_nonexisting_version[get_function_event_invoke_config]"
    )
    assert_like(
        version["version_not_found_exception"],
        failure(get, FunctionName="async-fn", Qualifier="1221"),
    )
    function = snapshot(
        "TestLambdaFunction::test_ops_on_nonexisting_fn[get_function_event_invoke_config]"
    )
    assert_like(function["not_found_exception"], failure(get, FunctionName="nonexisting-fn"))
    region = snapshot(
        "TestLambdaFunction::test_get_function_wrong_region[get_function_event_invoke_config]"
    )
    elsewhere = "arn:aws:lambda:eu-central-1:000000000000:function:async-fn"
    assert_like(region["wrong_region_exception"], failure(get, FunctionName=elsewhere))


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


def received_within(sqs: Any, url: str, seconds: float, **options: Any) -> list[dict[str, Any]]:
    deadline = time.monotonic() + seconds
    messages: list[dict[str, Any]] = []
    while not messages and time.monotonic() < deadline:
        found = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1, **options)
        messages = found.get("Messages", [])
    for message in messages:
        message["Body"] = json.loads(message["Body"])
    return messages


def test_on_success_record_in_sqs_as_recorded(lam: Any, server: ServerProcess) -> None:
    shot = snapshot("TestLambdaDestinationSqs::test_assess_lambda_destination_invocation[payload0]")
    sqs = boto_client(server.endpoint, "sqs", region=REGION)
    url = sqs.create_queue(QueueName="async-successes")["QueueUrl"]
    arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:async-successes"
    create(lam, "success-fn")
    configured = lam.put_function_event_invoke_config(
        FunctionName="success-fn",
        MaximumRetryAttempts=0,
        DestinationConfig={"OnSuccess": {"Destination": arn}, "OnFailure": {"Destination": arn}},
    )
    assert_like(shot["put_function_event_invoke_config"], configured)
    lam.invoke(FunctionName="success-fn", InvocationType="Event", Payload=b"{}")
    (message,) = received_within(sqs, url, 30)
    (expected,) = shot["receive_message_result"]["Messages"]
    # this handler echoes the event only (the recorded one also echoed its context)
    assert message["Body"].pop("responsePayload") == {"event": {}}
    expected["Body"].pop("responsePayload")
    assert_like(expected, message)


def test_dead_letter_queue_as_recorded(lam: Any, server: ServerProcess) -> None:
    shot = snapshot("TestLambdaDLQ::test_dead_letter_queue")
    sqs = boto_client(server.endpoint, "sqs", region=REGION)
    url = sqs.create_queue(QueueName="async-dlq")["QueueUrl"]
    arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:async-dlq"
    created = create(lam, "dlq-fn", Timeout=30, DeadLetterConfig={"TargetArn": arn})
    recorded_config = shot["create_lambda_with_dlq"]["CreateFunctionResponse"]["DeadLetterConfig"]
    assert list(created["DeadLetterConfig"]) == list(recorded_config)
    assert created["DeadLetterConfig"]["TargetArn"] == arn
    lam.put_function_event_invoke_config(FunctionName="dlq-fn", MaximumRetryAttempts=0)
    lam.invoke(FunctionName="dlq-fn", InvocationType="Event", Payload=b'{"raise_error": 1}')
    messages = received_within(sqs, url, 30, MessageAttributeNames=["All"])
    expected = dict(shot["receive_result"])
    expected.pop("ResponseMetadata")
    assert_like(expected, {"Messages": messages})
