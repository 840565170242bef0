"""Messages through hw.client("sqs"): send, receive, delete, visibility, delay, retention."""

from __future__ import annotations

from typing import Any

import pytest

from headwater import Headwater, ManualClock
from headwater.services.sqs.message_digest import md5_of_attributes
from tests.functional.sqs_expect import expect_error


@pytest.fixture
def sqs(hw: Headwater) -> Any:
    return hw.client("sqs")


@pytest.fixture
def url(sqs: Any) -> str:
    return str(sqs.create_queue(QueueName="q")["QueueUrl"])


def counts(sqs: Any, url: str) -> tuple[int, int, int]:
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return (
        int(attrs["ApproximateNumberOfMessages"]),
        int(attrs["ApproximateNumberOfMessagesNotVisible"]),
        int(attrs["ApproximateNumberOfMessagesDelayed"]),
    )


def test_send_receive_delete_round_trip(sqs: Any, url: str, clock: ManualClock) -> None:
    sent = sqs.send_message(QueueUrl=url, MessageBody="hello")
    assert sent["MD5OfMessageBody"] == "5d41402abc4b2a76b9719d911017c592"
    assert "MD5OfMessageAttributes" not in sent
    assert counts(sqs, url) == (1, 0, 0)
    clock.advance(2)
    got = sqs.receive_message(QueueUrl=url, AttributeNames=["All"])["Messages"]
    assert len(got) == 1
    message = got[0]
    assert message["MessageId"] == sent["MessageId"]
    assert message["Body"] == "hello"
    assert message["MD5OfBody"] == sent["MD5OfMessageBody"]
    assert message["Attributes"] == {
        "SenderId": "000000000000",
        "SentTimestamp": str(int((clock.now() - 2) * 1000)),
        "ApproximateReceiveCount": "1",
        "ApproximateFirstReceiveTimestamp": str(int(clock.now() * 1000)),
    }
    assert counts(sqs, url) == (0, 1, 0)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    assert counts(sqs, url) == (0, 0, 0)


def test_attribute_selection(sqs: Any, url: str) -> None:
    sqs.send_message(
        QueueUrl=url,
        MessageBody="b",
        MessageAttributes={
            "tenant.id": {"DataType": "String", "StringValue": "acme"},
            "tenant.tier": {"DataType": "Number", "StringValue": "3"},
            "blob": {"DataType": "Binary", "BinaryValue": b"\x00\xff"},
        },
    )
    message = sqs.receive_message(
        QueueUrl=url,
        MessageSystemAttributeNames=["ApproximateReceiveCount"],
        MessageAttributeNames=["tenant.*"],
        VisibilityTimeout=0,
    )["Messages"][0]
    assert message["Attributes"] == {"ApproximateReceiveCount": "1"}
    assert set(message["MessageAttributes"]) == {"tenant.id", "tenant.tier"}
    message = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"])["Messages"][0]
    assert message["MessageAttributes"]["blob"] == {
        "DataType": "Binary",
        "BinaryValue": b"\x00\xff",
    }
    assert "Attributes" not in message


def test_message_attribute_md5_matches_aws_vector(sqs: Any, url: str) -> None:
    sent = sqs.send_message(
        QueueUrl=url,
        MessageBody="x",
        MessageAttributes={
            "zeta": {"DataType": "String", "StringValue": "héllo"},
            "Alpha": {"DataType": "Number.int", "StringValue": "42"},
            "bin": {"DataType": "Binary", "BinaryValue": bytes([0, 255, 16])},
            "cust": {"DataType": "String.json", "StringValue": '{"a":1}'},
        },
        MessageSystemAttributes={
            "AWSTraceHeader": {
                "DataType": "String",
                "StringValue": "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1",
            }
        },
    )
    assert sent["MD5OfMessageAttributes"] == "b9d3e2748bcac7b32c20068d5fc2acc2"
    assert sent["MD5OfMessageSystemAttributes"] == "5f48eef650c1d0207456969c85af2fdd"
    got = sqs.receive_message(
        QueueUrl=url, MessageAttributeNames=["All"], MessageSystemAttributeNames=["All"]
    )["Messages"][0]
    assert got["MD5OfMessageAttributes"] == "b9d3e2748bcac7b32c20068d5fc2acc2"
    assert got["Attributes"]["AWSTraceHeader"].startswith("Root=1-5759e988")


BAD_SENDS: list[tuple[dict[str, Any], str, str | None]] = [
    (
        {"MessageBody": ""},
        "MissingParameter",
        "The request must contain the parameter MessageBody.",
    ),
    (
        {"MessageBody": "bad\x00char"},
        "InvalidMessageContents",
        "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to "
        "#xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF",
    ),
    (
        {"MessageBody": "x" * 1_048_577},
        "InvalidParameterValue",
        "One or more parameters are invalid. Reason: Message must be shorter than 1048576 bytes.",
    ),
    (
        {"MessageBody": "x", "DelaySeconds": 901},
        "InvalidParameterValue",
        "Value 901 for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 "
        "and <= 900.",
    ),
    (
        {"MessageBody": "x", "MessageDeduplicationId": "d"},
        "InvalidParameterValue",
        None,
    ),
    (
        {"MessageBody": "x", "MessageAttributes": {"a": {"DataType": "String", "StringValue": ""}}},
        "InvalidParameterValue",
        "Message (user) attribute 'a' must contain a non-empty value of type 'String'.",
    ),
    (
        {
            "MessageBody": "x",
            "MessageAttributes": {"n": {"DataType": "Number", "StringValue": "x"}},
        },
        "InvalidParameterValue",
        "Can't cast the value of message (user) attribute 'n' to a number.",
    ),
    (
        {"MessageBody": "x", "MessageAttributes": {"a": {"DataType": "Blob", "StringValue": "1"}}},
        "InvalidParameterValue",
        None,
    ),
    (
        {
            "MessageBody": "x",
            "MessageAttributes": {"AWS.x": {"DataType": "String", "StringValue": "1"}},
        },
        "InvalidParameterValue",
        None,
    ),
    (
        {
            "MessageBody": "x",
            "MessageAttributes": {"a b": {"DataType": "String", "StringValue": "1"}},
        },
        "InvalidParameterValue",
        None,
    ),
    (  # a lone surrogate: bytes that were not UTF-8 (was a 500)
        {
            "MessageBody": "x",
            "MessageAttributes": {"a\udced": {"DataType": "String", "StringValue": "1"}},
        },
        "InvalidParameterValue",
        "Message (user) attributes name can only contain upper and lower score characters, "
        "digits, periods, hyphens and underscores. ",
    ),
    (
        {
            "MessageBody": "x",
            "MessageAttributes": {"a": {"DataType": "String.\udced", "StringValue": "1"}},
        },
        "InvalidParameterValue",
        "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to "
        "#xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF",
    ),
    (
        {
            "MessageBody": "x",
            "MessageAttributes": {
                f"a{i}": {"DataType": "String", "StringValue": "1"} for i in range(11)
            },
        },
        "InvalidParameterValue",
        "Number of message attributes [11] exceeds the allowed maximum [10].",
    ),
    (
        {"MessageBody": "x", "MessageGroupId": "bad group id with space"},
        "InvalidParameterValue",
        None,
    ),
    (
        {
            "MessageBody": "x",
            "MessageSystemAttributes": {"Other": {"DataType": "String", "StringValue": "1"}},
        },
        "InvalidParameterValue",
        None,
    ),
]


@pytest.mark.parametrize(("params", "code", "message"), BAD_SENDS)
def test_bad_sends_change_nothing(
    sqs: Any, url: str, params: dict[str, Any], code: str, message: str | None
) -> None:
    expect_error(lambda: sqs.send_message(QueueUrl=url, **params), code, message)
    assert counts(sqs, url) == (0, 0, 0)


def test_max_message_size_counts_attributes(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="small", Attributes={"MaximumMessageSize": "1024"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="x" * 1024)
    expect_error(
        lambda: sqs.send_message(
            QueueUrl=url,
            MessageBody="x" * 1000,
            MessageAttributes={"name": {"DataType": "String", "StringValue": "y" * 30}},
        ),
        "InvalidParameterValue",
        "One or more parameters are invalid. Reason: Message must be shorter than 1024 bytes.",
    )


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"MaxNumberOfMessages": 11},
            "Value 11 for parameter MaxNumberOfMessages is invalid. "
            "Reason: Must be between 1 and 10, if provided.",
        ),
        (
            {"MaxNumberOfMessages": 0},
            "Value 0 for parameter MaxNumberOfMessages is invalid. "
            "Reason: Must be between 1 and 10, if provided.",
        ),
        (
            {"WaitTimeSeconds": 21},
            "Value 21 for parameter WaitTimeSeconds is invalid. "
            "Reason: Must be >= 0 and <= 20, if provided.",
        ),
        ({"VisibilityTimeout": 43201}, None),
        ({"VisibilityTimeout": -1}, None),
    ],
)
def test_bad_receives(sqs: Any, url: str, params: dict[str, Any], message: str | None) -> None:
    sqs.send_message(QueueUrl=url, MessageBody="x")
    expect_error(
        lambda: sqs.receive_message(QueueUrl=url, **params),
        "InvalidParameterValue",
        message,
        query_code="InvalidParameterValueException",
        exception="ClientError",
    )
    assert counts(sqs, url) == (1, 0, 0)


def test_visibility_timeout_and_receive_count(sqs: Any, url: str, clock: ManualClock) -> None:
    sqs.send_message(QueueUrl=url, MessageBody="x")
    first = sqs.receive_message(QueueUrl=url, AttributeNames=["All"])["Messages"][0]
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    clock.advance(29.9)
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    clock.advance(0.1)
    second = sqs.receive_message(QueueUrl=url, AttributeNames=["All"])["Messages"][0]
    assert second["MessageId"] == first["MessageId"]
    assert second["ReceiptHandle"] != first["ReceiptHandle"]
    assert second["Attributes"]["ApproximateReceiveCount"] == "2"
    assert (
        second["Attributes"]["ApproximateFirstReceiveTimestamp"]
        == first["Attributes"]["ApproximateFirstReceiveTimestamp"]
    )
    # The stale handle "succeeds" but deletes nothing (AWS behaviour).
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"])
    assert counts(sqs, url) == (0, 1, 0)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=second["ReceiptHandle"])
    assert counts(sqs, url) == (0, 0, 0)


def test_receive_visibility_override_and_queue_default(sqs: Any, clock: ManualClock) -> None:
    url = sqs.create_queue(QueueName="v", Attributes={"VisibilityTimeout": "5"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="x")
    sqs.receive_message(QueueUrl=url, VisibilityTimeout=100)
    clock.advance(99)
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    clock.advance(1)
    assert sqs.receive_message(QueueUrl=url)["Messages"]
    clock.advance(5)
    assert sqs.receive_message(QueueUrl=url)["Messages"]


def test_change_message_visibility(sqs: Any, url: str, clock: ManualClock) -> None:
    sqs.send_message(QueueUrl=url, MessageBody="x")
    handle = sqs.receive_message(QueueUrl=url)["Messages"][0]["ReceiptHandle"]
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0)
    again = sqs.receive_message(QueueUrl=url, VisibilityTimeout=10)["Messages"][0]
    handle = again["ReceiptHandle"]
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=100)
    clock.advance(50)
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    expect_error(
        lambda: sqs.change_message_visibility(
            QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=43201
        ),
        "InvalidParameterValue",
    )
    clock.advance(50)
    # lapsed and not received since: AWS hides it again (recorded), no MessageNotInflight
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=10)
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    clock.advance(10)
    newest = sqs.receive_message(QueueUrl=url)["Messages"][0]["ReceiptHandle"]
    expect_error(
        lambda: sqs.change_message_visibility(
            QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=10
        ),
        "InvalidParameterValue",
        f"Value {handle} for parameter ReceiptHandle is invalid. Reason: Message does not "
        "exist or is not available for visibility timeout change.",
    )
    sqs.delete_message(QueueUrl=url, ReceiptHandle=newest)


def test_visibility_limit_is_twelve_hours_from_the_receive(
    sqs: Any, url: str, clock: ManualClock
) -> None:
    sqs.send_message(QueueUrl=url, MessageBody="x")
    handle = sqs.receive_message(QueueUrl=url)["Messages"][0]["ReceiptHandle"]
    clock.advance(20)
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=43_180)
    expect_error(
        lambda: sqs.change_message_visibility(
            QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=43_181
        ),
        "InvalidParameterValue",
        "Value 43181 for parameter VisibilityTimeout is invalid. Reason: Total "
        "VisibilityTimeout for the message is beyond the limit [43200 seconds]",
    )


def test_malformed_receipt_handles(sqs: Any, url: str) -> None:
    sqs.send_message(QueueUrl=url, MessageBody="x")
    for handle in ("garbage", "AQEB!!!", "AQEBMXwx"):
        expect_error(
            lambda h=handle: sqs.delete_message(QueueUrl=url, ReceiptHandle=h),
            "ReceiptHandleIsInvalid",
            f'The input receipt handle "{handle}" is not a valid receipt handle.',
            status=404,
            exception="ReceiptHandleIsInvalid",
        )
        expect_error(
            lambda h=handle: sqs.change_message_visibility(
                QueueUrl=url, ReceiptHandle=h, VisibilityTimeout=1
            ),
            "ReceiptHandleIsInvalid",
        )
    other = sqs.create_queue(QueueName="other")["QueueUrl"]
    handle = sqs.receive_message(QueueUrl=url)["Messages"][0]["ReceiptHandle"]
    expect_error(
        lambda: sqs.delete_message(QueueUrl=other, ReceiptHandle=handle), "ReceiptHandleIsInvalid"
    )
    assert counts(sqs, url) == (0, 1, 0)


def test_delay_seconds_queue_and_message(sqs: Any, clock: ManualClock) -> None:
    url = sqs.create_queue(QueueName="d", Attributes={"DelaySeconds": "10"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="queue-delay")
    sqs.send_message(QueueUrl=url, MessageBody="no-delay", DelaySeconds=0)
    sqs.send_message(QueueUrl=url, MessageBody="long", DelaySeconds=20)
    assert counts(sqs, url) == (1, 0, 2)
    assert [
        m["Body"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    ] == ["no-delay"]
    clock.advance(10)
    assert [
        m["Body"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    ] == ["queue-delay"]
    clock.advance(10)
    assert [
        m["Body"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    ] == ["long"]


def test_retention_expiry(sqs: Any, clock: ManualClock) -> None:
    url = sqs.create_queue(QueueName="r", Attributes={"MessageRetentionPeriod": "60"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="old")
    clock.advance(30)
    sqs.send_message(QueueUrl=url, MessageBody="young")
    clock.advance(30)
    assert counts(sqs, url) == (1, 0, 0)
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in got] == ["young"]
    clock.advance(30)
    assert counts(sqs, url) == (0, 0, 0)
    assert "Messages" not in sqs.receive_message(QueueUrl=url)


def test_receive_up_to_ten_in_order(sqs: Any, url: str, clock: ManualClock) -> None:
    for i in range(15):
        sqs.send_message(QueueUrl=url, MessageBody=str(i))
        clock.advance(0.001)
    first = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    second = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in first + second] == [str(i) for i in range(15)]


def test_send_message_batch(sqs: Any, url: str) -> None:
    result = sqs.send_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "ok1", "MessageBody": "a"},
            {"Id": "bad", "MessageBody": "x", "DelaySeconds": 1000},
            {
                "Id": "ok2",
                "MessageBody": "b",
                "MessageAttributes": {"k": {"DataType": "String", "StringValue": "x"}},
            },
        ],
    )
    assert [s["Id"] for s in result["Successful"]] == ["ok1", "ok2"]
    assert result["Successful"][1]["MD5OfMessageAttributes"] == md5_of_attributes(
        {"k": {"DataType": "String", "StringValue": "x"}}
    )
    assert result["Failed"] == [
        {
            "Id": "bad",
            "SenderFault": True,
            "Code": "InvalidParameterValue",
            "Message": "Value 1000 for parameter DelaySeconds is invalid. Reason: DelaySeconds "
            "must be >= 0 and <= 900.",
        }
    ]
    assert counts(sqs, url) == (2, 0, 0)


@pytest.mark.parametrize(
    ("entries", "code", "message"),
    [
        (
            [],
            "AWS.SimpleQueueService.EmptyBatchRequest",
            "There should be at least one SendMessageBatchRequestEntry in the request.",
        ),
        (
            [{"Id": str(i), "MessageBody": "x"} for i in range(11)],
            "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
            "Maximum number of entries per request are 10. You have sent 11.",
        ),
        (
            [{"Id": "a", "MessageBody": "x"}, {"Id": "a", "MessageBody": "y"}],
            "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
            "Id a repeated.",
        ),
        (
            [{"Id": "bad id", "MessageBody": "x"}],
            "AWS.SimpleQueueService.InvalidBatchEntryId",
            "A batch entry id can only contain alphanumeric characters, hyphens and underscores. "
            "It can be at most 80 letters long.",
        ),
        (
            [{"Id": str(i), "MessageBody": "x" * 200_000} for i in range(6)],
            "AWS.SimpleQueueService.BatchRequestTooLong",
            "Batch requests cannot be longer than 1048576 bytes. You have sent 1200000 bytes.",
        ),
    ],
)
def test_send_batch_rules(sqs: Any, url: str, entries: Any, code: str, message: str) -> None:
    expect_error(lambda: sqs.send_message_batch(QueueUrl=url, Entries=entries), code, message)
    assert counts(sqs, url) == (0, 0, 0)


def test_delete_and_visibility_batches(sqs: Any, url: str, clock: ManualClock) -> None:
    for i in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=str(i))
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    result = sqs.change_message_visibility_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "a", "ReceiptHandle": got[0]["ReceiptHandle"], "VisibilityTimeout": 0},
            {"Id": "b", "ReceiptHandle": "junk", "VisibilityTimeout": 0},
        ],
    )
    assert result["Successful"] == [{"Id": "a"}]
    assert result["Failed"][0]["Id"] == "b"
    assert result["Failed"][0]["Code"] == "ReceiptHandleIsInvalid"
    assert counts(sqs, url) == (1, 2, 0)
    result = sqs.delete_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "x", "ReceiptHandle": got[1]["ReceiptHandle"]},
            {"Id": "y", "ReceiptHandle": got[2]["ReceiptHandle"]},
            {"Id": "z", "ReceiptHandle": "junk"},
        ],
    )
    assert result["Successful"] == [{"Id": "x"}, {"Id": "y"}]
    assert [f["Id"] for f in result["Failed"]] == ["z"]
    assert counts(sqs, url) == (1, 0, 0)
    expect_error(
        lambda: sqs.delete_message_batch(QueueUrl=url, Entries=[]),
        "AWS.SimpleQueueService.EmptyBatchRequest",
        "There should be at least one DeleteMessageBatchRequestEntry in the request.",
    )
    expect_error(
        lambda: sqs.change_message_visibility_batch(
            QueueUrl=url,
            Entries=[{"Id": "d", "ReceiptHandle": "h"}, {"Id": "d", "ReceiptHandle": "h"}],
        ),
        "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
    )


def test_botocore_param_validation_is_kept(sqs: Any, url: str) -> None:
    from botocore.exceptions import ParamValidationError

    with pytest.raises(ParamValidationError):
        sqs.send_message(QueueUrl=url)
    with pytest.raises(ParamValidationError):
        sqs.receive_message(QueueUrl=url, MaxNumberOfMessages="ten")


@pytest.mark.parametrize(
    ("method", "shape", "entry"),
    [
        ("send_message_batch", "SendMessageBatchRequestEntry", {"MessageBody": "x"}),
        ("delete_message_batch", "DeleteMessageBatchRequestEntry", {"ReceiptHandle": "h"}),
        (
            "change_message_visibility_batch",
            "ChangeMessageVisibilityBatchRequestEntry",
            {"ReceiptHandle": "h", "VisibilityTimeout": 1},
        ),
    ],
)
def test_batch_rules_for_every_batch_operation(
    sqs: Any, url: str, method: str, shape: str, entry: dict[str, Any]
) -> None:
    call = getattr(sqs, method)
    sqs.send_message(QueueUrl=url, MessageBody="keep")
    expect_error(
        lambda: call(QueueUrl=url, Entries=[]),
        "AWS.SimpleQueueService.EmptyBatchRequest",
        f"There should be at least one {shape} in the request.",
        exception="EmptyBatchRequest",
    )
    expect_error(
        lambda: call(QueueUrl=url, Entries=[{"Id": str(i), **entry} for i in range(11)]),
        "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
        "Maximum number of entries per request are 10. You have sent 11.",
        exception="TooManyEntriesInBatchRequest",
    )
    expect_error(
        lambda: call(QueueUrl=url, Entries=[{"Id": "a" * 81, **entry}]),
        "AWS.SimpleQueueService.InvalidBatchEntryId",
        exception="InvalidBatchEntryId",
    )
    expect_error(
        lambda: call(QueueUrl=url, Entries=[{"Id": "same", **entry}, {"Id": "same", **entry}]),
        "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
        "Id same repeated.",
        exception="BatchEntryIdsNotDistinct",
    )
    assert counts(sqs, url) == (1, 0, 0)
