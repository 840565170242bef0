"""In-memory checkpoint store (tests).

State lives per database object, so every store opened on one ``MemoryDatabase`` (a
disabled then re-enabled mapping gets a new poller) sees the same checkpoints.
"""

from __future__ import annotations

import copy
import weakref
from typing import TYPE_CHECKING

from headwater.store.checkpoints import Checkpoint

if TYPE_CHECKING:
    from headwater.store.database import MemoryDatabase, SqliteDatabase

_Table = dict[tuple[str, str], Checkpoint]
_TABLES: weakref.WeakKeyDictionary[object, _Table] = weakref.WeakKeyDictionary()


class MemoryCheckpointStore:
    """Checkpoints in a dict shared per database, guarded by the database lock."""

    def __init__(self, db: SqliteDatabase | MemoryDatabase) -> None:
        self._db = db
        with db.transaction():
            self._rows = _TABLES.setdefault(db, {})

    def get(self, mapping_uuid: str, shard_id: str) -> Checkpoint | None:
        with self._db.transaction():
            found = self._rows.get((mapping_uuid, shard_id))
            return None if found is None else copy.deepcopy(found)

    def list(self, mapping_uuid: str) -> dict[str, Checkpoint]:
        with self._db.transaction():
            return {
                shard: copy.deepcopy(c)
                for (uuid, shard), c in self._rows.items()
                if uuid == mapping_uuid
            }

    def save(self, mapping_uuid: str, checkpoint: Checkpoint) -> None:
        stored = copy.deepcopy(checkpoint)
        with self._db.transaction():
            self._rows[(mapping_uuid, checkpoint.shard_id)] = stored

    def delete_mapping(self, mapping_uuid: str) -> int:
        with self._db.transaction():
            keys = [k for k in self._rows if k[0] == mapping_uuid]
            for key in keys:
                del self._rows[key]
            return len(keys)
