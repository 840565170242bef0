"""The store contract under concurrency: several threads (each with its own database
handle where the backend has connections: SQLite, PostgreSQL) and several processes.

Two receivers never get the same message while it is in flight; a FIFO group is received
by one receiver at a time, in order; a create race yields one resource and AWS's answer
for the other; a dedup id is claimed once.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from headwater.services.cloudwatch.aggregate import Aggregate
from headwater.services.cloudwatch.metric_store import MetricId, MetricStore
from headwater.store.database import Database, open_database
from headwater.store.queues import DedupEntry, NewMessage, QueueRecord, open_queue_store
from headwater.store.streams import NewShard, StreamRow, open_stream_store

WORKERS = 4
FAR = 1.0e12


def handles(db_factory: Any, count: int) -> list[Database]:
    """``count`` handles on one database (memory: one shared handle)."""
    first: Database = db_factory()
    if db_factory.kind == "memory":
        return [first] * count
    return [first] + [db_factory() for _ in range(count - 1)]


def run_threads(count: int, work: Callable[[int], None]) -> None:
    errors: list[BaseException] = []
    start = threading.Barrier(count)

    def target(index: int) -> None:
        try:
            start.wait()
            work(index)
        except BaseException as error:  # reported by the test thread
            errors.append(error)

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors


def message(body: str, group: str | None = None) -> NewMessage:
    return NewMessage(
        message_id=f"id-{body}",
        body=body,
        md5_of_body="m",
        message_attributes=None,
        md5_of_message_attributes=None,
        sent_at=0.0,
        visible_at=0.0,
        sender_id="s",
        group_id=group,
    )


def make_queue(db: Database, name: str, messages: list[NewMessage]) -> QueueRecord:
    store = db.store(open_queue_store)
    with db.transaction():
        queue = store.insert_queue("1", "r", name, attributes={}, tags={}, now=0.0)
        assert queue is not None
        store.insert_messages(queue, messages)
    return queue


def test_receivers_never_share_an_in_flight_message(db_factory: Any) -> None:
    dbs = handles(db_factory, WORKERS)
    queue = make_queue(dbs[0], "q", [message(str(i)) for i in range(400)])
    claimed: list[list[str]] = [[] for _ in range(WORKERS)]

    def receive(index: int) -> None:
        db = dbs[index]
        store = db.store(open_queue_store)
        while True:
            with db.transaction():
                got, dead = store.claim_receivable(queue, 10.0, 7, FAR, None)
            assert not dead
            if not got:
                return
            claimed[index].extend(m.body for m in got)

    run_threads(WORKERS, receive)
    everything = [body for bodies in claimed for body in bodies]
    assert len(everything) == len(set(everything)) == 400


def test_fifo_groups_go_to_one_receiver_at_a_time_in_order(db_factory: Any) -> None:
    dbs = handles(db_factory, WORKERS)
    groups, per_group = 6, 15
    sent = [message(f"{g}:{i:02d}", f"g{g}") for i in range(per_group) for g in range(groups)]
    queue = make_queue(dbs[0], "q.fifo", sent)
    seen: dict[str, list[str]] = {f"g{g}": [] for g in range(groups)}
    held: set[str] = set()
    guard = threading.Lock()

    def receive(index: int) -> None:
        db = dbs[index]
        store = db.store(open_queue_store)
        idle = 0
        while idle < 50:
            with db.transaction():
                got, _ = store.claim_receivable(queue, 10.0, 4, FAR, None)
            if not got:
                idle += 1
                continue
            idle = 0
            mine = {m.group_id or "" for m in got}
            with guard:
                assert not mine & held, f"group received twice at once: {mine & held}"
                held.update(mine)
                for m in got:
                    seen[m.group_id or ""].append(m.body)
            with db.transaction():
                keys = [(m.row_id, m.receive_count, m.message_id) for m in got]
                assert store.delete_received(queue, keys) == len(got)
                # the groups are released by the delete's commit: the next claim may take them
                with guard:
                    held.difference_update(mine)

    run_threads(WORKERS, receive)
    for g in range(groups):
        assert seen[f"g{g}"] == [f"{g}:{i:02d}" for i in range(per_group)]


def test_a_create_race_yields_one_queue(db_factory: Any) -> None:
    dbs = handles(db_factory, WORKERS)
    results: list[QueueRecord | None] = [None] * WORKERS

    def create(index: int) -> None:
        db = dbs[index]
        with db.transaction():
            results[index] = db.store(open_queue_store).insert_queue(
                "1", "r", "same", attributes={"n": str(index)}, tags={}, now=0.0
            )

    run_threads(WORKERS, create)
    created = [r for r in results if r is not None]
    assert len(created) == 1
    with dbs[0].transaction():
        assert dbs[0].store(open_queue_store).get_queue("1", "r", "same") == created[0]


def test_a_dedup_id_is_claimed_once(db_factory: Any) -> None:
    dbs = handles(db_factory, WORKERS)
    queue = make_queue(dbs[0], "d.fifo", [])
    answers: list[dict[tuple[str, str], tuple[str, str | None]]] = [{}] * WORKERS

    def send(index: int) -> None:
        db = dbs[index]
        with db.transaction():
            entry = DedupEntry("", "same", f"m{index}", str(index), 300.0)
            answers[index] = db.store(open_queue_store).claim_dedup(queue, [entry], 0.0)

    run_threads(WORKERS, send)
    winners = [i for i, answer in enumerate(answers) if not answer]
    assert len(winners) == 1
    for answer in answers:
        if answer:
            assert answer == {("", "same"): (f"m{winners[0]}", str(winners[0]))}


def test_concurrent_appends_number_a_shard_without_gaps(db_factory: Any) -> None:
    dbs = handles(db_factory, WORKERS)
    arn = "arn:aws:kinesis:r:1:stream/s"
    store0 = dbs[0].store(open_stream_store)
    with dbs[0].transaction():
        store0.create_stream(
            StreamRow(arn, "s", "r", "1", 0.0, 24, "ON_DEMAND", 0), [NewShard(0, 0, 9)]
        )
    key = store0.shards(arn)[0].key

    def append(index: int) -> None:
        db = dbs[index]
        store = db.store(open_stream_store)
        for _ in range(25):
            with db.transaction():
                store.append(arn, [(key, f"w{index}", b"x")] * 2, float(index))

    run_threads(WORKERS, append)
    records = store0.read(key, 0, 10_000, 10**9, 0.0)
    assert [r.counter for r in records] == list(range(1, WORKERS * 50 + 1))
    arrivals = [r.arrival for r in records]
    assert arrivals == sorted(arrivals)  # never backwards, whoever appended


RECEIVER = """
import sys
from headwater.store.database import open_database
from headwater.store.queues import open_queue_store

where, queue_name = sys.argv[1], sys.argv[2]
db = open_database(None if where.startswith("postgres") else where,
                   url=where if where.startswith("postgres") else None)
store = db.store(open_queue_store)
with db.transaction():
    queue = store.get_queue("1", "r", queue_name)
print("ready", flush=True)
sys.stdin.readline()
while True:
    with db.transaction():
        got, _ = store.claim_receivable(queue, 10.0, 5, 1.0e12, None)
    if not got:
        break
    print(" ".join(m.body for m in got), flush=True)
db.close()
"""


def run_receivers(script: str, db: Database, tmp_path: Path, queue_name: str) -> list[str]:
    """Three processes run ``script`` on ``db``'s data, starting together; their outputs."""
    where = (
        str(tmp_path / "data") if db.kind == "sqlite" else db.url  # type: ignore[attr-defined]
    )
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", script, where, queue_name],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    try:
        for process in processes:
            assert process.stdout is not None and process.stdout.readline().strip() == "ready"
        for process in processes:  # all start receiving together
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()
        return [process.communicate(timeout=120)[0] for process in processes]
    finally:
        for process in processes:
            process.kill()


def test_receiving_processes_never_share_a_message(db_factory: Any, tmp_path: Path) -> None:
    if db_factory.kind == "memory":
        pytest.skip("a memory database lives in one process")
    db = db_factory()
    make_queue(db, "q", [message(str(i)) for i in range(600)])
    outputs = run_receivers(RECEIVER, db, tmp_path, "q")
    received = [body for output in outputs for body in output.split()]
    assert len(received) == len(set(received)) == 600


def test_memory_handles_are_one_database(tmp_path: Path) -> None:
    db = open_database(None)
    try:
        assert db.store(open_queue_store) is db.store(open_queue_store)
    finally:
        db.close()


def test_metric_flushes_from_several_nodes_add_up_without_deadlock(db_factory: Any) -> None:
    """Nodes flush the same metrics in different orders: every datum counts once, and no
    flush fails (PostgreSQL aborted one of two flushes that locked rows in opposite orders)."""
    dbs = handles(db_factory, WORKERS)
    metrics = [MetricId("1", "r", "NS", f"m{i:02d}", ()) for i in range(30)]
    rounds = 8

    def flush(index: int) -> None:
        store = dbs[index].store(MetricStore)
        for turn in range(rounds):
            mine = metrics[::-1] if (index + turn) % 2 else metrics
            store.put([(m, 60, 0, "None", Aggregate.of_value(1.0)) for m in mine], 1.0)

    run_threads(WORKERS, flush)
    store = dbs[0].store(MetricStore)
    counts = [sum(row.aggregate.count for row in store.rows(m, 0.0, 60.0)) for m in metrics]
    assert counts == [WORKERS * rounds] * len(metrics)


FIFO_RECEIVER = """
import sys, time
from headwater.store.database import open_database
from headwater.store.queues import open_queue_store

where, queue_name = sys.argv[1], sys.argv[2]
db = open_database(None if where.startswith("postgres") else where,
                   url=where if where.startswith("postgres") else None)
store = db.store(open_queue_store)
with db.transaction():
    queue = store.get_queue("1", "r", queue_name)
print("ready", flush=True)
sys.stdin.readline()
idle = 0
while idle < 40:
    with db.transaction():
        got, _ = store.claim_receivable(queue, 10.0, 3, 1.0e12, None)
    if not got:
        idle += 1
        time.sleep(0.005)
        continue
    idle = 0
    # printed before the delete releases the group: a later claim of it prints later
    at = time.time()
    print(" ".join(f"{at!r}/{n}/{m.body}" for n, m in enumerate(got)), flush=True)
    with db.transaction():
        store.delete_received(queue, [(m.row_id, m.receive_count, m.message_id) for m in got])
    time.sleep(0.01)  # a turn for the other processes: the groups move between them
db.close()
"""


def test_fifo_order_holds_across_processes(db_factory: Any, tmp_path: Path) -> None:
    """Three processes receive one FIFO queue: each group's messages come out once each,
    in send order, whichever process took them."""
    if db_factory.kind == "memory":
        pytest.skip("a memory database lives in one process")
    db = db_factory()
    groups, per_group = 5, 24
    sent = [message(f"{g}:{i:02d}", f"g{g}") for i in range(per_group) for g in range(groups)]
    make_queue(db, "q.fifo", sent)
    outputs = run_receivers(FIFO_RECEIVER, db, tmp_path, "q.fifo")
    claims = [item.split("/") for output in outputs for item in output.split()]
    by_group: dict[str, list[tuple[float, int, str]]] = {}
    for at, position, body in claims:  # a claim's messages share a time: then its order
        by_group.setdefault(body.split(":")[0], []).append((float(at), int(position), body))
    for g in range(groups):
        in_time_order = [body for _, _, body in sorted(by_group[str(g)])]
        assert in_time_order == [f"{g}:{i:02d}" for i in range(per_group)]
    assert sum(1 for output in outputs if output.strip()) >= 2  # several processes took part
