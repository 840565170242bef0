"""One contract for every checkpoint store (memory, SQLite)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from headwater.store.checkpoints import Checkpoint, CheckpointStore, open_checkpoint_store
from headwater.store.database import Database, open_database


@pytest.fixture
def store(db: Database) -> CheckpointStore:
    return open_checkpoint_store(db)


def test_missing_checkpoint_is_none(store: CheckpointStore) -> None:
    assert store.get("m", "shardId-000000000000") is None
    assert store.list("m") == {}


def test_save_overwrites_per_mapping_and_shard(store: CheckpointStore) -> None:
    store.save("m", Checkpoint("s0", "100"))
    store.save("m", Checkpoint("s1", None))
    store.save("other", Checkpoint("s0", "5"))
    store.save("m", Checkpoint("s0", "200", finished=True))
    assert store.get("m", "s0") == Checkpoint("s0", "200", finished=True)
    assert store.list("m") == {
        "s0": Checkpoint("s0", "200", finished=True),
        "s1": Checkpoint("s1", None),
    }
    assert store.get("other", "s0") == Checkpoint("s0", "5")


def test_window_state_round_trips_and_is_a_copy(store: CheckpointStore) -> None:
    state: dict[str, Any] = {"clicks": 3, "keys": ["a"]}
    window = {"start": 1_700_000_000.0, "state": state, "early": False}
    store.save("m", Checkpoint("s0", "7", window=window))
    state["clicks"] = 99
    found = store.get("m", "s0")
    assert found is not None and found.window is not None
    assert found.window["state"] == {"clicks": 3, "keys": ["a"]}


def test_delete_mapping_removes_only_its_checkpoints(store: CheckpointStore) -> None:
    store.save("m", Checkpoint("s0", "1"))
    store.save("m", Checkpoint("s1", "2"))
    store.save("n", Checkpoint("s0", "3"))
    assert store.delete_mapping("m") == 2
    assert store.delete_mapping("m") == 0
    assert store.list("m") == {}
    assert store.get("n", "s0") == Checkpoint("s0", "3")


def test_stores_opened_on_one_database_share_checkpoints(
    db: Database,
) -> None:
    open_checkpoint_store(db).save("m", Checkpoint("s0", "42"))
    assert open_checkpoint_store(db).get("m", "s0") == Checkpoint("s0", "42")


def test_sqlite_checkpoints_survive_reopening(tmp_path: Path) -> None:
    first = open_database(tmp_path / "data")
    open_checkpoint_store(first).save("m", Checkpoint("s0", "9", finished=True))
    first.close()
    second = open_database(tmp_path / "data")
    try:
        assert open_checkpoint_store(second).get("m", "s0") == Checkpoint("s0", "9", True)
    finally:
        second.close()
