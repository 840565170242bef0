"""The mapping store: one portable-SQL class for every backend (memory, SQLite, PostgreSQL)."""

from __future__ import annotations

from typing import Any

import orjson

from headwater.core.mapping_config import MappingConfig, source_kind
from headwater.store.database import Database
from headwater.store.mappings import MappingChange, MappingRecord

_MIGRATIONS = [
    """
    CREATE TABLE esm_mappings (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        uuid TEXT NOT NULL UNIQUE,
        source_arn TEXT NOT NULL,
        function_arn TEXT NOT NULL,
        function_name TEXT NOT NULL,
        state TEXT NOT NULL,
        state_reason TEXT NOT NULL,
        last_modified REAL NOT NULL,
        config BLOB NOT NULL
    );
    CREATE INDEX esm_mappings_source ON esm_mappings(source_arn);
    CREATE INDEX esm_mappings_function ON esm_mappings(function_name)
    """,
    # LastProcessingResult moves out of the configuration (it is state, not settings);
    # rows written before keep it in ``config`` and are read from there.
    "ALTER TABLE esm_mappings ADD COLUMN processing_result TEXT",
    # One mapping per source and (qualified) function: two nodes creating the same one at
    # once get one mapping and AWS's conflict error, not two mappings.
    "CREATE UNIQUE INDEX esm_mappings_source_function ON esm_mappings(source_arn, function_arn)",
]

_COLUMNS = (
    "seq, uuid, source_arn, function_arn, function_name, state, state_reason, last_modified,"
    " config, processing_result"
)


def _row_to_record(row: tuple[Any, ...]) -> MappingRecord:
    stored = orjson.loads(row[8])
    kind = source_kind(row[2]) or "sqs"
    result = row[9] if row[9] is not None else stored.get("LastProcessingResult")
    return MappingRecord(
        seq=row[0],
        uuid=row[1],
        source_arn=row[2],
        function_arn=row[3],
        function_name=row[4],
        state=row[5],
        state_reason=row[6],
        last_modified=row[7],
        config=MappingConfig.from_stored(kind, stored),
        processing_result=result,
    )


#: Columns written from a MappingRecord (besides the uuid key), in ``_values`` order.
_WRITTEN = (
    "source_arn",
    "function_arn",
    "function_name",
    "state",
    "state_reason",
    "last_modified",
    "config",
    "processing_result",
)
_INSERT = (
    f"INSERT INTO esm_mappings(uuid, {', '.join(_WRITTEN)})"
    f" VALUES ({', '.join('?' * (len(_WRITTEN) + 1))})"
    " ON CONFLICT DO NOTHING RETURNING seq"
)
_UPDATE = f"UPDATE esm_mappings SET {', '.join(c + ' = ?' for c in _WRITTEN)} WHERE uuid = ?"


def _values(record: MappingRecord) -> tuple[Any, ...]:
    return (
        record.source_arn,
        record.function_arn,
        record.function_name,
        record.state,
        record.state_reason,
        record.last_modified,
        orjson.dumps(record.config.to_stored()),
        record.processing_result,
    )


class SqlMappingStore:
    """One row per mapping; the configuration is its AWS-shaped JSON document."""

    def __init__(self, db: Database) -> None:
        self._db = db
        db.migrate("mappings", _MIGRATIONS)

    def insert(self, record: MappingRecord) -> MappingRecord:
        with self._db.transaction():
            row = self._db.conn.execute(_INSERT, (record.uuid, *_values(record))).fetchone()
        if row is None:
            raise KeyError(f"mapping {record.uuid} (or one of its source and function) exists")
        return record.with_changes(seq=int(row[0]))

    def replace(self, record: MappingRecord) -> None:
        with self._db.transaction():
            if not self._write(record):
                raise KeyError(record.uuid)

    def _write(self, record: MappingRecord) -> bool:
        cursor = self._db.conn.execute(_UPDATE, (*_values(record), record.uuid))
        return cursor.rowcount > 0

    def update(self, uuid: str, change: MappingChange) -> MappingRecord | None:
        db = self._db
        with db.transaction():
            row = db.conn.execute(
                f"SELECT {_COLUMNS} FROM esm_mappings WHERE uuid = ?{db.dialect.for_update}",
                (uuid,),
            ).fetchone()
            if row is None:
                return None
            current = _row_to_record(row)
            changed = change(current)
            if changed is None:
                return current
            stored = changed.with_changes(uuid=uuid, seq=current.seq)
            self._write(stored)
            return stored

    def get(self, uuid: str) -> MappingRecord | None:
        with self._db.read():
            row = self._db.conn.execute(
                f"SELECT {_COLUMNS} FROM esm_mappings WHERE uuid = ?", (uuid,)
            ).fetchone()
        return None if row is None else _row_to_record(row)

    def delete(self, uuid: str) -> bool:
        with self._db.transaction():
            cursor = self._db.conn.execute("DELETE FROM esm_mappings WHERE uuid = ?", (uuid,))
            return cursor.rowcount > 0

    def list(
        self, *, function_name: str | None = None, source_arn: str | None = None
    ) -> list[MappingRecord]:
        clauses: list[str] = []
        args: list[str] = []
        if function_name is not None:
            clauses.append("function_name = ?")
            args.append(function_name)
        if source_arn is not None:
            clauses.append("source_arn = ?")
            args.append(source_arn)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        with self._db.read():
            rows = self._db.conn.execute(
                f"SELECT {_COLUMNS} FROM esm_mappings{where} ORDER BY seq", args
            ).fetchall()
        return [_row_to_record(row) for row in rows]
