"""Function runtime: cold start, warm invocation rate and per-invocation overhead.

    .venv/bin/python benchmarks/runtime.py [--invocations 5000] [--cold 20]

Figures:
- cold start: wall time of the first invocation of a trivial handler on a new worker
  (process start + interpreter + handler import + one invocation), p50 of ``--cold`` runs,
  and the REPORT line's Init Duration;
- warm sync invocations/s with a 1 KB payload on one worker (one caller thread) and on a
  pool of 2 (two caller threads, reserved concurrency 2), and with ``invoke_async`` from
  two tasks on one event loop (how the ESM engine invokes);
- per-invocation latency p50/p99 (µs) on a warm worker, and the *overhead*: that latency
  minus the same-run baseline, a raw length-prefixed echo round trip between two
  processes over pipes (what any process-isolated runtime must pay at least);
- CPU time per invocation (parent + worker, µs) next to the baseline's.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import orjson

from headwater import Headwater
from measure import percentile, process_cpu_seconds

PAYLOAD = orjson.dumps({"data": "x" * 1000})  # ~1 KB event

HANDLER = "def handler(event, context):\n    return event\n"

ECHO_CHILD = r"""
import os, struct, sys
r, w = int(sys.argv[1]), int(sys.argv[2])
H = struct.Struct("<I")
def read_exact(n):
    out = b""
    while len(out) < n:
        chunk = os.read(r, n - len(out))
        if not chunk:
            sys.exit(0)
        out += chunk
    return out
while True:
    (size,) = H.unpack(read_exact(4))
    body = read_exact(size)
    os.write(w, H.pack(size) + body)
"""


def baseline(n: int) -> tuple[list[float], float]:
    """Raw pipe echo round trips (seconds each) and CPU seconds per round trip."""
    to_child_r, to_child_w = os.pipe()
    from_child_r, from_child_w = os.pipe()
    child = subprocess.Popen(
        [sys.executable, "-c", ECHO_CHILD, str(to_child_r), str(from_child_w)],
        pass_fds=(to_child_r, from_child_w),
    )
    os.close(to_child_r)
    os.close(from_child_w)
    header = struct.Struct("<I")
    message = header.pack(len(PAYLOAD)) + PAYLOAD
    times = []
    cpu_parent = time.process_time()
    cpu_child = process_cpu_seconds(child.pid)
    for _ in range(n):
        started = time.perf_counter()
        os.write(to_child_w, message)
        got = b""
        while len(got) < len(message):
            got += os.read(from_child_r, 65536)
        times.append(time.perf_counter() - started)
    cpu = (time.process_time() - cpu_parent) + (process_cpu_seconds(child.pid) - cpu_child)
    os.close(to_child_w)
    child.wait()
    os.close(from_child_r)
    return times, cpu / n


def cold_starts(hw: Headwater, code: Path, runs: int) -> tuple[list[float], list[float]]:
    walls: list[float] = []
    inits: list[float] = []
    lam = hw.lambda_
    lam.create_function_from_directory("cold", code, "bench_app.handler")
    for _ in range(runs):
        lam.update_function_code_from_directory("cold", code)  # drains: next call is cold
        started = time.perf_counter()
        result = lam.invoke_function("cold", b"{}", log_tail=True)
        walls.append(time.perf_counter() - started)
        assert result.status == "ok", result
        tail = result.log_tail or ""
        inits.append(float(tail.split("Init Duration: ")[1].split(" ms")[0]))
    return walls, inits


def warm_rate(hw: Headwater, name: str, threads: int, n: int) -> tuple[float, list[float], float]:
    """(invocations/s, per-call seconds, CPU seconds per call incl. workers)."""
    lam = hw.lambda_
    for _ in range(threads * 50):  # warm up every worker
        lam.invoke_function(name, PAYLOAD)
    pools = lam.worker_pools
    assert pools is not None
    pids = pools.worker_pids(name)
    per_thread = n // threads
    latencies: list[list[float]] = [[] for _ in range(threads)]
    errors: list[object] = []

    def run(index: int) -> None:
        own = latencies[index]
        for _ in range(per_thread):
            started = time.perf_counter()
            result = lam.invoke_function(name, PAYLOAD)
            own.append(time.perf_counter() - started)
            if result.status != "ok":
                errors.append(result)

    workers_cpu = sum(process_cpu_seconds(pid) for pid in pids)
    parent_cpu = time.process_time()
    started = time.perf_counter()
    callers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join()
    elapsed = time.perf_counter() - started
    cpu = (time.process_time() - parent_cpu) + (
        sum(process_cpu_seconds(pid) for pid in pids) - workers_cpu
    )
    assert not errors, errors[:3]
    total = per_thread * threads
    return total / elapsed, [x for own in latencies for x in own], cpu / total


def async_rate(hw: Headwater, name: str, tasks: int, n: int) -> tuple[float, float]:
    """(invocations/s, CPU seconds per call) with ``tasks`` concurrent invoke_async on one loop."""
    lam = hw.lambda_
    pools = lam.worker_pools
    assert pools is not None
    pids = pools.worker_pids(name)
    per_task = n // tasks

    async def run() -> None:
        async def one() -> None:
            for _ in range(per_task):
                result = await lam.invoke_async(name, PAYLOAD)
                assert result.status == "ok", result

        await asyncio.gather(*(one() for _ in range(tasks)))

    workers_cpu = sum(process_cpu_seconds(pid) for pid in pids)
    parent_cpu = time.process_time()
    started = time.perf_counter()
    asyncio.run(run())
    elapsed = time.perf_counter() - started
    cpu = (time.process_time() - parent_cpu) + (
        sum(process_cpu_seconds(pid) for pid in pids) - workers_cpu
    )
    return per_task * tasks / elapsed, cpu / (per_task * tasks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--invocations", type=int, default=5000)
    parser.add_argument("--cold", type=int, default=20)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        code = Path(tmp) / "code"
        code.mkdir()
        (code / "bench_app.py").write_text(HANDLER)
        with Headwater.in_memory(function_idle_timeout=600) as hw:
            walls, inits = cold_starts(hw, code, args.cold)
            lam = hw.lambda_
            lam.create_function_from_directory("one", code, "bench_app.handler")
            lam.create_function_from_directory(
                "two", code, "bench_app.handler", reserved_concurrency=2
            )
            one_rate, one_lat, one_cpu = warm_rate(hw, "one", 1, args.invocations)
            two_rate, _, two_cpu = warm_rate(hw, "two", 2, args.invocations)
            aio_rate, aio_cpu = async_rate(hw, "two", 2, args.invocations)
        base_times, base_cpu = baseline(args.invocations)

    us = 1e6
    base_p50 = percentile(base_times, 0.5)
    lat_p50 = percentile(one_lat, 0.5)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, payload {len(PAYLOAD)} B")
    print(
        f"cold start (trivial handler), p50 of {len(walls)}: "
        f"{percentile(walls, 0.5) * 1000:.1f} ms wall "
        f"(Init Duration p50 {statistics.median(inits):.1f} ms; min "
        f"{min(walls) * 1000:.1f} ms, max {max(walls) * 1000:.1f} ms)   target <= 150 ms"
    )
    print(f"warm sync, 1 worker : {one_rate:,.0f} invocations/s   target >= 5,000")
    print(f"warm sync, pool of 2: {two_rate:,.0f} invocations/s (2 caller threads)")
    print(
        f"warm invoke_async, pool of 2: {aio_rate:,.0f} invocations/s "
        "(2 tasks on one event loop, as the ESM engine calls it)"
    )
    print(
        f"warm latency, 1 worker: p50 {lat_p50 * us:.1f} µs, p99 "
        f"{percentile(one_lat, 0.99) * us:.1f} µs"
    )
    print(
        f"baseline raw pipe echo round trip (same payload): p50 {base_p50 * us:.1f} µs, "
        f"p99 {percentile(base_times, 0.99) * us:.1f} µs"
    )
    print(
        f"per-invocation overhead vs. baseline, p50: {(lat_p50 - base_p50) * us:.1f} µs   "
        f"(target <= 150 µs; whole latency {lat_p50 * us:.1f} µs)"
    )
    print(
        f"CPU per invocation: 1 worker {one_cpu * us:.1f} µs, pool of 2 {two_cpu * us:.1f} µs, "
        f"async pool of 2 {aio_cpu * us:.1f} µs, baseline echo {base_cpu * us:.1f} µs"
    )


if __name__ == "__main__":
    main()
