"""In-memory function store (tests)."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

from headwater.store.functions import FunctionRecord

if TYPE_CHECKING:
    from headwater.store.database import MemoryDatabase, SqliteDatabase


class MemoryFunctionStore:
    """Functions in a dict, guarded by the database lock."""

    def __init__(self, db: SqliteDatabase | MemoryDatabase) -> None:
        self._db = db
        self._records: dict[str, FunctionRecord] = {}

    def insert(self, record: FunctionRecord) -> None:
        with self._db.transaction():
            if record.name in self._records:
                raise KeyError(f"function {record.name} already exists")
            self._records[record.name] = copy.deepcopy(record)

    def replace(self, record: FunctionRecord) -> None:
        with self._db.transaction():
            if record.name not in self._records:
                raise KeyError(f"function {record.name} does not exist")
            self._records[record.name] = copy.deepcopy(record)

    def get(self, name: str) -> FunctionRecord | None:
        with self._db.transaction():
            found = self._records.get(name)
            return copy.deepcopy(found) if found is not None else None

    def delete(self, name: str) -> bool:
        with self._db.transaction():
            return self._records.pop(name, None) is not None

    def list(self, *, after: str | None = None, limit: int | None = None) -> list[FunctionRecord]:
        with self._db.transaction():
            names = sorted(n for n in self._records if after is None or n > after)
            if limit is not None:
                names = names[:limit]
            return [copy.deepcopy(self._records[n]) for n in names]
