"""Contract every stream store (memory, SQLite) must meet."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from headwater.store.database import Database, open_database
from headwater.store.streams import NewShard, StreamRow, StreamStore, open_stream_store

ARN = "arn:aws:kinesis:us-east-1:000000000000:stream/s"


@pytest.fixture
def store(db: Database) -> StreamStore:
    return open_stream_store(db)


def _stream(name: str = "s", region: str = "us-east-1", **extra: object) -> StreamRow:
    arn = f"arn:aws:kinesis:{region}:000000000000:stream/{name}"
    fields: dict[str, object] = {
        "arn": arn,
        "name": name,
        "region": region,
        "account": "000000000000",
        "created": 100.0,
        "retention_hours": 24,
        "mode": "PROVISIONED",
        "next_shard_index": 2,
        "tags": {"team": "a"},
    }
    fields.update(extra)
    return StreamRow(**fields)  # type: ignore[arg-type]


def _create(store: StreamStore, db: Database) -> list[int]:
    with db.transaction():
        store.create_stream(_stream(), [NewShard(0, 0, 9), NewShard(1, 10, 19)])
    return [s.key for s in store.shards(ARN)]


def test_create_get_list_delete(store: StreamStore, db: Database) -> None:
    _create(store, db)
    with db.transaction():
        store.create_stream(_stream("b"), [NewShard(0, 0, 19)])
        store.create_stream(_stream("other", region="eu-west-1"), [NewShard(0, 0, 19)])
    found = store.get_stream(ARN)
    assert found is not None and found.name == "s" and dict(found.tags) == {"team": "a"}
    assert [s.name for s in store.list_streams("us-east-1", "000000000000")] == ["b", "s"]
    with db.transaction():
        store.delete_stream(ARN)
    assert store.get_stream(ARN) is None
    assert store.shards(ARN) == []
    assert [s.name for s in store.list_streams("us-east-1", "000000000000")] == ["b"]


def test_append_assigns_strictly_increasing_counters_per_shard(
    store: StreamStore, db: Database
) -> None:
    a, b = _create(store, db)
    with db.transaction():
        first = store.append(ARN, [(a, "k1", b"1"), (b, "k2", b"2"), (a, "k3", b"3")], 1000.0)
    assert first == [1, 1, 2]
    with db.transaction():
        assert store.append(ARN, [(a, "k4", b"4")], 1001.0) == [3]
        assert store.append(ARN, [(a, "k5", b"5")], 1001.0, ordering_floor=10) == [11]
    shards = {s.key: s for s in store.shards(ARN)}
    assert shards[a].last_counter == 11 and shards[b].last_counter == 1
    records = store.read(a, 0, 100, 10**9, 0.0)
    assert [(r.counter, r.partition_key, r.data) for r in records] == [
        (1, "k1", b"1"),
        (2, "k3", b"3"),
        (3, "k4", b"4"),
        (11, "k5", b"5"),
    ]
    assert records[0].arrival == 1000.0


def test_read_limits_position_bytes_and_arrival(store: StreamStore, db: Database) -> None:
    a, _ = _create(store, db)
    with db.transaction():
        store.append(ARN, [(a, "k", b"x" * 10) for _ in range(5)], 10.0)
        store.append(ARN, [(a, "k", b"y" * 10) for _ in range(5)], 20.0)
    assert [r.counter for r in store.read(a, 3, 4, 10**9, 0.0)] == [4, 5, 6, 7]
    assert [r.counter for r in store.read(a, 0, 100, 25, 0.0)] == [1, 2]
    assert [r.counter for r in store.read(a, 0, 100, 1, 0.0)] == [1]  # at least one
    assert [r.counter for r in store.read(a, 0, 100, 10**9, 15.0)] == [6, 7, 8, 9, 10]
    assert store.read(a, 10, 100, 10**9, 0.0) == []
    assert store.first_counter_at(a, 15.0) == 6
    assert store.first_counter_at(a, 21.0) is None
    with db.transaction():
        assert store.trim(a, 15.0) == 5
    assert [r.counter for r in store.read(a, 0, 100, 10**9, 0.0)] == [6, 7, 8, 9, 10]


def test_reshard_closes_and_creates(store: StreamStore, db: Database) -> None:
    _create(store, db)
    with db.transaction():
        store.reshard(
            ARN,
            ["shardId-000000000000"],
            [
                NewShard(2, 0, 4, "shardId-000000000000"),
                NewShard(3, 5, 9, "shardId-000000000000", closed=True),
            ],
            500.0,
        )
    shards = store.shards(ARN)
    assert [(s.shard_id, s.closed) for s in shards] == [
        ("shardId-000000000000", True),
        ("shardId-000000000001", False),
        ("shardId-000000000002", False),
        ("shardId-000000000003", True),
    ]
    assert shards[0].closed_at == 500.0 and shards[2].parent == "shardId-000000000000"
    assert store.get_shard(ARN, 2) == shards[2]
    assert store.get_shard(ARN, 9) is None
    assert store.get_shard(ARN + "x", 0) is None
    assert shards[2].created == 500.0
    stream = store.get_stream(ARN)
    assert stream is not None and stream.next_shard_index == 4


def test_retention_and_tags(store: StreamStore, db: Database) -> None:
    _create(store, db)
    with db.transaction():
        store.set_retention(ARN, 48)
        store.set_tags(ARN, {"x": "1", "y": ""})
        store.set_mode(ARN, "ON_DEMAND")
    stream = store.get_stream(ARN)
    assert stream is not None
    assert stream.retention_hours == 48 and dict(stream.tags) == {"x": "1", "y": ""}
    assert stream.mode == "ON_DEMAND"


def test_large_hash_keys_roundtrip(store: StreamStore, db: Database) -> None:
    with db.transaction():
        store.create_stream(_stream(), [NewShard(0, 0, 2**128 - 1)])
    (shard,) = store.shards(ARN)
    assert shard.end_hash == 2**128 - 1 and shard.start_hash == 0


def test_sqlite_store_survives_reopen(tmp_path: Path) -> None:
    db = open_database(tmp_path / "d")
    store = open_stream_store(db)
    with db.transaction():
        store.create_stream(_stream(), [NewShard(0, 0, 2**128 - 1)])
    key = store.shards(ARN)[0].key
    with db.transaction():
        store.append(ARN, [(key, "k", b"v")], 5.0)
    db.close()
    db = open_database(tmp_path / "d")
    try:
        store = open_stream_store(db)
        (shard,) = store.shards(ARN)
        assert shard.last_counter == 1
        assert [r.data for r in store.read(shard.key, 0, 10, 10**9, 0.0)] == [b"v"]
    finally:
        db.close()


def test_arrival_search_over_gaps_and_many_expired(store: StreamStore, db: Database) -> None:
    a, b = _create(store, db)
    with db.transaction():
        for second in range(200):
            store.append(ARN, [(a, "k", b"%d" % second)] * 3, float(second))
        store.append(ARN, [(a, "k", b"jump")], 500.0, ordering_floor=5000)
    assert store.first_counter_at(a, 0.0) == 1
    assert store.first_counter_at(a, 150.0) == 451
    assert store.first_counter_at(a, 199.5) == 5001
    assert store.first_counter_at(a, 501.0) is None
    assert store.first_counter_at(b, 0.0) is None
    assert [r.counter for r in store.read(a, 10, 2, 10**9, 150.0)] == [451, 452]
    assert [r.counter for r in store.read(a, 460, 2, 10**9, 150.0)] == [461, 462]
    assert [r.counter for r in store.read(a, 0, 5, 10**9, 200.0)] == [5001]
    assert store.read(a, 0, 5, 10**9, 600.0) == []
    with db.transaction():
        assert store.trim(a, 100.0) == 300
        assert store.trim(a, 100.0) == 0
    assert store.read(a, 0, 1, 10**9, 0.0)[0].counter == 301
    with db.transaction():
        assert store.trim(a, 1000.0) == 301
    assert store.read(a, 0, 10, 10**9, 0.0) == []


Step = tuple[str, int, int, int]


@settings(max_examples=40, deadline=None)
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from(["append", "trim", "read", "first"]),
            st.integers(0, 60),
            st.integers(0, 7),
            st.integers(0, 40),
        ),
        max_size=25,
    )
)
def test_sqlite_and_memory_agree(steps: list[Step]) -> None:
    """Random appends (with clock jumps and ordering floors), reads, searches and trims."""
    with tempfile.TemporaryDirectory() as tmp:
        dbs = [open_database(None), open_database(Path(tmp) / "d")]
        try:
            stores = [open_stream_store(db) for db in dbs]
            keys = []
            for db, store in zip(dbs, stores, strict=True):
                with db.transaction():
                    store.create_stream(_stream(), [NewShard(0, 0, 9)])
                keys.append(store.shards(ARN)[0].key)
            now = 0.0
            for kind, first, second, third in steps:
                outcomes: list[object] = []
                for db, store, key in zip(dbs, stores, keys, strict=True):
                    with db.transaction():
                        if kind == "append":
                            rows = [(key, "k", b"v")] * (second + 1)
                            outcomes.append(store.append(ARN, rows, now + first % 4, third))
                        elif kind == "trim":
                            outcomes.append(store.trim(key, float(first)))
                        elif kind == "read":
                            got = store.read(key, third, second + 1, 10**9, float(first))
                            outcomes.append([(r.counter, r.arrival) for r in got])
                        else:
                            outcomes.append(store.first_counter_at(key, float(first)))
                if kind == "append":
                    now += first % 4
                assert outcomes[0] == outcomes[1], (kind, first, second, third)
        finally:
            for db in dbs:
                db.close()
