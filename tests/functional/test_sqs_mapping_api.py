"""The typed API the ESM engine uses: queue_info, receive/delete/visibility, listeners."""

from __future__ import annotations

import json
from typing import Any

import pytest

from headwater import AwsError, Headwater, ManualClock
from headwater.services.sqs import QueueInfo, ReceivedMessage, SqsService

ARN = "arn:aws:sqs:us-east-1:000000000000:"


@pytest.fixture
def sqs(hw: Headwater) -> Any:
    return hw.client("sqs")


@pytest.fixture
def service(hw: Headwater) -> SqsService:
    found = hw.service("sqs")
    assert isinstance(found, SqsService)
    return found


def test_queue_info(sqs: Any, service: SqsService) -> None:
    sqs.create_queue(QueueName="q", Attributes={"VisibilityTimeout": "45"})
    sqs.create_queue(QueueName="f.fifo", Attributes={"FifoQueue": "true"})
    assert service.queue_info(ARN + "q") == QueueInfo(
        arn=ARN + "q",
        name="q",
        url="https://sqs.us-east-1.amazonaws.com/000000000000/q",
        region="us-east-1",
        fifo=False,
        visibility_timeout=45,
    )
    assert service.queue_info(ARN + "f.fifo").fifo
    with pytest.raises(AwsError) as caught:
        service.queue_info(ARN + "missing")
    assert caught.value.code == "QueueDoesNotExist"


def test_receive_for_mapping_returns_lambda_record_fields(
    sqs: Any, service: SqsService, clock: ManualClock
) -> None:
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    sent = sqs.send_message(
        QueueUrl=url,
        MessageBody='{"orderId": 1}',
        MessageAttributes={"tenant": {"DataType": "String", "StringValue": "acme"}},
    )
    clock.advance(1)
    (message,) = service.receive_for_mapping(ARN + "q", 10)
    assert isinstance(message, ReceivedMessage)
    assert message.message_id == sent["MessageId"]
    assert message.body == '{"orderId": 1}'
    assert message.md5_of_body == sent["MD5OfMessageBody"]
    assert message.md5_of_message_attributes == sent["MD5OfMessageAttributes"]
    assert message.message_attributes == {"tenant": {"DataType": "String", "StringValue": "acme"}}
    assert message.attributes == {
        "SenderId": "000000000000",
        "SentTimestamp": str(int((clock.now() - 1) * 1000)),
        "ApproximateReceiveCount": "1",
        "ApproximateFirstReceiveTimestamp": str(int(clock.now() * 1000)),
    }
    assert message.sent_timestamp == clock.now() - 1
    assert service.receive_for_mapping(ARN + "q", 10) == []


def test_receive_more_than_ten_delete_and_counts(sqs: Any, service: SqsService) -> None:
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    for start in range(0, 25, 5):
        sqs.send_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(i), "MessageBody": str(i)} for i in range(start, start + 5)],
        )
    got = service.receive_for_mapping(ARN + "q", 20)
    assert len(got) == 20
    deleted = service.delete_for_mapping(ARN + "q", [m.receipt_handle for m in got])
    assert deleted == 20
    assert service.delete_for_mapping(ARN + "q", [m.receipt_handle for m in got]) == 0
    assert len(service.receive_for_mapping(ARN + "q", 20)) == 5


def test_change_visibility_and_next_visible_at(
    sqs: Any, service: SqsService, clock: ManualClock
) -> None:
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    assert service.next_visible_at(ARN + "q") is None
    sqs.send_message(QueueUrl=url, MessageBody="x", DelaySeconds=7)
    assert service.next_visible_at(ARN + "q") == clock.now() + 7
    clock.advance(7)
    got = service.receive_for_mapping(ARN + "q", 1, visibility_timeout=100)
    assert service.next_visible_at(ARN + "q") == clock.now() + 100
    service.change_visibility_for_mapping(ARN + "q", [got[0].receipt_handle], 3)
    assert service.next_visible_at(ARN + "q") == clock.now() + 3
    # Asked relative to an earlier receive, a message visible since then still counts.
    assert service.next_visible_at(ARN + "q", after=clock.now() - 10) == clock.now() + 3
    clock.advance(3)
    assert service.next_visible_at(ARN + "q", after=clock.now() - 1) == clock.now()
    again = service.receive_for_mapping(ARN + "q", 1)
    assert again[0].attributes["ApproximateReceiveCount"] == "2"
    # A stale handle is skipped without error.
    service.change_visibility_for_mapping(ARN + "q", [got[0].receipt_handle], 0)
    assert service.receive_for_mapping(ARN + "q", 1) == []


def test_approximate_age_of_oldest_message(
    sqs: Any, service: SqsService, clock: ManualClock
) -> None:
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    assert service.approximate_age_of_oldest_message(ARN + "q") == 0.0
    sqs.send_message(QueueUrl=url, MessageBody="old")
    clock.advance(12)
    sqs.send_message(QueueUrl=url, MessageBody="new")
    assert service.approximate_age_of_oldest_message(ARN + "q") == 12.0


def test_mapping_receive_redrives_like_sqs(
    sqs: Any, service: SqsService, clock: ManualClock
) -> None:
    sqs.create_queue(QueueName="dlq")
    policy = json.dumps({"deadLetterTargetArn": ARN + "dlq", "maxReceiveCount": 2})
    url = sqs.create_queue(
        QueueName="q", Attributes={"RedrivePolicy": policy, "VisibilityTimeout": "5"}
    )["QueueUrl"]
    sent = sqs.send_message(QueueUrl=url, MessageBody="poison")
    seen: list[str] = []
    unsubscribe = service.add_listener(seen.append)
    for count in ("1", "2"):
        (message,) = service.receive_for_mapping(ARN + "q", 10)
        assert message.attributes["ApproximateReceiveCount"] == count
        clock.advance(5)
    assert service.receive_for_mapping(ARN + "q", 10) == []
    assert seen == [ARN + "dlq"]
    (dead,) = service.receive_for_mapping(ARN + "dlq", 10)
    assert dead.message_id == sent["MessageId"]
    assert dead.attributes["DeadLetterQueueSourceArn"] == ARN + "q"
    unsubscribe()


def test_listeners_fire_after_commits(sqs: Any, service: SqsService) -> None:
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    seen: list[str] = []
    unsubscribe = service.add_listener(seen.append)
    sqs.send_message(QueueUrl=url, MessageBody="a")
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "1", "MessageBody": "b"}])
    handle = sqs.receive_message(QueueUrl=url)["Messages"][0]["ReceiptHandle"]
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0)
    assert seen == [ARN + "q"] * 3
    unsubscribe()
    sqs.send_message(QueueUrl=url, MessageBody="c")
    assert len(seen) == 3


def test_failing_listener_does_not_break_sends(sqs: Any, service: SqsService) -> None:
    url = sqs.create_queue(QueueName="q")["QueueUrl"]

    def broken(arn: str) -> None:
        raise RuntimeError("listener bug")

    service.add_listener(broken)
    assert sqs.send_message(QueueUrl=url, MessageBody="a")["MessageId"]


def test_fifo_mapping_receive_respects_groups(sqs: Any, service: SqsService) -> None:
    url = sqs.create_queue(
        QueueName="f.fifo", Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"}
    )["QueueUrl"]
    for i in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=f"g{i}", MessageGroupId="g")
    got = service.receive_for_mapping(ARN + "f.fifo", 2)
    assert [m.body for m in got] == ["g0", "g1"]
    assert got[0].attributes["MessageGroupId"] == "g"
    assert "SequenceNumber" in got[0].attributes
    assert service.receive_for_mapping(ARN + "f.fifo", 10) == []
    service.delete_for_mapping(ARN + "f.fifo", [m.receipt_handle for m in got])
    assert [m.body for m in service.receive_for_mapping(ARN + "f.fifo", 10)] == ["g2"]
