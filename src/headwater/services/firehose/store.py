"""Firehose delivery streams and their buffered records in the headwater database.

A stream is one row (its settings as a JSON body, as Secrets Manager's secrets are kept).
Each record put is a row of its own until the flush that delivers it deletes it, so what
is buffered survives a restart; ``seq`` keeps the order records were put in.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import orjson

from headwater.store.database import Database

_MIGRATIONS = [
    """
    CREATE TABLE firehose_streams (
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        name TEXT NOT NULL,
        source_arn TEXT,
        body BLOB NOT NULL,
        PRIMARY KEY (account, region, name)
    )
    """,
    """
    CREATE TABLE firehose_records (
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        stream TEXT NOT NULL,
        seq INTEGER NOT NULL,
        record_id TEXT NOT NULL,
        arrived REAL NOT NULL,
        data BLOB NOT NULL,
        PRIMARY KEY (account, region, stream, seq)
    )
    """,
    # Where a KinesisStreamAsSource stream has read each shard of its Kinesis stream to.
    """
    CREATE TABLE firehose_checkpoints (
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        stream TEXT NOT NULL,
        shard TEXT NOT NULL,
        sequence_number TEXT NOT NULL,
        PRIMARY KEY (account, region, stream, shard)
    )
    """,
]


@dataclass(slots=True)
class DeliveryStream:
    name: str
    arn: str
    stream_type: str
    created: float
    updated: float
    #: The ExtendedS3 destination as DescribeDeliveryStream answers it (defaults filled).
    destination: dict[str, Any]
    version: int = 1
    tags: list[dict[str, str]] = field(default_factory=list)
    #: DeliveryStreamEncryptionConfiguration as described (None: never configured).
    encryption: dict[str, Any] | None = None
    #: KinesisStreamSourceConfiguration as given, for a KinesisStreamAsSource stream.
    kinesis_source: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class BufferedRecord:
    seq: int
    record_id: str
    arrived: float
    data: bytes


class FirehoseStore:
    def __init__(self, database: Database) -> None:
        self.db = database
        database.migrate("firehose", _MIGRATIONS)

    def get(self, account: str, region: str, name: str) -> DeliveryStream | None:
        with self.db.read():
            row = self.db.conn.execute(
                "SELECT body FROM firehose_streams WHERE account = ? AND region = ? AND name = ?",
                (account, region, name),
            ).fetchone()
        return DeliveryStream(**orjson.loads(row[0])) if row else None

    def put(self, account: str, region: str, stream: DeliveryStream) -> None:
        with self.db.transaction():
            self.db.conn.execute(
                "INSERT INTO firehose_streams(account, region, name, source_arn, body) "
                "VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (account, region, name) DO UPDATE SET body = excluded.body",
                (
                    account,
                    region,
                    stream.name,
                    (stream.kinesis_source or {}).get("KinesisStreamARN"),
                    orjson.dumps(asdict(stream)),
                ),
            )

    def delete(self, account: str, region: str, name: str) -> None:
        """Delete the stream and whatever it still buffers."""
        with self.db.transaction():
            for table, column in (
                ("firehose_streams", "name"),
                ("firehose_records", "stream"),
                ("firehose_checkpoints", "stream"),
            ):
                self.db.conn.execute(
                    f"DELETE FROM {table} WHERE account = ? AND region = ? AND {column} = ?",
                    (account, region, name),
                )

    def names(self, account: str, region: str) -> list[str]:
        with self.db.read():
            rows = self.db.conn.execute(
                "SELECT name FROM firehose_streams WHERE account = ? AND region = ? ORDER BY name",
                (account, region),
            ).fetchall()
        return [str(row[0]) for row in rows]

    def all(self, account: str, region: str) -> list[DeliveryStream]:
        return [s for n in self.names(account, region) if (s := self.get(account, region, n))]

    def sourced(self) -> list[tuple[str, str, DeliveryStream]]:
        """(account, region, stream) of every stream reading a Kinesis stream."""
        with self.db.read():
            rows = self.db.conn.execute(
                "SELECT account, region, body FROM firehose_streams WHERE source_arn IS NOT NULL"
            ).fetchall()
        return [(str(r[0]), str(r[1]), DeliveryStream(**orjson.loads(r[2]))) for r in rows]

    def checkpoints(self, account: str, region: str, stream: str) -> dict[str, str]:
        """Shard id -> the last sequence number the stream buffered from it."""
        with self.db.read():
            rows = self.db.conn.execute(
                "SELECT shard, sequence_number FROM firehose_checkpoints "
                "WHERE account = ? AND region = ? AND stream = ?",
                (account, region, stream),
            ).fetchall()
        return {str(r[0]): str(r[1]) for r in rows}

    def set_checkpoint(
        self, account: str, region: str, stream: str, shard: str, sequence_number: str
    ) -> None:
        with self.db.transaction():
            self.db.conn.execute(
                "INSERT INTO firehose_checkpoints(account, region, stream, shard, "
                "sequence_number) VALUES (?, ?, ?, ?, ?) ON CONFLICT (account, region, stream, "
                "shard) DO UPDATE SET sequence_number = excluded.sequence_number",
                (account, region, stream, shard, sequence_number),
            )

    def add_records(
        self, account: str, region: str, stream: str, records: list[tuple[str, float, bytes]]
    ) -> int:
        """Buffer ``records`` (record id, arrival time, data) after the stream's others;
        answers how many bytes the stream buffers now."""
        with self.db.transaction():
            conn = self.db.conn
            row = conn.execute(
                "SELECT COALESCE(MAX(seq), 0) FROM firehose_records "
                "WHERE account = ? AND region = ? AND stream = ?",
                (account, region, stream),
            ).fetchone()
            seq = int(row[0])
            for record_id, arrived, data in records:
                seq += 1
                conn.execute(
                    "INSERT INTO firehose_records(account, region, stream, seq, record_id, "
                    "arrived, data) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (account, region, stream, seq, record_id, arrived, data),
                )
            total = conn.execute(
                "SELECT COALESCE(SUM(LENGTH(data)), 0) FROM firehose_records "
                "WHERE account = ? AND region = ? AND stream = ?",
                (account, region, stream),
            ).fetchone()
        return int(total[0])

    def buffered(self, account: str, region: str, stream: str) -> list[BufferedRecord]:
        """The stream's buffered records, oldest first."""
        with self.db.read():
            rows = self.db.conn.execute(
                "SELECT seq, record_id, arrived, data FROM firehose_records "
                "WHERE account = ? AND region = ? AND stream = ? ORDER BY seq",
                (account, region, stream),
            ).fetchall()
        return [BufferedRecord(int(r[0]), str(r[1]), float(r[2]), bytes(r[3])) for r in rows]

    def oldest_by_stream(self) -> list[tuple[str, str, str, float]]:
        """(account, region, stream, oldest arrival) of every stream buffering records."""
        with self.db.read():
            rows = self.db.conn.execute(
                "SELECT account, region, stream, MIN(arrived) FROM firehose_records "
                "GROUP BY account, region, stream"
            ).fetchall()
        return [(str(r[0]), str(r[1]), str(r[2]), float(r[3])) for r in rows]

    def remove_records(self, account: str, region: str, stream: str, last_seq: int) -> None:
        """Forget the stream's records up to ``last_seq`` (delivered, or given up on)."""
        with self.db.transaction():
            self.db.conn.execute(
                "DELETE FROM firehose_records "
                "WHERE account = ? AND region = ? AND stream = ? AND seq <= ?",
                (account, region, stream, last_seq),
            )
