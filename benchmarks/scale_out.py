"""Scale-out: SQS end-to-end throughput with 1, 2 and 3 engine nodes on PostgreSQL beside
one node on SQLite, and how fast a surviving node resumes a dead node's Kinesis shards.

    .venv/bin/python benchmarks/scale_out.py [--messages 20000] [--ttl 10] [--database URL]

Each engine node is a process of its own (``Headwater(...).start()``, no-op handler run
in process, BatchSize 100, window 1 s). The queue is filled first, then the mapping is
enabled and the clock runs until the queue is empty: messages/s, and CPU per message of
the node processes and of the database server (PostgreSQL's processes; SQLite has none).
Without ``--database`` a throwaway PostgreSQL cluster is started (tests/pg_cluster.py).

Takeover: three nodes share a 4-shard Kinesis mapping while records keep arriving; the
node holding the most shards is SIGKILLed; printed are the seconds until its shards'
leases belong to the survivors and until a survivor processed a record of each of them.
Targets (issue 18): PostgreSQL 1 node >= 50 % of SQLite's figure, 2 nodes >= 1.3x one
node, takeover <= lease TTL + 1 s.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg

from headwater import Headwater
from measure import CLOCK_TICK, _stat_fields

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests import pg_cluster

NODE = """
import sys, time
from headwater import Headwater
kind, where, ttl = sys.argv[1], sys.argv[2], float(sys.argv[3])
options = dict(functions="inline", esm_lease_ttl_seconds=ttl, esm_gc_freeze=True)
if kind == "sqlite":
    hw = Headwater(where, **options)
else:
    hw = Headwater(sys.argv[4], database_url=where, **options)
hw.start()
print(hw.engine.membership.node_id, flush=True)
while True:
    time.sleep(1)
"""

NOOP = "def handler(event, context):\n    return None\n"

JOURNAL = """
import os, time

def handler(event, context):
    path = os.path.join(os.environ["JOURNAL_DIR"], f"{os.getpid()}.log")
    with open(path, "a", encoding="utf-8") as out:
        for record in event["Records"]:
            out.write(f"{record['eventID'].split(':')[0]} {time.time()}\\n")
"""

QUEUE_ARN = "arn:aws:sqs:us-east-1:000000000000:bench"
STREAM_ARN = "arn:aws:kinesis:us-east-1:000000000000:stream/bench"


def cpu_by_pid(pids: list[int]) -> dict[int, float]:
    found = {}
    for pid in pids:
        try:
            fields = _stat_fields(pid)
        except OSError:
            continue
        found[pid] = (int(fields[11]) + int(fields[12])) / CLOCK_TICK
    return found


def cpu_of(pids: list[int]) -> float:
    return sum(cpu_by_pid(pids).values())


def server_pids(cluster: Path | None) -> list[int]:
    """Our PostgreSQL cluster's processes: the postmaster and its children (backends)."""
    if cluster is None:
        return []
    try:
        postmaster = int((cluster / "data" / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return []
    found = [postmaster]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int(_stat_fields(entry.name)[1]) == postmaster:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def new_schema(server: str) -> str:
    """A URL whose tables are private to one measurement."""
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in server else "?"
    return f"{server}{separator}options=-csearch_path%3D{schema}"


def open_target(kind: str, where: str, local: Path) -> Headwater:
    if kind == "sqlite":
        return Headwater(where, functions="inline")
    return Headwater(local, database_url=where, functions="inline")


def start_nodes(kind: str, where: str, base: Path, count: int, ttl: float) -> list[Any]:
    nodes = []
    for index in range(count):
        nodes.append(
            subprocess.Popen(
                [sys.executable, "-c", NODE, kind, where, str(ttl), str(base / f"node{index}")],
                stdout=subprocess.PIPE,
                text=True,
                start_new_session=True,
            )
        )
    for node in nodes:
        node.node_id = node.stdout.readline().strip()
    return nodes


def stop_nodes(nodes: list[Any]) -> None:
    for node in nodes:
        os.killpg(node.pid, signal.SIGKILL)
        node.wait(timeout=10)


def sqs_drain(
    kind: str, where: str, base: Path, nodes_count: int, messages: int, cluster: Path | None
) -> dict[str, float]:
    """Messages/s to drain a backlog of ``messages`` with ``nodes_count`` engine nodes."""
    code = base / "code"
    code.mkdir(parents=True, exist_ok=True)
    (code / "noop_app.py").write_text(NOOP)
    hw = open_target(kind, where, base / "setup")
    try:
        url = hw.sqs.create_queue(QueueName="bench", Attributes={"VisibilityTimeout": "120"})[
            "QueueUrl"
        ]
        hw.lambda_.create_function_from_directory("bench", code, "noop_app.handler")
        mapping = hw.lambda_.create_event_source_mapping(
            FunctionName="bench",
            EventSourceArn=QUEUE_ARN,
            BatchSize=100,
            MaximumBatchingWindowInSeconds=1,
            Enabled=False,
        )["UUID"]
        sqs = hw.client("sqs", validate=False)
        for _ in range(0, messages, 10):
            sqs.send_message_batch(
                QueueUrl=url,
                Entries=[{"Id": str(i), "MessageBody": "x" * 64} for i in range(10)],
            )
        nodes = start_nodes(kind, where, base, nodes_count, 10.0)
        try:
            time.sleep(1.0)  # nodes idle: imports and heartbeats done
            db_before = cpu_by_pid(server_pids(None if kind == "sqlite" else cluster))
            node_cpu0 = cpu_of([n.pid for n in nodes])
            t0 = time.perf_counter()
            hw.lambda_.update_event_source_mapping(UUID=mapping, Enabled=True)
            while True:
                counts = hw.sqs.get_queue_attributes(
                    QueueUrl=url,
                    AttributeNames=[
                        "ApproximateNumberOfMessages",
                        "ApproximateNumberOfMessagesNotVisible",
                    ],
                )["Attributes"]
                if not any(int(v) for v in counts.values()):
                    break
                time.sleep(0.02)
            elapsed = time.perf_counter() - t0
            node_cpu = cpu_of([n.pid for n in nodes]) - node_cpu0
            db_after = cpu_by_pid(server_pids(None if kind == "sqlite" else cluster))
            db_cpu = sum(t - db_before.get(pid, 0.0) for pid, t in db_after.items())
        finally:
            stop_nodes(nodes)
    finally:
        hw.close()
    return {
        "rate": messages / elapsed,
        "node_us": node_cpu / messages * 1e6,
        "db_us": db_cpu / messages * 1e6,
    }


def takeover(where: str, base: Path, ttl: float) -> dict[str, float]:
    """Seconds from a node's SIGKILL until its shards' leases and records move on."""
    code = base / "code-journal"
    code.mkdir(parents=True, exist_ok=True)
    (code / "journal_app.py").write_text(JOURNAL)
    journal = base / "journal"
    journal.mkdir()
    hw = open_target("postgresql", where, base / "setup-takeover")
    nodes: list[Any] = []
    try:
        hw.kinesis.create_stream(StreamName="bench", ShardCount=4)
        hw.lambda_.create_function_from_directory(
            "journal", code, "journal_app.handler", environment={"JOURNAL_DIR": str(journal)}
        )
        hw.lambda_.create_event_source_mapping(
            FunctionName="journal",
            EventSourceArn=STREAM_ARN,
            StartingPosition="TRIM_HORIZON",
            BatchSize=10,
        )
        nodes = start_nodes("postgresql", where, base / "takeover", 3, ttl)
        keys = [f"k{i}" for i in range(32)]

        def put() -> None:
            hw.kinesis.put_records(
                StreamName="bench",
                Records=[{"Data": b"x", "PartitionKey": key} for key in keys],
            )

        def leases() -> dict[str, str]:
            with psycopg.connect(where, autocommit=True) as conn:
                rows = conn.execute("SELECT resource, owner FROM esm_leases").fetchall()
            return dict(rows)

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # the three nodes split the four shards
            put()
            owners = set(leases().values())
            if all(n.node_id in owners for n in nodes):
                break
            time.sleep(0.2)
        held = leases()
        victim = max(nodes, key=lambda n: sum(o == n.node_id for o in held.values()))
        shards = {r.split("/", 1)[1] for r, o in held.items() if o == victim.node_id}
        os.killpg(victim.pid, signal.SIGKILL)
        killed = time.monotonic()
        killed_wall = time.time()
        leases_moved = resumed = 0.0
        pending = set(shards)
        while time.monotonic() - killed < ttl + 30 and (not leases_moved or pending):
            put()
            now_held = leases()
            if not leases_moved and all(
                now_held.get(r) not in ("", victim.node_id)
                for r, o in held.items()
                if o == victim.node_id
            ):
                leases_moved = time.monotonic() - killed
            for path in journal.glob("*.log"):
                if path.stem == str(victim.pid):
                    continue
                for line in path.read_text().splitlines():
                    shard, at = line.split()
                    if shard in pending and float(at) > killed_wall:
                        pending.discard(shard)
                        resumed = max(resumed, float(at) - killed_wall)
            time.sleep(0.05)
        nodes.remove(victim)
    finally:
        stop_nodes(nodes)
        hw.close()
    return {"leases": leases_moved, "resumed": resumed, "shards": len(shards)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--ttl", type=float, default=10.0, help="lease TTL for the takeover")
    parser.add_argument("--database", help="postgresql:// URL (default: a throwaway cluster)")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="headwater-scale-out-"))
    cluster = None
    server = args.database
    if server is None:
        cluster = Path(tempfile.mkdtemp(prefix="headwater-bench-pg-"))
        server = pg_cluster.start(cluster)
    try:
        print(f"SQS end to end, {args.messages} messages, BatchSize 100, no-op handler")
        print(
            f"{'backend':<12}{'nodes':>6}{'msgs/s':>10}{'node CPU us/msg':>17}{'DB CPU us/msg':>15}"
        )
        results: dict[tuple[str, int], dict[str, float]] = {}
        for kind, count in (("sqlite", 1), ("postgresql", 1), ("postgresql", 2), ("postgresql", 3)):
            where = str(base / f"sqlite-{count}") if kind == "sqlite" else new_schema(server)
            found = sqs_drain(kind, where, base / f"{kind}-{count}", count, args.messages, cluster)
            results[(kind, count)] = found
            print(
                f"{kind:<12}{count:>6}{found['rate']:>10.0f}{found['node_us']:>17.0f}"
                f"{found['db_us']:>15.0f}"
            )
        sqlite_rate = results[("sqlite", 1)]["rate"]
        one, two = results[("postgresql", 1)]["rate"], results[("postgresql", 2)]["rate"]
        print(f"PostgreSQL 1 node / SQLite: {one / sqlite_rate:.2f} (target >= 0.50)")
        print(f"PostgreSQL 2 nodes / 1 node: {two / one:.2f} (target >= 1.30)")
        print(f"PostgreSQL 3 nodes / 1 node: {results[('postgresql', 3)]['rate'] / one:.2f}")
        moved = takeover(new_schema(server), base / "takeover", args.ttl)
        print(
            f"takeover after SIGKILL (lease TTL {args.ttl:g} s, {moved['shards']:.0f} shards): "
            f"leases moved in {moved['leases']:.2f} s, records flowing again in "
            f"{moved['resumed']:.2f} s (target <= {args.ttl + 1:g} s)"
        )
    finally:
        if cluster is not None:
            pg_cluster.stop(cluster)


if __name__ == "__main__":
    main()
