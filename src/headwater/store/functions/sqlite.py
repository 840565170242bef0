"""SQLite function store."""

from __future__ import annotations

from typing import Any

import orjson

from headwater.store.database import SqliteDatabase
from headwater.store.functions import FunctionRecord

_MIGRATIONS = [
    """
    CREATE TABLE lambda_functions (
        name TEXT PRIMARY KEY,
        runtime TEXT NOT NULL,
        handler TEXT NOT NULL,
        role TEXT NOT NULL,
        code_dir TEXT NOT NULL,
        code_sha256 TEXT NOT NULL,
        code_size INTEGER NOT NULL,
        code_source TEXT NOT NULL,
        timeout INTEGER NOT NULL,
        memory_size INTEGER NOT NULL,
        environment BLOB NOT NULL,
        description TEXT NOT NULL,
        reserved_concurrency INTEGER,
        last_modified REAL NOT NULL,
        revision_id TEXT NOT NULL,
        extra BLOB NOT NULL
    )
    """,
]

_COLUMNS = (
    "name, runtime, handler, role, code_dir, code_sha256, code_size, code_source, timeout,"
    " memory_size, environment, description, reserved_concurrency, last_modified,"
    " revision_id, extra"
)


def _row_to_record(row: tuple[Any, ...]) -> FunctionRecord:
    return FunctionRecord(
        name=row[0],
        runtime=row[1],
        handler=row[2],
        role=row[3],
        code_dir=row[4],
        code_sha256=row[5],
        code_size=row[6],
        code_source=row[7],
        timeout=row[8],
        memory_size=row[9],
        environment=orjson.loads(row[10]),
        description=row[11],
        reserved_concurrency=row[12],
        last_modified=row[13],
        revision_id=row[14],
        extra=orjson.loads(row[15]),
    )


def _record_to_row(record: FunctionRecord) -> tuple[Any, ...]:
    return (
        record.name,
        record.runtime,
        record.handler,
        record.role,
        record.code_dir,
        record.code_sha256,
        record.code_size,
        record.code_source,
        record.timeout,
        record.memory_size,
        orjson.dumps(record.environment),
        record.description,
        record.reserved_concurrency,
        record.last_modified,
        record.revision_id,
        orjson.dumps(record.extra),
    )


class SqliteFunctionStore:
    """One row per function; environment and extra settings as JSON."""

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db
        db.migrate("functions", _MIGRATIONS)

    def insert(self, record: FunctionRecord) -> None:
        with self._db.transaction():
            if self._db.conn.execute(
                "SELECT 1 FROM lambda_functions WHERE name = ?", (record.name,)
            ).fetchone():
                raise KeyError(f"function {record.name} already exists")
            self._db.conn.execute(
                f"INSERT INTO lambda_functions({_COLUMNS}) VALUES"
                " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                _record_to_row(record),
            )

    def replace(self, record: FunctionRecord) -> None:
        with self._db.transaction():
            row = _record_to_row(record)
            cursor = self._db.conn.execute(
                "UPDATE lambda_functions SET runtime = ?, handler = ?, role = ?, code_dir = ?,"
                " code_sha256 = ?, code_size = ?, code_source = ?, timeout = ?, memory_size = ?,"
                " environment = ?, description = ?, reserved_concurrency = ?,"
                " last_modified = ?, revision_id = ?, extra = ? WHERE name = ?",
                (*row[1:], row[0]),
            )
            if cursor.rowcount == 0:
                raise KeyError(f"function {record.name} does not exist")

    def get(self, name: str) -> FunctionRecord | None:
        with self._db.lock:
            row = self._db.conn.execute(
                f"SELECT {_COLUMNS} FROM lambda_functions WHERE name = ?", (name,)
            ).fetchone()
        return _row_to_record(row) if row else None

    def delete(self, name: str) -> bool:
        with self._db.transaction():
            cursor = self._db.conn.execute("DELETE FROM lambda_functions WHERE name = ?", (name,))
            return cursor.rowcount > 0

    def list(self, *, after: str | None = None, limit: int | None = None) -> list[FunctionRecord]:
        sql = f"SELECT {_COLUMNS} FROM lambda_functions"
        args: list[Any] = []
        if after is not None:
            sql += " WHERE name > ?"
            args.append(after)
        sql += " ORDER BY name"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        with self._db.lock:
            rows = self._db.conn.execute(sql, args).fetchall()
        return [_row_to_record(row) for row in rows]
