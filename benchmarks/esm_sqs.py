"""SQS event source mapping throughput and latency, end to end, on SQLite with worker
processes and a no-op handler.

    .venv/bin/python benchmarks/esm_sqs.py [--messages 20000] [--single 5000] [--seconds 5]

Worker processes are started before each measurement (steady state, not cold start).
Prints: msgs/s with BatchSize 100 (observability on, and the same with metrics, function
logs and record journeys off), (backlog drained by the engine), invocations/s with
BatchSize 1, send-to-handler latency p50/p99 at a steady 200 msgs/s, CPU per message
(engine process + workers), and a same-run baseline: the same messages through a plain
SQS receive/delete loop (no engine, no function) and direct blocking invokes.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from headwater import Headwater
from headwater.testing import wait_for_drain
from measure import NOOP_HANDLER, percentile, tree_cpu_seconds

LATENCY = """
import json, os, time

OUT = open(os.environ["LATENCY_FILE"], "a", encoding="utf-8")

def handler(event, context):
    if "warm" in event:
        time.sleep(event["warm"])
        return None
    now = time.time()
    for record in event["Records"]:
        OUT.write(f"{now - float(record['body'])}\\n")
    OUT.flush()
"""


#: Headwater options with metrics, function logs and record journeys all off.
OBSERVABILITY_OFF = {"metrics": False, "journeys": False, "function_logs": False}


def setup(
    data_dir: Path,
    code: Path,
    handler_source: str,
    env: dict[str, str] | None,
    observe: bool = True,
) -> Any:
    code.mkdir(parents=True, exist_ok=True)
    (code / "bench_app.py").write_text(handler_source)
    hw = Headwater(data_dir=data_dir, **({} if observe else OBSERVABILITY_OFF))
    hw.lambda_.create_function_from_directory(
        "bench", code, "bench_app.handler", environment=env, timeout=30
    )
    url = hw.client("sqs").create_queue(QueueName="bench", Attributes={"VisibilityTimeout": "60"})[
        "QueueUrl"
    ]
    arn = hw.service("sqs").queue_info(f"arn:aws:sqs:{hw.env.region}:{hw.env.account}:bench").arn
    return hw, url, arn


def fill(hw: Headwater, url: str, count: int) -> None:
    sqs = hw.client("sqs", validate=False)
    for start in range(0, count, 10):
        sqs.send_message_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(i), "MessageBody": "x" * 64} for i in range(min(10, count - start))
            ],
        )


def warm(hw: Headwater, workers: int = 8) -> None:
    """Start the function's worker processes outside the measurement (steady state)."""
    threads = [
        threading.Thread(target=hw.lambda_.invoke_function, args=("bench", b'{"warm": 0.5}'))
        for _ in range(workers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def drain_rate(
    base: Path, batch_size: int, count: int, observe: bool = True
) -> tuple[float, float, int]:
    """Messages/s and CPU s/message to drain a ``count`` backlog; and invocations made."""
    name = f"drain{batch_size}-{'on' if observe else 'off'}"
    hw, url, arn = setup(base / name, base / "code-noop", NOOP_HANDLER, None, observe)
    try:
        fill(hw, url, count)
        warm(hw)
        lam = hw.client("lambda")
        params: dict[str, Any] = {"BatchSize": batch_size}
        if batch_size > 10:
            params["MaximumBatchingWindowInSeconds"] = 1
        uuid = lam.create_event_source_mapping(FunctionName="bench", EventSourceArn=arn, **params)[
            "UUID"
        ]
        cpu0 = tree_cpu_seconds()
        t0 = time.perf_counter()
        hw.start()
        wait_for_drain(hw, url, timeout=600, poll_interval=0.01)
        elapsed = time.perf_counter() - t0
        cpu = tree_cpu_seconds() - cpu0
        metrics = hw.engine.metrics(uuid)
        invocations = metrics.Invocations if metrics else 0
        return count / elapsed, cpu / count, invocations
    finally:
        hw.close()


def latency(base: Path, rate: float, seconds: float) -> list[float]:
    out = base / "latency.txt"
    hw, url, arn = setup(
        base / "latency", base / "code-latency", LATENCY, {"LATENCY_FILE": str(out)}
    )
    try:
        warm(hw)
        hw.client("lambda").create_event_source_mapping(
            FunctionName="bench", EventSourceArn=arn, BatchSize=10
        )
        hw.start()
        sqs = hw.client("sqs", validate=False)
        interval = 1.0 / rate
        total = int(rate * seconds)
        next_at = time.perf_counter()
        for _ in range(total):
            delay = next_at - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            sqs.send_message(QueueUrl=url, MessageBody=repr(time.time()))
            next_at += interval
        wait_for_drain(hw, url, timeout=60)
    finally:
        hw.close()
    values = [float(line) for line in out.read_text().split()]
    return sorted(values)[len(values) // 10 :]  # drop the first 10 %: warm-up


def baseline_queue(base: Path, count: int) -> float:
    """Ceiling for the engine's queue work: receive + delete batches of 100, no invoke."""
    hw, url, arn = setup(base / "baseline", base / "code-noop", NOOP_HANDLER, None)
    try:
        fill(hw, url, count)
        sqs = hw.service("sqs")
        t0 = time.perf_counter()
        done = 0
        while done < count:
            got = sqs.receive_for_mapping(arn, 100)
            sqs.delete_for_mapping(arn, [m.receipt_handle for m in got])
            done += len(got)
        return count / (time.perf_counter() - t0)
    finally:
        hw.close()


def baseline_invoke(base: Path, count: int) -> float:
    """Ceiling for BatchSize 1: blocking invokes of the no-op function, one at a time."""
    hw, _url, _arn = setup(base / "invoke", base / "code-noop", NOOP_HANDLER, None)
    try:
        warm(hw)
        payload = b'{"Records": [{"body": "x"}]}'
        t0 = time.perf_counter()
        for _ in range(count):
            hw.lambda_.invoke_function("bench", payload)
        return count / (time.perf_counter() - t0)
    finally:
        hw.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--single", type=int, default=5_000)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hw-bench-esm-") as tmp:
        base = Path(tmp)
        off100 = drain_rate(base, 100, args.messages, observe=False)
        rate100, cpu100, inv100 = drain_rate(base, 100, args.messages)
        off1 = drain_rate(base, 1, args.single, observe=False)
        rate1, cpu1, inv1 = drain_rate(base, 1, args.single)
        lat = latency(base, 200.0, args.seconds)
        queue_ceiling = baseline_queue(base, args.messages)
        invoke_ceiling = baseline_invoke(base, min(args.single, 2000))
    print("headwater ESM (SQS), SQLite, worker processes, no-op handler")
    print(
        f"  BatchSize 100: {rate100:10,.0f} msgs/s  ({args.messages} msgs, {inv100} invocations,"
        f" {cpu100 * 1e6:6.1f} us CPU/msg)   target >= 20,000"
    )
    print(
        f"  BatchSize 1:   {rate1:10,.0f} invocations/s  ({args.single} msgs, {inv1} invocations,"
        f" {cpu1 * 1e6:6.1f} us CPU/msg)   target >= 2,000"
    )
    print(
        f"  latency at 200 msgs/s (send -> handler, {len(lat)} msgs): "
        f"p50 {percentile(lat, 0.5) * 1e3:.2f} ms, p99 {percentile(lat, 0.99) * 1e3:.2f} ms, "
        f"mean {statistics.fmean(lat) * 1e3:.2f} ms   target p50 <= 5, p99 <= 50"
    )
    print("observability (metrics + function logs + journeys) off, same run:")
    for label, on, off in (("BatchSize 100", rate100, off100), ("BatchSize 1", rate1, off1)):
        print(
            f"  {label}: off {off[0]:10,.0f} msgs/s ({off[1] * 1e6:6.1f} us CPU/msg); on is "
            f"{(on / off[0] - 1) * 100:+.1f}%   target within -10%"
        )
    print("baseline, same run:")
    print(f"  SQS receive+delete of 100, no engine/no invoke: {queue_ceiling:10,.0f} msgs/s")
    print(f"  blocking invoke of the no-op function, serial:  {invoke_ceiling:10,.0f} invokes/s")


if __name__ == "__main__":
    main()
