"""DynamoDB item API: headwater beside moto and dynalite in one run.

    .venv/bin/pip install -e ".[bench]"          # moto (benchmark only)
    .venv/bin/python benchmarks/dynamodb.py [--ops 5000] [--wire-ops 2000] [--rounds 3]

Embedded (Python API, SQLite data dir): put / get / update items/s and CPU µs per call
through ``hw.client("dynamodb")``, a 100-item Query page's latency; moto's in-process
mock (``mock_aws`` + boto3) is the peer. Over the wire (boto3, one thread, keep-alive):
server CPU-seconds per 1,000 put / get / update calls, read from /proc/<pid>/stat, for
``headwater serve``, ``moto_server``, dynalite (npm, installed under a temp dir by this
script, never committed) and a fixed-reply server that does no work (the ceiling of
boto3 itself on this machine). Each server first answers ``WARMUP_CALLS`` untimed calls
of each operation. /proc counts CPU in 10 ms ticks: at ``--wire-ops 1000`` a figure is
+-0.01 s per 1,000 calls; more calls narrow it.

What else moves the figures, measured on one 2-CPU VM in one session (so compare rows of
one run, never runs on different set-ups):

- The interpreter's build. A CPython compiled without PGO and LTO (pyenv's default) cost
  20-40% more CPU per call, embedded and over the wire, than Debian's python3.11 (built
  with both) running the same code; dynalite's and the fixed reply's figures did not move.
- An idle machine. Between two calls the server waits ~1 ms for boto3; on a VM whose
  CPU then idles, the next call starts with cold caches and costs about 4x what the same
  call costs back to back in-process. With other work keeping the CPUs busy the server's
  figures dropped by about a quarter. Run it on a quiet machine, as its users would.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from measure import free_port, process_cpu_seconds

HERE = Path(__file__).resolve().parent
TABLE = "bench"
ITEM_ATTRIBUTES = {
    "name": {"S": "Alice Example"},
    "age": {"N": "42"},
    "tags": {"SS": ["a", "b", "c"]},
    "address": {"M": {"city": {"S": "Lisbon"}, "zip": {"S": "1000-001"}}},
}


def item(i: int) -> dict[str, Any]:
    return {"pk": {"S": f"user#{i}"}, "sk": {"N": str(i % 100)}, **ITEM_ATTRIBUTES}


def key(i: int) -> dict[str, Any]:
    return {"pk": {"S": f"user#{i}"}, "sk": {"N": str(i % 100)}}


def create_table(client: Any) -> None:
    client.create_table(
        TableName=TABLE,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    for _ in range(100):  # dynalite creates tables asynchronously
        if client.describe_table(TableName=TABLE)["Table"]["TableStatus"] == "ACTIVE":
            return
        time.sleep(0.1)


def operations(client: Any) -> dict[str, Callable[[int], Any]]:
    return {
        "put": lambda i: client.put_item(TableName=TABLE, Item=item(i)),
        "get": lambda i: client.get_item(TableName=TABLE, Key=key(i)),
        "update": lambda i: client.update_item(
            TableName=TABLE,
            Key=key(i),
            UpdateExpression="SET age = age + :one",
            ExpressionAttributeValues={":one": {"N": "1"}},
        ),
    }


def timed(call: Callable[[int], Any], count: int) -> tuple[float, float]:
    """(calls per second, CPU µs per call) of ``count`` calls in this process."""
    cpu, wall = time.process_time(), time.perf_counter()
    for i in range(count):
        call(i)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return count / wall, cpu / count * 1e6


def query_page_latency(client: Any, pages: int) -> float:
    """Median milliseconds of a Query returning one 100-item page."""
    for i in range(100):
        client.put_item(
            TableName=TABLE, Item={"pk": {"S": "page"}, "sk": {"N": str(i)}, **ITEM_ATTRIBUTES}
        )
    samples = []
    for _ in range(pages):
        start = time.perf_counter()
        page = client.query(
            TableName=TABLE,
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": "page"}},
        )
        samples.append((time.perf_counter() - start) * 1000)
        assert page["Count"] == 100
    return statistics.median(samples)


def embedded(ops: int) -> dict[str, Any]:
    from headwater import Headwater

    data_dir = Path(tempfile.mkdtemp(prefix="hw-bench-ddb-"))
    try:
        with Headwater(data_dir=data_dir) as hw:
            client = hw.client("dynamodb")
            return run_embedded(client, ops)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def moto_embedded(ops: int) -> dict[str, Any] | None:
    try:
        from moto import mock_aws
    except ImportError:
        return None
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        return run_embedded(client, ops)


def run_embedded(client: Any, ops: int) -> dict[str, Any]:
    create_table(client)
    result: dict[str, Any] = {}
    for name, call in operations(client).items():
        result[name] = timed(call, ops)
    rate, cpu = timed(
        lambda i: client.query(
            TableName=TABLE,
            KeyConditionExpression="pk = :p AND sk >= :s",
            ExpressionAttributeValues={":p": {"S": f"user#{i}"}, ":s": {"N": "0"}},
        ),
        ops,
    )
    result["query"] = (rate, cpu)
    result["page_ms"] = query_page_latency(client, max(10, min(200, ops // 10)))
    return result


# ---- over the wire ----


def wire_client(endpoint: str) -> Any:
    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
        config=Config(retries={"max_attempts": 1}, max_pool_connections=4),
    )


def wait_ready(endpoint: str, process: subprocess.Popen[bytes], deadline_s: float = 60) -> None:
    client = wire_client(endpoint)
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            client.list_tables()
            return
        except Exception:
            time.sleep(0.2)
    raise TimeoutError(endpoint)


def start(command: list[str], endpoint: str, cwd: Path | None = None) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=cwd
    )
    try:
        wait_ready(endpoint, process)
    except Exception:
        process.kill()
        raise
    return process


#: Untimed calls of each operation before the timed ones, on keys outside the timed range,
#: for every server alike: one-time costs (a model loaded, a checker compiled, a JIT) are
#: not a cost per call.
WARMUP_CALLS = 200


def wire(
    name: str, endpoint: str, process: subprocess.Popen[bytes], ops: int, table: bool = True
) -> dict[str, Any]:
    client = wire_client(endpoint)
    if table:
        create_table(client)
    result: dict[str, Any] = {}
    calls = operations(client)
    for call in calls.values():
        for i in range(ops, ops + WARMUP_CALLS):
            call(i)
    for op, call in calls.items():
        before = process_cpu_seconds(process.pid, reaped_children=True)
        wall = time.perf_counter()
        for i in range(ops):
            call(i)
        wall = time.perf_counter() - wall
        cpu = process_cpu_seconds(process.pid, reaped_children=True) - before
        result[op] = (ops / wall, cpu * 1000 / ops)
    return result


def dynalite_command(port: int, workdir: Path) -> list[str] | None:
    if shutil.which("npm") is None or shutil.which("node") is None:
        return None
    binary = workdir / "node_modules" / "dynalite" / "cli.js"
    if not binary.exists():
        subprocess.run(
            [
                "npm",
                "install",
                "--silent",
                "--no-audit",
                "--no-fund",
                "--prefix",
                str(workdir),
                "dynalite@4",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return ["node", str(binary), "--port", str(port), "--createTableMs", "0"]


def servers(args: argparse.Namespace) -> dict[str, dict[str, Any] | None]:
    results: dict[str, dict[str, Any] | None] = {}
    data_dir = Path(tempfile.mkdtemp(prefix="hw-bench-ddb-serve-"))
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    process = start(
        [
            sys.executable,
            "-c",
            "from headwater.cli.main import main; main()",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--data-dir",
            str(data_dir),
            "--log-level",
            "warning",
        ],
        endpoint,
    )
    try:
        results["headwater serve"] = wire("headwater", endpoint, process, args.wire_ops)
    finally:
        process.terminate()
        process.wait()
        shutil.rmtree(data_dir, ignore_errors=True)
    moto_server = shutil.which("moto_server") or str(Path(sys.executable).parent / "moto_server")
    if Path(moto_server).exists():
        port = free_port()
        endpoint = f"http://127.0.0.1:{port}"
        process = start([moto_server, "-p", str(port)], endpoint)
        try:
            results["moto_server"] = wire("moto", endpoint, process, args.moto_ops)
        finally:
            process.terminate()
            process.wait()
    else:
        results["moto_server"] = None
    workdir = Path(args.dynalite_dir)
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    command = dynalite_command(port, workdir)
    if command is not None:
        endpoint = f"http://127.0.0.1:{port}"
        process = start(command, endpoint)
        try:
            results["dynalite"] = wire("dynalite", endpoint, process, args.wire_ops)
        finally:
            process.terminate()
            process.wait()
    else:
        results["dynalite"] = None
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    process = start(
        [sys.executable, str(HERE / "fixed_reply_server.py"), "--port", str(port)], endpoint
    )
    try:
        results["fixed reply (boto3 ceiling)"] = wire(
            "fixed", endpoint, process, args.wire_ops, table=False
        )
    finally:
        process.terminate()
        process.wait()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--ops", type=int, default=5000, help="calls per embedded operation")
    parser.add_argument(
        "--wire-ops", type=int, default=2000, help="calls per operation over the wire"
    )
    parser.add_argument("--moto-ops", type=int, default=500, help="calls per operation for moto")
    parser.add_argument(
        "--dynalite-dir", default=str(Path(tempfile.gettempdir()) / "hw-bench-dynalite")
    )
    parser.add_argument("--skip-wire", action="store_true")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="wire rounds, each running every server in turn; more than one also prints "
        "each server's range (the machine's speed drifts, so peers share each round)",
    )
    args = parser.parse_args()

    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    # The interpreter's build moves every Python figure: see the module docstring.
    print(f"python: {platform.python_version()} {platform.python_build()[1]} ({sys.executable})")
    print("\nEmbedded, SQLite data dir (calls/s, CPU µs per call):")
    rows = {
        "headwater hw.client": embedded(args.ops),
        "moto mock_aws + boto3": moto_embedded(args.moto_ops),
    }
    print(
        f"  {'':26}{'put':>18}{'get':>18}{'update':>18}{'query (1 item)':>18}{'100-item page':>15}"
    )
    for name, result in rows.items():
        if result is None:
            print(f"  {name:26}not installed")
            continue
        cells = "".join(
            f"{result[op][0]:>9,.0f}/s {result[op][1]:>5.0f}µs"
            for op in ("put", "get", "update", "query")
        )
        print(f"  {name:26}{cells}{result['page_ms']:>12.2f} ms")
    if args.skip_wire:
        return
    print("\nOver the wire, boto3, 1 thread (calls/s, server CPU-seconds per 1,000 calls):")
    print(f"  {'':30}{'put':>22}{'get':>22}{'update':>22}")
    rounds = []
    for number in range(1, args.rounds + 1):
        if args.rounds > 1:
            print(f"  round {number} of {args.rounds}")
        results = servers(args)
        for name, result in results.items():
            if result is None:
                print(f"  {name:30}not available")
                continue
            cells = "".join(
                f"{result[op][0]:>9,.0f}/s {result[op][1]:>6.3f} s"
                for op in ("put", "get", "update")
            )
            print(f"  {name:30}{cells}")
        rounds.append(results)
    if args.rounds > 1:
        print(f"\nServer CPU-seconds per 1,000 calls, lowest-highest of {args.rounds} rounds:")
        print(f"  {'':30}{'put':>22}{'get':>22}{'update':>22}")
        for name in rounds[0]:
            runs = [r[name] for r in rounds if r[name] is not None]
            if not runs:
                continue
            cells = "".join(
                f"{min(r[op][1] for r in runs):>14.3f}-{max(r[op][1] for r in runs):<7.3f}"
                for op in ("put", "get", "update")
            )
            print(f"  {name:30}{cells}")


if __name__ == "__main__":
    main()
