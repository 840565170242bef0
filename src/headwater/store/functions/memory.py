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
        self._records: dict[tuple[str, str], FunctionRecord] = {}

    def insert(self, record: FunctionRecord) -> None:
        with self._db.transaction():
            key = (record.region, record.name)
            if key in self._records:
                raise KeyError(f"function {record.name} already exists in {record.region}")
            self._records[key] = copy.deepcopy(record)

    def replace(self, record: FunctionRecord) -> None:
        with self._db.transaction():
            key = (record.region, record.name)
            if key not in self._records:
                raise KeyError(f"function {record.name} does not exist in {record.region}")
            self._records[key] = copy.deepcopy(record)

    def get(self, region: str, name: str) -> FunctionRecord | None:
        with self._db.transaction():
            found = self._records.get((region, name))
            return copy.deepcopy(found) if found is not None else None

    def delete(self, region: str, name: str) -> bool:
        with self._db.transaction():
            return self._records.pop((region, name), None) is not None

    def list(
        self, region: str, *, after: str | None = None, limit: int | None = None
    ) -> list[FunctionRecord]:
        with self._db.transaction():
            names = sorted(
                n for r, n in self._records if r == region and (after is None or n > after)
            )
            if limit is not None:
                names = names[:limit]
            return [copy.deepcopy(self._records[(region, n)]) for n in names]
