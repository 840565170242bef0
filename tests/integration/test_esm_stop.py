"""Stopping the engine with a batch still running in a worker process returns its
messages to the queue instead of leaving them hidden until their visibility timeout."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from headwater import Headwater
from headwater.testing import queue_counts

pytestmark = pytest.mark.integration

SLOW = """
import os, time

def handler(event, context):
    open(os.environ["STARTED"], "w").close()
    time.sleep(20)
"""


def test_stop_returns_in_flight_messages(tmp_path: Path) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "slow_app.py").write_text(SLOW)
    started = tmp_path / "started"
    with Headwater(data_dir=tmp_path / "data") as hw:
        hw.lambda_.create_function_from_directory(
            "slow", code, "slow_app.handler", timeout=30, environment={"STARTED": str(started)}
        )
        sqs = hw.client("sqs")
        url = sqs.create_queue(QueueName="jobs", Attributes={"VisibilityTimeout": "300"})[
            "QueueUrl"
        ]
        hw.client("lambda").create_event_source_mapping(
            FunctionName="slow", EventSourceArn="arn:aws:sqs:us-east-1:000000000000:jobs"
        )
        hw.start()
        sqs.send_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": f"m{i}"} for i in range(5)]
        )
        deadline = time.monotonic() + 30
        while not started.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert started.exists()
        assert queue_counts(hw, url)["ApproximateNumberOfMessagesNotVisible"] == 5
        began = time.monotonic()
        hw.stop(timeout=0.2)
        assert time.monotonic() - began < 10
        assert queue_counts(hw, url) == {
            "ApproximateNumberOfMessages": 5,
            "ApproximateNumberOfMessagesNotVisible": 0,
            "ApproximateNumberOfMessagesDelayed": 0,
        }
