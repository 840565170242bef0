"""Three engine nodes on one PostgreSQL database share an SQS mapping and a 4-shard Kinesis
mapping; one node is SIGKILLed midway. Another takes its shards over within the lease TTL
(plus one tick), every record is processed at least once, per-partition-key order holds,
and no checkpoint ever moves backwards."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from headwater import Headwater

pytestmark = pytest.mark.integration

TTL = 3.0
KEYS = [f"key{k}" for k in range(12)]
PER_KEY = 150
MESSAGES = 600

HANDLER = """
import base64, os, time

def handler(event, context):
    lines = []
    for record in event["Records"]:
        if "kinesis" in record:
            shard = record["eventID"].split(":")[0]
            data = base64.b64decode(record["kinesis"]["data"]).decode()
            lines.append(f"K {os.getpid()} {shard} {data} {time.time()}")
        else:
            lines.append(f"S {os.getpid()} {record['body']} {time.time()}")
    path = os.path.join(os.environ["JOURNAL_DIR"], f"{os.getpid()}.log")
    with open(path, "a", encoding="utf-8") as out:
        out.write("\\n".join(lines) + "\\n")
"""

NODE = """
import sys, time
from headwater import Headwater
hw = Headwater(sys.argv[1], database_url=sys.argv[2], functions="inline",
               esm_lease_ttl_seconds=float(sys.argv[3]), poll_fallback_seconds=0.05)
hw.start()
print(hw.engine.membership.node_id, flush=True)
while True:
    time.sleep(1)
"""


def journal(directory: Path) -> list[list[str]]:
    lines: list[list[str]] = []
    for path in directory.glob("*.log"):
        lines += [line.split() for line in path.read_text().splitlines() if line.strip()]
    return lines


class CheckpointWatch:
    """Reads every checkpoint every 20 ms; records any that moved backwards."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.backwards: list[tuple[str, int, int]] = []
        self.seen: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self._stop.wait(0.02):
                for shard, sequence in conn.execute(
                    "SELECT shard_id, sequence_number FROM esm_checkpoints"
                    " WHERE sequence_number IS NOT NULL"
                ).fetchall():
                    number = int(sequence)
                    if number < self.seen.get(shard, 0):
                        self.backwards.append((shard, self.seen[shard], number))
                    self.seen[shard] = max(number, self.seen.get(shard, 0))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def leases(url: str) -> dict[str, str]:
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute("SELECT resource, owner FROM esm_leases").fetchall()
    return {str(resource): str(owner) for resource, owner in rows}


@pytest.fixture
def node_processes() -> Iterator[list[subprocess.Popen[str]]]:
    processes: list[subprocess.Popen[str]] = []
    try:
        yield processes
    finally:
        for process in processes:
            process.kill()
            process.wait(timeout=10)


def test_three_nodes_one_killed(
    pg_url: str, tmp_path: Path, node_processes: list[subprocess.Popen[str]]
) -> None:
    journal_dir = tmp_path / "journal"
    journal_dir.mkdir()
    code = tmp_path / "code"
    code.mkdir()
    (code / "app.py").write_text(HANDLER)
    producer = Headwater(tmp_path / "producer", database_url=pg_url, functions="inline")
    try:
        queue_url = producer.sqs.create_queue(QueueName="jobs")["QueueUrl"]
        producer.kinesis.create_stream(StreamName="events", ShardCount=4)
        producer.lambda_.create_function_from_directory(
            "worker", code, "app.handler", environment={"JOURNAL_DIR": str(journal_dir)}
        )
        producer.lambda_.create_event_source_mapping(
            FunctionName="worker",
            EventSourceArn="arn:aws:sqs:us-east-1:000000000000:jobs",
            BatchSize=10,
        )
        producer.lambda_.create_event_source_mapping(
            FunctionName="worker",
            EventSourceArn="arn:aws:kinesis:us-east-1:000000000000:stream/events",
            StartingPosition="TRIM_HORIZON",
            BatchSize=25,
        )
        node_ids = []
        for index in range(3):
            process = subprocess.Popen(
                [sys.executable, "-c", NODE, str(tmp_path / f"node{index}"), pg_url, str(TTL)],
                stdout=subprocess.PIPE,
                text=True,
                start_new_session=True,
            )
            node_processes.append(process)
        for process in node_processes:
            assert process.stdout is not None
            node_ids.append(process.stdout.readline().strip())
        watch = CheckpointWatch(pg_url)
        killed_at = 0.0
        victim_shards: list[str] = []
        taken_over_at = 0.0
        sent = 0
        try:
            for i in range(PER_KEY):
                producer.kinesis.put_records(
                    StreamName="events",
                    Records=[{"Data": f"{key}:{i}".encode(), "PartitionKey": key} for key in KEYS],
                )
                if sent < MESSAGES and i % 2 == 0:
                    producer.sqs.send_message_batch(
                        QueueUrl=queue_url,
                        Entries=[
                            {"Id": str(n), "MessageBody": f"m{n}"} for n in range(sent, sent + 10)
                        ],
                    )
                    sent += 10
                if i == PER_KEY // 3:
                    # kill a node holding shards, mid-stream
                    held = leases(pg_url)
                    victim = max(
                        range(3), key=lambda n: sum(o == node_ids[n] for o in held.values())
                    )
                    victim_shards = [r for r, o in held.items() if o == node_ids[victim]]
                    os.killpg(node_processes[victim].pid, signal.SIGKILL)
                    killed_at = time.monotonic()
                if killed_at and not taken_over_at:
                    now_held = leases(pg_url)
                    if all(now_held.get(r) not in ("", node_ids[victim]) for r in victim_shards):
                        taken_over_at = time.monotonic()
                time.sleep(0.03)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not taken_over_at:
                now_held = leases(pg_url)
                if all(now_held.get(r) not in ("", node_ids[victim]) for r in victim_shards):
                    taken_over_at = time.monotonic()
                time.sleep(0.05)
            expected = {f"{key}:{i}" for key in KEYS for i in range(PER_KEY)}
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                lines = journal(journal_dir)
                kinesis_seen = {line[3] for line in lines if line[0] == "K"}
                sqs_seen = {line[2] for line in lines if line[0] == "S"}
                if kinesis_seen >= expected and len(sqs_seen) >= MESSAGES:
                    break
                time.sleep(0.1)
        finally:
            watch.stop()
    finally:
        producer.close()

    assert victim_shards, "the killed node held no shard"
    assert taken_over_at, "nobody took the dead node's shards over"
    takeover = taken_over_at - killed_at
    assert takeover <= TTL + 1.5, f"takeover took {takeover:.2f} s (TTL {TTL} s)"
    lines = journal(journal_dir)
    kinesis = [line for line in lines if line[0] == "K"]
    assert {line[3] for line in kinesis} == expected  # at least once, none lost
    assert {line[2] for line in lines if line[0] == "S"} == {f"m{n}" for n in range(MESSAGES)}
    # per partition key: the first time each record is processed follows put order
    kinesis.sort(key=lambda line: float(line[4]))
    first_seen: dict[str, list[int]] = {key: [] for key in KEYS}
    seen: set[str] = set()
    for line in kinesis:
        if line[3] not in seen:
            seen.add(line[3])
            key, index = line[3].split(":")
            first_seen[key].append(int(index))
    for key in KEYS:
        assert first_seen[key] == list(range(PER_KEY)), key
    assert watch.backwards == []
    assert set(watch.seen) == {line[2] for line in kinesis}  # watched every shard in use
    survivors = {line[1] for line in kinesis if float(line[4]) > 0} - {
        str(node_processes[victim].pid)
    }
    assert len(survivors) == 2  # both surviving nodes read shards
    print(f"takeover after SIGKILL: {takeover:.2f} s (TTL {TTL} s)")


SLOW_HANDLER = """
import os, time

def handler(event, context):
    started = time.time()
    time.sleep(0.15)
    path = os.path.join(os.environ["JOURNAL_DIR"], f"{os.getpid()}.log")
    with open(path, "a", encoding="utf-8") as out:
        out.write(f"{os.getppid()} {started} {time.time()}\\n")
"""

#: A node that says it is ready once it sees ``sys.argv[3]`` live nodes.
COUNTING_NODE = """
import sys, time
from headwater import Headwater
hw = Headwater(sys.argv[1], database_url=sys.argv[2], poll_fallback_seconds=0.05).start()
deadline = time.monotonic() + 30
while len(hw.engine.membership.nodes) < int(sys.argv[3]) and time.monotonic() < deadline:
    time.sleep(0.05)
print(len(hw.engine.membership.nodes), flush=True)
while True:
    time.sleep(1)
"""


def most_at_once(intervals: list[tuple[float, float]]) -> int:
    """The most intervals open at one instant."""
    edges = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    open_now = most = 0
    for _, step in edges:  # at a tie an end (-1) sorts first: touching is not overlapping
        open_now += step
        most = max(most, open_now)
    return most


@pytest.mark.parametrize("cap", ["MaximumConcurrency", "ReservedConcurrentExecutions"])
def test_a_concurrency_cap_holds_across_nodes(
    cap: str, pg_url: str, tmp_path: Path, node_processes: list[subprocess.Popen[str]]
) -> None:
    """Two nodes, a cap of 2: each node runs its share (one batch), not the whole cap, so
    no more than two invocations ever run at once over both nodes."""
    journal_dir = tmp_path / "journal"
    journal_dir.mkdir()
    code = tmp_path / "code"
    code.mkdir()
    (code / "app.py").write_text(SLOW_HANDLER)
    total = 40
    with Headwater(tmp_path / "setup", database_url=pg_url, functions="inline") as hw:
        url = hw.sqs.create_queue(QueueName="capped")["QueueUrl"]
        hw.lambda_.create_function_from_directory(
            "slow", code, "app.handler", environment={"JOURNAL_DIR": str(journal_dir)}
        )
        extra: dict[str, object] = {}
        if cap == "MaximumConcurrency":
            extra["ScalingConfig"] = {"MaximumConcurrency": 2}
        else:
            hw.lambda_.put_function_concurrency(FunctionName="slow", ReservedConcurrentExecutions=2)
        for start in range(0, total, 10):
            hw.sqs.send_message_batch(
                QueueUrl=url,
                Entries=[{"Id": str(i), "MessageBody": f"m{i}"} for i in range(start, start + 10)],
            )
        for index in range(2):
            node_processes.append(
                subprocess.Popen(
                    [sys.executable, "-c", COUNTING_NODE, str(tmp_path / f"n{index}"), pg_url, "2"],
                    stdout=subprocess.PIPE,
                    text=True,
                    start_new_session=True,
                )
            )
        for process in node_processes:
            assert process.stdout is not None and process.stdout.readline().strip() == "2"
        # the nodes see each other: now the mapping starts, on both
        hw.lambda_.create_event_source_mapping(
            FunctionName="slow",
            EventSourceArn="arn:aws:sqs:us-east-1:000000000000:capped",
            BatchSize=1,
            **extra,  # type: ignore[arg-type]
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(journal(journal_dir)) < total:
            time.sleep(0.1)
    lines = journal(journal_dir)
    assert len(lines) == total
    nodes = {line[0] for line in lines}
    assert nodes == {str(process.pid) for process in node_processes}  # both took part
    assert most_at_once([(float(line[1]), float(line[2])) for line in lines]) <= 2
