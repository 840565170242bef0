"""One contract for every queue store (memory and SQLite): same answers to same calls."""

from __future__ import annotations

import pytest

from headwater.store.database import Database, open_database
from headwater.store.queues import (
    DedupEntry,
    MoveTaskRecord,
    NewMessage,
    QueueRecord,
    QueueStore,
    Received,
    open_queue_store,
)


@pytest.fixture
def store(db: Database) -> QueueStore:
    with db.transaction():
        return open_queue_store(db)


def new_queue(store: QueueStore, name: str = "q", **attributes: str) -> QueueRecord:
    queue = store.insert_queue("111", "r", name, attributes=attributes, tags={"t": "1"}, now=10.0)
    assert queue is not None
    return queue


def message(body: str, at: float = 0.0, group: str | None = None) -> NewMessage:
    return NewMessage(
        message_id=f"id-{body}",
        body=body,
        md5_of_body="m",
        message_attributes=None,
        md5_of_message_attributes=None,
        sent_at=at,
        visible_at=at,
        sender_id="s",
        group_id=group,
    )


def test_queue_records(store: QueueStore) -> None:
    queue = new_queue(store, "alpha", VisibilityTimeout="5")
    new_queue(store, "beta")
    found = store.get_queue("111", "r", "alpha")
    assert found == queue
    assert store.get_queue("111", "other", "alpha") is None
    assert [q.name for q in store.list_queues("111", "r")] == ["alpha", "beta"]
    assert [q.name for q in store.list_queues("111", "r", "be")] == ["beta"]
    queue.attributes["DelaySeconds"] = "3"
    queue.modified_at = 20.0
    queue.purged_at = 15.0
    store.update_queue(queue)
    again = store.get_queue("111", "r", "alpha")
    assert again is not None
    assert again.attributes == {"VisibilityTimeout": "5", "DelaySeconds": "3"}
    assert (again.modified_at, again.purged_at) == (20.0, 15.0)
    store.delete_queue(queue, now=30.0)
    assert store.get_queue("111", "r", "alpha") is None
    assert store.deleted_at("111", "r", "alpha") == 30.0
    recreated = new_queue(store, "alpha")
    assert recreated.queue_id != queue.queue_id
    assert store.deleted_at("111", "r", "alpha") is None
    assert [q.name for q in store.all_queues()] == ["alpha", "beta"]


def test_standard_receivable_order_and_receive_state(store: QueueStore) -> None:
    queue = new_queue(store)
    store.insert_messages(queue, [message("a", 1.0), message("b", 2.0), message("c", 50.0)])
    ready = store.receivable(queue, now=10.0, limit=10)
    assert [m.body for m in ready] == ["a", "b"]
    store.mark_received(queue, [Received(ready[0].row_id, None, 40.0, 1, 10.0, 10.0)])
    assert [m.body for m in store.receivable(queue, 10.0, 10)] == ["b"]
    got = store.get_message(queue, ready[0].row_id)
    assert got is not None
    assert (got.visible_at, got.receive_count, got.first_receive_at) == (40.0, 1, 10.0)
    assert got.received_at == 10.0
    counts = store.counts(queue, 10.0)
    assert (counts.visible, counts.not_visible, counts.delayed) == (1, 1, 1)
    assert store.next_visible_at(queue, 10.0) == 40.0
    assert [m.body for m in store.receivable(queue, 45.0, 10)] == ["b", "a"]
    store.set_visible_at(queue, ready[0].row_id, None, 100.0)
    assert store.next_visible_at(queue, 45.0) == 50.0
    assert store.oldest_sent_at(queue) == 1.0
    assert store.delete_messages(queue, [ready[1]]) == 1
    assert store.delete_messages(queue, [ready[1]]) == 0
    assert store.delete_sent_before(queue, 1.0) == 1
    assert store.oldest_sent_at(queue) == 50.0
    assert store.purge(queue) == 1
    assert store.receivable(queue, 1000.0, 10) == []


def test_fifo_groups_block_on_head(store: QueueStore) -> None:
    queue = new_queue(store, "f.fifo")
    store.insert_messages(
        queue,
        [
            message("a1", 1, "A"),
            message("b1", 2, "B"),
            message("a2", 3, "A"),
            message("b2", 4, "B"),
        ],
    )
    ready = store.receivable(queue, 10.0, 10)
    assert [m.body for m in ready] == ["a1", "a2", "b1", "b2"]
    a1 = ready[0]
    store.mark_received(queue, [Received(a1.row_id, "A", 40.0, 1, 10.0, 10.0)])
    assert [m.body for m in store.receivable(queue, 10.0, 10)] == ["b1", "b2"]
    assert store.next_visible_at(queue, 10.0) == 40.0
    store.delete_messages(queue, [a1])
    assert [m.body for m in store.receivable(queue, 10.0, 2)] == ["b1", "b2"]
    assert [m.body for m in store.receivable(queue, 10.0, 10)] == ["b1", "b2", "a2"]
    assert store.delete_sent_before(queue, 3.0) == 2  # b1 and a2
    assert [m.body for m in store.receivable(queue, 10.0, 10)] == ["b2"]
    assert store.next_sequence_numbers(queue, 2) == [1, 2]
    assert store.next_sequence_numbers(queue, 1) == [3]


def test_dedup_check_and_insert_is_one_call(store: QueueStore) -> None:
    queue = new_queue(store, "f.fifo")
    assert store.claim_dedup(queue, [DedupEntry("", "d", "m1", "7", 100.0)], 0.0) == {}
    # remembered until it expires, in its scope only
    again = [DedupEntry("", "d", "m2", "8", 400.0), DedupEntry("g", "d", "m3", "9", 400.0)]
    assert store.claim_dedup(queue, again, 99.0) == {("", "d"): ("m1", "7")}
    assert store.claim_dedup(queue, again, 99.0) == {
        ("", "d"): ("m1", "7"),
        ("g", "d"): ("m3", "9"),
    }
    # expired at 100: taken over by the new message
    assert store.claim_dedup(queue, [DedupEntry("", "d", "m4", None, 500.0)], 100.0) == {}
    assert store.claim_dedup(queue, again, 200.0) == {
        ("", "d"): ("m4", None),
        ("g", "d"): ("m3", "9"),
    }


def test_insert_queue_if_absent(store: QueueStore) -> None:
    first = new_queue(store, "same")
    assert store.insert_queue("111", "r", "same", attributes={}, tags={}, now=20.0) is None
    assert store.get_queue("111", "r", "same") == first


def test_move_tasks_newest_first(store: QueueStore) -> None:
    for i, source in enumerate(["s1", "s2", "s1"]):
        store.save_move_task(
            MoveTaskRecord(f"h{i}", source, None, None, "RUNNING", 0, 5, started_at=float(i))
        )
    tasks = store.move_tasks("s1")
    assert [t.task_handle for t in tasks] == ["h2", "h0"]
    tasks[0].status = "COMPLETED"
    tasks[0].moved = 5
    store.save_move_task(tasks[0])
    assert store.move_tasks("s1")[0].status == "COMPLETED"
    assert store.move_tasks("s1")[0].moved == 5
    assert len(store.move_tasks()) == 3


def test_delete_received_matches_latest_receive_only(store: QueueStore) -> None:
    for name in ("q", "f.fifo"):
        queue = new_queue(store, name)
        store.insert_messages(queue, [message("a", 1.0, "g"), message("b", 2.0, "g")])
        a, b = store.receivable(queue, 10.0, 10)
        store.mark_received(queue, [Received(a.row_id, "g", 20.0, 1, 10.0, 10.0)])
        assert store.delete_received(queue, [(a.row_id, 0, a.message_id)]) == 0
        assert store.delete_received(queue, [(a.row_id, 1, "other-id")]) == 0
        assert store.delete_received(queue, [(a.row_id, 1, a.message_id)]) == 1
        assert store.delete_received(queue, [(a.row_id, 1, a.message_id)]) == 0
        assert [m.body for m in store.receivable(queue, 10.0, 10)] == ["b"]
        assert b.body == "b"


def test_postgresql_claims_and_deletes_walk_indexes_of_a_deep_queue(pg_url: str) -> None:
    """Without statistics of the grown table PostgreSQL sorted every visible message to
    claim a batch (and hash-joined the whole queue to delete one); the store analyzes
    the table as it grows."""
    db = open_database(None, url=pg_url)
    try:
        store = db.store(open_queue_store)
        with db.transaction():
            queue = new_queue(store)
        for start in range(0, 5000, 500):
            with db.transaction():
                store.insert_messages(queue, [message(str(i)) for i in range(start, start + 500)])
        with db.transaction():
            plan = "\n".join(
                row[0]
                for row in db.conn.execute(
                    "EXPLAIN SELECT row_id FROM sqs_messages WHERE queue_id = ?"
                    " AND visible_at <= ? ORDER BY visible_at LIMIT 100 FOR UPDATE SKIP LOCKED",
                    (queue.queue_id, 1.0),
                ).fetchall()
            )
        assert "Index Scan using sqs_messages_visible" in plan, plan
        assert "Sort" not in plan, plan
    finally:
        db.close()
