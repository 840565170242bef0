"""The function store contract, on every store implementation."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from headwater.store.database import DATABASE_FILE, Database, SqliteDatabase
from headwater.store.functions import FunctionRecord, FunctionStore, open_function_store


@pytest.fixture
def store(db: Database) -> FunctionStore:
    return open_function_store(db)


def record(name: str = "fn", **changes: object) -> FunctionRecord:
    base = FunctionRecord(
        name=name,
        runtime="python3.12",
        handler="app.handler",
        role="arn:aws:iam::000000000000:role/r",
        code_dir="/code",
        code_sha256="abc=",
        code_size=10,
        code_source="zip",
        timeout=3,
        memory_size=128,
        environment={"A1": "x"},
        description="",
        reserved_concurrency=None,
        last_modified=1_700_000_000.5,
        revision_id="r1",
        extra={"Architectures": ["x86_64"]},
    )
    return base.with_changes(**changes)


def test_insert_get_roundtrip(store: FunctionStore) -> None:
    store.insert(record(reserved_concurrency=4))
    assert store.get("us-east-1", "fn") == record(reserved_concurrency=4)
    assert store.get("us-east-1", "other") is None


def test_insert_duplicate_raises(store: FunctionStore) -> None:
    store.insert(record())
    with pytest.raises(KeyError):
        store.insert(record(timeout=9))
    assert store.get("us-east-1", "fn") == record()


def test_replace(store: FunctionStore) -> None:
    with pytest.raises(KeyError):
        store.replace(record())
    store.insert(record())
    store.replace(record(timeout=30, environment={}, revision_id="r2"))
    got = store.get("us-east-1", "fn")
    assert got is not None and got.timeout == 30 and got.environment == {}
    assert got.revision_id == "r2"


def test_returned_records_are_copies(store: FunctionStore) -> None:
    store.insert(record())
    got = store.get("us-east-1", "fn")
    assert got is not None
    got.environment["B2"] = "mutated"
    assert store.get("us-east-1", "fn") == record()


def test_delete(store: FunctionStore) -> None:
    store.insert(record())
    assert store.delete("us-east-1", "fn") is True
    assert store.delete("us-east-1", "fn") is False
    assert store.get("us-east-1", "fn") is None


def test_list_ordered_and_paged(store: FunctionStore) -> None:
    for name in ["c", "a", "b", "d"]:
        store.insert(record(name))
    assert [r.name for r in store.list("us-east-1")] == ["a", "b", "c", "d"]
    assert [r.name for r in store.list("us-east-1", limit=2)] == ["a", "b"]
    assert [r.name for r in store.list("us-east-1", after="b")] == ["c", "d"]
    assert [r.name for r in store.list("us-east-1", after="b", limit=1)] == ["c"]


def test_sqlite_survives_reopen(tmp_path: Path) -> None:
    first = SqliteDatabase(tmp_path / "d")
    open_function_store(first).insert(record())
    first.close()
    second = SqliteDatabase(tmp_path / "d")
    try:
        assert open_function_store(second).get("us-east-1", "fn") == record()
    finally:
        second.close()


def test_same_name_in_two_regions_is_two_functions(store: FunctionStore) -> None:
    store.insert(record())
    store.insert(record(region="us-west-2", timeout=30))
    with pytest.raises(KeyError):
        store.insert(record(region="us-west-2"))
    east, west = store.get("us-east-1", "fn"), store.get("us-west-2", "fn")
    assert east == record() and west == record(region="us-west-2", timeout=30)
    assert store.get("eu-west-1", "fn") is None
    store.replace(record(region="us-west-2", timeout=60))
    assert store.get("us-east-1", "fn") == record()
    assert [(r.region, r.timeout) for r in store.list("us-west-2")] == [("us-west-2", 60)]
    assert store.delete("us-west-2", "fn") is True
    assert store.get("us-east-1", "fn") == record()
    assert store.list("us-west-2") == []


def test_replace_of_a_missing_region_raises(store: FunctionStore) -> None:
    store.insert(record())
    with pytest.raises(KeyError):
        store.replace(record(region="us-west-2"))
    assert store.list("us-west-2") == []


def test_sqlite_rows_from_before_regions_get_the_default_region(tmp_path: Path) -> None:
    """A database written by the name-keyed schema (v1) keeps its functions working."""
    data_dir = tmp_path / "d"
    data_dir.mkdir()
    conn = sqlite3.connect(data_dir / DATABASE_FILE)
    conn.executescript(
        """
        CREATE TABLE schema_version (component TEXT PRIMARY KEY, version INTEGER NOT NULL);
        INSERT INTO schema_version VALUES ('functions', 1);
        CREATE TABLE lambda_functions (
            name TEXT PRIMARY KEY, runtime TEXT NOT NULL, handler TEXT NOT NULL,
            role TEXT NOT NULL, code_dir TEXT NOT NULL, code_sha256 TEXT NOT NULL,
            code_size INTEGER NOT NULL, code_source TEXT NOT NULL, timeout INTEGER NOT NULL,
            memory_size INTEGER NOT NULL, environment BLOB NOT NULL,
            description TEXT NOT NULL, reserved_concurrency INTEGER,
            last_modified REAL NOT NULL, revision_id TEXT NOT NULL, extra BLOB NOT NULL
        );
        INSERT INTO lambda_functions VALUES ('old', 'python3.12', 'app.handler',
            'arn:aws:iam::000000000000:role/r', '/code', 'abc=', 10, 'zip', 3, 128,
            '{"A1":"x"}', '', 2, 1700000000.5, 'r1', '{}');
        """
    )
    conn.commit()
    conn.close()
    db = SqliteDatabase(data_dir)
    try:
        store = open_function_store(db, "eu-central-1")
        found = store.get("eu-central-1", "old")
        assert found == record("old", region="eu-central-1", reserved_concurrency=2, extra={})
        assert store.get("us-east-1", "old") is None
        store.insert(record("old", region="us-west-2"))
        assert [r.region for r in store.list("us-west-2")] == ["us-west-2"]
    finally:
        db.close()
    reopened = SqliteDatabase(data_dir)
    try:
        store = open_function_store(reopened, "us-east-1")  # migrated once, ever
        assert store.get("eu-central-1", "old") is not None
        assert store.get("us-west-2", "old") is not None
    finally:
        reopened.close()
