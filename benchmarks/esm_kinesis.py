"""Kinesis puts and Kinesis event source mappings, on SQLite with worker processes and a
no-op handler.

    .venv/bin/python benchmarks/esm_kinesis.py [--records 100000] [--e2e 100000]
        [--seconds 5] [--wire 50000] [--no-kinesalite]

Prints:
- PutRecords records/s through the Python API (500 records per call) and with boto3 over
  the wire against ``headwater serve``, with the server's CPU-seconds per 1,000 records;
- end-to-end records/s for a 4-shard stream drained by a mapping with BatchSize 100
  (backlog written first, worker processes warm, time from engine start to last invoke);
- put-to-handler latency p50/p99 at a steady 500 records/s (PutRecord per record);
- same-run peer: kinesalite (npm, installed into a temp dir outside the repo) receiving the
  same boto3 PutRecords, its CPU-seconds per 1,000 records and records/s.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from headwater import Headwater
from measure import NOOP_HANDLER, free_port, percentile, process_cpu_seconds

LATENCY = """
import base64, os, time

OUT = open(os.environ["LATENCY_FILE"], "a", encoding="utf-8")

def handler(event, context):
    if "warm" in event:
        time.sleep(event["warm"])
        return None
    now = time.time()
    for record in event["Records"]:
        OUT.write(f"{now - float(base64.b64decode(record['kinesis']['data']))}\\n")
    OUT.flush()
"""

PER_CALL = 500


def wait_http(url: str, process: subprocess.Popen[bytes], deadline_s: float = 30.0) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: server exited")
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except OSError as error:
            if getattr(error, "code", None):  # an HTTP error answer: it is serving
                return
            time.sleep(0.05)
    raise TimeoutError(url)


def entries(count: int, start: int = 0) -> list[dict[str, Any]]:
    return [
        {"Data": b"x" * 64, "PartitionKey": f"k{i % 1000}"} for i in range(start, start + count)
    ]


def put_all(put_records: Callable[..., Any], name: str, total: int) -> float:
    """Records/s putting ``total`` records in calls of 500 (all must succeed)."""
    calls = [entries(PER_CALL, i) for i in range(0, total, PER_CALL)]
    t0 = time.perf_counter()
    for records in calls:
        failed = put_records(StreamName=name, Records=records)["FailedRecordCount"]
        assert failed == 0
    return total / (time.perf_counter() - t0)


def boto_kinesis(endpoint: str) -> Any:
    return boto3.client(
        "kinesis",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="AKIDBENCH",
        aws_secret_access_key="secret",
        config=Config(retries={"max_attempts": 1}),
    )


def wire_put(endpoint: str, pid: int, total: int) -> tuple[float, float]:
    """boto3 PutRecords to a server: records/s and server CPU-s per 1,000 records."""
    client = boto_kinesis(endpoint)
    client.create_stream(StreamName="wire", ShardCount=4)
    for _ in range(100):
        status = client.describe_stream_summary(StreamName="wire")["StreamDescriptionSummary"]
        if status["StreamStatus"] == "ACTIVE":
            break
        time.sleep(0.1)
    put_all(client.put_records, "wire", 5_000)  # warm connections and caches
    cpu0 = process_cpu_seconds(pid)
    rate = put_all(client.put_records, "wire", total)
    cpu = process_cpu_seconds(pid) - cpu0
    return rate, cpu / total * 1000


def headwater_wire(base: Path, total: int) -> tuple[float, float]:
    port = free_port()
    command = [
        sys.executable, "-c", "from headwater.cli.main import main; main()", "serve",
        "--host", "127.0.0.1", "--port", str(port), "--data-dir", str(base / "serve"),
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        endpoint = f"http://127.0.0.1:{port}"
        wait_http(endpoint + "/_headwater/health", process)
        return wire_put(endpoint, process.pid, total)
    finally:
        process.terminate()
        process.wait(timeout=30)


def kinesalite_wire(total: int) -> tuple[float, float] | str:
    npm = shutil.which("npm")
    if npm is None:
        return "npm not found"
    install = Path(tempfile.mkdtemp(prefix="hw-kinesalite-"))
    try:
        done = subprocess.run(
            [npm, "install", "kinesalite", "--no-audit", "--no-fund", "--silent"],
            cwd=install, capture_output=True, timeout=300, check=False,
        )  # fmt: skip
        binary = install / "node_modules" / ".bin" / "kinesalite"
        if done.returncode != 0 or not binary.exists():
            return f"npm install kinesalite failed: {done.stderr.decode()[-200:]}"
        port = free_port()
        process = subprocess.Popen(
            [str(binary), "--port", str(port), "--createStreamMs", "0"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            endpoint = f"http://127.0.0.1:{port}"
            wait_http(endpoint, process)
            return wire_put(endpoint, process.pid, total)
        finally:
            process.terminate()
            process.wait(timeout=30)
    finally:
        shutil.rmtree(install, ignore_errors=True)


def setup(data_dir: Path, code: Path, source: str, env: dict[str, str] | None) -> Headwater:
    code.mkdir(parents=True, exist_ok=True)
    (code / "bench_app.py").write_text(source)
    hw = Headwater(data_dir=data_dir)
    hw.lambda_.create_function_from_directory(
        "bench", code, "bench_app.handler", environment=env, timeout=30
    )
    return hw


def warm(hw: Headwater, workers: int = 8) -> None:
    """Start the function's worker processes outside the measurement."""
    threads = [
        threading.Thread(target=hw.lambda_.invoke_function, args=("bench", b'{"warm": 0.5}'))
        for _ in range(workers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def stream_arn(hw: Headwater, name: str) -> str:
    return f"arn:aws:kinesis:{hw.env.region}:{hw.env.account}:stream/{name}"


def python_put(base: Path, total: int) -> float:
    hw = Headwater(data_dir=base / "put")
    try:
        client = hw.client("kinesis", validate=False)
        client.create_stream(StreamName="put", ShardCount=4)
        put_all(client.put_records, "put", 5_000)
        return put_all(client.put_records, "put", total)
    finally:
        hw.close()


def end_to_end(base: Path, total: int) -> tuple[float, float, int]:
    """Records/s from engine start until every record of a 4-shard backlog was invoked."""
    hw = setup(base / "e2e", base / "code-noop", NOOP_HANDLER, None)
    try:
        client = hw.client("kinesis", validate=False)
        client.create_stream(StreamName="e2e", ShardCount=4)
        put_all(client.put_records, "e2e", total)
        warm(hw)
        uuid = hw.client("lambda").create_event_source_mapping(
            FunctionName="bench",
            EventSourceArn=stream_arn(hw, "e2e"),
            StartingPosition="TRIM_HORIZON",
            BatchSize=100,
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
        client = hw.client("kinesis", validate=False)
        client.create_stream(StreamName="lat", ShardCount=4)
        warm(hw)
        uuid = hw.client("lambda").create_event_source_mapping(
            FunctionName="bench",
            EventSourceArn=stream_arn(hw, "lat"),
            StartingPosition="LATEST",
            BatchSize=100,
        )["UUID"]
        hw.start()
        while uuid not in hw.engine.mapping_uuids() or not hw.engine.is_idle(uuid):
            time.sleep(0.01)
        total = int(rate * seconds)
        interval = 1.0 / rate
        next_at = time.perf_counter()
        for i in range(total):
            delay = next_at - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            client.put_record(
                StreamName="lat", Data=repr(time.time()).encode(), PartitionKey=f"k{i}"
            )
            next_at += interval
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if out.exists() and len(out.read_text().split()) >= total:
                break
            time.sleep(0.02)
    finally:
        hw.close()
    values = [float(line) for line in out.read_text().split()]
    return sorted(values[len(values) // 10 :])  # drop the first 10 %: warm-up


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--e2e", type=int, default=100_000)
    parser.add_argument("--wire", type=int, default=50_000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--no-kinesalite", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hw-bench-kinesis-") as tmp:
        base = Path(tmp)
        python_rate = python_put(base, args.records)
        wire_rate, wire_cpu = headwater_wire(base, args.wire)
        e2e_rate, e2e_cpu, invocations = end_to_end(base, args.e2e)
        lat = latency(base, 500.0, args.seconds)
        peer = "skipped" if args.no_kinesalite else kinesalite_wire(args.wire)
    print("headwater Kinesis + stream ESM, SQLite, worker processes, no-op handler")
    print(f"  PutRecords (500/call), Python API:   {python_rate:10,.0f} records/s"
          "   target >= 100,000")  # fmt: skip
    print(f"  PutRecords (500/call), boto3 wire:   {wire_rate:10,.0f} records/s,"
          f" server {wire_cpu:.4f} CPU-s per 1,000 records   target <= 0.03")  # fmt: skip
    print(f"  end to end, 4 shards, BatchSize 100: {e2e_rate:10,.0f} records/s"
          f"  ({args.e2e} records, {invocations} invocations,"
          f" {e2e_cpu * 1e6:.1f} us engine-process CPU/record)   target >= 40,000")  # fmt: skip
    print(f"  put -> handler latency at 500 records/s ({len(lat)} records): "
          f"p50 {percentile(lat, 0.5) * 1e3:.2f} ms, p99 {percentile(lat, 0.99) * 1e3:.2f} ms, "
          f"mean {statistics.fmean(lat) * 1e3:.2f} ms   target p50 <= 5")  # fmt: skip
    print("peer, same run (boto3 PutRecords of 500 over the wire):")
    if isinstance(peer, str):
        print(f"  kinesalite: {peer}")
    else:
        print(f"  kinesalite:                          {peer[0]:10,.0f} records/s,"
              f" server {peer[1]:.4f} CPU-s per 1,000 records")  # fmt: skip


if __name__ == "__main__":
    main()
