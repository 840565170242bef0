"""The asynchronous invocation store: one row per accepted invocation, portable SQL."""

from __future__ import annotations

from typing import Any

from headwater.store.async_invocations import AsyncInvocation
from headwater.store.database import Database

_MIGRATIONS = [
    """
    CREATE TABLE lambda_async_invocations (
        request_id TEXT PRIMARY KEY,
        region TEXT NOT NULL,
        function TEXT NOT NULL,
        qualifier TEXT,
        payload BLOB NOT NULL,
        accepted_at REAL NOT NULL,
        due_at REAL NOT NULL,
        attempt INTEGER NOT NULL,
        throttles INTEGER NOT NULL,
        lease_owner TEXT,
        lease_until REAL NOT NULL
    );
    CREATE INDEX lambda_async_invocations_due ON lambda_async_invocations (due_at)
    """,
    # claims read in (due_at, request_id) order: an index in that order spares sorting a
    # backlog of due invocations on every claim
    """
    DROP INDEX lambda_async_invocations_due;
    CREATE INDEX lambda_async_invocations_due_order
        ON lambda_async_invocations (due_at, request_id)
    """,
    # renewals and releases find a dispatcher's leases (a whole backlog it accepted)
    """
    CREATE INDEX lambda_async_invocations_owner ON lambda_async_invocations (lease_owner)
    """,
]

_COLUMNS = (
    "request_id, region, function, qualifier, payload, accepted_at, due_at, attempt, throttles"
)


def _invocation(row: Any) -> AsyncInvocation:
    return AsyncInvocation(
        request_id=str(row[0]),
        region=str(row[1]),
        function_name=str(row[2]),
        qualifier=row[3],
        payload=bytes(row[4]),
        accepted_at=float(row[5]),
        due_at=float(row[6]),
        attempt=int(row[7]),
        throttles=int(row[8]),
    )


class SqlAsyncInvocationStore:
    """Accepted asynchronous invocations in table ``lambda_async_invocations``."""

    def __init__(self, db: Database) -> None:
        self._db = db
        db.migrate("lambda_async_invocations", _MIGRATIONS)

    def add(
        self, invocation: AsyncInvocation, owner: str | None = None, lease_until: float = 0.0
    ) -> None:
        with self._db.transaction():
            self._db.conn.execute(
                f"INSERT INTO lambda_async_invocations ({_COLUMNS}, lease_owner, lease_until)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    invocation.request_id,
                    invocation.region,
                    invocation.function_name,
                    invocation.qualifier,
                    invocation.payload,
                    invocation.accepted_at,
                    invocation.due_at,
                    invocation.attempt,
                    invocation.throttles,
                    owner,
                    lease_until if owner is not None else 0.0,
                ),
            )

    def claim_due(
        self, now: float, owner: str, wall_now: float, lease_until: float, limit: int
    ) -> list[AsyncInvocation]:
        with self._db.transaction():
            conn = self._db.conn
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM lambda_async_invocations"
                " WHERE due_at <= ? AND lease_until <= ? ORDER BY due_at, request_id LIMIT ?",
                (now, wall_now, limit),
            ).fetchall()
            claimed: list[AsyncInvocation] = []
            for row in rows:
                # Conditional on the lease still being free: another node may have claimed
                # the row since the SELECT (PostgreSQL re-checks the condition on the row
                # version it waited for).
                won = conn.execute(
                    "UPDATE lambda_async_invocations SET lease_owner = ?, lease_until = ?"
                    " WHERE request_id = ? AND lease_until <= ? RETURNING request_id",
                    (owner, lease_until, row[0], wall_now),
                ).fetchone()
                if won is not None:
                    claimed.append(_invocation(row))
            return claimed

    def renew(self, owner: str, lease_until: float) -> int:
        with self._db.transaction():
            cursor = self._db.conn.execute(
                "UPDATE lambda_async_invocations SET lease_until = ? WHERE lease_owner = ?",
                (lease_until, owner),
            )
            return int(cursor.rowcount)

    def reschedule(self, owner: str, invocation: AsyncInvocation) -> bool:
        with self._db.transaction():
            row = self._db.conn.execute(
                "UPDATE lambda_async_invocations SET attempt = ?, throttles = ?, due_at = ?,"
                " lease_owner = NULL, lease_until = 0"
                " WHERE request_id = ? AND lease_owner = ? RETURNING request_id",
                (
                    invocation.attempt,
                    invocation.throttles,
                    invocation.due_at,
                    invocation.request_id,
                    owner,
                ),
            ).fetchone()
        return row is not None

    def delete(self, request_id: str) -> bool:
        with self._db.transaction():
            row = self._db.conn.execute(
                "DELETE FROM lambda_async_invocations WHERE request_id = ? RETURNING request_id",
                (request_id,),
            ).fetchone()
        return row is not None

    def release(self, owner: str) -> int:
        with self._db.transaction():
            cursor = self._db.conn.execute(
                "UPDATE lambda_async_invocations SET lease_owner = NULL, lease_until = 0"
                " WHERE lease_owner = ?",
                (owner,),
            )
            return int(cursor.rowcount)

    def next_due(self, wall_now: float) -> float | None:
        with self._db.read():
            # index order, skipping the leased rows (few: the ones running), not min():
            # min() with a condition on another column reads every row
            row = self._db.conn.execute(
                "SELECT due_at FROM lambda_async_invocations WHERE lease_until <= ?"
                " ORDER BY due_at, request_id LIMIT 1",
                (wall_now,),
            ).fetchone()
        return None if row is None or row[0] is None else float(row[0])

    def count(self) -> int:
        with self._db.read():
            row = self._db.conn.execute("SELECT count(*) FROM lambda_async_invocations").fetchone()
        return int(row[0])

    def get(self, request_id: str) -> AsyncInvocation | None:
        with self._db.read():
            row = self._db.conn.execute(
                f"SELECT {_COLUMNS} FROM lambda_async_invocations WHERE request_id = ?",
                (request_id,),
            ).fetchone()
        return None if row is None else _invocation(row)
