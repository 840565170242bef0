"""FIFO queues: group order, in-flight group blocking, deduplication, sequence numbers."""

from __future__ import annotations

from typing import Any

import pytest

from headwater import Headwater, ManualClock
from headwater.services.sqs.message_digest import content_dedup_id
from tests.functional.sqs_expect import expect_error


@pytest.fixture
def sqs(hw: Headwater) -> Any:
    return hw.client("sqs")


@pytest.fixture
def url(sqs: Any) -> str:
    return str(
        sqs.create_queue(
            QueueName="q.fifo",
            Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"},
        )["QueueUrl"]
    )


def bodies(response: dict[str, Any]) -> list[str]:
    return [m["Body"] for m in response.get("Messages", [])]


def test_order_within_group_and_blocking_while_in_flight(
    sqs: Any, url: str, clock: ManualClock
) -> None:
    for i in range(4):
        sqs.send_message(QueueUrl=url, MessageBody=f"a{i}", MessageGroupId="A")
    sqs.send_message(QueueUrl=url, MessageBody="b0", MessageGroupId="B")
    first = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2)
    assert bodies(first) == ["a0", "a1"]
    # Group A is blocked while a0/a1 are in flight; B is free.
    assert bodies(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)) == ["b0"]
    assert bodies(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)) == []
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first["Messages"][0]["ReceiptHandle"])
    # a1 is still in flight, so the group stays blocked.
    assert bodies(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)) == []
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first["Messages"][1]["ReceiptHandle"])
    assert bodies(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)) == ["a2", "a3"]


def test_visibility_expiry_redelivers_in_order(sqs: Any, url: str, clock: ManualClock) -> None:
    for i in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{i}", MessageGroupId="g")
    assert bodies(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1)) == ["m0"]
    clock.advance(30)
    again = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])
    assert bodies(again) == ["m0", "m1", "m2"]
    assert again["Messages"][0]["Attributes"]["ApproximateReceiveCount"] == "2"
    assert again["Messages"][1]["Attributes"]["ApproximateReceiveCount"] == "1"


def test_system_attributes_and_increasing_sequence_numbers(sqs: Any, url: str) -> None:
    sent = [
        sqs.send_message(QueueUrl=url, MessageBody=f"m{i}", MessageGroupId="g") for i in range(3)
    ]
    numbers = [int(s["SequenceNumber"]) for s in sent]
    assert numbers == sorted(numbers) and len(set(numbers)) == 3
    assert all(len(s["SequenceNumber"]) == 20 for s in sent)
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])
    attrs = got["Messages"][0]["Attributes"]
    assert attrs["MessageGroupId"] == "g"
    assert attrs["MessageDeduplicationId"] == content_dedup_id("m0")
    assert attrs["SequenceNumber"] == sent[0]["SequenceNumber"]


def test_deduplication_window(sqs: Any, url: str, clock: ManualClock) -> None:
    first = sqs.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="g")
    again = sqs.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="g")
    assert again["MessageId"] == first["MessageId"]
    explicit = sqs.send_message(
        QueueUrl=url, MessageBody="same", MessageGroupId="g", MessageDeduplicationId="other"
    )
    assert explicit["MessageId"] != first["MessageId"]
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert len(got) == 2
    for message in got:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    # Still remembered after deletion, until 5 minutes pass.
    clock.advance(299)
    assert (
        sqs.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="g")["MessageId"]
        == first["MessageId"]
    )
    assert bodies(sqs.receive_message(QueueUrl=url)) == []
    clock.advance(1)
    fresh = sqs.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="g")
    assert fresh["MessageId"] != first["MessageId"]
    assert bodies(sqs.receive_message(QueueUrl=url)) == ["same"]


def test_dedup_in_one_batch_and_scope_per_group(sqs: Any) -> None:
    url = sqs.create_queue(
        QueueName="g.fifo",
        Attributes={"FifoQueue": "true", "DeduplicationScope": "messageGroup"},
    )["QueueUrl"]
    result = sqs.send_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "1", "MessageBody": "x", "MessageGroupId": "a", "MessageDeduplicationId": "d"},
            {"Id": "2", "MessageBody": "x", "MessageGroupId": "a", "MessageDeduplicationId": "d"},
            {"Id": "3", "MessageBody": "x", "MessageGroupId": "b", "MessageDeduplicationId": "d"},
        ],
    )
    ids = [s["MessageId"] for s in result["Successful"]]
    assert ids[0] == ids[1] != ids[2]
    assert len(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]) == 2


def test_fifo_bad_input(sqs: Any, url: str) -> None:
    expect_error(
        lambda: sqs.send_message(QueueUrl=url, MessageBody="x"),
        "MissingParameter",
        "The request must contain the parameter MessageGroupId.",
    )
    expect_error(
        lambda: sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g", DelaySeconds=5),
        "InvalidParameterValue",
        "Value 5 for parameter DelaySeconds is invalid. Reason: The request include parameter "
        "that is not valid for this queue type.",
    )
    expect_error(
        lambda: sqs.send_message(
            QueueUrl=url, MessageBody="x", MessageGroupId="g", MessageDeduplicationId="x" * 129
        ),
        "InvalidParameterValue",
    )
    plain = sqs.create_queue(QueueName="p.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    expect_error(
        lambda: sqs.send_message(QueueUrl=plain, MessageBody="x", MessageGroupId="g"),
        "InvalidParameterValue",
        "The queue should either have ContentBasedDeduplication enabled or "
        "MessageDeduplicationId provided explicitly",
    )
    assert bodies(sqs.receive_message(QueueUrl=url)) == []
    assert bodies(sqs.receive_message(QueueUrl=plain)) == []


def test_fifo_delay_queue_holds_whole_group(sqs: Any, clock: ManualClock) -> None:
    url = sqs.create_queue(
        QueueName="d.fifo",
        Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true", "DelaySeconds": "5"},
    )["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="first", MessageGroupId="g")
    assert bodies(sqs.receive_message(QueueUrl=url)) == []
    clock.advance(5)
    assert bodies(sqs.receive_message(QueueUrl=url)) == ["first"]


def test_many_groups_interleave(sqs: Any, url: str) -> None:
    for i in range(6):
        sqs.send_message(QueueUrl=url, MessageBody=f"{'ab'[i % 2]}{i}", MessageGroupId="ab"[i % 2])
    got = bodies(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10))
    assert sorted(got) == sorted(["a0", "b1", "a2", "b3", "a4", "b5"])
    assert [b for b in got if b[0] == "a"] == ["a0", "a2", "a4"]
    assert [b for b in got if b[0] == "b"] == ["b1", "b3", "b5"]


def test_group_stays_blocked_while_any_received_message_is_in_flight(
    sqs: Any, url: str, clock: ManualClock
) -> None:
    for i in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{i}", MessageGroupId="g")
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2, VisibilityTimeout=10)
    first = got["Messages"][0]["ReceiptHandle"]
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=first, VisibilityTimeout=0)
    # m0 is visible again but m1 is still in flight: the group yields nothing.
    assert bodies(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)) == []
    clock.advance(10)
    assert bodies(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)) == ["m0", "m1", "m2"]


def test_receive_request_attempt_id_replays_the_same_receive(
    sqs: Any, url: str, clock: ManualClock
) -> None:
    for i in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{i}", MessageGroupId="g")
    first = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=2, ReceiveRequestAttemptId="try-1"
    )["Messages"]
    clock.advance(20)
    again = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=2, ReceiveRequestAttemptId="try-1"
    )["Messages"]
    assert [m["ReceiptHandle"] for m in again] == [m["ReceiptHandle"] for m in first]
    clock.advance(20)  # the replay restarted the 30 s visibility timeout
    assert bodies(sqs.receive_message(QueueUrl=url)) == []
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first[0]["ReceiptHandle"])
    # Once a message of the attempt is gone the id no longer replays.
    assert (
        bodies(
            sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=2, ReceiveRequestAttemptId="try-1"
            )
        )
        == []
    )
    expect_error(
        lambda: sqs.receive_message(QueueUrl=url, ReceiveRequestAttemptId="bad id"),
        "InvalidParameterValue",
    )


def test_fifo_batch_without_group_or_dedup_id_fails_whole_request(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="b.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    good = {"Id": "1", "MessageBody": "x", "MessageGroupId": "g", "MessageDeduplicationId": "d"}
    expect_error(
        lambda: sqs.send_message_batch(
            QueueUrl=url,
            Entries=[good, {"Id": "2", "MessageBody": "y", "MessageDeduplicationId": "e"}],
        ),
        "InvalidParameterValue",
        "The request must contain the parameter MessageGroupId.",
    )
    expect_error(
        lambda: sqs.send_message_batch(
            QueueUrl=url, Entries=[good, {"Id": "2", "MessageBody": "y", "MessageGroupId": "g"}]
        ),
        "InvalidParameterValue",
        "The queue should either have ContentBasedDeduplication enabled or "
        "MessageDeduplicationId provided explicitly",
    )
    assert bodies(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)) == []
