"""SNS fan-out and S3 object I/O: headwater beside moto, in one run.

    .venv/bin/python benchmarks/sns_s3.py [--messages 5000] [--moto-messages 1000]

SNS (Python API, in process): Publish of 200-byte messages to a topic with 1 and with 10 SQS
subscriptions (headwater on its default SQLite store; moto's in-process mock), delivered
messages per second and CPU per publish; then Publish-to-queue latency (publish, then
ReceiveMessage until the message is there) p50/p99 over 500 round trips.

S3 (over the wire, boto3): PutObject and GetObject of 4 KB and 8 MB objects against
``headwater serve``, ``moto_server`` and a fixed-reply server (boto3's own ceiling: it reads
each request and answers without storing anything): MB/s, and server CPU per request from
/proc. The 8 MB
figures are set beside writing the same bytes to a file on the same disk (open/write/close,
and with fsync), and beside headwater's in-process ``put_object`` (no HTTP, no client signing).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from measure import free_port, percentile, process_cpu_seconds
from wire_sqs import start, start_headwater, stop

BODY = "x" * 200
REGION = "us-east-1"
KIB = 1024
MIB = 1024 * KIB


# ---------------------------------------------------------------------------- SNS


@dataclass
class FanOut:
    name: str
    subscriptions: int
    published: int
    seconds: float
    cpu_seconds: float

    @property
    def delivered_rate(self) -> float:
        return self.published * self.subscriptions / self.seconds

    @property
    def publish_rate(self) -> float:
        return self.published / self.seconds

    @property
    def cpu_ms_per_publish(self) -> float:
        return self.cpu_seconds * 1000 / self.published


def fan_out(
    name: str, sns: Any, sqs: Any, subscriptions: int, messages: int, *, batch: bool = False
) -> FanOut:
    """Publish ``messages`` (one per call, or PublishBatch of 10) to a topic with
    ``subscriptions`` SQS queues subscribed; checks every queue got them all."""
    topic = sns.create_topic(Name=f"fanout-{subscriptions}-{batch}")["TopicArn"]
    urls = []
    for index in range(subscriptions):
        url = sqs.create_queue(QueueName=f"fan-{subscriptions}-{batch}-{index}")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
        urls.append(url)
    for _ in range(20):  # warm caches and code paths
        sns.publish(TopicArn=topic, Message=BODY)
    entries = [{"Id": str(i), "Message": BODY} for i in range(10)]
    cpu0, start_time = time.process_time(), time.perf_counter()
    if batch:
        for _ in range(messages // 10):
            sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=entries)
    else:
        for _ in range(messages):
            sns.publish(TopicArn=topic, Message=BODY)
    seconds = time.perf_counter() - start_time
    cpu = time.process_time() - cpu0
    counted = sqs.get_queue_attributes(
        QueueUrl=urls[-1], AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]["ApproximateNumberOfMessages"]
    if int(counted) != messages + 20:
        raise RuntimeError(f"{name}: {counted} messages delivered, expected {messages + 20}")
    label = f"{name}, PublishBatch" if batch else name
    return FanOut(label, subscriptions, messages, seconds, cpu)


def latency(sns: Any, sqs: Any, rounds: int) -> tuple[float, float]:
    topic = sns.create_topic(Name="latency")["TopicArn"]
    url = sqs.create_queue(QueueName="latency")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    samples = []
    for round_number in range(rounds + 20):
        started = time.perf_counter()
        sns.publish(TopicArn=topic, Message=BODY)
        while True:
            got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages")
            if got:
                break
        elapsed = (time.perf_counter() - started) * 1000
        sqs.delete_message(QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"])
        if round_number >= 20:
            samples.append(elapsed)
    return percentile(samples, 0.5), percentile(samples, 0.99)


def sns_headwater(messages: int, data_dir: Path) -> tuple[list[FanOut], tuple[float, float]]:
    from headwater import Headwater

    with Headwater(data_dir=data_dir) as hw:
        runs = [fan_out("headwater (Python API)", hw.sns, hw.sqs, n, messages) for n in (1, 10)]
        runs.append(fan_out("headwater (Python API)", hw.sns, hw.sqs, 1, messages, batch=True))
        return runs, latency(hw.sns, hw.sqs, 500)


def sns_moto(messages: int) -> tuple[list[FanOut], tuple[float, float]] | None:
    try:
        from moto import mock_aws
    except ImportError:
        print("moto not installed (pip install 'moto[server]'): skipped")
        return None
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        sns = boto3.client("sns", region_name=REGION)
        sqs = boto3.client("sqs", region_name=REGION)
        name = "moto (mock_aws, in process)"
        runs = [fan_out(name, sns, sqs, n, messages) for n in (1, 10)]
        runs.append(fan_out(name, sns, sqs, 1, messages, batch=True))
        return runs, latency(sns, sqs, 200)


# ---------------------------------------------------------------------------- S3


@dataclass
class Transfer:
    name: str
    operation: str
    size: int
    requests: int
    seconds: float
    cpu_seconds: float

    @property
    def mb_per_second(self) -> float:
        return self.size * self.requests / MIB / self.seconds

    @property
    def ms_per_request(self) -> float:
        return self.seconds * 1000 / self.requests

    @property
    def cpu_ms_per_request(self) -> float:
        return self.cpu_seconds * 1000 / self.requests


def s3_client(endpoint: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="AKIDBENCH",
        aws_secret_access_key="secret",
        config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}),
    )


def timed(
    name: str, operation: str, size: int, count: int, pid: int, call: Callable[[int], None]
) -> Transfer:
    call(-1)  # warm the connection and code paths
    cpu0 = process_cpu_seconds(pid, reaped_children=True)
    start_time = time.perf_counter()
    for index in range(count):
        call(index)
    seconds = time.perf_counter() - start_time
    cpu = process_cpu_seconds(pid, reaped_children=True) - cpu0
    return Transfer(name, operation, size, count, seconds, cpu)


def s3_workload(name: str, endpoint: str, pid: int, small: int, large: int) -> list[Transfer]:
    s3 = s3_client(endpoint)
    s3.create_bucket(Bucket="bench")
    results = []
    for size, count in ((4 * KIB, small), (8 * MIB, large)):
        data = os.urandom(size)

        def put(index: int, data: bytes = data, size: int = size) -> None:
            s3.put_object(Bucket="bench", Key=f"o-{size}-{index}", Body=data)

        def get(index: int, size: int = size) -> None:
            body = s3.get_object(Bucket="bench", Key=f"o-{size}-{max(index, 0)}")["Body"].read()
            if len(body) != size:
                raise RuntimeError("short read")

        results.append(timed(name, "PutObject", size, count, pid, put))
        results.append(timed(name, "GetObject", size, count, pid, get))
    return results


def s3_headwater(small: int, large: int, data_dir: Path) -> list[Transfer]:
    process, endpoint = start_headwater(data_dir)
    try:
        return s3_workload("headwater serve", endpoint, process.pid, small, large)
    finally:
        stop(process)


def s3_fixed_reply(small: int, large: int) -> list[Transfer]:
    """The same workload against a server that reads each request and answers a fixed reply:
    the ceiling of boto3 itself (signing, checksums, sending and reading bodies) here."""
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    server = Path(__file__).resolve().parent / "fixed_reply_server.py"
    command = [sys.executable, str(server), "--port", str(port)]
    process = start(command, endpoint + "/_headwater/health")
    try:
        return s3_workload("fixed reply", endpoint, process.pid, small, large)
    finally:
        stop(process)


def s3_moto(small: int, large: int) -> list[Transfer]:
    moto = shutil.which("moto_server", path=str(Path(sys.executable).parent)) or shutil.which(
        "moto_server"
    )
    if moto is None:
        print("moto_server not installed (pip install 'moto[server]'): skipped")
        return []
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    process = start([moto, "-p", str(port)], endpoint + "/moto-api/")
    try:
        return s3_workload("moto_server", endpoint, process.pid, small, large)
    finally:
        stop(process)


def eight_megabytes(data_dir: Path, count: int) -> tuple[float, float, float]:
    """Median milliseconds to store 8 MB, alternating on the same disk: a new file written
    and kept (as objects are kept), the same with fsync, and headwater's in-process
    ``put_object`` (no HTTP, no client signing)."""
    from headwater import Headwater

    data = os.urandom(8 * MIB)
    files = data_dir / "files"
    files.mkdir(parents=True)
    plain: list[float] = []
    synced: list[float] = []
    puts: list[float] = []
    with Headwater(data_dir=data_dir / "hw") as hw:
        hw.s3.create_bucket(Bucket="bench")
        hw.s3.put_object(Bucket="bench", Key="warm", Body=data)
        for index in range(count):
            started = time.perf_counter()
            with open(files / f"plain-{index}", "wb") as out:
                out.write(data)
            plain.append(time.perf_counter() - started)
            started = time.perf_counter()
            with open(files / f"synced-{index}", "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            synced.append(time.perf_counter() - started)
            started = time.perf_counter()
            hw.s3.put_object(Bucket="bench", Key=f"k{index}", Body=data)
            puts.append(time.perf_counter() - started)
    return (
        percentile(plain, 0.5) * 1000,
        percentile(synced, 0.5) * 1000,
        percentile(puts, 0.5) * 1000,
    )


# ---------------------------------------------------------------------------- report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--moto-messages", type=int, default=1000)
    parser.add_argument("--small", type=int, default=300, help="4 KB objects per phase")
    parser.add_argument("--large", type=int, default=10, help="8 MB objects per phase")
    parser.add_argument("--skip-moto", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        fan, (p50, p99) = sns_headwater(args.messages, root / "sns")
        moto_sns = None if args.skip_moto else sns_moto(args.moto_messages)
        transfers = s3_headwater(args.small, args.large, root / "s3")
        transfers += s3_fixed_reply(args.small, args.large)
        if not args.skip_moto:
            transfers += s3_moto(max(args.small // 3, 20), max(args.large // 2, 3))
        plain_ms, synced_ms, python_put_ms = eight_megabytes(root / "eight", 10)

    print(f"\nSNS Publish -> SQS fan-out, 200-byte messages ({os.cpu_count()} CPUs)")
    header = (
        f"{'peer':45} {'subs':>4} {'published':>9} {'publish/s':>9} {'delivered/s':>11} "
        f"{'cpu ms/pub':>10}"
    )
    print(header)
    print("-" * len(header))
    rows = list(fan) + (moto_sns[0] if moto_sns else [])
    for row in rows:
        print(
            f"{row.name:45} {row.subscriptions:>4} {row.published:>9} {row.publish_rate:>9.0f} "
            f"{row.delivered_rate:>11.0f} {row.cpu_ms_per_publish:>10.3f}"
        )
    print("\nPublish-to-queue latency (publish, then ReceiveMessage until it is there)")
    print(f"  headwater: p50 {p50:.3f} ms, p99 {p99:.3f} ms")
    if moto_sns:
        print(f"  moto:      p50 {moto_sns[1][0]:.3f} ms, p99 {moto_sns[1][1]:.3f} ms")
    one, batched = fan[0], fan[2]
    print(
        f"  targets: >= 5,000 delivered/s to one subscription: Publish {one.delivered_rate:.0f}"
        f" ({'met' if one.delivered_rate >= 5000 else 'NOT met'}), PublishBatch "
        f"{batched.delivered_rate:.0f} ({'met' if batched.delivered_rate >= 5000 else 'NOT met'}"
        f"); p50 <= 2 ms: {p50:.3f} ({'met' if p50 <= 2 else 'NOT met'})"
    )

    print("\nS3 over the wire (boto3, path style)")
    header = (
        f"{'server':18} {'operation':10} {'size':>6} {'requests':>8} {'ms/req':>8} "
        f"{'MB/s':>8} {'server cpu ms/req':>17}"
    )
    print(header)
    print("-" * len(header))
    for t in transfers:
        size = f"{t.size // KIB} KB" if t.size < MIB else f"{t.size // MIB} MB"
        print(
            f"{t.name:18} {t.operation:10} {size:>6} {t.requests:>8} {t.ms_per_request:>8.2f} "
            f"{t.mb_per_second:>8.1f} {t.cpu_ms_per_request:>17.2f}"
        )
    put8 = next(
        t
        for t in transfers
        if t.name == "headwater serve" and t.operation == "PutObject" and t.size == 8 * MIB
    )
    print(
        f"\n8 MB (medians): writing a new file to disk {plain_ms:.1f} ms (with fsync "
        f"{synced_ms:.1f} ms); headwater put_object in process {python_put_ms:.1f} ms "
        f"({python_put_ms / plain_ms:.1f}x the plain write); PutObject over the wire "
        f"{put8.ms_per_request:.1f} ms ({put8.ms_per_request / plain_ms:.1f}x), of which "
        f"server CPU {put8.cpu_ms_per_request:.1f} ms ({put8.cpu_ms_per_request / plain_ms:.1f}x)"
    )
    ceiling = next(
        (
            t
            for t in transfers
            if t.name == "fixed reply" and t.operation == "PutObject" and t.size == 8 * MIB
        ),
        None,
    )
    if ceiling is not None:
        print(
            f"8 MB PutObject against the fixed-reply server (boto3's own ceiling): "
            f"{ceiling.ms_per_request:.1f} ms; headwater over the wire less that ceiling "
            f"{put8.ms_per_request - ceiling.ms_per_request:.1f} ms "
            f"({(put8.ms_per_request - ceiling.ms_per_request) / plain_ms:.1f}x the plain write)"
        )


if __name__ == "__main__":
    main()
