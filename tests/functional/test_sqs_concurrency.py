"""Many threads sending and receiving at once: every message delivered exactly once."""

from __future__ import annotations

import threading
from typing import Any

from headwater import Headwater


def test_parallel_senders_and_receivers(hw: Headwater) -> None:
    sqs = hw.client("sqs")
    url = sqs.create_queue(QueueName="q", Attributes={"VisibilityTimeout": "3600"})["QueueUrl"]
    senders, per_sender = 4, 200
    received: list[str] = []
    lock = threading.Lock()
    done_sending = threading.Event()
    errors: list[BaseException] = []

    def send(worker: int) -> None:
        try:
            for start in range(0, per_sender, 10):
                sqs.send_message_batch(
                    QueueUrl=url,
                    Entries=[
                        {"Id": str(i), "MessageBody": f"{worker}-{start + i}"} for i in range(10)
                    ],
                )
        except BaseException as error:  # surfaced by the assertion below
            errors.append(error)

    def receive() -> None:
        try:
            while True:
                got: list[dict[str, Any]] = sqs.receive_message(
                    QueueUrl=url, MaxNumberOfMessages=10
                ).get("Messages", [])
                if not got:
                    if done_sending.is_set():
                        return
                    continue
                with lock:
                    received.extend(m["Body"] for m in got)
                sqs.delete_message_batch(
                    QueueUrl=url,
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                        for i, m in enumerate(got)
                    ],
                )
        except BaseException as error:
            errors.append(error)

    send_threads = [threading.Thread(target=send, args=(w,)) for w in range(senders)]
    receive_threads = [threading.Thread(target=receive) for _ in range(4)]
    for thread in send_threads + receive_threads:
        thread.start()
    for thread in send_threads:
        thread.join(30)
    done_sending.set()
    for thread in receive_threads:
        thread.join(30)
    assert not errors
    expected = sorted(f"{w}-{i}" for w in range(senders) for i in range(per_sender))
    assert sorted(received) == expected
