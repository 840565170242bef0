"""SQS rules observed on AWS where headwater used to differ (issue 19): expired FIFO receipt
handles, visibility changes after the timeout lapsed, DLQ receive counts, FIFO per-message
delay, ``MessageAttributeNames=["*"]``, queue attribute texts and batch size wording."""

from __future__ import annotations

import json
from typing import Any

import pytest

from headwater import Headwater, ManualClock
from tests.functional.sqs_expect import expect_error


@pytest.fixture
def sqs(hw: Headwater) -> Any:
    return hw.client("sqs")


def _fifo(sqs: Any, name: str = "f.fifo", **attributes: str) -> str:
    return str(
        sqs.create_queue(
            QueueName=name,
            Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true", **attributes},
        )["QueueUrl"]
    )


def test_fifo_delete_with_expired_handle_is_refused_and_message_returns(
    sqs: Any, clock: ManualClock
) -> None:
    url = _fifo(sqs, VisibilityTimeout="1")
    sqs.send_message(QueueUrl=url, MessageBody="g1-m1", MessageGroupId="1")
    handle = sqs.receive_message(QueueUrl=url)["Messages"][0]["ReceiptHandle"]
    clock.advance(2)
    expect_error(
        lambda: sqs.delete_message(QueueUrl=url, ReceiptHandle=handle),
        "InvalidParameterValue",
        f"Value {handle} for parameter ReceiptHandle is invalid. Reason: The receipt handle "
        "has expired.",
        query_code="InvalidParameterValueException",
        status=400,
    )
    batch = sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": "a", "ReceiptHandle": handle}])
    assert batch["Failed"][0]["Code"] == "InvalidParameterValue"
    assert batch["Failed"][0]["Message"].endswith("Reason: The receipt handle has expired.")
    again = sqs.receive_message(QueueUrl=url)["Messages"]
    assert [m["Body"] for m in again] == ["g1-m1"]
    # the older handle is still expired; the newest one deletes
    expect_error(
        lambda: sqs.delete_message(QueueUrl=url, ReceiptHandle=handle), "InvalidParameterValue"
    )
    sqs.delete_message(QueueUrl=url, ReceiptHandle=again[0]["ReceiptHandle"])
    clock.advance(2)
    assert "Messages" not in sqs.receive_message(QueueUrl=url)


def test_fifo_delete_after_extending_visibility_succeeds(sqs: Any, clock: ManualClock) -> None:
    url = _fifo(sqs, VisibilityTimeout="1")
    sqs.send_message(QueueUrl=url, MessageBody="foobar", MessageGroupId="1")
    handle = sqs.receive_message(QueueUrl=url)["Messages"][0]["ReceiptHandle"]
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=10)
    clock.advance(2)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=handle)
    clock.advance(20)
    assert "Messages" not in sqs.receive_message(QueueUrl=url)


def test_standard_delete_after_visibility_timeout_deletes(sqs: Any, clock: ManualClock) -> None:
    url = sqs.create_queue(QueueName="s", Attributes={"VisibilityTimeout": "1"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="foobar")
    handle = sqs.receive_message(QueueUrl=url)["Messages"][0]["ReceiptHandle"]
    clock.advance(2)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=handle)
    assert "Messages" not in sqs.receive_message(QueueUrl=url)


def test_change_visibility_after_timeout_lapsed_hides_the_message_again(
    sqs: Any, clock: ManualClock
) -> None:
    url = sqs.create_queue(QueueName="s", Attributes={"VisibilityTimeout": "1"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="m")
    handle = sqs.receive_message(QueueUrl=url)["Messages"][0]["ReceiptHandle"]
    clock.advance(2)
    answer = sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=30)
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    clock.advance(31)
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=url)["Messages"]] == ["m"]


@pytest.mark.parametrize("fifo", [False, True])
def test_message_moved_to_dlq_keeps_its_receive_count(
    sqs: Any, clock: ManualClock, fifo: bool
) -> None:
    suffix = ".fifo" if fifo else ""
    extra = {"FifoQueue": "true", "ContentBasedDeduplication": "true"} if fifo else {}
    dlq = sqs.create_queue(QueueName="dlq" + suffix, Attributes=extra)["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1})
    src = sqs.create_queue(
        QueueName="src" + suffix,
        Attributes={"RedrivePolicy": policy, "VisibilityTimeout": "1", **extra},
    )["QueueUrl"]
    group = {"MessageGroupId": "g"} if fifo else {}
    sqs.send_message(QueueUrl=src, MessageBody="message-1", **group)
    first = sqs.receive_message(QueueUrl=src, AttributeNames=["All"])["Messages"][0]
    assert first["Attributes"]["ApproximateReceiveCount"] == "1"
    clock.advance(2)
    assert "Messages" not in sqs.receive_message(QueueUrl=src)
    moved = sqs.receive_message(QueueUrl=dlq, AttributeNames=["All"])["Messages"][0]
    assert moved["MessageId"] == first["MessageId"]
    assert moved["Attributes"]["ApproximateReceiveCount"] == "2"
    assert (
        moved["Attributes"]["ApproximateFirstReceiveTimestamp"]
        == first["Attributes"]["ApproximateFirstReceiveTimestamp"]
    )


def test_fifo_delay_seconds_zero_keeps_the_queue_delay(sqs: Any, clock: ManualClock) -> None:
    url = _fifo(sqs, DelaySeconds="2")
    sent = sqs.send_message(
        QueueUrl=url, MessageBody="message-1", MessageGroupId="1", DelaySeconds=0
    )
    assert "SequenceNumber" in sent
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    clock.advance(2)
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=url)["Messages"]] == ["message-1"]


@pytest.mark.parametrize("names", [["All"], [".*"], ["*"]])
def test_message_attribute_names_wildcards_return_everything(sqs: Any, names: list[str]) -> None:
    url = sqs.create_queue(QueueName="attrs")["QueueUrl"]
    attributes = {
        "Hello": {"DataType": "String", "StringValue": "There"},
        "General": {"DataType": "String", "StringValue": "Kenobi"},
        "Help.Me": {"DataType": "String", "StringValue": "Me"},
    }
    sqs.send_message(QueueUrl=url, MessageBody="msg", MessageAttributes=attributes)
    got = sqs.receive_message(QueueUrl=url, MessageAttributeNames=names, VisibilityTimeout=0)
    assert got["Messages"][0]["MessageAttributes"] == attributes
    assert got["Messages"][0]["MD5OfMessageAttributes"] == "4c360f3fdafd970e05fae2f149d997f5"


def test_create_standard_queue_with_fifo_attributes_gets_aws_texts(sqs: Any) -> None:
    cases = {
        "FifoQueue": ("false", "Unknown Attribute FifoQueue."),
        "ContentBasedDeduplication": ("true", "Unknown Attribute ContentBasedDeduplication."),
        "DeduplicationScope": (
            "messageGroup",
            "You can specify the DeduplicationScope only when FifoQueue is set to true.",
        ),
        "FifoThroughputLimit": (
            "perMessageGroupId",
            "You can specify the FifoThroughputLimit only when FifoQueue is set to true.",
        ),
    }
    for name, (value, message) in cases.items():
        expect_error(
            lambda name=name, value=value: sqs.create_queue(
                QueueName="std", Attributes={name: value}
            ),
            "InvalidAttributeName",
            message,
            status=400,
        )
    assert "QueueUrls" not in sqs.list_queues()


def test_set_fifo_queue_attribute(sqs: Any) -> None:
    standard = sqs.create_queue(QueueName="std")["QueueUrl"]
    for value in ("true", "false"):
        expect_error(
            lambda value=value: sqs.set_queue_attributes(
                QueueUrl=standard, Attributes={"FifoQueue": value}
            ),
            "InvalidAttributeName",
            "Unknown Attribute FifoQueue.",
        )
    fifo = _fifo(sqs)
    sqs.set_queue_attributes(QueueUrl=fifo, Attributes={"FifoQueue": "true"})
    expect_error(
        lambda: sqs.set_queue_attributes(QueueUrl=fifo, Attributes={"FifoQueue": "false"}),
        "InvalidAttributeValue",
        "Invalid value for the parameter FifoQueue. Reason: Modifying queue type is not supported.",
    )
    attributes = sqs.get_queue_attributes(QueueUrl=fifo, AttributeNames=["FifoQueue"])
    assert attributes["Attributes"] == {"FifoQueue": "true"}


def test_oversize_batch_entry_gets_the_batch_wording(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="small", Attributes={"MaximumMessageSize": "1024"})["QueueUrl"]
    answer = sqs.send_message_batch(
        QueueUrl=url,
        Entries=[{"Id": "big", "MessageBody": "x" * 1025}, {"Id": "ok", "MessageBody": "y"}],
    )
    assert answer["Failed"] == [
        {
            "Id": "big",
            "SenderFault": True,
            "Code": "InvalidParameterValue",
            "Message": "One or more parameters cannot be validated. Reason: Message must be "
            "shorter than 1024 bytes.",
        }
    ]
    assert [s["Id"] for s in answer["Successful"]] == ["ok"]
    expect_error(
        lambda: sqs.send_message(QueueUrl=url, MessageBody="x" * 1025),
        "InvalidParameterValue",
        "One or more parameters are invalid. Reason: Message must be shorter than 1024 bytes.",
    )


def test_cloudformation_standard_queue_with_fifo_queue_false_deploys(hw: Headwater) -> None:
    """SQS refuses FifoQueue=false, yet CloudFormation templates may say it: the provider
    leaves it out, as CloudFormation does."""
    template = {
        "Resources": {
            "Q": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "std", "FifoQueue": False}}
        }
    }
    cfn = hw.client("cloudformation")
    cfn.create_stack(StackName="s", TemplateBody=json.dumps(template))
    assert cfn.describe_stacks(StackName="s")["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    assert hw.client("sqs").get_queue_url(QueueName="std")["QueueUrl"].endswith("/std")
