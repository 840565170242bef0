"""The function store: one portable-SQL class for every backend."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from headwater.store.database import Database
from headwater.store.functions import FunctionRecord

_V1_TABLE = """
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
    """

_V1_COLUMNS = (
    "name, runtime, handler, role, code_dir, code_sha256, code_size, code_source, timeout,"
    " memory_size, environment, description, reserved_concurrency, last_modified,"
    " revision_id, extra"
)


def _regional(default_region: str) -> Callable[[Any], None]:
    """Migration 2: functions keyed by (region, name); older rows get ``default_region``."""

    def migrate(conn: Any) -> None:
        conn.execute(
            """
            CREATE TABLE lambda_functions_regional (
                region TEXT NOT NULL,
                name TEXT NOT NULL,
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
                extra BLOB NOT NULL,
                PRIMARY KEY (region, name)
            )
            """
        )
        conn.execute(
            f"INSERT INTO lambda_functions_regional(region, {_V1_COLUMNS})"
            f" SELECT ?, {_V1_COLUMNS} FROM lambda_functions",
            (default_region,),
        )
        conn.execute("DROP TABLE lambda_functions")
        conn.execute("ALTER TABLE lambda_functions_regional RENAME TO lambda_functions")

    return migrate


_COLUMNS = _V1_COLUMNS + ", region"


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
        region=row[16],
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
        record.region,
    )


class SqlFunctionStore:
    """One row per function; environment and extra settings as JSON."""

    def __init__(self, db: Database, default_region: str) -> None:
        self._db = db
        db.migrate("functions", [_V1_TABLE, _regional(default_region)])

    def insert(self, record: FunctionRecord) -> None:
        # Insert-if-absent in one statement: of two nodes creating the same function at
        # once, one inserts and the other gets the KeyError (no unique-violation abort).
        with self._db.transaction():
            inserted = self._db.conn.execute(
                f"INSERT INTO lambda_functions({_COLUMNS}) VALUES"
                " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (region, name) DO NOTHING RETURNING name",
                _record_to_row(record),
            ).fetchone()
        if inserted is None:
            raise KeyError(f"function {record.name} already exists in {record.region}")

    def replace(self, record: FunctionRecord) -> None:
        with self._db.transaction():
            row = _record_to_row(record)
            cursor = self._db.conn.execute(
                "UPDATE lambda_functions SET runtime = ?, handler = ?, role = ?, code_dir = ?,"
                " code_sha256 = ?, code_size = ?, code_source = ?, timeout = ?, memory_size = ?,"
                " environment = ?, description = ?, reserved_concurrency = ?,"
                " last_modified = ?, revision_id = ?, extra = ? WHERE region = ? AND name = ?",
                (*row[1:16], record.region, record.name),
            )
            if cursor.rowcount == 0:
                raise KeyError(f"function {record.name} does not exist in {record.region}")

    def get(self, region: str, name: str) -> FunctionRecord | None:
        with self._db.read():
            row = self._db.conn.execute(
                f"SELECT {_COLUMNS} FROM lambda_functions WHERE region = ? AND name = ?",
                (region, name),
            ).fetchone()
        return _row_to_record(row) if row else None

    def delete(self, region: str, name: str) -> bool:
        with self._db.transaction():
            cursor = self._db.conn.execute(
                "DELETE FROM lambda_functions WHERE region = ? AND name = ?", (region, name)
            )
            return cursor.rowcount > 0

    def list(
        self, region: str, *, after: str | None = None, limit: int | None = None
    ) -> list[FunctionRecord]:
        sql = f"SELECT {_COLUMNS} FROM lambda_functions WHERE region = ?"
        args: list[Any] = [region]
        if after is not None:
            sql += " AND name > ?"
            args.append(after)
        sql += " ORDER BY name"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        with self._db.read():
            rows = self._db.conn.execute(sql, args).fetchall()
        return [_row_to_record(row) for row in rows]
