"""Function runtime: cold start, warm invocation rate and per-invocation overhead, per runtime.

    .venv/bin/python benchmarks/runtime.py [--invocations 5000] [--cold 20]

Figures, all with a ~1 KB event on one warm environment unless said:
- **Python worker** (headwater's fast path, on headwater's interpreter): cold start p50
  (wall time of the first invocation of a trivial handler: process start + interpreter +
  import + one invocation) and the REPORT line's Init Duration; warm sync invocations/s on
  one worker, on a pool of 2 (two caller threads) and with ``invoke_async`` from two tasks
  on one loop (how the ESM engine calls); latency p50/p99 and the *overhead*: latency minus
  the same-run baseline, a raw length-prefixed echo round trip between two processes over
  pipes (what any process-isolated runtime pays at least); CPU per invocation.
- **Runtime API environments**, same cold/warm figures: Python through AWS's awslambdaric,
  Node.js through headwater's bootstrap (and through AWS's aws-lambda-ric when installed),
  and a ``provided`` bootstrap (a small Python http.client loop: a custom runtime).
- **Python worker beside the first wave's figure** (14,931 invocations/s, 53.6 µs overhead,
  measured when function logs were appended to a file and there were no CloudWatch
  metrics): the same warm loop on a Headwater with and without the work added since (the
  AWS/Lambda metrics, function logs written to CloudWatch Logs), alternating, median of
  ``--rounds``. The lean figure is the one comparable with the first wave's figure;
  ``benchmarks/pyworker_trees.py`` runs the first wave's tree itself beside this one,
  alternating in one run (the comparison that means something on a shared machine).
- **Runtime API overhead p50**: Node's warm latency through headwater minus the
  per-invocation time of the same Node client against a fixed-reply Runtime API server
  (answers /next at once with a canned event, 202 to /response) in the same run: what
  headwater adds over the client's own ceiling.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from headwater import Headwater
from measure import percentile, process_cpu_seconds

PAYLOAD = orjson.dumps({"data": "x" * 1000})  # ~1 KB event

HANDLER = "def handler(event, context):\n    return event\n"
NODE_HANDLER = "exports.handler = async (event) => event;\n"
#: A custom runtime: a bootstrap that loops over the Runtime API with keep-alive HTTP.
PROVIDED_BOOTSTRAP = f"""#!{sys.executable} -S
import http.client, os
host, port = os.environ["AWS_LAMBDA_RUNTIME_API"].split(":")
api = http.client.HTTPConnection(host, int(port))
while True:
    api.request("GET", "/2018-06-01/runtime/invocation/next")
    response = api.getresponse()
    event = response.read()
    rid = response.getheader("Lambda-Runtime-Aws-Request-Id")
    api.request("POST", f"/2018-06-01/runtime/invocation/{{rid}}/response", body=event)
    api.getresponse().read()
"""
HOST_RUNTIME = "python{}.{}".format(*sys.version_info[:2])

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


def cold_starts(hw: Headwater, name: str, runs: int) -> tuple[list[float], list[float]]:
    """Wall time of the first invocation after a code update (the next call is cold)."""
    walls: list[float] = []
    inits: list[float] = []
    lam = hw.lambda_
    directory = _directories[name]
    for _ in range(runs):
        lam.update_function_code_from_directory(name, directory)  # drains: next call is cold
        started = time.perf_counter()
        result = lam.invoke_function(name, b"{}", log_tail=True)
        walls.append(time.perf_counter() - started)
        assert result.status == "ok", result
        tail = result.log_tail or ""
        inits.append(float(tail.split("Init Duration: ")[1].split(" ms")[0]))
    return walls, inits


_directories: dict[str, Path] = {}


def pools_of(hw: Headwater) -> Any:
    pools = hw.service("lambda").worker_pools
    assert pools is not None
    return pools


def warm_rate(hw: Headwater, name: str, threads: int, n: int) -> tuple[float, list[float], float]:
    """(invocations/s, per-call seconds, CPU seconds per call incl. workers)."""
    lam = hw.lambda_
    for _ in range(threads * 50):  # warm up every worker
        lam.invoke_function(name, PAYLOAD)
    pids = pools_of(hw).worker_pids(name)
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
    service = hw.service("lambda")
    pids = pools_of(hw).worker_pids(name)
    per_task = n // tasks

    async def run() -> None:
        async def one() -> None:
            for _ in range(per_task):
                result = await service.invoke_async(name, PAYLOAD)
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


@dataclass
class Family:
    """One runtime family to measure: its function and what came out."""

    label: str
    name: str
    runtime: str
    handler: str
    code: Path
    environment: dict[str, str] = field(default_factory=dict)
    colds: list[float] = field(default_factory=list)
    inits: list[float] = field(default_factory=list)
    rate: float = 0.0
    latencies: list[float] = field(default_factory=list)
    cpu: float = 0.0


def fixed_reply_per_invocation(node: str, code: Path, seconds: float) -> float:
    """Seconds per invocation of headwater's Node bootstrap against a fixed-reply Runtime
    API (the client's own ceiling: same server code, nothing behind it)."""
    from headwater.runtime.api_server import Exchange, runtime_api_host
    from headwater.runtime.families import NODE_BOOTSTRAP

    answered = itertools.count()
    counted = [0]

    def reply(exchange: Exchange) -> None:
        if exchange.request.method == "GET":
            rid = f"fixed-{next(answered)}"
            exchange.respond(
                200,
                PAYLOAD,
                {
                    "Lambda-Runtime-Aws-Request-Id": rid,
                    "Lambda-Runtime-Deadline-Ms": str(int(time.time() * 1000) + 60_000),
                    "Lambda-Runtime-Invoked-Function-Arn": "arn:aws:lambda:us-east-1:0:function:f",
                    "Lambda-Runtime-Trace-Id": "Root=1-0-0;Sampled=0",
                },
            )
        else:
            counted[0] += 1
            exchange.respond_json(202, {"status": "OK"})

    host = runtime_api_host()
    listener = host.listen(reply)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_LAMBDA_RUNTIME_API": listener.address,
        "_HANDLER": "index.handler",
        "LAMBDA_TASK_ROOT": str(code),
    }
    process = subprocess.Popen([node, NODE_BOOTSTRAP], env=env, cwd=code, stdout=subprocess.DEVNULL)
    try:
        time.sleep(1.0)  # start and warm up
        first, started = counted[0], time.perf_counter()
        time.sleep(seconds)
        done, elapsed = counted[0] - first, time.perf_counter() - started
    finally:
        process.kill()
        process.wait()
        host.close_listener(listener)
    return elapsed / max(done, 1)


def measure_family(hw: Headwater, family: Family, cold: int, invocations: int) -> None:
    lam = hw.lambda_
    _directories[family.name] = family.code
    lam.create_function_from_directory(
        family.name,
        family.code,
        family.handler,
        runtime=family.runtime,
        environment=family.environment or None,
    )
    family.colds, family.inits = cold_starts(hw, family.name, cold)
    family.rate, family.latencies, family.cpu = warm_rate(hw, family.name, 1, invocations)


#: The first wave's Python worker figures (benchmarks/runtime.py then): warm invocations/s on
#: one worker and p50 overhead over the raw pipe echo.
FIRST_WAVE_RATE = 14_931
FIRST_WAVE_OVERHEAD_US = 53.6
#: What the first wave's figure did not include: CloudWatch metrics and CloudWatch Logs.
LEAN_OPTIONS: dict[str, Any] = {"metrics": False, "journeys": False, "function_logs": False}


def with_and_without_observability(
    hw: Headwater, code: Path, rounds: int, invocations: int
) -> dict[str, list[tuple[float, list[float], float]]]:
    """Warm loops of the Python worker on ``hw`` (everything on) and on a Headwater with
    ``LEAN_OPTIONS``, alternating ``rounds`` times: (rate, latencies, CPU) per round."""
    out: dict[str, list[tuple[float, list[float], float]]] = {"full": [], "lean": []}
    with Headwater.in_memory(function_idle_timeout=600, **LEAN_OPTIONS) as lean:
        lean.lambda_.create_function_from_directory(
            "pyworker", code, "bench_app.handler", runtime=HOST_RUNTIME
        )
        for _ in range(rounds):
            out["full"].append(warm_rate(hw, "pyworker", 1, invocations))
            out["lean"].append(warm_rate(lean, "pyworker", 1, invocations))
    return out


def median_round(
    rounds: list[tuple[float, list[float], float]],
) -> tuple[float, float, float]:
    """(invocations/s, latency p50 s, CPU s per call): the median over rounds of each."""
    return (
        statistics.median(r[0] for r in rounds),
        statistics.median(percentile(r[1], 0.5) for r in rounds),
        statistics.median(r[2] for r in rounds),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--invocations", type=int, default=5000)
    parser.add_argument("--cold", type=int, default=20)
    parser.add_argument(
        "--rounds", type=int, default=3, help="alternating rounds of the first-wave comparison"
    )
    args = parser.parse_args()
    node = shutil.which("node")
    ric = Path("~/.cache/headwater/node-tools/node_modules/aws-lambda-ric").expanduser()

    with tempfile.TemporaryDirectory() as tmp:
        code = Path(tmp) / "code"
        code.mkdir()
        (code / "bench_app.py").write_text(HANDLER)
        (code / "index.js").write_text(NODE_HANDLER)
        provided = Path(tmp) / "provided"
        provided.mkdir()
        (provided / "bootstrap").write_text(PROVIDED_BOOTSTRAP)
        (provided / "bootstrap").chmod(0o755)
        families = [
            Family("Python worker", "pyworker", HOST_RUNTIME, "bench_app.handler", code),
            Family(
                "Python via awslambdaric",
                "pyric",
                HOST_RUNTIME,
                "bench_app.handler",
                code,
                {"HEADWATER_RUNTIME_CLIENT": "awslambdaric"},
            ),
            Family("provided (http.client loop)", "provided", "provided.al2023", "x", provided),
        ]
        if node:
            families.insert(
                2, Family("Node via Runtime API", "node", "nodejs20.x", "index.handler", code)
            )
            if ric.is_dir():
                families.insert(
                    3,
                    Family(
                        "Node via aws-lambda-ric",
                        "noderic",
                        "nodejs20.x",
                        "index.handler",
                        code,
                        {"HEADWATER_RUNTIME_CLIENT": str(ric)},
                    ),
                )
        with Headwater.in_memory(function_idle_timeout=600) as hw:
            for family in families:
                measure_family(hw, family, args.cold, args.invocations)
            lam = hw.lambda_
            lam.create_function_from_directory(
                "two", code, "bench_app.handler", runtime=HOST_RUNTIME, reserved_concurrency=2
            )
            two_rate, _, two_cpu = warm_rate(hw, "two", 2, args.invocations)
            aio_rate, aio_cpu = async_rate(hw, "two", 2, args.invocations)
            compared = with_and_without_observability(hw, code, args.rounds, args.invocations)
        base_times, base_cpu = baseline(args.invocations)
        fixed = fixed_reply_per_invocation(node, code, 3.0) if node else None

    us = 1e6
    worker = families[0]
    base_p50 = percentile(base_times, 0.5)
    lat_p50 = percentile(worker.latencies, 0.5)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, payload {len(PAYLOAD)} B")
    print(
        f"{'runtime':<30} {'cold p50':>10} {'init p50':>10} {'warm inv/s':>11} "
        f"{'lat p50':>9} {'CPU/inv':>9}"
    )
    for family in families:
        print(
            f"{family.label:<30} {percentile(family.colds, 0.5) * 1000:8.1f}ms "
            f"{statistics.median(family.inits):8.1f}ms {family.rate:11,.0f} "
            f"{percentile(family.latencies, 0.5) * us:7.0f}µs {family.cpu * us:7.0f}µs"
        )
    print(
        "targets: Node cold start <= 300 ms, Node >= 2,000 warm invocations/s, Python "
        "worker ~15,000/s"
    )
    print(
        f"Python worker, pool of 2: {two_rate:,.0f} invocations/s (2 caller threads); "
        f"invoke_async pool of 2: {aio_rate:,.0f}/s (2 tasks on one loop)"
    )
    print(
        f"Python worker latency p50 {lat_p50 * us:.1f} µs, p99 "
        f"{percentile(worker.latencies, 0.99) * us:.1f} µs; baseline raw pipe echo p50 "
        f"{base_p50 * us:.1f} µs -> overhead p50 {(lat_p50 - base_p50) * us:.1f} µs"
    )
    print(
        f"CPU per invocation: Python worker {worker.cpu * us:.1f} µs, pool of 2 "
        f"{two_cpu * us:.1f} µs, async pool of 2 {aio_cpu * us:.1f} µs, baseline echo "
        f"{base_cpu * us:.1f} µs"
    )
    full_rate, full_p50, full_cpu = median_round(compared["full"])
    lean_rate, lean_p50, lean_cpu = median_round(compared["lean"])
    print(
        f"Python worker beside the first wave's figure (median of {args.rounds} alternating "
        "rounds):"
    )
    for label, rate, p50, cpu in (
        ("as shipped (metrics, CloudWatch Logs)", full_rate, full_p50, full_cpu),
        ("without metrics and function logs", lean_rate, lean_p50, lean_cpu),
    ):
        print(
            f"  {label:<38} {rate:8,.0f} invocations/s, overhead p50 "
            f"{(p50 - base_p50) * us:5.1f} µs, CPU {cpu * us:5.1f} µs/inv"
        )
    print(
        f"  first wave (file logs, no metrics; another run) {FIRST_WAVE_RATE:,} invocations/s, "
        f"overhead p50 {FIRST_WAVE_OVERHEAD_US} µs: compare with the second line"
    )
    node_family = next((f for f in families if f.name == "node"), None)
    if fixed is not None and node_family is not None:
        node_p50 = percentile(node_family.latencies, 0.5)
        print(
            f"Runtime API overhead p50: {(node_p50 - fixed) * us:.0f} µs   (target <= 500 µs; "
            f"Node latency p50 {node_p50 * us:.0f} µs through headwater vs {fixed * us:.0f} µs "
            "per invocation for the same client against a fixed-reply Runtime API)"
        )


if __name__ == "__main__":
    main()
