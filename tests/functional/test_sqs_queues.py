"""Queue lifecycle through hw.client("sqs"): create, URLs, list, attributes, purge, tags."""

from __future__ import annotations

import json

import pytest

from headwater import Headwater, ManualClock
from tests.functional.sqs_expect import expect_error

AWS_URL = "https://sqs.us-east-1.amazonaws.com/000000000000/"


@pytest.fixture
def sqs(hw: Headwater):  # type: ignore[no-untyped-def]
    return hw.client("sqs")


def test_create_returns_aws_form_url_and_is_idempotent(sqs) -> None:  # type: ignore[no-untyped-def]
    url = sqs.create_queue(QueueName="orders")["QueueUrl"]
    assert url == AWS_URL + "orders"
    assert sqs.create_queue(QueueName="orders")["QueueUrl"] == url
    same = sqs.create_queue(QueueName="orders", Attributes={"VisibilityTimeout": "30"})
    assert same["QueueUrl"] == url


def test_create_with_different_attributes_fails(sqs) -> None:  # type: ignore[no-untyped-def]
    sqs.create_queue(QueueName="orders", Attributes={"VisibilityTimeout": "10"})
    expect_error(
        lambda: sqs.create_queue(QueueName="orders", Attributes={"VisibilityTimeout": "20"}),
        "QueueAlreadyExists",
        "A queue already exists with the same name and a different value for attribute "
        "VisibilityTimeout",
        query_code="QueueNameExists",
        exception="QueueNameExists",
    )


def test_endpoint_url_form_and_any_host_resolve(hw: Headwater) -> None:
    served = Headwater.in_memory(endpoint_url="http://127.0.0.1:4599")
    try:
        url = served.client("sqs").create_queue(QueueName="q")["QueueUrl"]
        assert url == "http://127.0.0.1:4599/000000000000/q"
    finally:
        served.close()
    sqs = hw.client("sqs")
    sqs.create_queue(QueueName="q")
    for form in (
        "http://localhost:1234/000000000000/q",
        "https://sqs.us-east-1.amazonaws.com/000000000000/q",
        "http://example.com/queue/us-east-1/000000000000/q",
    ):
        sqs.send_message(QueueUrl=form, MessageBody="x")
    attrs = sqs.get_queue_attributes(QueueUrl=AWS_URL + "q", AttributeNames=["All"])
    assert attrs["Attributes"]["ApproximateNumberOfMessages"] == "3"


@pytest.mark.parametrize(
    ("name", "attributes", "message"),
    [
        (
            "bad name",
            {},
            "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length",
        ),
        (
            "x" * 81,
            {},
            "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length",
        ),
        (
            "std.fifo",
            {},
            "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length",
        ),
        (
            "nofifo",
            {"FifoQueue": "true"},
            "The name of a FIFO queue can only include "
            "alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be "
            "1 to 80 in length.",
        ),
    ],
)
def test_create_rejects_bad_names(sqs, name, attributes, message) -> None:  # type: ignore[no-untyped-def]
    expect_error(
        lambda: sqs.create_queue(QueueName=name, Attributes=attributes),
        "InvalidParameterValue",
        message,
        query_code="InvalidParameterValueException",
        exception="ClientError",
    )
    assert "QueueUrls" not in sqs.list_queues()


@pytest.mark.parametrize(
    ("attribute", "value"),
    [
        ("VisibilityTimeout", "43201"),
        ("VisibilityTimeout", "-1"),
        ("VisibilityTimeout", "abc"),
        ("DelaySeconds", "901"),
        ("MaximumMessageSize", "1023"),
        ("MaximumMessageSize", "1048577"),
        ("MessageRetentionPeriod", "59"),
        ("MessageRetentionPeriod", "1209601"),
        ("ReceiveMessageWaitTimeSeconds", "21"),
    ],
)
def test_create_rejects_out_of_range_attributes(sqs, attribute, value) -> None:  # type: ignore[no-untyped-def]
    expect_error(
        lambda: sqs.create_queue(QueueName="q", Attributes={attribute: value}),
        "InvalidAttributeValue",
        f"Invalid value for the parameter {attribute}.",
        exception="InvalidAttributeValue",
    )
    assert "QueueUrls" not in sqs.list_queues()


def test_unknown_attribute_names(sqs) -> None:  # type: ignore[no-untyped-def]
    expect_error(
        lambda: sqs.create_queue(QueueName="q", Attributes={"Colour": "blue"}),
        "InvalidAttributeName",
        "Unknown Attribute Colour.",
        exception="InvalidAttributeName",
    )
    expect_error(
        lambda: sqs.create_queue(QueueName="q", Attributes={"ContentBasedDeduplication": "true"}),
        "InvalidAttributeName",
    )
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    expect_error(
        lambda: sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Colour"]),
        "InvalidAttributeName",
        "Unknown Attribute Colour.",
    )
    expect_error(
        lambda: sqs.set_queue_attributes(QueueUrl=url, Attributes={"Colour": "1"}),
        "InvalidAttributeName",
    )


def test_get_queue_url_and_missing_queue(sqs) -> None:  # type: ignore[no-untyped-def]
    url = sqs.create_queue(QueueName="here")["QueueUrl"]
    assert sqs.get_queue_url(QueueName="here")["QueueUrl"] == url
    error = expect_error(
        lambda: sqs.get_queue_url(QueueName="gone"),
        "AWS.SimpleQueueService.NonExistentQueue",
        "The specified queue does not exist.",
        query_code="QueueDoesNotExist",
        status=400,
        exception="QueueDoesNotExist",
    )
    assert isinstance(error, sqs.exceptions.QueueDoesNotExist)
    for call in (
        lambda: sqs.send_message(QueueUrl=AWS_URL + "gone", MessageBody="x"),
        lambda: sqs.receive_message(QueueUrl=AWS_URL + "gone"),
        lambda: sqs.delete_queue(QueueUrl=AWS_URL + "gone"),
        lambda: sqs.purge_queue(QueueUrl=AWS_URL + "gone"),
        lambda: sqs.get_queue_attributes(QueueUrl="not-a-url"),
    ):
        expect_error(call, "AWS.SimpleQueueService.NonExistentQueue")


def test_list_queues_prefix_and_pagination(sqs) -> None:  # type: ignore[no-untyped-def]
    assert "QueueUrls" not in sqs.list_queues()
    for name in ("a1", "a2", "a3", "b1"):
        sqs.create_queue(QueueName=name)
    assert sqs.list_queues()["QueueUrls"] == [AWS_URL + n for n in ("a1", "a2", "a3", "b1")]
    assert sqs.list_queues(QueueNamePrefix="a")["QueueUrls"] == [
        AWS_URL + n for n in ("a1", "a2", "a3")
    ]
    first = sqs.list_queues(MaxResults=2)
    assert first["QueueUrls"] == [AWS_URL + "a1", AWS_URL + "a2"]
    second = sqs.list_queues(MaxResults=2, NextToken=first["NextToken"])
    assert second["QueueUrls"] == [AWS_URL + "a3", AWS_URL + "b1"]
    assert "NextToken" not in second
    assert "NextToken" not in sqs.list_queues()
    expect_error(lambda: sqs.list_queues(MaxResults=1001), "InvalidParameterValue")
    expect_error(lambda: sqs.list_queues(MaxResults=0), "InvalidParameterValue")


def test_attributes_defaults_and_set(sqs, clock: ManualClock) -> None:  # type: ignore[no-untyped-def]
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs == {
        "QueueArn": "arn:aws:sqs:us-east-1:000000000000:q",
        "ApproximateNumberOfMessages": "0",
        "ApproximateNumberOfMessagesNotVisible": "0",
        "ApproximateNumberOfMessagesDelayed": "0",
        "CreatedTimestamp": str(int(clock.now())),
        "LastModifiedTimestamp": str(int(clock.now())),
        "VisibilityTimeout": "30",
        "MaximumMessageSize": "1048576",
        "MessageRetentionPeriod": "345600",
        "DelaySeconds": "0",
        "ReceiveMessageWaitTimeSeconds": "0",
        "SqsManagedSseEnabled": "true",
    }
    assert sqs.get_queue_attributes(QueueUrl=url).get("Attributes") is None
    clock.advance(100)
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "45"})
    got = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["VisibilityTimeout", "LastModifiedTimestamp"]
    )["Attributes"]
    assert got == {"VisibilityTimeout": "45", "LastModifiedTimestamp": str(int(clock.now()))}
    expect_error(
        lambda: sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "-5"}),
        "InvalidAttributeValue",
    )
    got = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])
    assert got["Attributes"] == {"VisibilityTimeout": "45"}


def test_fifo_attributes(sqs) -> None:  # type: ignore[no-untyped-def]
    url = sqs.create_queue(
        QueueName="q.fifo",
        Attributes={
            "FifoQueue": "true",
            "DeduplicationScope": "messageGroup",
            "FifoThroughputLimit": "perMessageGroupId",
        },
    )["QueueUrl"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["FifoQueue"] == "true"
    assert attrs["ContentBasedDeduplication"] == "false"
    assert attrs["DeduplicationScope"] == "messageGroup"
    assert attrs["FifoThroughputLimit"] == "perMessageGroupId"
    expect_error(
        lambda: sqs.set_queue_attributes(QueueUrl=url, Attributes={"DeduplicationScope": "x"}),
        "InvalidAttributeValue",
    )


def test_delete_queue_and_recently_deleted(sqs, clock: ManualClock) -> None:  # type: ignore[no-untyped-def]
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="x")
    sqs.delete_queue(QueueUrl=url)
    expect_error(
        lambda: sqs.get_queue_url(QueueName="q"), "AWS.SimpleQueueService.NonExistentQueue"
    )
    expect_error(
        lambda: sqs.create_queue(QueueName="q"),
        "AWS.SimpleQueueService.QueueDeletedRecently",
        "You must wait 60 seconds after deleting a queue before you can create another with "
        "the same name.",
        exception="QueueDeletedRecently",
    )
    clock.advance(61)
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    assert "Messages" not in sqs.receive_message(QueueUrl=url)


def test_purge_queue_and_purge_in_progress(sqs, clock: ManualClock) -> None:  # type: ignore[no-untyped-def]
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    for i in range(5):
        sqs.send_message(QueueUrl=url, MessageBody=str(i))
    sqs.purge_queue(QueueUrl=url)
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    sqs.send_message(QueueUrl=url, MessageBody="after")
    expect_error(
        lambda: sqs.purge_queue(QueueUrl=url),
        "AWS.SimpleQueueService.PurgeQueueInProgress",
        "Only one PurgeQueue operation on q is allowed every 60 seconds.",
        status=403,
        exception="PurgeQueueInProgress",
    )
    assert sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"] == "after"
    clock.advance(60)
    sqs.purge_queue(QueueUrl=url)


def test_tags(sqs) -> None:  # type: ignore[no-untyped-def]
    url = sqs.create_queue(QueueName="q", tags={"team": "a"})["QueueUrl"]
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "a"}
    sqs.tag_queue(QueueUrl=url, Tags={"env": "dev", "team": "b"})
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "b", "env": "dev"}
    sqs.untag_queue(QueueUrl=url, TagKeys=["team", "missing"])
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"env": "dev"}
    sqs.untag_queue(QueueUrl=url, TagKeys=["env"])
    assert "Tags" not in sqs.list_queue_tags(QueueUrl=url)
    too_many = {f"k{i}": "v" for i in range(51)}
    expect_error(lambda: sqs.tag_queue(QueueUrl=url, Tags=too_many), "InvalidParameterValue")
    assert "Tags" not in sqs.list_queue_tags(QueueUrl=url)


def test_redrive_policy_validation(sqs) -> None:  # type: ignore[no-untyped-def]
    dlq_url = sqs.create_queue(QueueName="dlq")["QueueUrl"]
    dlq_arn = "arn:aws:sqs:us-east-1:000000000000:dlq"
    url = sqs.create_queue(QueueName="src")["QueueUrl"]
    bad = [
        json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 0}),
        json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1001}),
        json.dumps({"deadLetterTargetArn": dlq_arn}),
        json.dumps({"maxReceiveCount": 3}),
        json.dumps({"deadLetterTargetArn": dlq_arn + "-missing", "maxReceiveCount": 3}),
        "not json",
    ]
    for policy in bad:
        expect_error(
            lambda p=policy: sqs.set_queue_attributes(
                QueueUrl=url, Attributes={"RedrivePolicy": p}
            ),
            "InvalidParameterValue",
        )
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "3"})
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"RedrivePolicy": policy})
    shown = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])
    assert json.loads(shown["Attributes"]["RedrivePolicy"]) == {
        "deadLetterTargetArn": dlq_arn,
        "maxReceiveCount": 3,
    }
    fifo_dlq = sqs.create_queue(QueueName="d.fifo", Attributes={"FifoQueue": "true"})
    assert fifo_dlq["QueueUrl"]
    expect_error(
        lambda: sqs.set_queue_attributes(
            QueueUrl=url,
            Attributes={
                "RedrivePolicy": json.dumps(
                    {
                        "deadLetterTargetArn": "arn:aws:sqs:us-east-1:000000000000:d.fifo",
                        "maxReceiveCount": 3,
                    }
                )
            },
        ),
        "InvalidParameterValue",
    )
    sqs.set_queue_attributes(
        QueueUrl=dlq_url, Attributes={"RedriveAllowPolicy": '{"redrivePermission":"denyAll"}'}
    )
    other = sqs.create_queue(QueueName="other")["QueueUrl"]
    expect_error(
        lambda: sqs.set_queue_attributes(QueueUrl=other, Attributes={"RedrivePolicy": policy}),
        "InvalidParameterValue",
    )
    expect_error(
        lambda: sqs.set_queue_attributes(
            QueueUrl=dlq_url, Attributes={"RedriveAllowPolicy": '{"redrivePermission":"some"}'}
        ),
        "InvalidParameterValue",
    )
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"RedrivePolicy": ""})
    shown = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert "RedrivePolicy" not in shown


def test_list_dead_letter_source_queues(sqs) -> None:  # type: ignore[no-untyped-def]
    dlq = sqs.create_queue(QueueName="dlq")["QueueUrl"]
    policy = json.dumps(
        {"deadLetterTargetArn": "arn:aws:sqs:us-east-1:000000000000:dlq", "maxReceiveCount": 2}
    )
    for name in ("s1", "s2"):
        sqs.create_queue(QueueName=name, Attributes={"RedrivePolicy": policy})
    sqs.create_queue(QueueName="unrelated")
    assert sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"] == [
        AWS_URL + "s1",
        AWS_URL + "s2",
    ]
    page = sqs.list_dead_letter_source_queues(QueueUrl=dlq, MaxResults=1)
    assert page["queueUrls"] == [AWS_URL + "s1"]
    rest = sqs.list_dead_letter_source_queues(
        QueueUrl=dlq, MaxResults=1, NextToken=page["NextToken"]
    )
    assert rest["queueUrls"] == [AWS_URL + "s2"]
    assert sqs.list_dead_letter_source_queues(QueueUrl=AWS_URL + "unrelated")["queueUrls"] == []


def test_add_and_remove_permission(sqs) -> None:  # type: ignore[no-untyped-def]
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    sqs.add_permission(
        QueueUrl=url, Label="send", AWSAccountIds=["111122223333"], Actions=["SendMessage"]
    )
    sqs.add_permission(
        QueueUrl=url,
        Label="both",
        AWSAccountIds=["111122223333", "444455556666"],
        Actions=["ReceiveMessage", "DeleteMessage"],
    )
    policy = json.loads(
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"]
    )
    assert policy["Id"] == "arn:aws:sqs:us-east-1:000000000000:q/SQSDefaultPolicy"
    assert policy["Statement"][0] == {
        "Sid": "send",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
        "Action": "SQS:SendMessage",
        "Resource": "arn:aws:sqs:us-east-1:000000000000:q",
    }
    assert policy["Statement"][1]["Action"] == ["SQS:ReceiveMessage", "SQS:DeleteMessage"]
    expect_error(
        lambda: sqs.add_permission(
            QueueUrl=url, Label="send", AWSAccountIds=["1"], Actions=["SendMessage"]
        ),
        "InvalidParameterValue",
        "Value send for parameter Label is invalid. Reason: Already exists.",
    )
    expect_error(
        lambda: sqs.add_permission(
            QueueUrl=url, Label="x", AWSAccountIds=["1"], Actions=["CreateQueue"]
        ),
        "InvalidParameterValue",
        "Value SQS:CreateQueue for parameter ActionName is invalid. Reason: Only the queue "
        "owner is allowed to invoke this action.",
    )
    sqs.remove_permission(QueueUrl=url, Label="send")
    sqs.remove_permission(QueueUrl=url, Label="both")
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert "Policy" not in attrs
    expect_error(
        lambda: sqs.remove_permission(QueueUrl=url, Label="send"),
        "InvalidParameterValue",
        "Value send for parameter Label is invalid. Reason: can't find label.",
    )
