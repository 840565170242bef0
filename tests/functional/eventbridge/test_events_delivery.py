"""EventBridge targets beyond queues, topics and functions (Kinesis streams, Step Functions
state machines, other event buses), and what a failed delivery does: RetryPolicy retries on
the headwater clock, DeadLetterConfig's queue with AWS's message attributes, the AWS/Events
metrics, and pending retries surviving a restart."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from headwater import Headwater, ManualClock
from headwater.core.errors import AwsError
from tests.functional.eventbridge.wire import (
    ACCOUNT,
    REGION,
    START,
    Clients,
    dead_letters,
    drain,
    entry,
    make_queue,
)

ROLE = f"arn:aws:iam::{ACCOUNT}:role/events"


def metric(hw: Headwater, name: str, rule: str) -> float:
    """The sum of AWS/Events ``name`` for ``rule`` so far."""
    now = hw.clock.now()
    points = hw.client("cloudwatch").get_metric_statistics(
        Namespace="AWS/Events",
        MetricName=name,
        Dimensions=[{"Name": "RuleName", "Value": rule}],
        StartTime=START - 600,
        EndTime=now + 600,
        Period=86400,
        Statistics=["Sum"],
    )["Datapoints"]
    return float(sum(point["Sum"] for point in points))


def small_queue(client: Clients, name: str = "small") -> tuple[str, str]:
    """A queue that refuses messages over 1024 bytes (a refusal that can be fixed)."""
    url, arn = make_queue(client, name)
    client("sqs").set_queue_attributes(QueueUrl=url, Attributes={"MaximumMessageSize": "1024"})
    return url, arn


def orders_rule(events: Any, targets: list[dict[str, Any]]) -> None:
    """The rule ``orders`` on the default bus, for ``entry()``'s events, with ``targets``."""
    events.put_rule(Name="orders", EventPattern='{"source": ["shop.orders"]}')
    events.put_targets(Rule="orders", Targets=targets)


def big_entry() -> dict[str, Any]:
    return entry(detail={"text": "x" * 2000})


# ---------------------------------------------------------------------------- targets


def test_kinesis_target_gets_the_event_keyed_by_path_or_event_id(
    events: Any, client: Clients
) -> None:
    kinesis = client("kinesis")
    kinesis.create_stream(StreamName="orders", ShardCount=1)
    stream = kinesis.describe_stream_summary(StreamName="orders")["StreamDescriptionSummary"][
        "StreamARN"
    ]
    orders_rule(
        events,
        [
            {
                "Id": "keyed",
                "Arn": stream,
                "RoleArn": ROLE,
                "KinesisParameters": {"PartitionKeyPath": "$.detail.customer"},
            },
            {"Id": "plain", "Arn": stream, "RoleArn": ROLE, "InputPath": "$.detail"},
        ],
    )
    event_id = events.put_events(Entries=[entry(detail={"customer": "c-7"})])["Entries"][0][
        "EventId"
    ]
    shard = kinesis.list_shards(StreamName="orders")["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(
        StreamName="orders", ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records = kinesis.get_records(ShardIterator=iterator)["Records"]
    by_key = {record["PartitionKey"]: json.loads(record["Data"]) for record in records}
    assert by_key["c-7"]["id"] == event_id
    assert by_key[event_id] == {"customer": "c-7"}  # no path: the event's id, as AWS does


def test_state_machine_target_starts_an_execution_with_the_event(
    hw: Headwater, events: Any, client: Clients
) -> None:
    sfn = client("stepfunctions")
    machine = sfn.create_state_machine(
        name="orders",
        definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}),
        roleArn=ROLE,
    )["stateMachineArn"]
    orders_rule(events, [{"Id": "sm", "Arn": machine, "RoleArn": ROLE}])
    event_id = events.put_events(Entries=[entry()])["Entries"][0]["EventId"]
    (execution,) = sfn.list_executions(stateMachineArn=machine)["executions"]
    described = sfn.describe_execution(executionArn=execution["executionArn"])
    assert json.loads(described["input"])["id"] == event_id
    assert metric(hw, "Invocations", "orders") == 1.0


def test_event_bus_target_gets_the_same_event(events: Any, client: Clients) -> None:
    url, queue = make_queue(client)
    other = events.create_event_bus(Name="audit")["EventBusArn"]
    events.put_rule(Name="to-audit", EventPattern='{"source": ["shop.orders"]}')
    events.put_targets(Rule="to-audit", Targets=[{"Id": "bus", "Arn": other, "RoleArn": ROLE}])
    events.put_rule(
        Name="audit-all", EventBusName="audit", EventPattern='{"source": ["shop.orders"]}'
    )
    events.put_targets(Rule="audit-all", EventBusName="audit", Targets=[{"Id": "q", "Arn": queue}])
    event_id = events.put_events(Entries=[entry()])["Entries"][0]["EventId"]
    (body,) = drain(client, url)
    received = json.loads(body)
    assert received["id"] == event_id
    assert received["detail"] == {"amount": 5}


def test_an_event_from_another_bus_is_not_sent_to_a_third(events: Any, client: Clients) -> None:
    url, queue = make_queue(client)
    a = events.create_event_bus(Name="a")["EventBusArn"]
    b = events.create_event_bus(Name="b")["EventBusArn"]
    for bus, to in (("a", b), ("b", a)):
        events.put_rule(Name="loop", EventBusName=bus, EventPattern='{"source": ["shop.orders"]}')
        events.put_targets(
            Rule="loop",
            EventBusName=bus,
            Targets=[{"Id": "bus", "Arn": to, "RoleArn": ROLE}, {"Id": "q", "Arn": queue}],
        )
    events.put_events(Entries=[entry(EventBusName="a")])
    assert len(drain(client, url)) == 2  # on bus a, then on bus b: not back to a


# ---------------------------------------------------------------------------- failures


def test_missing_target_goes_to_the_dead_letter_queue_without_retries(
    hw: Headwater, events: Any, client: Clients
) -> None:
    dlq_url, dlq = make_queue(client, "dlq")
    gone = f"arn:aws:sqs:{REGION}:{ACCOUNT}:gone"
    orders_rule(events, [{"Id": "q", "Arn": gone, "DeadLetterConfig": {"Arn": dlq}}])
    event_id = events.put_events(Entries=[entry()])["Entries"][0]["EventId"]
    ((body, attributes),) = dead_letters(client, dlq_url)
    assert body["id"] == event_id  # the event itself, not the target's input
    assert attributes.pop("ERROR_MESSAGE")
    assert attributes == {
        "RULE_ARN": f"arn:aws:events:{REGION}:{ACCOUNT}:rule/orders",
        "TARGET_ARN": gone,
        "ERROR_CODE": "NO_RESOURCE",
        "RETRY_ATTEMPTS": "0",
    }
    assert metric(hw, "InvocationsSentToDlq", "orders") == 1.0
    assert metric(hw, "FailedInvocations", "orders") == 0.0


def test_missing_target_without_dead_letter_queue_counts_a_failed_invocation(
    hw: Headwater, events: Any
) -> None:
    orders_rule(events, [{"Id": "q", "Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:gone"}])
    events.put_events(Entries=[entry()])
    assert metric(hw, "FailedInvocations", "orders") == 1.0


def test_refused_delivery_is_retried_then_dead_lettered(
    hw: Headwater, events: Any, client: Clients, clock: ManualClock
) -> None:
    url, queue = small_queue(client)
    dlq_url, dlq = make_queue(client, "dlq")
    orders_rule(
        events,
        [
            {
                "Id": "q",
                "Arn": queue,
                "RetryPolicy": {"MaximumRetryAttempts": 2},
                "DeadLetterConfig": {"Arn": dlq},
            }
        ],
    )
    event_id = events.put_events(Entries=[big_entry()])["Entries"][0]["EventId"]
    assert dead_letters(client, dlq_url) == []
    clock.advance(1)  # the first retry, one second on
    assert dead_letters(client, dlq_url) == []
    clock.advance(2)  # the second (and last), two seconds after it
    ((body, attributes),) = dead_letters(client, dlq_url)
    assert body["id"] == event_id
    assert attributes["ERROR_CODE"] == "SDK_CLIENT_ERROR"
    assert attributes["EXHAUSTED_RETRY_CONDITION"] == "MaximumRetryAttempts"
    assert attributes["RETRY_ATTEMPTS"] == "2"
    assert drain(client, url) == []
    assert metric(hw, "RetryInvocationAttempts", "orders") == 2.0
    assert metric(hw, "InvocationsSentToDlq", "orders") == 1.0
    clock.advance(600)
    assert dead_letters(client, dlq_url) == []  # nothing more is tried


def test_retry_delivers_once_the_target_takes_it(
    hw: Headwater, events: Any, client: Clients, clock: ManualClock
) -> None:
    url, queue = small_queue(client)
    orders_rule(events, [{"Id": "q", "Arn": queue}])
    event_id = events.put_events(Entries=[big_entry()])["Entries"][0]["EventId"]
    clock.advance(1)
    clock.advance(2)
    client("sqs").set_queue_attributes(QueueUrl=url, Attributes={"MaximumMessageSize": "262144"})
    assert drain(client, url) == []
    clock.advance(4)
    (body,) = drain(client, url)
    assert json.loads(body)["id"] == event_id
    assert metric(hw, "Invocations", "orders") == 1.0


def test_retries_stop_at_the_maximum_event_age(
    events: Any, client: Clients, clock: ManualClock
) -> None:
    _, queue = small_queue(client)
    dlq_url, dlq = make_queue(client, "dlq")
    orders_rule(
        events,
        [
            {
                "Id": "q",
                "Arn": queue,
                "RetryPolicy": {"MaximumEventAgeInSeconds": 60, "MaximumRetryAttempts": 185},
                "DeadLetterConfig": {"Arn": dlq},
            }
        ],
    )
    events.put_events(Entries=[big_entry()])
    for _ in range(70):
        clock.advance(1)
    ((_, attributes),) = dead_letters(client, dlq_url)
    assert attributes["EXHAUSTED_RETRY_CONDITION"] == "MaximumEventAgeInSeconds"
    # retries after 1, 2, 4, 8, 16 s (31 s in); the next, 32 s on, would be past 60 s
    assert attributes["RETRY_ATTEMPTS"] == "5"


def test_a_missing_dead_letter_queue_counts_a_failure_to_send_there(
    hw: Headwater, events: Any
) -> None:
    orders_rule(
        events,
        [
            {
                "Id": "q",
                "Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:gone",
                "DeadLetterConfig": {"Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:no-dlq"},
            }
        ],
    )
    events.put_events(Entries=[entry()])
    assert metric(hw, "InvocationsFailedToBeSentToDlq", "orders") == 1.0


def test_pending_retry_survives_a_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    clock = ManualClock(START)
    with Headwater(data_dir=data, clock=clock, functions="inline") as first:
        sqs = first.sqs
        url = sqs.create_queue(QueueName="small", Attributes={"MaximumMessageSize": "1024"})[
            "QueueUrl"
        ]
        first.events.put_rule(Name="orders", EventPattern='{"source": ["shop.orders"]}')
        first.events.put_targets(
            Rule="orders", Targets=[{"Id": "q", "Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:small"}]
        )
        event_id = first.events.put_events(Entries=[big_entry()])["Entries"][0]["EventId"]
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"MaximumMessageSize": "262144"})
    with Headwater(data_dir=data, clock=clock, functions="inline") as second:
        second.service("events")
        clock.advance(1)
        (message,) = second.sqs.receive_message(QueueUrl=url)["Messages"]
        assert json.loads(message["Body"])["id"] == event_id


def test_a_retry_policy_out_of_range_is_refused(hw: Headwater) -> None:
    # the service itself: botocore's client refuses 59 before sending it
    service = hw.service("events")
    ctx = hw.env.default_context()
    service.call("PutRule", {"Name": "orders", "EventPattern": '{"source": ["s"]}'}, ctx)
    queue = f"arn:aws:sqs:{REGION}:{ACCOUNT}:inbox"
    for policy, message in (
        (
            {"MaximumRetryAttempts": 186},
            "1 validation error detected: Value '186' at "
            "'targets.1.member.retryPolicy.maximumRetryAttempts' failed to satisfy constraint: "
            "Member must have value less than or equal to 185",
        ),
        (
            {"MaximumEventAgeInSeconds": 59},
            "1 validation error detected: Value '59' at "
            "'targets.1.member.retryPolicy.maximumEventAgeInSeconds' failed to satisfy "
            "constraint: Member must have value greater than or equal to 60",
        ),
    ):
        targets = [{"Id": "q", "Arn": queue, "RetryPolicy": policy}]
        with pytest.raises(AwsError) as refused:
            service.call("PutTargets", {"Rule": "orders", "Targets": targets}, ctx)
        assert (refused.value.code, refused.value.message) == ("ValidationException", message)
    assert service.call("ListTargetsByRule", {"Rule": "orders"}, ctx)["Targets"] == []


def test_missing_state_machine_is_dead_lettered_after_the_commit(
    events: Any, client: Clients
) -> None:
    dlq_url, dlq = make_queue(client, "dlq")
    gone = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:gone"
    orders_rule(
        events, [{"Id": "sm", "Arn": gone, "RoleArn": ROLE, "DeadLetterConfig": {"Arn": dlq}}]
    )
    event_id = events.put_events(Entries=[entry()])["Entries"][0]["EventId"]
    ((body, attributes),) = dead_letters(client, dlq_url)
    assert body["id"] == event_id
    assert (attributes["ERROR_CODE"], attributes["TARGET_ARN"]) == ("NO_RESOURCE", gone)


def test_throttled_stream_is_retried(clock: ManualClock) -> None:
    with Headwater.in_memory(clock=clock, kinesis_enforce_throughput=True) as hw:
        kinesis = hw.kinesis
        kinesis.create_stream(StreamName="orders", ShardCount=1)
        stream = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/orders"
        hw.events.put_rule(Name="orders", EventPattern='{"source": ["shop.orders"]}')
        hw.events.put_targets(Rule="orders", Targets=[{"Id": "k", "Arn": stream}])
        # the shard's 1 MiB for this second, all but 70 bytes used up
        for _ in range(2):
            kinesis.put_record(StreamName="orders", Data=b"x" * 524_250, PartitionKey="k")
        event_id = hw.events.put_events(Entries=[entry()])["Entries"][0]["EventId"]
        shard = kinesis.list_shards(StreamName="orders")["Shards"][0]["ShardId"]

        def records() -> list[Any]:
            iterator = kinesis.get_shard_iterator(
                StreamName="orders", ShardId=shard, ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
            return list(kinesis.get_records(ShardIterator=iterator)["Records"])

        assert len(records()) == 2
        clock.advance(1)  # a new second's budget, and the retry's time
        (*_, delivered) = records()
        assert json.loads(delivered["Data"])["id"] == event_id
