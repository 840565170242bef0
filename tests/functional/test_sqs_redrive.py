"""Dead-letter queues: redrive on maxReceiveCount, and message move tasks back out."""

from __future__ import annotations

import json
from typing import Any

import pytest

from headwater import Headwater, ManualClock
from tests.functional.sqs_expect import expect_error

ARN = "arn:aws:sqs:us-east-1:000000000000:"


@pytest.fixture
def sqs(hw: Headwater) -> Any:
    return hw.client("sqs")


def make_pair(sqs: Any, max_receive_count: int = 2, fifo: bool = False) -> tuple[str, str]:
    suffix = ".fifo" if fifo else ""
    extra = {"FifoQueue": "true", "ContentBasedDeduplication": "true"} if fifo else {}
    dlq = sqs.create_queue(QueueName="dlq" + suffix, Attributes=extra)["QueueUrl"]
    policy = json.dumps(
        {"deadLetterTargetArn": ARN + "dlq" + suffix, "maxReceiveCount": max_receive_count}
    )
    src = sqs.create_queue(
        QueueName="src" + suffix,
        Attributes={"RedrivePolicy": policy, "VisibilityTimeout": "10", **extra},
    )["QueueUrl"]
    return src, dlq


def test_message_moves_to_dlq_after_max_receives(sqs: Any, clock: ManualClock) -> None:
    src, dlq = make_pair(sqs, max_receive_count=2)
    sent = sqs.send_message(
        QueueUrl=src,
        MessageBody="poison",
        MessageAttributes={"k": {"DataType": "String", "StringValue": "v"}},
    )
    for expected in ("1", "2"):
        got = sqs.receive_message(QueueUrl=src, AttributeNames=["All"])["Messages"][0]
        assert got["Attributes"]["ApproximateReceiveCount"] == expected
        clock.advance(10)
    assert "Messages" not in sqs.receive_message(QueueUrl=src)
    moved = sqs.receive_message(
        QueueUrl=dlq, AttributeNames=["All"], MessageAttributeNames=["All"]
    )["Messages"][0]
    assert moved["MessageId"] == sent["MessageId"]
    assert moved["Body"] == "poison"
    assert moved["MessageAttributes"] == {"k": {"DataType": "String", "StringValue": "v"}}
    # two source receives kept, plus this one (AWS-recorded)
    assert moved["Attributes"]["ApproximateReceiveCount"] == "3"
    assert moved["Attributes"]["DeadLetterQueueSourceArn"] == ARN + "src"


def test_redrive_keeps_other_messages_flowing(sqs: Any, clock: ManualClock) -> None:
    src, dlq = make_pair(sqs, max_receive_count=1)
    sqs.send_message(QueueUrl=src, MessageBody="bad")
    clock.advance(1)
    sqs.send_message(QueueUrl=src, MessageBody="good")
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=src)["Messages"]] == ["bad"]
    clock.advance(10)
    # The receive moves "bad" and still fills the response with "good".
    got = sqs.receive_message(QueueUrl=src, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in got] == ["good"]
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=dlq)["Messages"]] == ["bad"]


def test_fifo_redrive_preserves_group_order(sqs: Any, clock: ManualClock) -> None:
    src, dlq = make_pair(sqs, max_receive_count=1, fifo=True)
    for i in range(3):
        sqs.send_message(QueueUrl=src, MessageBody=f"m{i}", MessageGroupId="g")
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=src)["Messages"]] == ["m0"]
    clock.advance(10)
    got = sqs.receive_message(QueueUrl=src, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in got] == ["m1", "m2"]
    moved = sqs.receive_message(QueueUrl=dlq, AttributeNames=["All"])["Messages"][0]
    assert moved["Body"] == "m0"
    assert moved["Attributes"]["MessageGroupId"] == "g"


def test_move_task_redrives_to_original_source(sqs: Any, clock: ManualClock) -> None:
    src, _dlq = make_pair(sqs, max_receive_count=1)
    for i in range(3):
        sqs.send_message(QueueUrl=src, MessageBody=str(i))
    sqs.receive_message(QueueUrl=src, MaxNumberOfMessages=10)
    clock.advance(10)
    assert "Messages" not in sqs.receive_message(QueueUrl=src, MaxNumberOfMessages=10)
    handle = sqs.start_message_move_task(SourceArn=ARN + "dlq")["TaskHandle"]
    tasks = sqs.list_message_move_tasks(SourceArn=ARN + "dlq")["Results"]
    assert tasks == [
        {
            "Status": "COMPLETED",
            "SourceArn": ARN + "dlq",
            "ApproximateNumberOfMessagesMoved": 3,
            "ApproximateNumberOfMessagesToMove": 3,
            "StartedTimestamp": int(clock.now() * 1000),
        }
    ]
    assert handle
    back = sqs.receive_message(QueueUrl=src, MaxNumberOfMessages=10, AttributeNames=["All"])
    assert sorted(m["Body"] for m in back["Messages"]) == ["0", "1", "2"]
    assert all("DeadLetterQueueSourceArn" not in m["Attributes"] for m in back["Messages"])


def test_rate_limited_move_task_progresses_with_the_clock(sqs: Any, clock: ManualClock) -> None:
    src, dlq = make_pair(sqs)
    other = sqs.create_queue(QueueName="other")["QueueUrl"]
    sqs.send_message_batch(
        QueueUrl=dlq, Entries=[{"Id": str(i), "MessageBody": str(i)} for i in range(10)]
    )
    handle = sqs.start_message_move_task(
        SourceArn=ARN + "dlq", DestinationArn=ARN + "other", MaxNumberOfMessagesPerSecond=2
    )["TaskHandle"]
    task = sqs.list_message_move_tasks(SourceArn=ARN + "dlq", MaxResults=10)["Results"][0]
    assert task["Status"] == "RUNNING"
    assert task["TaskHandle"] == handle
    assert task["ApproximateNumberOfMessagesMoved"] == 0
    expect_error(
        lambda: sqs.start_message_move_task(SourceArn=ARN + "dlq"),
        "InvalidParameterValue",
        "There is already a task running. Only one active task is allowed for a source queue "
        "arn at a given time.",
    )
    clock.advance(2)  # the clock subscription moves 4 messages
    task = sqs.list_message_move_tasks(SourceArn=ARN + "dlq")["Results"][0]
    assert task["ApproximateNumberOfMessagesMoved"] == 4
    assert len(sqs.receive_message(QueueUrl=other, MaxNumberOfMessages=10)["Messages"]) == 4
    cancelled = sqs.cancel_message_move_task(TaskHandle=handle)
    assert cancelled["ApproximateNumberOfMessagesMoved"] == 4
    clock.advance(10)
    task = sqs.list_message_move_tasks(SourceArn=ARN + "dlq")["Results"][0]
    assert task["Status"] == "CANCELLED"
    assert "TaskHandle" not in task
    assert task["ApproximateNumberOfMessagesMoved"] == 4
    sqs.start_message_move_task(SourceArn=ARN + "dlq", DestinationArn=ARN + "other")
    assert len(sqs.list_message_move_tasks(SourceArn=ARN + "dlq", MaxResults=10)["Results"]) == 2
    assert src


def test_move_task_bad_input(sqs: Any) -> None:
    make_pair(sqs)
    plain = sqs.create_queue(QueueName="plain")
    assert plain
    expect_error(
        lambda: sqs.start_message_move_task(SourceArn=ARN + "nope"),
        "ResourceNotFoundException",
        "The resource that you specified for the SourceArn parameter doesn't exist.",
        status=404,
        exception="ResourceNotFoundException",
    )
    expect_error(
        lambda: sqs.start_message_move_task(SourceArn=ARN + "plain"),
        "InvalidParameterValue",
        "Source queue must be configured as a Dead Letter Queue.",
    )
    expect_error(
        lambda: sqs.start_message_move_task(SourceArn=ARN + "dlq", DestinationArn=ARN + "nope"),
        "ResourceNotFoundException",
        "The resource that you specified for the DestinationArn parameter doesn't exist.",
    )
    expect_error(
        lambda: sqs.start_message_move_task(
            SourceArn=ARN + "dlq", MaxNumberOfMessagesPerSecond=501
        ),
        "InvalidParameterValue",
    )
    expect_error(
        lambda: sqs.cancel_message_move_task(TaskHandle="not-a-handle"),
        "InvalidParameterValue",
        "Value for parameter TaskHandle is invalid.",
    )
    expect_error(
        lambda: sqs.list_message_move_tasks(SourceArn=ARN + "nope"),
        "ResourceNotFoundException",
    )
    assert sqs.list_message_move_tasks(SourceArn=ARN + "dlq")["Results"] == []


def test_retention_in_the_dlq_counts_from_the_original_send(sqs: Any, clock: ManualClock) -> None:
    dlq = sqs.create_queue(QueueName="dlq", Attributes={"MessageRetentionPeriod": "60"})["QueueUrl"]
    policy = json.dumps({"deadLetterTargetArn": ARN + "dlq", "maxReceiveCount": 1})
    src = sqs.create_queue(
        QueueName="src", Attributes={"RedrivePolicy": policy, "VisibilityTimeout": "40"}
    )["QueueUrl"]
    sqs.send_message(QueueUrl=src, MessageBody="x")
    sqs.receive_message(QueueUrl=src)
    clock.advance(40)
    assert "Messages" not in sqs.receive_message(QueueUrl=src)  # moved to the DLQ now
    clock.advance(19)
    assert sqs.receive_message(QueueUrl=dlq, VisibilityTimeout=0)["Messages"]
    clock.advance(1)  # 60 s after the original send: expired in the DLQ (standard queues)
    assert "Messages" not in sqs.receive_message(QueueUrl=dlq)
