"""The function store contract, on every store implementation."""

from __future__ import annotations

from pathlib import Path

import pytest

from headwater.store.database import MemoryDatabase, SqliteDatabase
from headwater.store.functions import FunctionRecord, FunctionStore, open_function_store


@pytest.fixture
def store(db: SqliteDatabase | MemoryDatabase) -> FunctionStore:
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
    assert store.get("fn") == record(reserved_concurrency=4)
    assert store.get("other") is None


def test_insert_duplicate_raises(store: FunctionStore) -> None:
    store.insert(record())
    with pytest.raises(KeyError):
        store.insert(record(timeout=9))
    assert store.get("fn") == record()


def test_replace(store: FunctionStore) -> None:
    with pytest.raises(KeyError):
        store.replace(record())
    store.insert(record())
    store.replace(record(timeout=30, environment={}, revision_id="r2"))
    got = store.get("fn")
    assert got is not None and got.timeout == 30 and got.environment == {}
    assert got.revision_id == "r2"


def test_returned_records_are_copies(store: FunctionStore) -> None:
    store.insert(record())
    got = store.get("fn")
    assert got is not None
    got.environment["B2"] = "mutated"
    assert store.get("fn") == record()


def test_delete(store: FunctionStore) -> None:
    store.insert(record())
    assert store.delete("fn") is True
    assert store.delete("fn") is False
    assert store.get("fn") is None


def test_list_ordered_and_paged(store: FunctionStore) -> None:
    for name in ["c", "a", "b", "d"]:
        store.insert(record(name))
    assert [r.name for r in store.list()] == ["a", "b", "c", "d"]
    assert [r.name for r in store.list(limit=2)] == ["a", "b"]
    assert [r.name for r in store.list(after="b")] == ["c", "d"]
    assert [r.name for r in store.list(after="b", limit=1)] == ["c"]


def test_sqlite_survives_reopen(tmp_path: Path) -> None:
    first = SqliteDatabase(tmp_path / "d")
    open_function_store(first).insert(record())
    first.close()
    second = SqliteDatabase(tmp_path / "d")
    try:
        assert open_function_store(second).get("fn") == record()
    finally:
        second.close()
