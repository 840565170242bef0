"""SQS throughput through ``hw.client("sqs")`` on SQLite, beside moto's ``mock_aws``.

Workloads (200-byte bodies, 10 messages per call):
  send     send_message_batch
  recv+del receive_message(MaxNumberOfMessages=10) + delete_message_batch

Run: .venv/bin/python benchmarks/sqs_embedded.py [--messages N] [--moto-messages M]
     [--fifo-messages F] [--fifo-blocked B] [--depth D]
     (D=0 skips the deep-queue part; default builds 1,000,000 messages)

Figures: msgs/s (wall), CPU microseconds per message (process time, all threads), first on
an empty queue, then while the queue is built up to D messages (send rate per slice, to
show it stays flat) and finally both workloads measured at depth D.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from typing import Any

from headwater import Headwater

BODY = "x" * 200
BATCH = 10


def send_batches(sqs: Any, url: str, messages: int) -> None:
    entries = [{"Id": str(i), "MessageBody": BODY} for i in range(BATCH)]
    for _ in range(messages // BATCH):
        sqs.send_message_batch(QueueUrl=url, Entries=entries)


def receive_and_delete(sqs: Any, url: str, messages: int) -> int:
    done = 0
    while done < messages:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=BATCH).get("Messages", [])
        if not got:
            break
        sqs.delete_message_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)
            ],
        )
        done += len(got)
    return done


def measure(work: Callable[[], int]) -> tuple[float, float]:
    """(messages per second, CPU microseconds per message)."""
    wall, cpu = time.perf_counter(), time.process_time()
    count = work()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return count / wall, cpu / count * 1e6


def both_workloads(sqs: Any, url: str, messages: int) -> dict[str, tuple[float, float]]:
    def send() -> int:
        send_batches(sqs, url, messages)
        return messages

    def receive() -> int:
        return receive_and_delete(sqs, url, messages)

    return {"send": measure(send), "recv+del": measure(receive)}


def headwater_run(data_dir: str, messages: int) -> dict[str, tuple[float, float]]:
    with Headwater(data_dir=data_dir) as hw:
        sqs = hw.client("sqs")
        url = sqs.create_queue(QueueName="bench")["QueueUrl"]
        return both_workloads(sqs, url, messages)


def moto_run(messages: int) -> dict[str, tuple[float, float]]:
    import boto3
    from moto import mock_aws

    for key, value in (
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
    ):
        os.environ.setdefault(key, value)
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="bench")["QueueUrl"]
        return both_workloads(sqs, url, messages)


def fifo_run(data_dir: str, messages: int, blocked: int) -> None:
    """FIFO over 100 groups, then the same with one deep group blocked by an in-flight head."""
    with Headwater(data_dir=data_dir) as hw:
        sqs = hw.client("sqs")
        url = sqs.create_queue(
            QueueName="bench.fifo",
            Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"},
        )["QueueUrl"]
        sent = 0

        def send(n: int, group: Callable[[int], str]) -> int:
            nonlocal sent
            for _ in range(n // BATCH):
                sqs.send_message_batch(
                    QueueUrl=url,
                    Entries=[
                        {"Id": str(i), "MessageBody": f"{sent + i}", "MessageGroupId": group(i)}
                        for i in range(BATCH)
                    ],
                )
                sent += BATCH
            return n

        def spread(i: int) -> str:
            return f"g{(sent + i) % 100}"

        print(f"\nFIFO, 100 message groups ({messages:,} messages):")
        rate, cpu = measure(lambda: send(messages, spread))
        print(f"  {'send':<9} {rate:>9,.0f} msgs/s  {cpu:6.1f} us CPU/msg")
        rate, cpu = measure(lambda: receive_and_delete(sqs, url, messages))
        print(f"  {'recv+del':<9} {rate:>9,.0f} msgs/s  {cpu:6.1f} us CPU/msg")
        send(blocked, lambda i: "hot")
        sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, VisibilityTimeout=3600)
        send(messages, spread)
        print(f"  with a {blocked:,}-message group blocked (head in flight):")
        rate, cpu = measure(lambda: receive_and_delete(sqs, url, messages))
        print(f"  {'recv+del':<9} {rate:>9,.0f} msgs/s  {cpu:6.1f} us CPU/msg")


def depth_run(data_dir: str, depth: int, probe: int) -> None:
    slice_size = max(depth // 10, BATCH)
    with Headwater(data_dir=data_dir) as hw:
        sqs = hw.client("sqs")
        url = sqs.create_queue(QueueName="deep")["QueueUrl"]
        print(f"\nbuilding a {depth:,}-message queue with send_message_batch:")
        built = 0
        while built < depth:
            size = min(slice_size, depth - built)

            def send(n: int = size) -> int:
                send_batches(sqs, url, n)
                return n

            rate, cpu = measure(send)
            built += size
            print(f"  up to {built:>9,} queued  send {rate:>9,.0f} msgs/s  {cpu:6.1f} us CPU/msg")
        print(f"\nat depth {depth:,} (probe {probe:,} messages each):")
        results = both_workloads(sqs, url, probe)
        for name, (rate, cpu) in results.items():
            print(f"  {name:<9} {rate:>9,.0f} msgs/s  {cpu:6.1f} us CPU/msg")
        attrs = sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
        )
        print(f"  queue still holds {int(attrs['Attributes']['ApproximateNumberOfMessages']):,}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--moto-messages", type=int, default=500)
    parser.add_argument("--depth", type=int, default=1_000_000)
    parser.add_argument("--probe", type=int, default=20_000)
    parser.add_argument("--fifo-messages", type=int, default=20_000)
    parser.add_argument("--fifo-blocked", type=int, default=100_000)
    args = parser.parse_args()

    # API calls per message: send = 1 call per 10; recv+del = 2 calls per 10.
    calls_per_message = {"send": 1 / BATCH, "recv+del": 2 / BATCH}
    print(f"{'workload':<10} {'engine':<28} {'msgs/s':>10} {'us CPU/msg':>11} {'us CPU/call':>12}")
    with tempfile.TemporaryDirectory(prefix="hw-bench-") as data_dir:
        ours = headwater_run(data_dir, args.messages)
    theirs = moto_run(args.moto_messages)
    for name in ("send", "recv+del"):
        per_call = 1 / calls_per_message[name]
        rate, cpu = ours[name]
        label = f"headwater sqlite ({args.messages:,})"
        print(f"{name:<10} {label:<28} {rate:>10,.0f} {cpu:>11.1f} {cpu * per_call:>12.1f}")
        rate, cpu = theirs[name]
        label = f"moto mock_aws ({args.moto_messages:,})"
        print(f"{name:<10} {label:<28} {rate:>10,.0f} {cpu:>11.1f} {cpu * per_call:>12.1f}")
    if args.fifo_messages:
        with tempfile.TemporaryDirectory(prefix="hw-bench-fifo-") as data_dir:
            fifo_run(data_dir, args.fifo_messages, args.fifo_blocked)
    if args.depth:
        with tempfile.TemporaryDirectory(prefix="hw-bench-deep-") as data_dir:
            depth_run(data_dir, args.depth, args.probe)


if __name__ == "__main__":
    main()
