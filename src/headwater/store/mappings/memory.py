"""In-memory mapping store (tests)."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

from headwater.store.mappings import MappingChange, MappingRecord

if TYPE_CHECKING:
    from headwater.store.database import MemoryDatabase, SqliteDatabase


class MemoryMappingStore:
    """Mappings in a dict, guarded by the database lock."""

    def __init__(self, db: SqliteDatabase | MemoryDatabase) -> None:
        self._db = db
        self._records: dict[str, MappingRecord] = {}
        self._next_seq = 1

    def insert(self, record: MappingRecord) -> MappingRecord:
        with self._db.transaction():
            if record.uuid in self._records:
                raise KeyError(f"mapping {record.uuid} already exists")
            stored = record.with_changes(seq=self._next_seq, config=copy.deepcopy(record.config))
            self._next_seq += 1
            self._records[record.uuid] = stored
            return stored.with_changes(config=copy.deepcopy(stored.config))

    def replace(self, record: MappingRecord) -> None:
        with self._db.transaction():
            old = self._records.get(record.uuid)
            if old is None:
                raise KeyError(record.uuid)
            self._records[record.uuid] = record.with_changes(
                seq=old.seq, config=copy.deepcopy(record.config)
            )

    def update(self, uuid: str, change: MappingChange) -> MappingRecord | None:
        with self._db.transaction():
            current = self._records.get(uuid)
            if current is None:
                return None
            changed = change(current.with_changes(config=copy.deepcopy(current.config)))
            if changed is not None:
                current = changed.with_changes(
                    uuid=uuid, seq=current.seq, config=copy.deepcopy(changed.config)
                )
                self._records[uuid] = current
            return current.with_changes(config=copy.deepcopy(current.config))

    def get(self, uuid: str) -> MappingRecord | None:
        with self._db.transaction():
            found = self._records.get(uuid)
            return None if found is None else found.with_changes(config=copy.deepcopy(found.config))

    def delete(self, uuid: str) -> bool:
        with self._db.transaction():
            return self._records.pop(uuid, None) is not None

    def list(
        self, *, function_name: str | None = None, source_arn: str | None = None
    ) -> list[MappingRecord]:
        with self._db.transaction():
            found = [
                r.with_changes(config=copy.deepcopy(r.config))
                for r in self._records.values()
                if (function_name is None or r.function_name == function_name)
                and (source_arn is None or r.source_arn == source_arn)
            ]
        return sorted(found, key=lambda r: r.seq)
