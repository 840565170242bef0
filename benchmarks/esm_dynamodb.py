"""DynamoDB Streams and DynamoDB stream mappings, on SQLite with worker processes and a
no-op handler.

    .venv/bin/python benchmarks/esm_dynamodb.py [--writes 20000] [--e2e 50000] [--seconds 5]

Prints:
- PutItem writes/s (and CPU per write) through the Python API to a table with a
  NEW_AND_OLD_IMAGES stream and to the same table without a stream (same run, medians of
  alternating rounds: the stream's cost);
- end-to-end changes/s: a backlog of writes drained by a mapping with BatchSize 100
  (worker processes warm, time from engine start to the last invoke), CPU per change;
- write-to-handler latency p50/p99 at a steady 500 writes/s (PutItem per write).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from esm_kinesis import setup, warm
from headwater import Headwater
from measure import NOOP_HANDLER, percentile

LATENCY = """
import os, time

OUT = open(os.environ["LATENCY_FILE"], "a", encoding="utf-8")

def handler(event, context):
    if "warm" in event:
        time.sleep(event["warm"])
        return None
    now = time.time()
    for record in event["Records"]:
        OUT.write(f"{now - float(record['dynamodb']['NewImage']['t']['N'])}\\n")
    OUT.flush()
"""


def make_table(hw: Headwater, name: str, stream: bool) -> str | None:
    params: dict[str, Any] = {
        "TableName": name,
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if stream:
        params["StreamSpecification"] = {
            "StreamEnabled": True,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        }
    created = hw.client("dynamodb").create_table(**params)["TableDescription"]
    arn: str | None = created.get("LatestStreamArn")
    return arn


def write_all(hw: Headwater, table: str, total: int, start: int = 0) -> tuple[float, float]:
    """PutItem ``total`` items (a quarter are updates of earlier ones): writes/s and CPU
    seconds per write."""
    ddb = hw.client("dynamodb", validate=False)
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    for n in range(start, start + total):
        key = str(n if n % 4 else n // 2)
        ddb.put_item(TableName=table, Item={"id": {"S": key}, "n": {"N": str(n)}})
    return total / (time.perf_counter() - t0), (time.process_time() - cpu0) / total


def write_cost(base: Path, total: int, rounds: int = 5) -> tuple[tuple[float, float], ...]:
    """(writes/s, CPU s/write) without and with a stream: the median of ``rounds``
    alternating runs of ``total / rounds`` writes each, so that a burst of load on the
    machine does not land on one side only."""
    hw = Headwater(data_dir=base / "writes")
    try:
        make_table(hw, "plain", stream=False)
        make_table(hw, "streamed", stream=True)
        write_all(hw, "plain", 2_000)
        write_all(hw, "streamed", 2_000)
        each = max(1, total // rounds)
        runs: dict[str, list[tuple[float, float]]] = {"plain": [], "streamed": []}
        for r in range(rounds):
            for table in ("plain", "streamed"):
                runs[table].append(write_all(hw, table, each, 10_000_000 + r * each))
        return tuple(
            (
                statistics.median(rate for rate, _ in runs[table]),
                statistics.median(cpu for _, cpu in runs[table]),
            )
            for table in ("plain", "streamed")
        )
    finally:
        hw.close()


def end_to_end(base: Path, total: int) -> tuple[float, float, int]:
    hw = setup(base / "e2e", base / "code-noop", NOOP_HANDLER, None)
    try:
        arn = make_table(hw, "e2e", stream=True)
        ddb = hw.client("dynamodb", validate=False)
        for n in range(total):
            ddb.put_item(TableName="e2e", Item={"id": {"S": str(n)}})
        warm(hw)
        uuid = hw.client("lambda").create_event_source_mapping(
            FunctionName="bench", EventSourceArn=arn, StartingPosition="TRIM_HORIZON", BatchSize=100
        )["UUID"]
        cpu0 = time.process_time()
        t0 = time.perf_counter()
        hw.start()
        deadline = time.monotonic() + 600
        invocations = 0
        while time.monotonic() < deadline:
            metrics = hw.engine.metrics(uuid)
            if metrics is not None and metrics.InvokedEventCount >= total:
                invocations = metrics.Invocations
                break
            time.sleep(0.002)
        elapsed = time.perf_counter() - t0
        return total / elapsed, (time.process_time() - cpu0) / total, invocations
    finally:
        hw.close()


def latency(base: Path, rate: float, seconds: float) -> list[float]:
    out = base / "latency.txt"
    hw = setup(base / "latency", base / "code-latency", LATENCY, {"LATENCY_FILE": str(out)})
    try:
        arn = make_table(hw, "lat", stream=True)
        warm(hw)
        hw.client("lambda").create_event_source_mapping(
            FunctionName="bench", EventSourceArn=arn, StartingPosition="LATEST", BatchSize=100
        )
        hw.start()
        time.sleep(1.0)
        ddb = hw.client("dynamodb", validate=False)
        total = int(rate * seconds)
        t0 = time.perf_counter()
        for n in range(total):
            due = t0 + n / rate
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            ddb.put_item(TableName="lat", Item={"id": {"S": str(n)}, "t": {"N": repr(time.time())}})
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if out.exists() and len(out.read_text().splitlines()) >= total:
                break
            time.sleep(0.05)
        return [float(line) * 1000 for line in out.read_text().splitlines()]
    finally:
        hw.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--writes", type=int, default=20_000)
    parser.add_argument("--e2e", type=int, default=50_000)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        (plain, plain_cpu), (streamed, streamed_cpu) = write_cost(base, args.writes)
        print(
            f"PutItem, no stream:            {plain:10.0f} writes/s  ({plain_cpu * 1e6:.1f} us CPU)"
        )
        print(
            f"PutItem, NEW_AND_OLD_IMAGES:   {streamed:10.0f} writes/s"
            f"  ({streamed_cpu * 1e6:.1f} us CPU; the stream costs"
            f" {100 * (1 - streamed / plain):.0f}% of write throughput;"
            " target <= 25%)"
        )
        rate, cpu, invocations = end_to_end(base, args.e2e)
        print(
            f"end to end, BatchSize 100:     {rate:10.0f} changes/s  "
            f"({cpu * 1e6:.1f} us CPU/change in the engine process, {invocations} invokes;"
            " target >= 15,000)"
        )
        samples = latency(base, 500.0, args.seconds)
        print(
            f"write-to-handler at 500/s:     p50 {statistics.median(samples):.1f} ms,"
            f" p99 {percentile(samples, 99):.1f} ms over {len(samples)} writes"
            " (targets p50 <= 5 ms, p99 <= 50 ms; AWS polls 4/s per shard)"
        )


if __name__ == "__main__":
    main()
