"""CloudWatch Logs subscription filters: the filter operations and their errors, and the
deliveries matching events make (PutLogEvents, and Lambda's own function logs) to Lambda
functions (asynchronous invocations with the gzipped ``awslogs`` payload) and Kinesis data
streams."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from headwater import Headwater, ManualClock

ACCOUNT = "000000000000"
GROUP = "app"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/logs-to-kinesis"

#: A handler that appends each decoded CloudWatch Logs message to $OUT (one JSON per line),
#: and logs a line of its own.
HANDLER = """\
import base64, gzip, json, os
def handle(event, context):
    print("consumer got a batch")
    if "awslogs" not in event:
        return
    document = json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))
    with open(os.environ["OUT"], "a") as out:
        out.write(json.dumps(document) + "\\n")
"""


@pytest.fixture
def hw_options() -> dict[str, Any]:
    return {"functions": "inline"}


@pytest.fixture
def logs(hw: Headwater) -> Any:
    client = hw.client("logs")
    client.create_log_group(logGroupName=GROUP)
    client.create_log_stream(logGroupName=GROUP, logStreamName="s")
    return client


def make_consumer(hw: Headwater, tmp_path: Path, name: str = "consumer") -> tuple[str, Path]:
    """A function recording the messages it gets; (its ARN, the file it writes)."""
    code = tmp_path / f"code-{name}"
    code.mkdir()
    (code / "app.py").write_text(HANDLER)
    out = tmp_path / f"{name}.jsonl"
    arn = hw.lambda_.create_function_from_directory(
        name, code, "app.handle", environment={"OUT": str(out)}
    )["FunctionArn"]
    return arn, out


def received(hw: Headwater, out: Path) -> list[dict[str, Any]]:
    """The messages the consumer got, once every queued invocation has run."""
    hw.client("logs").describe_log_groups()  # a Logs read flushes queued function logs
    assert hw.service("lambda").wait_for_event_invocations()
    if not out.exists():
        return []
    return [json.loads(line) for line in out.read_text().splitlines()]


def put(logs: Any, clock: ManualClock, *messages: str, group: str = GROUP) -> None:
    stamp = int(clock.now() * 1000)
    logs.put_log_events(
        logGroupName=group,
        logStreamName="s",
        logEvents=[{"timestamp": stamp, "message": m} for m in messages],
    )


def error_of(call: Any, **params: Any) -> dict[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**params)
    error = caught.value.response["Error"]
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    return {"Code": error["Code"], "Message": error["Message"]}


def subscribe(logs: Any, name: str, destination: str, pattern: str = "", **extra: Any) -> None:
    logs.put_subscription_filter(
        logGroupName=GROUP,
        filterName=name,
        filterPattern=pattern,
        destinationArn=destination,
        **extra,
    )


# ---- operations ----


def test_put_describe_replace_and_delete(
    hw: Headwater, clock: ManualClock, logs: Any, tmp_path: Path
) -> None:
    function, _ = make_consumer(hw, tmp_path)
    assert logs.describe_subscription_filters(logGroupName=GROUP)["subscriptionFilters"] == []
    subscribe(logs, "errors", function, "ERROR")
    (described,) = logs.describe_subscription_filters(logGroupName=GROUP)["subscriptionFilters"]
    assert described == {
        "filterName": "errors",
        "logGroupName": GROUP,
        "filterPattern": "ERROR",
        "destinationArn": function,
        "distribution": "ByLogStream",
        "applyOnTransformedLogs": False,
        "creationTime": int(clock.now() * 1000),
    }
    # the same name replaces the filter
    clock.advance(5)
    subscribe(logs, "errors", function, "[]", distribution="Random")
    (replaced,) = logs.describe_subscription_filters(logGroupName=GROUP)["subscriptionFilters"]
    assert (replaced["filterPattern"], replaced["distribution"]) == ("[]", "Random")

    logs.delete_subscription_filter(logGroupName=GROUP, filterName="errors")
    assert logs.describe_subscription_filters(logGroupName=GROUP)["subscriptionFilters"] == []


def test_describe_pages_and_filters_by_prefix(hw: Headwater, logs: Any, tmp_path: Path) -> None:
    function, _ = make_consumer(hw, tmp_path)
    subscribe(logs, "alpha", function)
    subscribe(logs, "beta", function)
    first = logs.describe_subscription_filters(logGroupName=GROUP, limit=1)
    assert [f["filterName"] for f in first["subscriptionFilters"]] == ["alpha"]
    second = logs.describe_subscription_filters(
        logGroupName=GROUP, limit=1, nextToken=first["nextToken"]
    )
    assert [f["filterName"] for f in second["subscriptionFilters"]] == ["beta"]
    assert "nextToken" not in second
    by_prefix = logs.describe_subscription_filters(logGroupName=GROUP, filterNamePrefix="be")
    assert [f["filterName"] for f in by_prefix["subscriptionFilters"]] == ["beta"]


def test_errors_are_aws_words_and_change_nothing(hw: Headwater, logs: Any, tmp_path: Path) -> None:
    function, _ = make_consumer(hw, tmp_path)
    missing_group = {
        "Code": "ResourceNotFoundException",
        "Message": "The specified log group does not exist.",
    }
    put_filter = logs.put_subscription_filter
    assert (
        error_of(
            put_filter,
            logGroupName="nope",
            filterName="f",
            filterPattern="",
            destinationArn=function,
        )
        == missing_group
    )
    assert error_of(logs.describe_subscription_filters, logGroupName="nope") == missing_group
    assert (
        error_of(logs.delete_subscription_filter, logGroupName="nope", filterName="f")
        == missing_group
    )
    assert error_of(logs.delete_subscription_filter, logGroupName=GROUP, filterName="f") == {
        "Code": "ResourceNotFoundException",
        "Message": "The specified subscription filter does not exist.",
    }
    assert error_of(
        put_filter,
        logGroupName=GROUP,
        filterName="f",
        filterPattern="",
        destinationArn=f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:not-existing",
    ) == {
        "Code": "InvalidParameterException",
        "Message": "Could not execute the lambda function. Make sure you have given CloudWatch "
        "Logs permission to execute your function.",
    }
    cross_account = {
        "Code": "AccessDeniedException",
        "Message": "Cross-account lambda invocation passing is not allowed. You must use "
        "DestinationPolicies to create cross account lambda triggers.",
    }
    # as AWS recorded it: another account's function is refused before the group is looked up
    for group in (GROUP, "not-existing-log-group"):
        assert (
            error_of(
                put_filter,
                logGroupName=group,
                filterName="f",
                filterPattern="",
                destinationArn="arn:aws:lambda:us-east-1:123456789012:function:test",
            )
            == cross_account
        )
    assert error_of(
        put_filter,
        logGroupName=GROUP,
        filterName="f",
        filterPattern="",
        destinationArn=f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/s",
    ) == {
        "Code": "InvalidParameterException",
        "Message": "destinationArn for vendor kinesis cannot be used without roleArn",
    }
    firehose = error_of(
        put_filter,
        logGroupName=GROUP,
        filterName="f",
        filterPattern="",
        destinationArn=f"arn:aws:firehose:us-east-1:{ACCOUNT}:deliverystream/d",
        roleArn=ROLE,
    )
    assert firehose["Code"] == "InvalidParameterException"
    assert "Firehose" in firehose["Message"]
    bad_pattern = error_of(
        put_filter,
        logGroupName=GROUP,
        filterName="f",
        filterPattern="{ $.x = ",
        destinationArn=function,
    )
    assert bad_pattern["Code"] == "InvalidParameterException"
    assert logs.describe_subscription_filters(logGroupName=GROUP)["subscriptionFilters"] == []

    # at most two filters; replacing one of them is still allowed
    subscribe(logs, "one", function)
    subscribe(logs, "two", function)
    assert error_of(
        put_filter,
        logGroupName=GROUP,
        filterName="three",
        filterPattern="",
        destinationArn=function,
    ) == {"Code": "LimitExceededException", "Message": "Resource limit exceeded."}
    subscribe(logs, "two", function, "ERROR")
    described = logs.describe_subscription_filters(logGroupName=GROUP)["subscriptionFilters"]
    assert [(f["filterName"], f["filterPattern"]) for f in described] == [
        ("one", ""),
        ("two", "ERROR"),
    ]


def test_deleting_the_group_deletes_its_filters(hw: Headwater, logs: Any, tmp_path: Path) -> None:
    function, out = make_consumer(hw, tmp_path)
    subscribe(logs, "all", function)
    logs.delete_log_group(logGroupName=GROUP)
    logs.create_log_group(logGroupName=GROUP)
    logs.create_log_stream(logGroupName=GROUP, logStreamName="s")
    assert logs.describe_subscription_filters(logGroupName=GROUP)["subscriptionFilters"] == []
    put(logs, ManualClock(), "after")
    assert received(hw, out) == []


# ---- delivery to Lambda ----


def test_matching_events_reach_the_function_as_awslogs_payload(
    hw: Headwater, clock: ManualClock, logs: Any, tmp_path: Path
) -> None:
    function, out = make_consumer(hw, tmp_path)
    subscribe(logs, "errors", function, "ERROR")
    put(logs, clock, "ERROR one", "fine", "ERROR two")
    (message,) = received(hw, out)
    assert {k: v for k, v in message.items() if k != "logEvents"} == {
        "messageType": "DATA_MESSAGE",
        "owner": ACCOUNT,
        "logGroup": GROUP,
        "logStream": "s",
        "subscriptionFilters": ["errors"],
    }
    stamp = int(clock.now() * 1000)
    assert [(e["timestamp"], e["message"]) for e in message["logEvents"]] == [
        (stamp, "ERROR one"),
        (stamp, "ERROR two"),
    ]
    # the ids are the events' ids in the group, as FilterLogEvents answers them
    stored = logs.filter_log_events(logGroupName=GROUP, filterPattern="ERROR")["events"]
    assert [e["id"] for e in message["logEvents"]] == [e["eventId"] for e in stored]

    # a call with no matching event invokes nothing
    put(logs, clock, "all good")
    assert len(received(hw, out)) == 1


def test_two_filters_each_deliver_and_delete_stops_delivery(
    hw: Headwater, clock: ManualClock, logs: Any, tmp_path: Path
) -> None:
    function, out = make_consumer(hw, tmp_path)
    subscribe(logs, "errors", function, "ERROR")
    subscribe(logs, "json", function, "{ $.level = warn }")
    put(logs, clock, "ERROR a", '{"level": "warn"}', "other")
    messages = received(hw, out)
    by_filter = {m["subscriptionFilters"][0]: m["logEvents"] for m in messages}
    assert {name: [e["message"] for e in events] for name, events in by_filter.items()} == {
        "errors": ["ERROR a"],
        "json": ['{"level": "warn"}'],
    }

    logs.delete_subscription_filter(logGroupName=GROUP, filterName="errors")
    put(logs, clock, "ERROR b", '{"level": "warn", "n": 2}')
    later = received(hw, out)[len(messages) :]
    assert [(m["subscriptionFilters"], len(m["logEvents"])) for m in later] == [(["json"], 1)]


def test_function_logs_are_delivered_but_never_to_the_function_itself(
    hw: Headwater, clock: ManualClock, tmp_path: Path
) -> None:
    consumer, consumer_out = make_consumer(hw, tmp_path)
    selfish, selfish_out = make_consumer(hw, tmp_path, "selfish")
    code = tmp_path / "code-producer"
    code.mkdir()
    (code / "app.py").write_text(
        "def handle(event, context):\n    print('ORDER_FAILED', event['id'])\n"
    )
    hw.lambda_.create_function_from_directory("producer", code, "app.handle")
    logs = hw.client("logs")
    logs.create_log_group(logGroupName="/aws/lambda/producer")
    logs.put_subscription_filter(
        logGroupName="/aws/lambda/producer",
        filterName="failed",
        filterPattern="ORDER_FAILED",
        destinationArn=consumer,
    )
    for order in range(2):
        hw.lambda_.invoke(FunctionName="producer", Payload=f'{{"id": {order}}}'.encode())
    messages = received(hw, consumer_out)
    assert {m["logGroup"] for m in messages} == {"/aws/lambda/producer"}
    lines = [e["message"] for m in messages for e in m["logEvents"]]
    assert lines == ["ORDER_FAILED 0\n", "ORDER_FAILED 1\n"]
    assert all("/[$LATEST]" in m["logStream"] for m in messages)  # the function's streams

    # a function subscribed to its own group: its own lines do not invoke it again (the
    # loop AWS warns of), while events others put there do, once
    logs.create_log_group(logGroupName="/aws/lambda/selfish")
    logs.create_log_stream(logGroupName="/aws/lambda/selfish", logStreamName="s")
    logs.put_subscription_filter(
        logGroupName="/aws/lambda/selfish",
        filterName="all",
        filterPattern="",
        destinationArn=selfish,
    )
    hw.lambda_.invoke(FunctionName="selfish", Payload=b"{}")
    assert received(hw, selfish_out) == []
    put(logs, clock, "from outside", group="/aws/lambda/selfish")
    (message,) = received(hw, selfish_out)
    # the lines it logged while handling that are flushed now, and not delivered
    assert len(received(hw, selfish_out)) == 1
    assert [e["message"] for e in message["logEvents"]] == ["from outside"]


def test_deliveries_are_batched_per_put_and_survive_a_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    clock = ManualClock()
    with Headwater(data_dir=data, clock=clock, functions="inline") as first:
        function, out = make_consumer(first, tmp_path)
        logs = first.client("logs")
        logs.create_log_group(logGroupName=GROUP)
        logs.create_log_stream(logGroupName=GROUP, logStreamName="s")
        subscribe(logs, "all", function)
    with Headwater(data_dir=data, clock=clock, functions="inline") as second:
        logs = second.client("logs")
        (kept,) = logs.describe_subscription_filters(logGroupName=GROUP)["subscriptionFilters"]
        assert kept["destinationArn"] == function
        put(logs, clock, *(f"line {n}" for n in range(50)))
        (message,) = received(second, out)
        assert len(message["logEvents"]) == 50


def test_a_batch_too_big_for_one_invocation_is_split(
    hw: Headwater,
    clock: ManualClock,
    logs: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from headwater.services.logs import subscription_filters

    monkeypatch.setattr(subscription_filters, "MAX_DELIVERY_BYTES", 700)
    function, out = make_consumer(hw, tmp_path)
    subscribe(logs, "all", function)
    # hex digests: text gzip cannot shrink much
    lines = [f"event {n} " + hashlib.sha256(str(n).encode()).hexdigest() for n in range(12)]
    put(logs, clock, *lines)
    messages = received(hw, out)
    assert len(messages) > 1
    delivered = [e["message"] for m in messages for e in m["logEvents"]]
    assert sorted(delivered) == sorted(lines)


def test_an_invocation_stored_with_the_events_runs_after_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Event invocation is written in the events' transaction: a process that dies
    after answering PutLogEvents, before starting the invocation, leaves it stored, and
    the next process on the data directory runs it."""
    from headwater.services.logs.subscription_filters import SubscriptionFilterOperations

    data = tmp_path / "data"
    clock = ManualClock()
    with monkeypatch.context() as patch:
        patch.setattr(
            SubscriptionFilterOperations, "after_commit", staticmethod(lambda started: None)
        )
        with Headwater(data_dir=data, clock=clock, functions="inline") as first:
            function, out = make_consumer(first, tmp_path)
            logs = first.client("logs")
            logs.create_log_group(logGroupName=GROUP)
            logs.create_log_stream(logGroupName=GROUP, logStreamName="s")
            subscribe(logs, "all", function)
            put(logs, clock, "kept")
            assert first.service("lambda").wait_for_event_invocations()
            assert not out.exists()
    with Headwater(data_dir=data, clock=clock, functions="inline") as second:
        assert second.service("lambda").wait_for_event_invocations()
    (message,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert [e["message"] for e in message["logEvents"]] == ["kept"]


# ---- delivery to Kinesis ----


def test_kinesis_stream_gets_the_gzipped_message_as_a_record(
    hw: Headwater, clock: ManualClock, logs: Any
) -> None:
    kinesis = hw.client("kinesis")
    kinesis.create_stream(StreamName="logs", ShardCount=1)
    stream_arn = kinesis.describe_stream_summary(StreamName="logs")["StreamDescriptionSummary"][
        "StreamARN"
    ]
    missing = error_of(
        logs.put_subscription_filter,
        logGroupName=GROUP,
        filterName="k",
        filterPattern="",
        destinationArn=stream_arn.replace("/logs", "/nope"),
        roleArn=ROLE,
    )
    assert missing["Code"] == "InvalidParameterException"
    subscribe(logs, "k", stream_arn, "test", roleArn=ROLE)
    (described,) = logs.describe_subscription_filters(logGroupName=GROUP)["subscriptionFilters"]
    assert described["roleArn"] == ROLE
    put(logs, clock, "test", "skip", "test 2")
    iterator = kinesis.get_shard_iterator(
        StreamName="logs", ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    (record,) = kinesis.get_records(ShardIterator=iterator)["Records"]
    assert record["PartitionKey"] == "s"
    message = json.loads(gzip.decompress(record["Data"]))
    assert message["messageType"] == "DATA_MESSAGE"
    assert message["subscriptionFilters"] == ["k"]
    assert [e["message"] for e in message["logEvents"]] == ["test", "test 2"]


def test_payload_is_base64_of_gzip() -> None:
    from headwater.services.logs.subscription_filters import data_message, lambda_payload

    message = data_message(ACCOUNT, "g", "s", "f", [{"id": "1", "timestamp": 2, "message": "m"}])
    payload = json.loads(lambda_payload(message))
    decoded = json.loads(gzip.decompress(base64.b64decode(payload["awslogs"]["data"])))
    assert decoded["logEvents"] == [{"id": "1", "timestamp": 2, "message": "m"}]


def test_the_first_events_after_a_restart_make_the_destination_services(tmp_path: Path) -> None:
    """After a restart, the first events put in a subscribed group (by PutLogEvents, and
    by a function's own log) are delivered to a function and a stream whose services are
    first made inside the events' transaction (``test_service_creation_locks`` has why
    that is safe)."""
    data = tmp_path / "data"
    clock = ManualClock()
    with Headwater(data_dir=data, clock=clock, functions="inline") as first:
        consumer, _ = make_consumer(first, tmp_path)
        code = tmp_path / "code-producer"
        code.mkdir()
        (code / "app.py").write_text("def handle(event, context):\n    print('ORDER_FAILED')\n")
        first.lambda_.create_function_from_directory("producer", code, "app.handle")
        kinesis = first.client("kinesis")
        kinesis.create_stream(StreamName="logs", ShardCount=1)
        stream = kinesis.describe_stream_summary(StreamName="logs")["StreamDescriptionSummary"][
            "StreamARN"
        ]
        logs = first.client("logs")
        for group in (GROUP, "/aws/lambda/producer"):
            logs.create_log_group(logGroupName=group)
            logs.put_subscription_filter(
                logGroupName=group, filterName="k", filterPattern="", destinationArn=stream,
                roleArn=ROLE,
            )  # fmt: skip
        logs.put_subscription_filter(
            logGroupName=GROUP, filterName="f", filterPattern="", destinationArn=consumer
        )
        logs.create_log_stream(logGroupName=GROUP, logStreamName="s")
    with Headwater(data_dir=data, clock=clock, functions="inline") as hw:
        logs = hw.client("logs")
        put(logs, clock, "ERROR a")
        assert hw.existing_service("kinesis") and hw.existing_service("lambda")
    with Headwater(data_dir=data, clock=clock, functions="inline") as hw:
        hw.lambda_.invoke(FunctionName="producer", Payload=b"{}")
        hw.client("logs").describe_log_groups()  # flushes the function's log
        assert hw.existing_service("kinesis")
