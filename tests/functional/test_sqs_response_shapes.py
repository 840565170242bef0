"""Every response member is one the botocore output shape declares, with the right type.

The wire layer serializes results by the model; an undeclared or mistyped member would be
dropped or break other SDKs, so check the shapes of a full tour of the API here.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from headwater import Headwater, ManualClock
from headwater.models import operation_model

PY_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "long": (int,),
    "boolean": (bool,),
    "blob": (bytes,),
    "timestamp": (dt.datetime,),
}


def check(value: Any, shape: Any, path: str) -> None:
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(value, dict), path
        for key, member in value.items():
            if key == "ResponseMetadata" and path == "":
                continue
            assert key in shape.members, f"{path}.{key} is not in {shape.name}"
            check(member, shape.members[key], f"{path}.{key}")
    elif kind == "list":
        assert isinstance(value, list), path
        for i, item in enumerate(value):
            check(item, shape.member, f"{path}[{i}]")
    elif kind == "map":
        assert isinstance(value, dict), path
        for key, item in value.items():
            check(key, shape.key, f"{path}<key>")
            check(item, shape.value, f"{path}[{key}]")
    else:
        assert isinstance(value, PY_TYPES[kind]), f"{path}: {value!r} is not {kind}"


def test_full_tour_matches_output_shapes(tmp_path: Any) -> None:
    calls: list[tuple[str, dict[str, Any]]] = []
    with Headwater(data_dir=tmp_path, clock=ManualClock()) as hw:
        sqs = hw.client("sqs")
        arn = "arn:aws:sqs:us-east-1:000000000000:"

        def call(method: str, operation: str, **params: Any) -> dict[str, Any]:
            result: dict[str, Any] = getattr(sqs, method)(**params)
            calls.append((operation, result))
            return result

        dlq = call("create_queue", "CreateQueue", QueueName="dlq")["QueueUrl"]
        policy = json.dumps({"deadLetterTargetArn": arn + "dlq", "maxReceiveCount": 1})
        url = call(
            "create_queue",
            "CreateQueue",
            QueueName="q",
            Attributes={"RedrivePolicy": policy},
            tags={"a": "b"},
        )["QueueUrl"]
        fifo = call(
            "create_queue",
            "CreateQueue",
            QueueName="f.fifo",
            Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"},
        )["QueueUrl"]
        call("get_queue_url", "GetQueueUrl", QueueName="q")
        call("list_queues", "ListQueues", MaxResults=1)
        call("get_queue_attributes", "GetQueueAttributes", QueueUrl=url, AttributeNames=["All"])
        call(
            "set_queue_attributes",
            "SetQueueAttributes",
            QueueUrl=url,
            Attributes={"DelaySeconds": "0"},
        )
        call("tag_queue", "TagQueue", QueueUrl=url, Tags={"c": "d"})
        call("list_queue_tags", "ListQueueTags", QueueUrl=url)
        call("untag_queue", "UntagQueue", QueueUrl=url, TagKeys=["c"])
        attrs = {"k": {"DataType": "Binary", "BinaryValue": b"\x01"}}
        trace = {"AWSTraceHeader": {"DataType": "String", "StringValue": "Root=1-a-b"}}
        call(
            "send_message",
            "SendMessage",
            QueueUrl=url,
            MessageBody="m",
            MessageAttributes=attrs,
            MessageSystemAttributes=trace,
        )
        call("send_message", "SendMessage", QueueUrl=fifo, MessageBody="m", MessageGroupId="g")
        call(
            "send_message_batch",
            "SendMessageBatch",
            QueueUrl=url,
            Entries=[{"Id": "1", "MessageBody": "b"}, {"Id": "2", "MessageBody": ""}],
        )
        call(
            "send_message_batch",
            "SendMessageBatch",
            QueueUrl=fifo,
            Entries=[{"Id": "1", "MessageBody": "b", "MessageGroupId": "g"}],
        )
        got = call(
            "receive_message",
            "ReceiveMessage",
            QueueUrl=url,
            MaxNumberOfMessages=10,
            MessageAttributeNames=["All"],
            MessageSystemAttributeNames=["All"],
        )["Messages"]
        call(
            "receive_message",
            "ReceiveMessage",
            QueueUrl=fifo,
            MaxNumberOfMessages=10,
            MessageSystemAttributeNames=["All"],
        )
        call(
            "change_message_visibility",
            "ChangeMessageVisibility",
            QueueUrl=url,
            ReceiptHandle=got[0]["ReceiptHandle"],
            VisibilityTimeout=0,
        )
        call(
            "change_message_visibility_batch",
            "ChangeMessageVisibilityBatch",
            QueueUrl=url,
            Entries=[
                {"Id": "a", "ReceiptHandle": got[1]["ReceiptHandle"], "VisibilityTimeout": 0},
                {"Id": "b", "ReceiptHandle": "bad", "VisibilityTimeout": 0},
            ],
        )
        again = call("receive_message", "ReceiveMessage", QueueUrl=url, MaxNumberOfMessages=10).get(
            "Messages", []
        )
        call(
            "delete_message_batch",
            "DeleteMessageBatch",
            QueueUrl=url,
            Entries=[{"Id": "x", "ReceiptHandle": "bad"}]
            + [{"Id": f"m{i}", "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(again)],
        )
        call("delete_message", "DeleteMessage", QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"])
        call("list_dead_letter_source_queues", "ListDeadLetterSourceQueues", QueueUrl=dlq)
        call(
            "start_message_move_task",
            "StartMessageMoveTask",
            SourceArn=arn + "dlq",
            MaxNumberOfMessagesPerSecond=1,
        )
        tasks = call(
            "list_message_move_tasks", "ListMessageMoveTasks", SourceArn=arn + "dlq", MaxResults=10
        )
        call(
            "cancel_message_move_task",
            "CancelMessageMoveTask",
            TaskHandle=tasks["Results"][0]["TaskHandle"],
        )
        call("purge_queue", "PurgeQueue", QueueUrl=url)
        call("delete_queue", "DeleteQueue", QueueUrl=url)
    assert len(calls) == 27
    for operation, result in calls:
        shape = operation_model("sqs", operation).output_shape
        if shape is None:
            assert set(result) == {"ResponseMetadata"}, operation
        else:
            check(result, shape, "")
