"""One contract for the mapping store on every backend."""

from __future__ import annotations

from pathlib import Path

import pytest

from headwater.core.mapping_config import MappingConfig
from headwater.store.database import Database, SqliteDatabase
from headwater.store.mappings import MappingRecord, MappingStore, open_mapping_store


@pytest.fixture
def store(db: Database) -> MappingStore:
    return open_mapping_store(db)


CONFIG = MappingConfig.create(
    "sqs", {"BatchSize": 10, "FilterCriteria": {"Filters": [{"Pattern": "{}"}]}, "Tags": {"a": "b"}}
)


def record(
    uuid: str, function: str = "f", source: str = "arn:aws:sqs:us-east-1:1:q"
) -> MappingRecord:
    return MappingRecord(
        uuid=uuid,
        source_arn=source,
        function_arn=f"arn:aws:lambda:us-east-1:1:function:{function}",
        function_name=function,
        state="Enabled",
        state_reason="USER_INITIATED",
        last_modified=1_700_000_000.5,
        config=CONFIG,
    )


def test_insert_get_roundtrip(store: MappingStore) -> None:
    stored = store.insert(record("u1"))
    assert stored.seq > 0
    assert store.get("u1") == stored
    assert store.get("missing") is None


def test_insert_rejects_duplicate_uuid_without_change(store: MappingStore) -> None:
    store.insert(record("u1"))
    with pytest.raises(KeyError):
        store.insert(record("u1", function="g"))
    found = store.get("u1")
    assert found is not None and found.function_name == "f"


def test_one_mapping_per_source_and_function(store: MappingStore) -> None:
    """A create race between nodes: the second insert of the same pair is refused."""
    store.insert(record("u1"))
    with pytest.raises(KeyError):
        store.insert(record("u2"))
    assert [r.uuid for r in store.list()] == ["u1"]
    store.insert(record("u3", function="g"))  # another function: fine


def test_replace_keeps_seq_and_requires_existing(store: MappingStore) -> None:
    stored = store.insert(record("u1"))
    smaller = CONFIG.updated({"BatchSize": 5})
    store.replace(stored.with_changes(state="Disabled", config=smaller, seq=999))
    found = store.get("u1")
    assert found is not None
    assert (found.state, found.config, found.seq) == ("Disabled", smaller, stored.seq)
    assert found.config.tags == {"a": "b"}
    with pytest.raises(KeyError):
        store.replace(record("nope"))


def test_list_filters_in_creation_order(store: MappingStore) -> None:
    store.insert(record("b", function="f", source="s1"))
    store.insert(record("a", function="g", source="s1"))
    store.insert(record("c", function="f", source="s2"))
    assert [r.uuid for r in store.list()] == ["b", "a", "c"]
    assert [r.uuid for r in store.list(function_name="f")] == ["b", "c"]
    assert [r.uuid for r in store.list(source_arn="s1")] == ["b", "a"]
    assert [r.uuid for r in store.list(function_name="f", source_arn="s2")] == ["c"]
    assert store.list(function_name="zzz") == []


def test_delete(store: MappingStore) -> None:
    store.insert(record("u1"))
    assert store.delete("u1") is True
    assert store.delete("u1") is False
    assert store.get("u1") is None


def test_sqlite_store_persists(tmp_path: Path) -> None:
    first = SqliteDatabase(tmp_path / "d")
    stored = open_mapping_store(first).insert(record("u1"))
    first.close()
    second = SqliteDatabase(tmp_path / "d")
    try:
        assert open_mapping_store(second).get("u1") == stored
    finally:
        second.close()


def test_update_is_one_read_modify_write(store: MappingStore) -> None:
    stored = store.insert(record("u1"))
    seen: list[MappingRecord] = []

    def change(current: MappingRecord) -> MappingRecord:
        seen.append(current)
        return current.with_changes(state="Disabled", processing_result="OK", seq=999)

    updated = store.update("u1", change)
    assert seen == [stored]
    assert updated is not None and updated.seq == stored.seq and updated.state == "Disabled"
    assert store.get("u1") == updated
    assert (updated.config, updated.processing_result) == (stored.config, "OK")
    assert store.update("u1", lambda current: None) == updated  # no change
    assert store.get("u1") == updated
    assert store.update("missing", change) is None
    assert store.get("missing") is None


def test_region_is_the_function_arns(store: MappingStore) -> None:
    west = record("u1").with_changes(function_arn="arn:aws:lambda:us-west-2:1:function:f:$LATEST")
    assert store.insert(west).region == "us-west-2"
    assert store.insert(record("u2")).region == "us-east-1"
