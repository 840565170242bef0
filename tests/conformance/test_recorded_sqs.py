"""Replays of the AWS recordings of SQS (``tests/data/recorded/sqs.json``).

Each scenario repeats the calls of the recorded test (LocalStack's snapshot tests, whose
requests are in its source) with a real boto3 client against headwater's ASGI app in
process, and compares every recorded response: shapes, error codes, texts and statuses. The
``[sqs]`` recordings use the JSON protocol, ``[sqs_query]`` the legacy query protocol.
Time moves on a ``ManualClock``. Recordings that cannot be replayed are listed in
``NOT_REPLAYED`` with the reason; a test checks that every recording is one or the other.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError

from headwater import Headwater, ManualClock
from tests.asgi_boto import InProcessAws, legacy_sqs_session
from tests.conformance.recorded import differences, recorded_tests, recording

MAX = 1_048_576
ATTRIBUTE = {"k": {"DataType": "String", "StringValue": "x"}}
ATTRIBUTE_SIZE = len("k") + len("String") + len("x")
TRACE = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"


@dataclass
class Env:
    sqs: Any
    clock: ManualClock
    aws: InProcessAws
    #: JSON client: LocalStack's queue fixture and ``aws_client`` use it in either variant.
    json: Any
    counter: int = 0

    def queue(self, fifo: bool = False, **attributes: str) -> str:
        self.counter += 1
        name = f"queue-{self.counter}" + (".fifo" if fifo else "")
        if fifo:
            attributes = {"FifoQueue": "true", **attributes}
        return str(self.sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"])

    def arn(self, url: str) -> str:
        found = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        return str(found["Attributes"]["QueueArn"])

    def later(self, seconds: float) -> None:
        """Move the clock on from another thread while a long poll waits."""
        threading.Timer(0.05, self.clock.advance, [seconds]).start()


def error_of(call: Callable[..., Any], **params: Any) -> dict[str, Any]:
    """What LocalStack records for a failed call: ``ClientError.response``."""
    with pytest.raises(ClientError) as caught:
        call(**params)
    return dict(caught.value.response)


Scenario = Callable[[Env], dict[str, Any]]
SCENARIOS: dict[str, Scenario] = {}


def scenario(*names: str) -> Callable[[Scenario], Scenario]:
    def register(function: Scenario) -> Scenario:
        for name in names:
            SCENARIOS[name] = function
        return function

    return register


# -- messages -----------------------------------------------------------------------------


@scenario("test_send_receive_max_number_of_messages")
def _max_number(env: Env) -> dict[str, Any]:
    url = env.queue()
    env.sqs.send_message(QueueUrl=url, MessageBody="message")
    error = error_of(env.sqs.receive_message, QueueUrl=url, MaxNumberOfMessages=11)
    return {"send_max_number_of_messages": error}


@scenario("test_send_oversized_message")
def _oversized(env: Env) -> dict[str, Any]:
    url = env.queue()
    body = "a" * (MAX - ATTRIBUTE_SIZE + 1)
    error = error_of(
        env.sqs.send_message, QueueUrl=url, MessageBody=body, MessageAttributes=ATTRIBUTE
    )
    return {"send_oversized_message": error}


@scenario("test_send_message_with_updated_maximum_message_size")
def _oversized_updated(env: Env) -> dict[str, Any]:
    url = env.queue()
    env.sqs.set_queue_attributes(QueueUrl=url, Attributes={"MaximumMessageSize": "1024"})
    env.sqs.send_message(QueueUrl=url, MessageBody="a" * 1024)
    body = "a" * (1024 - ATTRIBUTE_SIZE + 1)
    error = error_of(
        env.sqs.send_message, QueueUrl=url, MessageBody=body, MessageAttributes=ATTRIBUTE
    )
    return {"send_oversized_message": error}


@scenario("test_send_message_batch_with_oversized_contents")
def _batch_oversized(env: Env) -> dict[str, Any]:
    url = env.queue()
    entries = [
        {"Id": "1", "MessageBody": "a" * (MAX - ATTRIBUTE_SIZE), "MessageAttributes": ATTRIBUTE},
        {"Id": "2", "MessageBody": "a"},
    ]
    error = error_of(env.sqs.send_message_batch, QueueUrl=url, Entries=entries)
    return {"send_oversized_message_batch": error}


@scenario("test_send_message_batch_with_oversized_contents_with_updated_maximum_message_size")
def _batch_updated_size(env: Env) -> dict[str, Any]:
    url = env.queue()
    env.sqs.set_queue_attributes(QueueUrl=url, Attributes={"MaximumMessageSize": "2048"})
    entries = [
        {"Id": "1", "MessageBody": "a" * (2048 - ATTRIBUTE_SIZE), "MessageAttributes": ATTRIBUTE},
        {"Id": "2", "MessageBody": "a"},
    ]
    return {
        "send_oversized_message_batch": env.sqs.send_message_batch(QueueUrl=url, Entries=entries)
    }


@scenario("test_send_message_with_binary_attributes")
def _binary_attributes(env: Env) -> dict[str, Any]:
    url = env.queue()
    value = b"traceparent\x1e00-774062d6c37081a5a0b9b5b88e30627c-2d2482211f6489da-01"
    attributes = {"attr1": {"BinaryValue": value, "DataType": "Binary"}}
    env.sqs.send_message(QueueUrl=url, MessageBody="test", MessageAttributes=attributes)
    received = env.sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"])
    return {"binary-attrs-msg": received}


@scenario("test_send_message_with_empty_string_attribute")
def _empty_string_attribute(env: Env) -> dict[str, Any]:
    url = env.queue()
    attributes = {"ErrorDetails": {"StringValue": "", "DataType": "String"}}
    error = error_of(
        env.sqs.send_message, QueueUrl=url, MessageBody="test", MessageAttributes=attributes
    )
    return {"empty-string-attr": error}


@scenario("test_send_empty_message")
def _empty_message(env: Env) -> dict[str, Any]:
    url = env.queue()
    return {"send_empty_message": error_of(env.sqs.send_message, QueueUrl=url, MessageBody="")}


@scenario("test_send_receive_wait_time_seconds")
def _wait_time(env: Env) -> dict[str, Any]:
    url = env.queue()
    result = {
        "recieve_message_error_too_large": error_of(
            env.sqs.receive_message, QueueUrl=url, WaitTimeSeconds=21
        ),
        "recieve_message_error_too_small": error_of(
            env.sqs.receive_message, QueueUrl=url, WaitTimeSeconds=-1
        ),
    }
    env.sqs.send_message(QueueUrl=url, MessageBody="message")
    result["empty_short_poll_by_default_resp"] = env.sqs.receive_message(QueueUrl=url)
    env.sqs.send_message(QueueUrl=url, MessageBody="message")
    result["empty_short_poll_explicit_resp"] = env.sqs.receive_message(
        QueueUrl=url, WaitTimeSeconds=0
    )
    return result


@scenario("test_receive_empty_queue")
def _receive_empty(env: Env) -> dict[str, Any]:
    url = env.queue()
    result = {
        "empty_short_poll_resp_no_param": env.sqs.receive_message(QueueUrl=url),
        "empty_short_poll_resp": env.sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0),
    }
    env.later(2)
    result["empty_long_poll_resp"] = env.sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)
    return result


@scenario("test_receive_message_message_attribute_names_filters")
def _message_attribute_names(env: Env) -> dict[str, Any]:
    url = env.queue(VisibilityTimeout="0")
    result: dict[str, Any] = {
        "send_message_response": env.sqs.send_message(
            QueueUrl=url,
            MessageBody="msg",
            MessageAttributes={
                "Help.Me": {"DataType": "String", "StringValue": "Me"},
                "Hello": {"DataType": "String", "StringValue": "There"},
                "General": {"DataType": "String", "StringValue": "Kenobi"},
            },
        )
    }

    def receive(names: list[str]) -> Any:
        return env.sqs.receive_message(QueueUrl=url, MessageAttributeNames=names)

    result["empty_filter"] = receive([])
    result["all_name"] = receive(["All"])
    result["all_wildcard_asterisk"] = receive(["*"])["Messages"][0]
    result["all_wildcard"] = receive([".*"])["Messages"][0]
    result["only_non_existing_names"] = receive(["Foo", "Help"])["Messages"][0]
    result["only_existing"] = receive(["Hello", "General"])["Messages"][0]
    result["existing_and_non_existing"] = receive(["Foo", "Hello"])["Messages"][0]
    result["prefix_filter"] = receive(["Hel.*"])["Messages"][0]
    result["illegal_name_1"] = receive(["AWS."])
    result["illegal_name_2"] = receive(["..foo"])
    return result


def _attribute_name_filters(env: Env, parameter: str) -> dict[str, Any]:
    url = env.queue(VisibilityTimeout="0")
    env.sqs.send_message(
        QueueUrl=url,
        MessageBody="msg",
        MessageAttributes={"Foo": {"DataType": "String", "StringValue": "Bar"}},
    )

    def receive(names: list[str], message_names: list[str] | None = None) -> Any:
        return env.sqs.receive_message(
            QueueUrl=url, **{parameter: names}, MessageAttributeNames=message_names or []
        )

    return {
        "all_attributes": receive(["All"]),
        "all_system_and_message_attributes": receive(["All"], ["All"]),
        "single_attribute": receive(["SenderId"]),
        "multiple_attributes": receive(["SenderId", "SequenceNumber"]),
    }


@scenario("test_receive_message_attribute_names_filters")
def _attribute_names(env: Env) -> dict[str, Any]:
    return _attribute_name_filters(env, "AttributeNames")


@scenario("test_receive_message_message_system_attribute_names_filters")
def _system_attribute_names(env: Env) -> dict[str, Any]:
    return _attribute_name_filters(env, "MessageSystemAttributeNames")


@scenario("test_message_system_attribute_names_with_attribute_names")
def _both_attribute_names(env: Env) -> dict[str, Any]:
    url = env.queue(VisibilityTimeout="0")
    env.sqs.send_message(QueueUrl=url, MessageBody="msg")
    same = env.sqs.receive_message(
        QueueUrl=url, AttributeNames=["All"], MessageSystemAttributeNames=["All"]
    )
    different = env.sqs.receive_message(
        QueueUrl=url, AttributeNames=["SenderId"], MessageSystemAttributeNames=["All"]
    )
    return {"same_values": same, "different_values": different}


@scenario("test_aws_trace_header_propagation")
def _trace_header(env: Env) -> dict[str, Any]:
    url = env.queue()
    trace = "Root=1-3152b799-8954dae64eda91bc9a23a7e8;Parent=7fa8c0f79203be72;Sampled=1"
    env.sqs.send_message(
        QueueUrl=url,
        MessageBody="test",
        MessageAttributes={"timestamp": {"StringValue": "1493147359900", "DataType": "Number"}},
        MessageSystemAttributes={"AWSTraceHeader": {"StringValue": trace, "DataType": "String"}},
    )
    received = env.sqs.receive_message(
        QueueUrl=url,
        AttributeNames=["AWSTraceHeader", "SentTimestamp"],
        MessageAttributeNames=["All"],
    )
    return {"xray-msg": received["Messages"][0]}


# -- visibility and delete -----------------------------------------------------------------


@scenario("test_change_message_visibility_after_visibility_timeout_expiration")
def _visibility_after_expiry(env: Env) -> dict[str, Any]:
    url = env.queue(VisibilityTimeout="1")
    env.sqs.send_message(QueueUrl=url, MessageBody="test")
    handle = env.sqs.receive_message(QueueUrl=url)["Messages"][0]["ReceiptHandle"]
    env.clock.advance(2)
    changed = env.sqs.change_message_visibility(
        QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=1
    )
    assert "Messages" not in env.sqs.receive_message(QueueUrl=url)
    return {"visibility_timeout_expired": changed}


@scenario("test_delete_after_visibility_timeout")
def _delete_after_timeout(env: Env) -> dict[str, Any]:
    url = env.queue(VisibilityTimeout="1")
    env.sqs.send_message(QueueUrl=url, MessageBody="foobar")
    handle = env.sqs.receive_message(QueueUrl=url)["Messages"][0]["ReceiptHandle"]
    env.clock.advance(2)
    env.sqs.delete_message(QueueUrl=url, ReceiptHandle=handle)
    return {"delete_after_timeout_queue_empty": env.sqs.receive_message(QueueUrl=url)}


@scenario("test_fifo_delete_after_visibility_timeout")
def _fifo_delete_after_timeout(env: Env) -> dict[str, Any]:
    url = env.queue(fifo=True, VisibilityTimeout="1", ContentBasedDeduplication="true")
    env.sqs.send_message(QueueUrl=url, MessageBody="foobar", MessageGroupId="1")
    received = env.sqs.receive_message(QueueUrl=url)
    env.clock.advance(2)
    handle = received["Messages"][0]["ReceiptHandle"]
    error = error_of(env.sqs.delete_message, QueueUrl=url, ReceiptHandle=handle)
    return {"received_sqs_message": received, "delete_after_timeout_fifo": error}


@scenario("test_fifo_delete_after_visibility_timeout_extended")
def _fifo_delete_extended(env: Env) -> dict[str, Any]:
    url = env.queue(fifo=True, VisibilityTimeout="1", ContentBasedDeduplication="true")
    env.sqs.send_message(QueueUrl=url, MessageBody="foobar", MessageGroupId="1")
    received = env.sqs.receive_message(QueueUrl=url)
    handle = received["Messages"][0]["ReceiptHandle"]
    env.sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=10)
    env.clock.advance(2)
    deleted = env.sqs.delete_message(QueueUrl=url, ReceiptHandle=handle)
    return {"received_sqs_message": received, "delete_after_timeout_fifo_extended": deleted}


# -- batches ------------------------------------------------------------------------------


@scenario("test_too_many_entries_in_batch_request")
def _too_many_entries(env: Env) -> dict[str, Any]:
    url = env.queue()
    entries = [{"Id": f"message-{i}", "MessageBody": f"messageBody-{i}"} for i in range(20)]
    error = error_of(env.sqs.send_message_batch, QueueUrl=url, Entries=entries)
    return {"test_too_many_entries_in_batch_request": error}


@scenario("test_invalid_batch_id")
def _invalid_batch_id(env: Env) -> dict[str, Any]:
    url = env.queue()
    entries = [{"Id": "message:abc", "MessageBody": "messageBody-abc"}]
    return {
        "test_invalid_batch_id": error_of(env.sqs.send_message_batch, QueueUrl=url, Entries=entries)
    }


@scenario("test_send_batch_missing_deduplication_id_for_fifo_queue")
def _batch_missing_dedup(env: Env) -> dict[str, Any]:
    url = env.queue(fifo=True, ContentBasedDeduplication="false")
    entries = [
        {
            "Id": "m1",
            "MessageBody": "messageBody",
            "MessageGroupId": "g",
            "MessageDeduplicationId": "d",
        },
        {"Id": "m2", "MessageBody": "messageBody", "MessageGroupId": "g"},
    ]
    error = error_of(env.sqs.send_message_batch, QueueUrl=url, Entries=entries)
    return {"test_missing_deduplication_id_for_fifo_queue": error}


@scenario("test_send_batch_missing_message_group_id_for_fifo_queue")
def _batch_missing_group(env: Env) -> dict[str, Any]:
    url = env.queue(fifo=True, ContentBasedDeduplication="false")
    entries = [
        {
            "Id": "m1",
            "MessageBody": "messageBody",
            "MessageGroupId": "g",
            "MessageDeduplicationId": "d1",
        },
        {"Id": "m2", "MessageBody": "messageBody", "MessageDeduplicationId": "d2"},
    ]
    error = error_of(env.sqs.send_message_batch, QueueUrl=url, Entries=entries)
    return {"test_missing_message_group_id_for_fifo_queue": error}


def _invalid_delete_id(identifier: str) -> Scenario:
    def replay(env: Env) -> dict[str, Any]:
        url = env.queue()
        entries = [{"Id": identifier, "ReceiptHandle": "testHandle1"}]
        return {
            "error_response": error_of(env.sqs.delete_message_batch, QueueUrl=url, Entries=entries)
        }

    return replay


for _identifier in ("", "testLongId" * 10, "invalid:id"):
    for _protocol in ("sqs", "sqs_query"):
        SCENARIOS[f"test_delete_message_batch_invalid_msg_id[{_protocol}-{_identifier}]"] = (
            _invalid_delete_id(_identifier)
        )


def _twenty_received(env: Env, url: str) -> list[dict[str, Any]]:
    batch = [{"Id": f"message-{i}", "MessageBody": f"messageBody-{i}"} for i in range(10)]
    env.sqs.send_message_batch(QueueUrl=url, Entries=batch)
    env.sqs.send_message_batch(QueueUrl=url, Entries=batch)
    received: list[dict[str, Any]] = []
    while len(received) < 20:
        received.extend(env.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"])
    return received


@scenario("test_delete_message_batch_with_too_large_batch")
def _delete_batch_too_large(env: Env) -> dict[str, Any]:
    url = env.queue()
    entries = [
        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
        for i, m in enumerate(_twenty_received(env, url))
    ]
    return {"error_response": error_of(env.sqs.delete_message_batch, QueueUrl=url, Entries=entries)}


@scenario("test_change_message_visibility_batch_with_too_large_batch")
def _visibility_batch_too_large(env: Env) -> dict[str, Any]:
    url = env.queue()
    entries = [
        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 123}
        for i, m in enumerate(_twenty_received(env, url))
    ]
    error = error_of(env.sqs.change_message_visibility_batch, QueueUrl=url, Entries=entries)
    return {"error_response": error}


# -- queues and attributes ----------------------------------------------------------------


@scenario("test_tag_untag_queue")
def _tags(env: Env) -> dict[str, Any]:
    url = env.queue()
    env.sqs.tag_queue(QueueUrl=url, Tags={"tag1": "value1", "tag2": "value2", "tag3": ""})
    result = {"get-tag-1": env.sqs.list_queue_tags(QueueUrl=url)}
    env.sqs.untag_queue(QueueUrl=url, TagKeys=["tag1", "tag3"])
    result["get-tag-2"] = env.sqs.list_queue_tags(QueueUrl=url)
    env.sqs.untag_queue(QueueUrl=url, TagKeys=["tag2"])
    result["get-tag-after-untag"] = env.sqs.list_queue_tags(QueueUrl=url)
    return result


@scenario("test_create_fifo_queue_with_different_attributes_raises_error")
def _fifo_exists(env: Env) -> dict[str, Any]:
    attributes = {"FifoQueue": "true", "ContentBasedDeduplication": "true"}
    env.json.create_queue(QueueName="q.fifo", Attributes=attributes)
    error = error_of(
        env.json.create_queue,
        QueueName="q.fifo",
        Attributes={**attributes, "ContentBasedDeduplication": "false"},
    )
    return {"queue-already-exists": error}


@scenario("test_create_queue_with_different_attributes_raises_exception")
def _queue_exists(env: Env) -> dict[str, Any]:
    create = env.json.create_queue
    url = create(
        QueueName="q", Attributes={"ReceiveMessageWaitTimeSeconds": "1", "DelaySeconds": "1"}
    )["QueueUrl"]
    assert create(QueueName="q")["QueueUrl"] == url
    assert create(QueueName="q", Attributes={"DelaySeconds": "1"})["QueueUrl"] == url
    changed = {"ReceiveMessageWaitTimeSeconds": "1", "DelaySeconds": "2"}
    result = {"create_queue_01": error_of(create, QueueName="q", Attributes=changed)}
    env.json.set_queue_attributes(QueueUrl=url, Attributes={"DelaySeconds": "2"})
    assert create(QueueName="q", Attributes=changed)["QueueUrl"] == url
    original = {"ReceiveMessageWaitTimeSeconds": "1", "DelaySeconds": "1"}
    result["create_queue_02"] = error_of(create, QueueName="q", Attributes=original)
    return result


@scenario("test_create_and_update_queue_attributes")
def _queue_attributes(env: Env) -> dict[str, Any]:
    url = env.queue(
        MessageRetentionPeriod="604800", ReceiveMessageWaitTimeSeconds="10", VisibilityTimeout="20"
    )
    result = {
        "get_queue_attributes": env.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])
    }
    env.sqs.set_queue_attributes(
        QueueUrl=url,
        Attributes={"MaximumMessageSize": "2048", "VisibilityTimeout": "69", "DelaySeconds": "420"},
    )
    result["get_updated_queue_attributes"] = env.sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["All"]
    )
    return result


@scenario("test_fifo_set_content_based_deduplication_strategy")
def _content_based_strategy(env: Env) -> dict[str, Any]:
    url = env.queue(fifo=True, SqsManagedSseEnabled="true", ContentBasedDeduplication="true")
    before = env.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])
    env.sqs.set_queue_attributes(QueueUrl=url, Attributes={"ContentBasedDeduplication": "false"})
    after = env.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])
    return {"before-update": before, "after-update": after}


@scenario("test_set_unsupported_attribute_fifo")
def _unsupported_fifo(env: Env) -> dict[str, Any]:
    standard = env.queue()
    result = {
        "invalid-attr-name-1": error_of(
            env.sqs.set_queue_attributes, QueueUrl=standard, Attributes={"FifoQueue": "true"}
        )
    }
    fifo = env.queue(fifo=True)
    env.sqs.set_queue_attributes(QueueUrl=fifo, Attributes={"FifoQueue": "true"})
    result["invalid-attr-name-2"] = error_of(
        env.sqs.set_queue_attributes, QueueUrl=fifo, Attributes={"FifoQueue": "false"}
    )
    return result


@scenario("test_set_unsupported_attribute_standard")
def _unsupported_standard(env: Env) -> dict[str, Any]:
    url = env.queue()
    return {
        f"invalid-attr-name-{i}": error_of(
            env.sqs.set_queue_attributes, QueueUrl=url, Attributes={"FifoQueue": value}
        )
        for i, value in ((1, "true"), (2, "false"))
    }


@scenario("test_create_standard_queue_with_fifo_attribute_raises_error")
def _standard_with_fifo_attributes(env: Env) -> dict[str, Any]:
    cases = {
        "invalid-attribute-fifo-queue": {"FifoQueue": "false"},
        "invalid-attribute-content-based-deduplication": {"ContentBasedDeduplication": "true"},
        "invalid-attribute-deduplication-scope": {"DeduplicationScope": "messageGroup"},
        "invalid-attribute-throughput-limit": {"FifoThroughputLimit": "perMessageGroupId"},
    }
    return {
        key: error_of(env.json.create_queue, QueueName="standard", Attributes=attributes)
        for key, attributes in cases.items()
    }


@scenario("test_sse_queue_attributes")
def _sse(env: Env) -> dict[str, Any]:
    names = ["KmsMasterKeyId", "KmsDataKeyReusePeriodSeconds", "SqsManagedSseEnabled"]
    kms = env.queue()
    env.sqs.set_queue_attributes(
        QueueUrl=kms,
        Attributes={
            "KmsMasterKeyId": "testKeyId",
            "KmsDataKeyReusePeriodSeconds": "6000",
            "SqsManagedSseEnabled": "false",
        },
    )
    managed = env.queue()
    env.sqs.set_queue_attributes(QueueUrl=managed, Attributes={"SqsManagedSseEnabled": "true"})
    return {
        "sse_kms_attributes": env.sqs.get_queue_attributes(QueueUrl=kms, AttributeNames=names),
        "sse_sqs_attributes": env.sqs.get_queue_attributes(QueueUrl=managed, AttributeNames=names),
    }


@scenario("test_sse_kms_and_sqs_are_mutually_exclusive")
def _sse_exclusive(env: Env) -> dict[str, Any]:
    url = env.queue()
    with pytest.raises(ClientError) as caught:
        env.sqs.set_queue_attributes(
            QueueUrl=url, Attributes={"KmsMasterKeyId": "testKeyId", "SqsManagedSseEnabled": "true"}
        )
    return {"error": str(caught.value)}


@scenario("test_successive_purge_calls_fail")
def _purge_twice(env: Env) -> dict[str, Any]:
    url = env.queue()
    env.sqs.purge_queue(QueueUrl=url)
    return {"purge_queue_error": error_of(env.sqs.purge_queue, QueueUrl=url)}


@scenario("test_non_existent_queue")
def _non_existent(env: Env) -> dict[str, Any]:
    missing = "http://127.0.0.1:4599/000000000000/missing-queue"
    result = {
        "queue-does-not-exist": error_of(env.sqs.get_queue_url, QueueName="missing-queue"),
        "queue-does-not-exist-url": error_of(
            env.sqs.get_queue_attributes, QueueUrl=missing, AttributeNames=["All"]
        ),
    }
    status, _, body = env.aws.transport.send(
        "GET",
        f"{missing}?Action=GetQueueAttributes&AttributeName.1=QueueArn",
        _query_headers(),
        b"",
    )
    result["queue-does-not-exist-query"] = _query_error(status, body)
    return result


@scenario("TestSqsQueryApi::test_send_message_via_queue_url_with_json_protocol")
def _json_on_queue_url(env: Env) -> dict[str, Any]:
    url = env.queue()
    # the JSON protocol POSTed to the queue URL itself works like on the service endpoint
    body = json.dumps({"QueueUrl": url, "MessageBody": "foobar"}).encode()
    headers = {
        **_query_headers(),
        "Content-Type": "application/x-amz-json-1.0",
        "X-Amz-Target": "AmazonSQS.SendMessage",
    }
    status, _, _ = env.aws.transport.send("POST", url, headers, body)
    assert status == 200
    received = env.sqs.receive_message(QueueUrl=url, VisibilityTimeout=0)
    assert received["Messages"][0]["Body"] == "foobar"
    env.sqs.purge_queue(QueueUrl=url)
    return {"receive-json-on-queue-url": env.sqs.receive_message(QueueUrl=url)}


@scenario("test_sqs_permission_lifecycle")
def _permissions(env: Env) -> dict[str, Any]:
    url = env.queue()
    account = "000000000000"
    add, remove = env.sqs.add_permission, env.sqs.remove_permission

    def policy() -> Any:
        return env.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])

    label = "crossaccountpermission"
    result = {
        "add-permission-response": add(
            QueueUrl=url,
            AWSAccountIds=[account, "668614515564"],
            Actions=["ReceiveMessage"],
            Label=label,
        )
    }
    result["get-queue-policy-attribute"] = policy()
    result["remove-permission-response"] = remove(QueueUrl=url, Label=label)
    result["get-queue-policy-attribute-after-removal"] = policy()
    add(QueueUrl=url, AWSAccountIds=[account], Actions=["ReceiveMessage"], Label=label)
    result["get-queue-policy-attribute-first-account-same-label"] = policy()
    result["get-queue-policy-attribute-second-account-same-label"] = error_of(
        add, QueueUrl=url, AWSAccountIds=["668614515564"], Actions=["ReceiveMessage"], Label=label
    )
    add(QueueUrl=url, AWSAccountIds=[account], Actions=["ReceiveMessage"], Label=label + "2")
    result["get-queue-policy-attribute-second-account-different-label"] = policy()
    remove(QueueUrl=url, Label=label)
    result["get-queue-policy-attribute-delete-first-permission"] = policy()
    remove(QueueUrl=url, Label=label + "2")
    result["get-queue-policy-attribute-delete-second-permission"] = policy()
    result["get-queue-policy-attribute-delete-non-existent-label"] = error_of(
        remove, QueueUrl=url, Label=label + "2"
    )
    return result


@scenario("test_list_queues_pagination")
def _pagination(env: Env) -> dict[str, Any]:
    for i in range(10):
        env.sqs.create_queue(QueueName=f"7f7df0f5-test-queue-{i}")
    listed = env.sqs.list_queues(QueueNamePrefix="7f7df0f5-test-queue")
    first = env.sqs.list_queues(QueueNamePrefix="7f7df0f5-test-queue", MaxResults=2)
    rest = env.sqs.list_queues(
        QueueNamePrefix="7f7df0f5-test-queue", MaxResults=10, NextToken=first["NextToken"]
    )
    # NextToken is opaque: AWS's encodes its URL, headwater's the queue name
    first = {**first, "NextToken": "<token>"}
    return {"list_all": listed, "list_two_max": first, "list_remaining": rest}


# -- FIFO ---------------------------------------------------------------------------------


@scenario("test_fifo_queue_send_message_with_delay_seconds_fails")
def _fifo_delay_fails(env: Env) -> dict[str, Any]:
    url = env.queue(fifo=True, ContentBasedDeduplication="true")
    error = error_of(
        env.sqs.send_message,
        QueueUrl=url,
        MessageBody="message-1",
        MessageGroupId="1",
        DelaySeconds=2,
    )
    return {"send_message": error}


@scenario("test_fifo_queue_send_message_with_zero_delay_defaults_to_queue_delay")
def _fifo_zero_delay(env: Env) -> dict[str, Any]:
    url = env.queue(fifo=True, ContentBasedDeduplication="true", DelaySeconds="1")
    sent = env.sqs.send_message(
        QueueUrl=url, MessageBody="message-1", MessageGroupId="1", DelaySeconds=0
    )
    initial = env.sqs.receive_message(QueueUrl=url)
    env.clock.advance(2)
    return {
        "send_message_result": sent,
        "receive_message_initial_result": initial,
        "receive_message_after_delay_result": env.sqs.receive_message(QueueUrl=url),
    }


@scenario("test_fifo_message_attributes")
def _fifo_system_attributes(env: Env) -> dict[str, Any]:
    url = env.queue(
        fifo=True,
        ContentBasedDeduplication="true",
        VisibilityTimeout="0",
        DeduplicationScope="messageGroup",
        FifoThroughputLimit="perMessageGroupId",
    )
    sent = env.sqs.send_message(
        QueueUrl=url,
        MessageBody="message-body-1",
        MessageGroupId="group-1",
        MessageDeduplicationId="dedup-1",
    )
    first = env.sqs.receive_message(QueueUrl=url, AttributeNames=["All"])
    second = env.sqs.receive_message(QueueUrl=url, AttributeNames=["All"])
    return {"send_message": sent, "receive_message_0": first, "receive_message_1": second}


def _dedup_after_delete(content_based: bool) -> Scenario:
    def replay(env: Env) -> dict[str, Any]:
        attributes = {"ContentBasedDeduplication": "true"} if content_based else {}
        url = env.queue(fifo=True, **attributes)
        extra = {} if content_based else {"MessageDeduplicationId": "dedup1"}
        item = '{"foo": "bar"}'
        env.sqs.send_message(QueueUrl=url, MessageBody=item, MessageGroupId="group-1", **extra)
        first = env.sqs.receive_message(QueueUrl=url)
        env.sqs.delete_message(QueueUrl=url, ReceiptHandle=first["Messages"][0]["ReceiptHandle"])
        env.sqs.send_message(QueueUrl=url, MessageBody=item, MessageGroupId="group-1", **extra)
        return {
            "get-messages": first,
            "get-messages-duplicate": env.sqs.receive_message(QueueUrl=url),
        }

    return replay


def _dedup_across_groups(content_based: bool) -> Scenario:
    def replay(env: Env) -> dict[str, Any]:
        attributes = {"ContentBasedDeduplication": "true"} if content_based else {}
        url = env.queue(fifo=True, **attributes)
        extra = {} if content_based else {"MessageDeduplicationId": "dedup1"}
        item = '{"foo": "bar"}'
        env.sqs.send_message(QueueUrl=url, MessageBody=item, MessageGroupId="group-1", **extra)
        env.sqs.send_message(QueueUrl=url, MessageBody=item, MessageGroupId="group-2", **extra)
        first = env.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1)
        second = env.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1)
        return {"get-messages": first, "get-dedup-messages": second}

    return replay


for _flag in (True, False):
    for _protocol in ("sqs", "sqs_query"):
        SCENARIOS[f"test_fifo_deduplication_arrives_once_after_delete[{_protocol}-{_flag}]"] = (
            _dedup_after_delete(_flag)
        )
        SCENARIOS[f"test_fifo_deduplication_not_on_message_group_id[{_protocol}-{_flag}]"] = (
            _dedup_across_groups(_flag)
        )


@scenario("test_posting_to_fifo_requires_deduplicationid_group_id")
def _fifo_requires_ids(env: Env) -> dict[str, Any]:
    url = env.json.create_queue(QueueName="q.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    send = env.sqs.send_message
    value = error_of(send, QueueUrl=url, MessageBody="test", MessageGroupId="group")
    missing = error_of(send, QueueUrl=url, MessageBody="test", MessageDeduplicationId="dedup")
    # the recording's "-query" entries were taken with LocalStack's JSON client
    send = env.json.send_message
    return {
        "invalid-parameter-value": value,
        "missing-parameter": missing,
        "invalid-parameter-value-query": error_of(
            send, QueueUrl=url, MessageBody="test", MessageGroupId="group"
        ),
        "missing-parameter-query": error_of(
            send, QueueUrl=url, MessageBody="test", MessageDeduplicationId="dedup"
        ),
    }


def _invalid_dedup_id(value: str) -> Scenario:
    def replay(env: Env) -> dict[str, Any]:
        url = env.queue(fifo=True)
        error = error_of(
            env.sqs.send_message,
            QueueUrl=url,
            MessageBody="test",
            MessageGroupId="g",
            MessageDeduplicationId=value,
        )
        return {"error-response": error}

    return replay


for _case, _value in (("empty", ""), ("too_long", "a" * 129), ("spaces", "group 123")):
    SCENARIOS[f"test_message_deduplication_id_invalid[{_case}]"] = _invalid_dedup_id(_value)


@scenario("test_sqs_fifo_same_dedup_id_different_message_groups")
def _same_dedup_other_group(env: Env) -> dict[str, Any]:
    url = env.queue(fifo=True)
    for group in ("1", "2"):
        env.sqs.send_message(
            QueueUrl=url, MessageBody="Test", MessageGroupId=group, MessageDeduplicationId="d"
        )
    return {
        "same-dedup-different-grp-1": env.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1),
        "same-dedup-different-grp-2": env.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1),
    }


@scenario("test_sqs_fifo_message_group_scope_no_throughput_setting")
def _group_scope(env: Env) -> dict[str, Any]:
    url = env.queue(fifo=True, DeduplicationScope="messageGroup")
    for group in ("1", "2"):
        env.sqs.send_message(
            QueueUrl=url, MessageBody="Test", MessageGroupId=group, MessageDeduplicationId="d"
        )
    return {
        "same-dedup-different-grp-1": env.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1),
        "same-dedup-different-grp-2": env.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1),
    }


@scenario("test_fifo_high_throughput_ordering")
def _high_throughput(env: Env) -> dict[str, Any]:
    url = env.queue(
        fifo=True, DeduplicationScope="messageGroup", FifoThroughputLimit="perMessageGroupId"
    )
    for body, group in (("Test1", "1"), ("Test2", "2")):
        env.sqs.send_message(
            QueueUrl=url, MessageBody=body, MessageGroupId=group, MessageDeduplicationId="d"
        )
    return {
        "same-dedup-different-grp-1": env.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1),
        "same-dedup-different-grp-2": env.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1),
    }


@scenario("test_fifo_empty_message_groups_added_back_to_queue")
def _group_added_back(env: Env) -> dict[str, Any]:
    url = env.queue(fifo=True, ContentBasedDeduplication="true")
    env.sqs.send_message(QueueUrl=url, MessageBody="Message 1", MessageGroupId="g")
    first = env.sqs.receive_message(QueueUrl=url)
    env.sqs.delete_message(QueueUrl=url, ReceiptHandle=first["Messages"][0]["ReceiptHandle"])
    empty = env.sqs.receive_message(QueueUrl=url)
    env.sqs.send_message(QueueUrl=url, MessageBody="Message 2", MessageGroupId="g")
    final = env.sqs.receive_message(QueueUrl=url)
    return {"inital-fifo-receive": first, "empty-fifo-receive": empty, "final-fifo-receive": final}


# -- dead-letter queues and move tasks ----------------------------------------------------


@scenario("test_dead_letter_queue_message_attributes")
def _dlq_attributes(env: Env) -> dict[str, Any]:
    dlq = env.queue()
    dlq_arn = env.arn(dlq)
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1})
    source = env.queue(RedrivePolicy=policy, VisibilityTimeout="1")
    env.sqs.send_message(
        QueueUrl=source,
        MessageBody="message-1",
        MessageAttributes={"MyAttribute": {"StringValue": "foobar", "DataType": "String"}},
        MessageSystemAttributes={"AWSTraceHeader": {"StringValue": TRACE, "DataType": "String"}},
    )
    env.sqs.send_message(QueueUrl=source, MessageBody="message-2")
    names = ["ApproximateFirstReceiveTimestamp", "ApproximateReceiveCount", "SentTimestamp"]
    names += ["AWSTraceHeader", "DeadLetterQueueSourceArn"]
    before = env.sqs.receive_message(
        QueueUrl=source, MaxNumberOfMessages=10, AttributeNames=names, MessageAttributeNames=["All"]
    )["Messages"]
    env.clock.advance(2)
    assert "Messages" not in env.sqs.receive_message(QueueUrl=source)
    moved = env.sqs.receive_message(
        QueueUrl=dlq, MaxNumberOfMessages=10, AttributeNames=names, MessageAttributeNames=["All"]
    )["Messages"]
    return {
        "dlq-arn": dlq_arn,
        "sourcen-arn": env.arn(source),
        "rec-pre-dlq": sorted(before, key=lambda m: m["Body"]),
        "dlq-messages": sorted(moved, key=lambda m: m["Body"]),
    }


def _dlq_pipe(env: Env, messages: int) -> tuple[str, str, str, str]:
    """queue -> dlq (the move task's source) and a destination; ``messages`` moved to the dlq."""
    dlq = env.queue()
    policy = json.dumps({"deadLetterTargetArn": env.arn(dlq), "maxReceiveCount": 1})
    queue = env.queue(RedrivePolicy=policy)
    for i in range(messages):
        env.sqs.send_message(QueueUrl=queue, MessageBody=f"message-{i}")
    for _ in range(messages * 2):
        env.sqs.receive_message(QueueUrl=queue, VisibilityTimeout=0)
    destination = env.queue()
    return queue, dlq, env.arn(dlq), env.arn(destination)


def _handle(task_id: str, source_arn: str) -> str:
    text = json.dumps({"taskId": task_id, "sourceArn": source_arn})
    return base64.b64encode(text.encode()).decode()


@scenario("test_cancel_with_invalid_task_handle")
def _cancel_garbage(env: Env) -> dict[str, Any]:
    return {"error": error_of(env.sqs.cancel_message_move_task, TaskHandle="foobared")}


@scenario("test_cancel_with_invalid_source_arn_in_task_handle")
def _cancel_unknown_source(env: Env) -> dict[str, Any]:
    source = "arn:aws:sqs:us-east-1:878966065785:test-queue-doesnt-exist-123456"
    handle = _handle("10f57157-fc38-4da9-a113-4de7e12d05dd", source)
    return {"error": error_of(env.sqs.cancel_message_move_task, TaskHandle=handle)}


@scenario("test_cancel_with_invalid_task_id_in_task_handle")
def _cancel_unknown_task(env: Env) -> dict[str, Any]:
    handle = _handle("10f57157-fc38-4da9-a113-4de7e12d05aa", env.arn(env.queue()))
    return {"error": error_of(env.sqs.cancel_message_move_task, TaskHandle=handle)}


@scenario("test_source_needs_redrive_policy")
def _source_not_dlq(env: Env) -> dict[str, Any]:
    source, destination = env.arn(env.queue()), env.arn(env.queue())
    error = error_of(env.sqs.start_message_move_task, SourceArn=source, DestinationArn=destination)
    return {"error": error}


@scenario("test_destination_needs_to_exist")
def _destination_missing(env: Env) -> dict[str, Any]:
    _, _, source, destination = _dlq_pipe(env, 0)
    error = error_of(
        env.sqs.start_message_move_task,
        SourceArn=source,
        DestinationArn=destination + "doesntexist",
    )
    return {"error": error}


@scenario("test_basic_move_task_workflow")
def _move_basic(env: Env) -> dict[str, Any]:
    _, _, source, destination = _dlq_pipe(env, 2)
    started = env.sqs.start_message_move_task(SourceArn=source, DestinationArn=destination)
    env.clock.advance(1)
    listed = env.sqs.list_message_move_tasks(SourceArn=source)
    return {"start-message-move-task-response": started, "list-message-move-task-response": listed}


@scenario("test_move_task_with_throughput_limit")
def _move_throttled(env: Env) -> dict[str, Any]:
    _, _, source, destination = _dlq_pipe(env, 4)
    started = env.sqs.start_message_move_task(
        SourceArn=source, DestinationArn=destination, MaxNumberOfMessagesPerSecond=1
    )
    return {"start-message-move-task-response": started}


@scenario("test_move_task_cancel")
def _move_cancel(env: Env) -> dict[str, Any]:
    _, _, source, destination = _dlq_pipe(env, 10)
    handle = env.sqs.start_message_move_task(
        SourceArn=source, DestinationArn=destination, MaxNumberOfMessagesPerSecond=1
    )["TaskHandle"]
    env.clock.advance(2)  # the recorded test waits for two messages to arrive
    result = {"list-while": env.sqs.list_message_move_tasks(SourceArn=source)}
    result["cancel"] = env.sqs.cancel_message_move_task(TaskHandle=handle)
    result["list-after"] = env.sqs.list_message_move_tasks(SourceArn=source)
    return result


@scenario("test_start_multiple_move_tasks")
def _move_twice(env: Env) -> dict[str, Any]:
    _, _, source, destination = _dlq_pipe(env, 10)
    env.sqs.start_message_move_task(
        SourceArn=source, DestinationArn=destination, MaxNumberOfMessagesPerSecond=1
    )
    error = error_of(
        env.sqs.start_message_move_task,
        SourceArn=source,
        DestinationArn=destination,
        MaxNumberOfMessagesPerSecond=1,
    )
    return {"error": error}


@scenario("test_move_task_workflow_with_default_destination")
def _move_back_to_source(env: Env) -> dict[str, Any]:
    queue, _, source, _ = _dlq_pipe(env, 2)
    started = env.sqs.start_message_move_task(SourceArn=source)
    env.clock.advance(1)
    return {
        "source-arn": source,
        "original-source": env.arn(queue),
        "start-message-move-task-response": started,
        "list-message-move-task-response": env.sqs.list_message_move_tasks(SourceArn=source),
    }


@scenario("test_move_task_workflow_with_multiple_sources_as_default_destination")
def _move_back_to_sources(env: Env) -> dict[str, Any]:
    dlq = env.queue()
    policy = json.dumps({"deadLetterTargetArn": env.arn(dlq), "maxReceiveCount": 1})
    sources = [env.queue(RedrivePolicy=policy), env.queue(RedrivePolicy=policy)]
    for queue in sources:
        for i in range(2):
            env.sqs.send_message(QueueUrl=queue, MessageBody=f"message-{i}")
        for _ in range(4):
            env.sqs.receive_message(QueueUrl=queue, VisibilityTimeout=0)
    source = env.arn(dlq)
    started = env.sqs.start_message_move_task(SourceArn=source)
    env.clock.advance(1)
    return {
        "source-arn": source,
        "original-source-1": env.arn(sources[0]),
        "original-source-2": env.arn(sources[1]),
        "start-message-move-task-response": started,
        "list-message-move-task-response": env.sqs.list_message_move_tasks(SourceArn=source),
    }


# -- recordings left out ------------------------------------------------------------------

NOT_REPLAYED = {
    "test_fifo_group_visibility_extends_with_change_message_visibility": (
        "the test postdates the available LocalStack source, so its calls are unknown; the "
        "recording suggests AWS delivers a FIFO group's visible head while later messages of "
        "the group are still in flight, where headwater holds the whole group until none is "
        "in flight (a remaining difference, noted in the closing report)"
    ),
    "test_send_batch_message_size": (
        "the recorded batch entries' bodies are not recoverable (only their MD5 and a "
        "placeholder id survive); the rule it shows is replayed in "
        "tests/functional/test_sqs_recorded_rules.py::test_oversize_batch_entry_gets_the_batch_wording"
    ),
    "test_fifo_change_to_high_throughput_after_creation": (
        "the test postdates the LocalStack source available here and its send/receive "
        "sequence cannot be told from the recording (which group is in flight when)"
    ),
    "test_fifo_change_to_regular_throughput_after_creation": (
        "same as test_fifo_change_to_high_throughput_after_creation"
    ),
    "test_fair_queue_with_message_group_id": (
        "SQS fair queues (MessageGroupId on standard queues, 2025) are not implemented"
    ),
    "test_send_message_to_standard_queue_with_invalid_message_group_id": (
        "needs SQS fair queues (MessageGroupId accepted on standard queues)"
    ),
    "test_set_queue_attributes_default_values": (
        "the calls that reset KMS attributes to their defaults are not recoverable from the "
        "recording (the test postdates the available source)"
    ),
    "test_move_task_delete_destination_queue_while_running": (
        "the recorded count of moved messages depends on AWS's real-time progress before "
        "the delete; headwater's FAILED status and reason are tested in test_sqs_redrive.py"
    ),
}


def _base(name: str) -> str:
    return name.rsplit("::", maxsplit=1)[-1].split("[", maxsplit=1)[0]


def _protocol(name: str) -> str:
    inside = name.rsplit("[", 1)[-1] if "[" in name else ""
    return "query" if inside.startswith("sqs_query") else "json"


def _scenario_for(name: str) -> Scenario | None:
    if name in SCENARIOS:
        return SCENARIOS[name]
    short = name.rsplit("::", maxsplit=1)[-1]
    if short in SCENARIOS:
        return SCENARIOS[short]
    return SCENARIOS.get(_base(name))


#: Paths where headwater may differ from a recording, with the reason.
KNOWN_DIFFERENCES: dict[str, dict[str, str]] = {
    "test_sqs_permission_lifecycle": {
        "$.get-queue-policy-attribute.Attributes.Policy.Statement[0].Principal.AWS": (
            "AWS listed the two accounts of one statement in the reverse of the request's "
            "order; headwater keeps the request's order"
        ),
    },
    "test_move_task_cancel": {
        "$.list-after.Results[0].ApproximateNumberOfMessagesMoved": (
            "AWS kept moving for a while after the cancel (8 of 10); headwater stops at once "
            "(LocalStack marks the count non-deterministic too)"
        ),
    },
}

REPLAYED = [name for name in recorded_tests("sqs") if _scenario_for(name) is not None]


def _query_headers() -> dict[str, str]:
    return {
        "Authorization": (
            "AWS4-HMAC-SHA256 Credential=AKIDHEADWATERTEST/20260101/us-east-1/sqs/aws4_request, "
            "SignedHeaders=host;x-amz-date, Signature=0"
        ),
        "X-Amz-Date": "20260101T000000Z",
        "Host": "127.0.0.1:4599",
    }


def _query_error(status: int, body: bytes) -> dict[str, Any]:
    """A raw query-protocol error as botocore's query parser would report it."""
    import xml.etree.ElementTree as ET

    root = ET.fromstring(body)
    namespace = root.tag.split("}")[0] + "}" if root.tag.startswith("{") else ""
    error = root.find(f"{namespace}Error")
    assert error is not None, body
    fields = {child.tag.removeprefix(namespace): child.text for child in error}
    return {"Error": fields, "ResponseMetadata": {"HTTPStatusCode": status}}


@dataclass
class Shared:
    """One headwater and its clients for the whole module (clients are slow to make)."""

    hw: Headwater
    clock: ManualClock
    aws: InProcessAws
    json: Any
    query: Any


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shared]:
    clock = ManualClock()
    hw = Headwater.in_memory(clock=clock)
    aws = InProcessAws(hw)
    query = aws.client("sqs", session=legacy_sqs_session(tmp_path_factory.mktemp("legacy")))
    assert query.meta.service_model.protocol == "query"
    try:
        yield Shared(hw, clock, aws, aws.client("sqs"), query)
    finally:
        aws.close()
        hw.close()


@pytest.fixture
def env(request: pytest.FixtureRequest, shared: Shared) -> Iterator[Env]:
    name: str = request.param
    client = shared.query if _protocol(name) == "query" else shared.json
    yield Env(client, shared.clock, shared.aws, shared.json)
    # start the next replay from an empty account: no queues, none recently deleted
    for url in shared.json.list_queues().get("QueueUrls", []):
        shared.json.delete_queue(QueueUrl=url)
    shared.clock.advance(61)


@pytest.mark.parametrize("env", REPLAYED, indirect=True)
def test_recording(env: Env, request: pytest.FixtureRequest) -> None:
    name = request.node.callspec.params["env"]
    scenario_of = _scenario_for(name)
    assert scenario_of is not None
    ours = scenario_of(env)
    recorded = recording("sqs", name)
    if name.endswith("test_list_queues_pagination"):
        recorded = _with_our_host(recorded)
    allowed = KNOWN_DIFFERENCES.get(_base(name), {})
    left = [d for d in differences(ours, recorded) if not d.startswith(tuple(allowed))]
    assert left == []


def _with_our_host(recorded: dict[str, Any]) -> dict[str, Any]:
    """LocalStack recorded its own queue URLs here; headwater answers with its endpoint's."""
    text = json.dumps(recorded).replace(
        "http://sqs.<region>.localhost.localstack.cloud:4566", "http://127.0.0.1:4599"
    )
    found: dict[str, Any] = json.loads(text)
    found["list_two_max"]["NextToken"] = "<token>"
    return found


def test_every_recording_is_replayed_or_explained() -> None:
    left = {
        name
        for name in recorded_tests("sqs")
        if _scenario_for(name) is None and _base(name) not in NOT_REPLAYED
    }
    assert left == set()
