"""The Python worker's warm rate on several source trees, alternating, in one run.

    .venv/bin/python benchmarks/pyworker_trees.py [--rounds 5] [--invocations 5000] \
        [--tree wave1=/work/wt/wave1ref/src] [--tree main=src]

Each round starts one process per tree (``PYTHONPATH=<tree>``, this interpreter and its
installed dependencies), in turn: a ``Headwater.in_memory(function_idle_timeout=600)`` with
its default options, one function of ``def handler(event, context): return event``, 200
warm-up calls, then ``--invocations`` sync invokes of a ~1 KB event on one warm worker.
It reports, per tree, the median over rounds of invocations/s, latency p50, the overhead
(p50 minus the p50 of a raw length-prefixed pipe echo between two processes, measured in
the same round) and CPU per invocation (headwater's process and the worker). Comparing a
change with an older tree (issue 17: the first wave, 8a711f0) only means something in the
same run on this shared machine, hence the alternation.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

import orjson

CHILD = r"""
import inspect, sys, tempfile, time
from pathlib import Path
import orjson
sys.path.insert(0, sys.argv[3])
from measure import percentile, process_cpu_seconds
from headwater import Headwater

n = int(sys.argv[1])
options = orjson.loads(sys.argv[2])
payload = orjson.dumps({"data": "x" * 1000})
runtime = "python{}.{}".format(*sys.version_info[:2])
with tempfile.TemporaryDirectory() as tmp:
    code = Path(tmp)
    (code / "bench_app.py").write_text("def handler(event, context):\n    return event\n")
    with Headwater.in_memory(function_idle_timeout=600, **options) as hw:
        lam = hw.lambda_
        create = lam.create_function_from_directory
        extra = {"runtime": runtime} if "runtime" in inspect.signature(create).parameters else {}
        create("f", code, "bench_app.handler", **extra)
        for _ in range(200):
            assert lam.invoke_function("f", payload).status == "ok"
        service = hw.service("lambda") if hasattr(hw, "service") else lam
        pids = service.worker_pools.worker_pids("f")
        latencies = []
        worker_cpu = sum(process_cpu_seconds(pid) for pid in pids)
        own_cpu = time.process_time()
        started = time.perf_counter()
        for _ in range(n):
            t = time.perf_counter()
            result = lam.invoke_function("f", payload)
            latencies.append(time.perf_counter() - t)
            assert result.status == "ok", result
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - own_cpu
        cpu += sum(process_cpu_seconds(pid) for pid in pids) - worker_cpu
figures = {"rate": n / elapsed, "p50": percentile(latencies, 0.5), "cpu": cpu / n}
print(orjson.dumps(figures).decode())
"""


def run_tree(src: Path, invocations: int, options: dict[str, object]) -> dict[str, float]:
    env = dict(os.environ, PYTHONPATH=str(src))
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            CHILD,
            str(invocations),
            orjson.dumps(options).decode(),
            str(Path(__file__).parent),
        ],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    figures: dict[str, float] = orjson.loads(out.strip().splitlines()[-1])
    return figures


def main() -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    from measure import percentile
    from runtime import baseline

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--invocations", type=int, default=5000)
    parser.add_argument(
        "--tree",
        action="append",
        default=[],
        metavar="LABEL=SRC",
        help="a source tree to measure (its src directory); repeatable",
    )
    parser.add_argument(
        "--lean",
        action="store_true",
        help="also measure the last tree with metrics, journeys and function logs off",
    )
    args = parser.parse_args()
    here = Path(__file__).resolve().parent.parent / "src"
    trees = [
        (label, Path(src).resolve(), {})
        for label, _, src in (t.partition("=") for t in args.tree or [f"this={here}"])
    ]
    if args.lean:
        label, src, _ = trees[-1]
        lean = {"metrics": False, "journeys": False, "function_logs": False}
        trees.append((f"{label} lean", src, lean))
    results: dict[str, list[dict[str, float]]] = {label: [] for label, _, _ in trees}
    for round_no in range(args.rounds):
        base_times, _ = baseline(args.invocations)
        base_p50 = percentile(base_times, 0.5)
        for label, src, options in trees:
            figures = run_tree(src, args.invocations, options)
            figures["overhead"] = figures["p50"] - base_p50
            results[label].append(figures)
            print(
                f"round {round_no + 1} {label:<14} {figures['rate']:8,.0f}/s  overhead "
                f"{figures['overhead'] * 1e6:5.1f} µs  CPU {figures['cpu'] * 1e6:5.1f} µs/inv",
                flush=True,
            )
    print(f"median of {args.rounds} alternating rounds, {args.invocations} invocations each:")
    first = statistics.median(r["rate"] for r in results[trees[0][0]])
    for label, _, _ in trees:
        rows = results[label]
        rate = statistics.median(r["rate"] for r in rows)
        print(
            f"  {label:<14} {rate:8,.0f} invocations/s ({rate / first:4.0%} of "
            f"{trees[0][0]}), overhead p50 "
            f"{statistics.median(r['overhead'] for r in rows) * 1e6:5.1f} µs, CPU "
            f"{statistics.median(r['cpu'] for r in rows) * 1e6:5.1f} µs/inv"
        )


if __name__ == "__main__":
    main()
