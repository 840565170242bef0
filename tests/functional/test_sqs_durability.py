"""Reopen-after-close on SQLite keeps queues, attributes, tags, messages and their state."""

from __future__ import annotations

import json
from pathlib import Path

from headwater import Headwater, ManualClock


def test_reopen_keeps_everything(tmp_path: Path) -> None:
    clock = ManualClock()
    data = tmp_path / "data"
    with Headwater(data_dir=data, clock=clock) as hw:
        sqs = hw.client("sqs")
        sqs.create_queue(QueueName="dlq")
        policy = json.dumps(
            {"deadLetterTargetArn": "arn:aws:sqs:us-east-1:000000000000:dlq", "maxReceiveCount": 5}
        )
        url = sqs.create_queue(
            QueueName="q", Attributes={"RedrivePolicy": policy}, tags={"team": "a"}
        )["QueueUrl"]
        fifo = sqs.create_queue(
            QueueName="f.fifo",
            Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"},
        )["QueueUrl"]
        sqs.send_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": f"m{i}"} for i in range(3)]
        )
        in_flight = sqs.receive_message(QueueUrl=url)["Messages"][0]
        first = sqs.send_message(QueueUrl=fifo, MessageBody="f0", MessageGroupId="g")
        sqs.send_message(QueueUrl=fifo, MessageBody="f1", MessageGroupId="g")
    with Headwater(data_dir=data, clock=clock) as hw:
        sqs = hw.client("sqs")
        assert sqs.list_queues()["QueueUrls"][-1].endswith("/q")
        assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "a"}
        attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        assert json.loads(attrs["RedrivePolicy"])["maxReceiveCount"] == 5
        assert attrs["ApproximateNumberOfMessages"] == "2"
        assert attrs["ApproximateNumberOfMessagesNotVisible"] == "1"
        # The receipt handle from before the restart still deletes.
        sqs.delete_message(QueueUrl=url, ReceiptHandle=in_flight["ReceiptHandle"])
        bodies = [
            m["Body"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
        ]
        assert sorted([*bodies, in_flight["Body"]]) == ["m0", "m1", "m2"]
        # FIFO order, dedup memory and sequence numbers survive.
        again = sqs.send_message(QueueUrl=fifo, MessageBody="f0", MessageGroupId="g")
        assert again["MessageId"] == first["MessageId"]
        later = sqs.send_message(QueueUrl=fifo, MessageBody="f2", MessageGroupId="g")
        assert int(later["SequenceNumber"]) > int(first["SequenceNumber"])
        got = sqs.receive_message(QueueUrl=fifo, MaxNumberOfMessages=10)["Messages"]
        assert [m["Body"] for m in got] == ["f0", "f1", "f2"]


def test_running_move_task_resumes_after_reopen(tmp_path: Path) -> None:
    clock = ManualClock()
    data = tmp_path / "data"
    arn = "arn:aws:sqs:us-east-1:000000000000:"
    with Headwater(data_dir=data, clock=clock) as hw:
        sqs = hw.client("sqs")
        dlq = sqs.create_queue(QueueName="dlq")["QueueUrl"]
        policy = json.dumps({"deadLetterTargetArn": arn + "dlq", "maxReceiveCount": 1})
        sqs.create_queue(QueueName="src", Attributes={"RedrivePolicy": policy})
        sqs.send_message_batch(
            QueueUrl=dlq, Entries=[{"Id": str(i), "MessageBody": str(i)} for i in range(6)]
        )
        sqs.start_message_move_task(
            SourceArn=arn + "dlq", DestinationArn=arn + "src", MaxNumberOfMessagesPerSecond=1
        )
        clock.advance(2)
        task = sqs.list_message_move_tasks(SourceArn=arn + "dlq")["Results"][0]
        assert (task["Status"], task["ApproximateNumberOfMessagesMoved"]) == ("RUNNING", 2)
    with Headwater(data_dir=data, clock=clock) as hw:
        sqs = hw.client("sqs")
        clock.advance(10)
        task = sqs.list_message_move_tasks(SourceArn=arn + "dlq")["Results"][0]
        assert (task["Status"], task["ApproximateNumberOfMessagesMoved"]) == ("COMPLETED", 6)
        src = sqs.get_queue_url(QueueName="src")["QueueUrl"]
        got = sqs.receive_message(QueueUrl=src, MaxNumberOfMessages=10)["Messages"]
        assert sorted(m["Body"] for m in got) == [str(i) for i in range(6)]
