"""SQS with the real clock and real processes: long polls, move tasks, crash durability."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from headwater import Headwater

pytestmark = pytest.mark.integration


def test_long_poll_waits_in_real_time_and_wakes_on_send(tmp_path: Path) -> None:
    with Headwater(data_dir=tmp_path) as hw:
        sqs = hw.client("sqs")
        url = sqs.create_queue(QueueName="q")["QueueUrl"]
        started = time.monotonic()
        assert "Messages" not in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)
        assert 0.9 <= time.monotonic() - started < 3.0

        box: dict[str, Any] = {}

        def receive() -> None:
            box["response"] = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=10)
            box["done"] = time.monotonic()

        thread = threading.Thread(target=receive, daemon=True)
        thread.start()
        time.sleep(0.2)
        sent = time.monotonic()
        sqs.send_message(QueueUrl=url, MessageBody="now")
        thread.join(5)
        assert box["response"]["Messages"][0]["Body"] == "now"
        assert box["done"] - sent < 0.5


def test_delayed_message_ends_a_long_poll_when_it_becomes_visible(tmp_path: Path) -> None:
    with Headwater(data_dir=tmp_path) as hw:
        sqs = hw.client("sqs")
        url = sqs.create_queue(QueueName="q")["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=1)
        started = time.monotonic()
        got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5)
        assert got["Messages"][0]["Body"] == "later"
        assert 0.9 <= time.monotonic() - started < 2.5


def test_move_task_progresses_in_the_background(tmp_path: Path) -> None:
    with Headwater(data_dir=tmp_path) as hw:
        sqs = hw.client("sqs")
        arn = "arn:aws:sqs:us-east-1:000000000000:"
        dlq = sqs.create_queue(QueueName="dlq")["QueueUrl"]
        policy = json.dumps({"deadLetterTargetArn": arn + "dlq", "maxReceiveCount": 1})
        src = sqs.create_queue(QueueName="src", Attributes={"RedrivePolicy": policy})["QueueUrl"]
        sqs.send_message_batch(
            QueueUrl=dlq, Entries=[{"Id": str(i), "MessageBody": str(i)} for i in range(10)]
        )
        sqs.start_message_move_task(
            SourceArn=arn + "dlq", DestinationArn=arn + "src", MaxNumberOfMessagesPerSecond=20
        )
        deadline = time.monotonic() + 5
        while True:
            task = hw.service("sqs").call("ListMessageMoveTasks", {"SourceArn": arn + "dlq"})[
                "Results"
            ][0]
            if task["Status"] == "COMPLETED":
                break
            assert time.monotonic() < deadline, task
            time.sleep(0.05)
        assert task["ApproximateNumberOfMessagesMoved"] == 10
        got = sqs.receive_message(QueueUrl=src, MaxNumberOfMessages=10)["Messages"]
        assert len(got) == 10


CRASHING_WRITER = """
import os, sys
from headwater import Headwater
hw = Headwater(data_dir=sys.argv[1])
sqs = hw.client("sqs")
url = sqs.create_queue(QueueName="q")["QueueUrl"]
for i in range(50):
    sqs.send_message_batch(
        QueueUrl=url, Entries=[{"Id": str(j), "MessageBody": f"{i}-{j}"} for j in range(10)]
    )
print("sent", flush=True)
os._exit(1)  # no close(): a crash right after the last commit
"""


def test_committed_messages_survive_a_process_crash(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", CRASHING_WRITER, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.stdout.strip() == "sent", result.stderr
    with Headwater(data_dir=tmp_path) as hw:
        sqs = hw.client("sqs")
        url = sqs.get_queue_url(QueueName="q")["QueueUrl"]
        attrs = sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
        )
        assert attrs["Attributes"]["ApproximateNumberOfMessages"] == "500"
