"""Long polling: blocked receives wake on sends and on ManualClock deadlines."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from headwater import Headwater, ManualClock


@pytest.fixture
def sqs(hw: Headwater) -> Any:
    return hw.client("sqs")


def receive_in_thread(sqs: Any, **params: Any) -> tuple[threading.Thread, dict[str, Any]]:
    box: dict[str, Any] = {}

    def run() -> None:
        box["response"] = sqs.receive_message(**params)
        box["at"] = time.monotonic()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, box


def wait_blocked(hw: Headwater) -> None:
    deadline = time.monotonic() + 5
    while hw.service("sqs").access._waiters == 0:
        assert time.monotonic() < deadline, "receive never started waiting"
        time.sleep(0.005)


def test_blocked_receive_returns_as_soon_as_another_thread_sends(hw: Headwater, sqs: Any) -> None:
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    thread, box = receive_in_thread(sqs, QueueUrl=url, WaitTimeSeconds=20)
    wait_blocked(hw)
    sent_at = time.monotonic()
    sqs.send_message(QueueUrl=url, MessageBody="wake")
    thread.join(5)
    assert not thread.is_alive()
    assert [m["Body"] for m in box["response"]["Messages"]] == ["wake"]
    assert box["at"] - sent_at < 0.5


def test_manual_clock_deadline_ends_the_poll(hw: Headwater, sqs: Any, clock: ManualClock) -> None:
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    thread, box = receive_in_thread(sqs, QueueUrl=url, WaitTimeSeconds=5)
    wait_blocked(hw)
    clock.advance(4)
    time.sleep(0.05)
    assert thread.is_alive()
    clock.advance(1)
    thread.join(5)
    assert not thread.is_alive()
    assert "Messages" not in box["response"]


def test_queue_default_wait_and_visibility_expiry_wakes(
    hw: Headwater, sqs: Any, clock: ManualClock
) -> None:
    url = sqs.create_queue(
        QueueName="q", Attributes={"ReceiveMessageWaitTimeSeconds": "20", "VisibilityTimeout": "5"}
    )["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="again")
    assert sqs.receive_message(QueueUrl=url)["Messages"]
    thread, box = receive_in_thread(sqs, QueueUrl=url)
    wait_blocked(hw)
    clock.advance(5)
    thread.join(5)
    assert not thread.is_alive()
    assert [m["Body"] for m in box["response"]["Messages"]] == ["again"]


def test_zero_wait_returns_immediately(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    assert "Messages" not in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)
