"""SQS over the wire: boto3 (JSON protocol), a legacy query-protocol client and the AWS CLI
against a real ``headwater serve`` subprocess."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.asgi_boto import legacy_sqs_session
from tests.conformance.server_process import ServerProcess, aws_cli, headwater_server

pytestmark = pytest.mark.integration

AWS_URL = "https://sqs.us-west-2.amazonaws.com/000000000000"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with headwater_server(tmp_path_factory.mktemp("sqs-wire")) as running:
        yield running


def _client(endpoint: str, session: Any = None) -> Any:
    factory = boto3.Session(botocore_session=session) if session else boto3
    return factory.client(
        "sqs",
        endpoint_url=endpoint,
        region_name="us-west-2",
        aws_access_key_id="AKIDHEADWATERTEST",
        aws_secret_access_key="secret",
        config=Config(retries={"max_attempts": 1}),
    )


@pytest.fixture(scope="module")
def sqs(server: ServerProcess) -> Any:
    return _client(server.endpoint)


@pytest.fixture(scope="module")
def legacy_sqs(server: ServerProcess, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A botocore client that speaks the query protocol, as boto3 < 1.34.90 did."""
    session = legacy_sqs_session(tmp_path_factory.mktemp("legacy-models"))
    client = _client(server.endpoint, session)
    assert client.meta.service_model.protocol == "query"
    return client


def _error(excinfo: pytest.ExceptionInfo[ClientError]) -> dict[str, Any]:
    error: dict[str, Any] = excinfo.value.response["Error"]
    return error


# ---- boto3, JSON protocol ----


def test_queue_lifecycle_attributes_tags(sqs: Any) -> None:
    url = sqs.create_queue(
        QueueName="life", Attributes={"VisibilityTimeout": "45"}, tags={"team": "a"}
    )["QueueUrl"]
    assert url.endswith("/000000000000/life")
    # same attributes: same URL; different: QueueNameExists with the legacy code
    assert (
        sqs.create_queue(QueueName="life", Attributes={"VisibilityTimeout": "45"})["QueueUrl"]
        == url
    )
    with pytest.raises(sqs.exceptions.QueueNameExists) as excinfo:
        sqs.create_queue(QueueName="life", Attributes={"VisibilityTimeout": "46"})
    assert _error(excinfo)["Code"] == "QueueAlreadyExists"
    assert sqs.get_queue_url(QueueName="life")["QueueUrl"] == url
    assert url in sqs.list_queues(QueueNamePrefix="li")["QueueUrls"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["VisibilityTimeout"] == "45"
    assert attrs["QueueArn"] == "arn:aws:sqs:us-west-2:000000000000:life"
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"DelaySeconds": "2"})
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["DelaySeconds"])[
        "Attributes"
    ] == {"DelaySeconds": "2"}
    sqs.tag_queue(QueueUrl=url, Tags={"env": "dev"})
    sqs.untag_queue(QueueUrl=url, TagKeys=["team"])
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"env": "dev"}
    sqs.purge_queue(QueueUrl=url)
    sqs.delete_queue(QueueUrl=url)
    with pytest.raises(sqs.exceptions.QueueDoesNotExist) as excinfo:
        sqs.get_queue_url(QueueName="life")
    error = _error(excinfo)
    assert error["Code"] == "AWS.SimpleQueueService.NonExistentQueue"
    assert error["QueryErrorCode"] == "QueueDoesNotExist"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_messages_with_aws_url_form(sqs: Any) -> None:
    sqs.create_queue(QueueName="msgs")
    url = f"{AWS_URL}/msgs"
    sent = sqs.send_message(
        QueueUrl=url,
        MessageBody="héllo",
        MessageAttributes={
            "a": {"DataType": "String", "StringValue": "x"},
            "bin": {"DataType": "Binary", "BinaryValue": b"\x00\xff\x10"},
        },
    )
    assert sent["MD5OfMessageBody"] == hashlib.md5("héllo".encode()).hexdigest()
    batch = sqs.send_message_batch(
        QueueUrl=url,
        Entries=[{"Id": "one", "MessageBody": "1"}, {"Id": "two", "MessageBody": "2"}],
    )
    assert sorted(e["Id"] for e in batch["Successful"]) == ["one", "two"]
    assert batch.get("Failed", []) == []
    received: list[dict[str, Any]] = []
    for _ in range(10):
        received += sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
            VisibilityTimeout=30,
        ).get("Messages", [])
        if len(received) == 3:
            break
    by_body = {m["Body"]: m for m in received}
    assert set(by_body) == {"héllo", "1", "2"}
    first = by_body["héllo"]
    assert first["MessageAttributes"]["bin"]["BinaryValue"] == b"\x00\xff\x10"
    assert first["Attributes"]["ApproximateReceiveCount"] == "1"
    sqs.change_message_visibility(
        QueueUrl=url, ReceiptHandle=first["ReceiptHandle"], VisibilityTimeout=60
    )
    changed = sqs.change_message_visibility_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "a", "ReceiptHandle": by_body["1"]["ReceiptHandle"], "VisibilityTimeout": 60}
        ],
    )
    assert [e["Id"] for e in changed["Successful"]] == ["a"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"])
    deleted = sqs.delete_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "a", "ReceiptHandle": by_body["1"]["ReceiptHandle"]},
            {"Id": "b", "ReceiptHandle": by_body["2"]["ReceiptHandle"]},
        ],
    )
    assert sorted(e["Id"] for e in deleted["Successful"]) == ["a", "b"]
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages") is None


def test_message_error_paths(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="errs")["QueueUrl"]
    with pytest.raises(ClientError) as excinfo:
        sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=11)
    assert _error(excinfo)["Code"] == "InvalidParameterValue"
    with pytest.raises(sqs.exceptions.EmptyBatchRequest) as batch_error:
        sqs.send_message_batch(QueueUrl=url, Entries=[])
    assert _error(batch_error)["Code"] == "AWS.SimpleQueueService.EmptyBatchRequest"
    with pytest.raises(sqs.exceptions.BatchEntryIdsNotDistinct):
        sqs.send_message_batch(
            QueueUrl=url,
            Entries=[{"Id": "x", "MessageBody": "1"}, {"Id": "x", "MessageBody": "2"}],
        )
    with pytest.raises(sqs.exceptions.ReceiptHandleIsInvalid):
        sqs.delete_message(QueueUrl=url, ReceiptHandle="garbage")
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.send_message(QueueUrl=f"{AWS_URL}/missing", MessageBody="x")


def test_fifo_queue(sqs: Any) -> None:
    url = sqs.create_queue(
        QueueName="orders.fifo",
        Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"},
    )["QueueUrl"]
    first = sqs.send_message(QueueUrl=url, MessageBody="a", MessageGroupId="g")
    again = sqs.send_message(QueueUrl=url, MessageBody="a", MessageGroupId="g")
    assert again["MessageId"] == first["MessageId"]
    assert first["SequenceNumber"].isdigit()
    messages = sqs.receive_message(QueueUrl=url, AttributeNames=["All"])["Messages"]
    assert messages[0]["Attributes"]["MessageGroupId"] == "g"


def test_dead_letter_sources_and_move_tasks(sqs: Any) -> None:
    dlq = sqs.create_queue(QueueName="mt-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    source = sqs.create_queue(
        QueueName="mt-src",
        Attributes={
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1})
        },
    )["QueueUrl"]
    assert sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"] == [source]
    sqs.send_message(QueueUrl=dlq, MessageBody="parked")
    task = sqs.start_message_move_task(SourceArn=dlq_arn)
    assert task["TaskHandle"]
    results = sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"]
    assert results[0]["SourceArn"] == dlq_arn
    if results[0]["Status"] == "RUNNING":
        sqs.cancel_message_move_task(TaskHandle=task["TaskHandle"])
    else:
        with pytest.raises(ClientError):
            sqs.cancel_message_move_task(TaskHandle=task["TaskHandle"])


def test_long_poll_does_not_block_other_calls(sqs: Any, server: ServerProcess) -> None:
    import threading
    import time

    url = sqs.create_queue(QueueName="longpoll")["QueueUrl"]
    result: dict[str, Any] = {}
    poller = _client(server.endpoint)

    def poll() -> None:
        start = time.monotonic()
        result["response"] = poller.receive_message(QueueUrl=url, WaitTimeSeconds=5)
        result["seconds"] = time.monotonic() - start

    thread = threading.Thread(target=poll)
    thread.start()
    time.sleep(0.3)
    start = time.monotonic()
    sqs.list_queues()
    assert time.monotonic() - start < 1.0  # the loop is free while the poll waits
    sqs.send_message(QueueUrl=url, MessageBody="wake")
    thread.join(timeout=10)
    assert result["response"]["Messages"][0]["Body"] == "wake"
    assert result["seconds"] < 4


# ---- legacy query protocol ----


def test_query_protocol_client(legacy_sqs: Any) -> None:
    url = legacy_sqs.create_queue(
        QueueName="legacy", Attributes={"VisibilityTimeout": "40"}, tags={"k": "v"}
    )["QueueUrl"]
    assert legacy_sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])[
        "Attributes"
    ] == {"VisibilityTimeout": "40"}
    legacy_sqs.send_message_batch(
        QueueUrl=url,
        Entries=[
            {
                "Id": "1",
                "MessageBody": "a<b>&c",
                "MessageAttributes": {"n": {"DataType": "Number", "StringValue": "7"}},
            }
        ],
    )
    messages = legacy_sqs.receive_message(
        QueueUrl=url, MessageAttributeNames=["All"], AttributeNames=["All"]
    )["Messages"]
    assert messages[0]["Body"] == "a<b>&c"
    assert messages[0]["MessageAttributes"]["n"]["StringValue"] == "7"
    assert int(messages[0]["Attributes"]["SentTimestamp"]) > 0
    legacy_sqs.delete_message(QueueUrl=url, ReceiptHandle=messages[0]["ReceiptHandle"])
    assert legacy_sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"k": "v"}
    with pytest.raises(ClientError) as excinfo:
        legacy_sqs.get_queue_url(QueueName="nope")
    assert _error(excinfo)["Code"] == "AWS.SimpleQueueService.NonExistentQueue"
    with pytest.raises(ClientError) as excinfo:
        legacy_sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=11)
    assert _error(excinfo)["Code"] == "InvalidParameterValue"


# ---- AWS CLI ----


def test_cli_sqs_operations(server: ServerProcess, tmp_path: Path) -> None:
    url = aws_cli(server, "sqs", "create-queue", "--queue-name", "cli-q").json()["QueueUrl"]
    assert aws_cli(server, "sqs", "get-queue-url", "--queue-name", "cli-q").json() == {
        "QueueUrl": url
    }
    assert url in aws_cli(server, "sqs", "list-queues").json()["QueueUrls"]
    aws_cli(
        server,
        "sqs",
        "set-queue-attributes",
        "--queue-url",
        url,
        "--attributes",
        "VisibilityTimeout=50",
    )
    arn = aws_cli(
        server,
        "sqs",
        "get-queue-attributes",
        "--queue-url",
        url,
        "--attribute-names",
        "All",
        "--query",
        "Attributes.QueueArn",
        "--output",
        "text",
    ).stdout.strip()
    assert arn == "arn:aws:sqs:us-west-2:000000000000:cli-q"
    aws_cli(server, "sqs", "tag-queue", "--queue-url", url, "--tags", "a=1,b=2")
    aws_cli(server, "sqs", "untag-queue", "--queue-url", url, "--tag-keys", "b")
    assert aws_cli(server, "sqs", "list-queue-tags", "--queue-url", url).json()["Tags"] == {
        "a": "1"
    }
    sent = aws_cli(server, "sqs", "send-message", "--queue-url", url, "--message-body", "hi").json()
    assert sent["MD5OfMessageBody"] == hashlib.md5(b"hi").hexdigest()
    entries = tmp_path / "entries.json"
    entries.write_text(
        json.dumps([{"Id": "a", "MessageBody": "x"}, {"Id": "b", "MessageBody": "y"}])
    )
    batch = aws_cli(
        server, "sqs", "send-message-batch", "--queue-url", url, "--entries", f"file://{entries}"
    ).json()
    assert len(batch["Successful"]) == 2
    messages = aws_cli(
        server,
        "sqs",
        "receive-message",
        "--queue-url",
        url,
        "--max-number-of-messages",
        "10",
        "--wait-time-seconds",
        "1",
    ).json()["Messages"]
    handles = [m["ReceiptHandle"] for m in messages]
    aws_cli(
        server,
        "sqs",
        "change-message-visibility",
        "--queue-url",
        url,
        "--receipt-handle",
        handles[0],
        "--visibility-timeout",
        "100",
    )
    aws_cli(server, "sqs", "delete-message", "--queue-url", url, "--receipt-handle", handles[0])
    failed = aws_cli(
        server,
        "sqs",
        "delete-message-batch",
        "--queue-url",
        url,
        "--entries",
        "Id=z,ReceiptHandle=bogus",
        check=False,
    )
    assert "ReceiptHandleIsInvalid" in failed.stdout + failed.stderr
    aws_cli(server, "sqs", "purge-queue", "--queue-url", url)
    aws_cli(server, "sqs", "delete-queue", "--queue-url", url)
    missing = aws_cli(server, "sqs", "get-queue-url", "--queue-name", "cli-q", check=False)
    assert missing.returncode == 255  # AWS CLI v1: service error
    assert "AWS.SimpleQueueService.NonExistentQueue" in missing.stderr


def test_query_protocol_remaining_operations(legacy_sqs: Any) -> None:
    dlq = legacy_sqs.create_queue(QueueName="legacy-dlq")["QueueUrl"]
    dlq_arn = legacy_sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    url = legacy_sqs.create_queue(QueueName="legacy-src")["QueueUrl"]
    legacy_sqs.set_queue_attributes(
        QueueUrl=url,
        Attributes={
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2})
        },
    )
    assert legacy_sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"] == [url]
    assert url in legacy_sqs.list_queues(QueueNamePrefix="legacy-")["QueueUrls"]
    legacy_sqs.tag_queue(QueueUrl=url, Tags={"a": "1", "b": "2"})
    legacy_sqs.untag_queue(QueueUrl=url, TagKeys=["a"])
    assert legacy_sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"b": "2"}
    sent = legacy_sqs.send_message(QueueUrl=url, MessageBody="one", DelaySeconds=0)
    assert sent["MD5OfMessageBody"] == hashlib.md5(b"one").hexdigest()
    legacy_sqs.send_message(QueueUrl=url, MessageBody="two")
    messages: list[dict[str, Any]] = []
    for _ in range(5):
        messages += legacy_sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get(
            "Messages", []
        )
        if len(messages) == 2:
            break
    handles = [m["ReceiptHandle"] for m in messages]
    legacy_sqs.change_message_visibility(
        QueueUrl=url, ReceiptHandle=handles[0], VisibilityTimeout=5
    )
    changed = legacy_sqs.change_message_visibility_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "ok", "ReceiptHandle": handles[1], "VisibilityTimeout": 5},
            {"Id": "bad", "ReceiptHandle": "garbage", "VisibilityTimeout": 5},
        ],
    )
    assert [e["Id"] for e in changed["Successful"]] == ["ok"]
    assert changed["Failed"][0]["Id"] == "bad"
    assert changed["Failed"][0]["SenderFault"] is True
    deleted = legacy_sqs.delete_message_batch(
        QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": h} for i, h in enumerate(handles)]
    )
    assert sorted(e["Id"] for e in deleted["Successful"]) == ["0", "1"]
    legacy_sqs.send_message(QueueUrl=dlq, MessageBody="parked")
    task = legacy_sqs.start_message_move_task(
        SourceArn=dlq_arn, DestinationArn="arn:aws:sqs:us-west-2:000000000000:legacy-src"
    )
    assert task["TaskHandle"]
    results = legacy_sqs.list_message_move_tasks(SourceArn=dlq_arn, MaxResults=10)["Results"]
    assert results[0]["SourceArn"] == dlq_arn
    assert results[0]["Status"] in ("RUNNING", "COMPLETED")
    legacy_sqs.purge_queue(QueueUrl=url)
    legacy_sqs.delete_queue(QueueUrl=url)
    with pytest.raises(ClientError) as excinfo:
        legacy_sqs.get_queue_url(QueueName="legacy-src")
    assert _error(excinfo)["Code"] == "AWS.SimpleQueueService.NonExistentQueue"


def test_cli_dead_letter_and_move_tasks(server: ServerProcess) -> None:
    dlq = aws_cli(server, "sqs", "create-queue", "--queue-name", "cli-dlq").json()["QueueUrl"]
    dlq_arn = "arn:aws:sqs:us-west-2:000000000000:cli-dlq"
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"})
    src = aws_cli(
        server,
        "sqs",
        "create-queue",
        "--queue-name",
        "cli-src",
        "--attributes",
        json.dumps({"RedrivePolicy": policy}),
    ).json()["QueueUrl"]
    sources = aws_cli(server, "sqs", "list-dead-letter-source-queues", "--queue-url", dlq).json()
    assert sources["queueUrls"] == [src]
    aws_cli(server, "sqs", "send-message", "--queue-url", src, "--message-body", "m")
    handle = aws_cli(
        server,
        "sqs",
        "receive-message",
        "--queue-url",
        src,
        "--wait-time-seconds",
        "1",
        "--query",
        "Messages[0].ReceiptHandle",
        "--output",
        "text",
    ).stdout.strip()
    changed = aws_cli(
        server,
        "sqs",
        "change-message-visibility-batch",
        "--queue-url",
        src,
        "--entries",
        f"Id=a,ReceiptHandle={handle},VisibilityTimeout=0",
    ).json()
    assert [e["Id"] for e in changed["Successful"]] == ["a"]
    aws_cli(server, "sqs", "send-message", "--queue-url", dlq, "--message-body", "parked")
    task = aws_cli(server, "sqs", "start-message-move-task", "--source-arn", dlq_arn).json()
    listed = aws_cli(server, "sqs", "list-message-move-tasks", "--source-arn", dlq_arn).json()
    assert listed["Results"][0]["SourceArn"] == dlq_arn
    cancel = aws_cli(
        server,
        "sqs",
        "cancel-message-move-task",
        "--task-handle",
        task["TaskHandle"],
        check=False,
    )
    # a task that already completed cannot be cancelled: AWS answers with an error
    if listed["Results"][0]["Status"] == "RUNNING":
        assert cancel.returncode == 0, cancel.stderr
    else:
        assert cancel.returncode == 255
        assert "An error occurred" in cancel.stderr
