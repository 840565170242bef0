"""Stream consumers (enhanced fan-out registrations) and resource policies of Kinesis.

Small, rarely written rows: one portable SQL class for every backend.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from headwater.store.database import Database

_MIGRATIONS = [
    """
    CREATE TABLE kinesis_consumers (
        stream_arn TEXT NOT NULL,
        name TEXT NOT NULL,
        consumer_arn TEXT NOT NULL,
        created_at REAL NOT NULL,
        PRIMARY KEY (stream_arn, name)
    );
    CREATE TABLE kinesis_resource_policies (
        resource_arn TEXT PRIMARY KEY,
        policy TEXT NOT NULL
    )
    """
]


@dataclass(frozen=True, slots=True)
class ConsumerRow:
    stream_arn: str
    name: str
    consumer_arn: str
    created_at: float


class StreamExtrasStore:
    """Consumers and resource policies; call inside ``db.transaction()``."""

    def __init__(self, db: Database) -> None:
        self.db = db
        db.migrate("kinesis_extras", _MIGRATIONS)

    def consumers(self, stream_arn: str) -> list[ConsumerRow]:
        rows = self.db.conn.execute(
            "SELECT stream_arn, name, consumer_arn, created_at FROM kinesis_consumers"
            " WHERE stream_arn = ? ORDER BY created_at, name",
            (stream_arn,),
        ).fetchall()
        return [ConsumerRow(*row) for row in rows]

    def consumer_by_arn(self, consumer_arn: str) -> ConsumerRow | None:
        row = self.db.conn.execute(
            "SELECT stream_arn, name, consumer_arn, created_at FROM kinesis_consumers"
            " WHERE consumer_arn = ?",
            (consumer_arn,),
        ).fetchone()
        return None if row is None else ConsumerRow(*row)

    def add_consumer(self, consumer: ConsumerRow) -> None:
        self.db.conn.execute(
            "INSERT INTO kinesis_consumers (stream_arn, name, consumer_arn, created_at)"
            " VALUES (?, ?, ?, ?)",
            (consumer.stream_arn, consumer.name, consumer.consumer_arn, consumer.created_at),
        )

    def delete_consumer(self, consumer: ConsumerRow) -> None:
        self.db.conn.execute(
            "DELETE FROM kinesis_consumers WHERE stream_arn = ? AND name = ?",
            (consumer.stream_arn, consumer.name),
        )

    def delete_stream(self, stream_arn: str) -> None:
        """Forget a deleted stream's consumers and policy."""
        self.db.conn.execute("DELETE FROM kinesis_consumers WHERE stream_arn = ?", (stream_arn,))
        self.db.conn.execute(
            "DELETE FROM kinesis_resource_policies WHERE resource_arn = ? OR resource_arn LIKE ?",
            (stream_arn, stream_arn + "/consumer/%"),
        )

    def policy(self, resource_arn: str) -> str | None:
        row = self.db.conn.execute(
            "SELECT policy FROM kinesis_resource_policies WHERE resource_arn = ?", (resource_arn,)
        ).fetchone()
        return None if row is None else str(row[0])

    def put_policy(self, resource_arn: str, policy: str) -> None:
        self.db.conn.execute(
            "INSERT INTO kinesis_resource_policies (resource_arn, policy) VALUES (?, ?)"
            " ON CONFLICT (resource_arn) DO UPDATE SET policy = excluded.policy",
            (resource_arn, policy),
        )

    def delete_policy(self, resource_arn: str) -> bool:
        cursor = self.db.conn.execute(
            "DELETE FROM kinesis_resource_policies WHERE resource_arn = ?", (resource_arn,)
        )
        return cursor.rowcount > 0
