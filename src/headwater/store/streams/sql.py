"""The stream store of the SQL backends (SQLite, PostgreSQL).

Records live in one rowid table whose rowid packs ``(shard key, counter)``:
``shard_key << 40 | counter``. A put is then a single append to one B-tree (no secondary
index), a shard's records are one contiguous rowid range, and sequence numbers are never
stored as strings (the service derives them from the counter). Appends lock the stream's
shard rows (``FOR UPDATE`` on PostgreSQL; SQLite's write lock), so nodes appending at once
take turns on the counters, and keep arrival times non-decreasing per shard across nodes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from headwater.store.database import Database
from headwater.store.streams import NewRecord, NewShard, ShardRow, StoredRecord, StreamRow

COUNTER_BITS = 40
COUNTER_MASK = (1 << COUNTER_BITS) - 1

MIGRATIONS = [
    """
    CREATE TABLE kinesis_streams (
        arn TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        region TEXT NOT NULL,
        account TEXT NOT NULL,
        created REAL NOT NULL,
        retention_hours INTEGER NOT NULL,
        mode TEXT NOT NULL,
        next_shard_index INTEGER NOT NULL,
        max_record_kib INTEGER NOT NULL,
        tags TEXT NOT NULL
    );
    CREATE INDEX kinesis_streams_by_owner ON kinesis_streams(account, region, name);
    CREATE TABLE kinesis_shards (
        key INTEGER PRIMARY KEY AUTOINCREMENT,
        stream_arn TEXT NOT NULL REFERENCES kinesis_streams(arn) ON DELETE CASCADE,
        shard_index INTEGER NOT NULL,
        start_hash TEXT NOT NULL,
        end_hash TEXT NOT NULL,
        parent TEXT,
        adjacent_parent TEXT,
        created REAL NOT NULL,
        closed_at REAL,
        last_counter INTEGER NOT NULL,
        UNIQUE (stream_arn, shard_index)
    );
    CREATE TABLE kinesis_records (
        id INTEGER PRIMARY KEY,
        arrival REAL NOT NULL,
        partition_key TEXT NOT NULL,
        data BLOB NOT NULL
    )
    """,
    # Arrival times must not go backwards in a shard when several processes append.
    "ALTER TABLE kinesis_shards ADD COLUMN last_arrival REAL NOT NULL DEFAULT 0",
]

_SHARD_COLUMNS = (
    "key, shard_index, start_hash, end_hash, parent, adjacent_parent, created, closed_at,"
    " last_counter"
)


def _shard(row: Any) -> ShardRow:
    return ShardRow(
        key=int(row[0]),
        index=int(row[1]),
        start_hash=int(row[2]),
        end_hash=int(row[3]),
        parent=None if row[4] is None else str(row[4]),
        adjacent_parent=None if row[5] is None else str(row[5]),
        created=float(row[6]),
        closed_at=None if row[7] is None else float(row[7]),
        last_counter=int(row[8]),
    )


class SqlStreamStore:
    """Streams, shards and records in the shared SQL database."""

    def __init__(self, db: Database) -> None:
        self.db = db
        db.migrate("streams", MIGRATIONS)

    def create_stream(self, stream: StreamRow, shards: Sequence[NewShard]) -> None:
        with self.db.transaction():
            self.db.conn.execute(
                "INSERT INTO kinesis_streams (arn, name, region, account, created,"
                " retention_hours, mode, next_shard_index, max_record_kib, tags)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    stream.arn,
                    stream.name,
                    stream.region,
                    stream.account,
                    stream.created,
                    stream.retention_hours,
                    stream.mode,
                    stream.next_shard_index,
                    stream.max_record_kib,
                    json.dumps(dict(stream.tags)),
                ),
            )
            self._add_shards(stream.arn, shards, stream.created)

    def _add_shards(self, arn: str, shards: Sequence[NewShard], now: float) -> None:
        if not shards:
            return
        self.db.conn.executemany(
            "INSERT INTO kinesis_shards (stream_arn, shard_index, start_hash, end_hash, parent,"
            " adjacent_parent, created, closed_at, last_counter)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)",
            [
                (
                    arn,
                    s.index,
                    str(s.start_hash),
                    str(s.end_hash),
                    s.parent,
                    s.adjacent_parent,
                    now,
                    now if s.closed else None,
                )
                for s in shards
            ],
        )
        self.db.conn.execute(
            "UPDATE kinesis_streams SET next_shard_index = CASE WHEN next_shard_index > ?"
            " THEN next_shard_index ELSE ? END WHERE arn = ?",
            (next_index := max(s.index for s in shards) + 1, next_index, arn),
        )

    def get_stream(self, arn: str) -> StreamRow | None:
        with self.db.read():
            row = self.db.conn.execute(
                "SELECT arn, name, region, account, created, retention_hours, mode,"
                " next_shard_index, max_record_kib, tags FROM kinesis_streams WHERE arn = ?",
                (arn,),
            ).fetchone()
        return None if row is None else _stream(row)

    def list_streams(self, region: str, account: str) -> list[StreamRow]:
        with self.db.read():
            rows = self.db.conn.execute(
                "SELECT arn, name, region, account, created, retention_hours, mode,"
                " next_shard_index, max_record_kib, tags FROM kinesis_streams"
                " WHERE account = ? AND region = ? ORDER BY name",
                (account, region),
            ).fetchall()
        return [_stream(row) for row in rows]

    def delete_stream(self, arn: str) -> None:
        with self.db.transaction():
            keys = [
                k
                for (k,) in self.db.conn.execute(
                    "SELECT key FROM kinesis_shards WHERE stream_arn = ?", (arn,)
                ).fetchall()
            ]
            self.db.conn.executemany(
                "DELETE FROM kinesis_records WHERE id BETWEEN ? AND ?",
                [(k << COUNTER_BITS, (k << COUNTER_BITS) | COUNTER_MASK) for k in keys],
            )
            self.db.conn.execute("DELETE FROM kinesis_shards WHERE stream_arn = ?", (arn,))
            self.db.conn.execute("DELETE FROM kinesis_streams WHERE arn = ?", (arn,))

    def set_retention(self, arn: str, hours: int) -> None:
        with self.db.transaction():
            self.db.conn.execute(
                "UPDATE kinesis_streams SET retention_hours = ? WHERE arn = ?", (hours, arn)
            )

    def set_mode(self, arn: str, mode: str) -> None:
        with self.db.transaction():
            self.db.conn.execute("UPDATE kinesis_streams SET mode = ? WHERE arn = ?", (mode, arn))

    def set_tags(self, arn: str, tags: Mapping[str, str]) -> None:
        with self.db.transaction():
            self.db.conn.execute(
                "UPDATE kinesis_streams SET tags = ? WHERE arn = ?", (json.dumps(dict(tags)), arn)
            )

    def shards(self, arn: str) -> list[ShardRow]:
        with self.db.read():
            rows = self.db.conn.execute(
                f"SELECT {_SHARD_COLUMNS} FROM kinesis_shards WHERE stream_arn = ?"
                " ORDER BY shard_index",
                (arn,),
            ).fetchall()
        return [_shard(row) for row in rows]

    def get_shard(self, arn: str, index: int) -> ShardRow | None:
        with self.db.read():
            row = self.db.conn.execute(
                f"SELECT {_SHARD_COLUMNS} FROM kinesis_shards"
                " WHERE stream_arn = ? AND shard_index = ?",
                (arn, index),
            ).fetchone()
        return None if row is None else _shard(row)

    def reshard(
        self, arn: str, close: Sequence[str], create: Sequence[NewShard], now: float
    ) -> None:
        with self.db.transaction():
            self.db.conn.executemany(
                "UPDATE kinesis_shards SET closed_at = ? WHERE stream_arn = ? AND shard_index = ?",
                [(now, arn, int(shard_id.rsplit("-", 1)[1])) for shard_id in close],
            )
            self._add_shards(arn, create, now)

    def append(
        self, arn: str, records: Sequence[NewRecord], now: float, ordering_floor: int = 0
    ) -> list[int]:
        with self.db.transaction():
            conn = self.db.conn
            last: dict[int, int] = {}
            arrived = now
            for key, counter, last_arrival in conn.execute(
                "SELECT key, last_counter, last_arrival FROM kinesis_shards WHERE stream_arn = ?"
                f" ORDER BY key{self.db.dialect.for_update}",
                (arn,),
            ).fetchall():
                last[key] = counter
                arrived = max(arrived, last_arrival)
            now = arrived
            counters: list[int] = []
            rows: list[tuple[int, float, str, bytes]] = []
            for shard_key, partition_key, data in records:
                counter = max(last[shard_key], ordering_floor) + 1
                last[shard_key] = counter
                counters.append(counter)
                rows.append(((shard_key << COUNTER_BITS) | counter, now, partition_key, data))
            conn.executemany(
                "INSERT INTO kinesis_records (id, arrival, partition_key, data)"
                " VALUES (?, ?, ?, ?)",
                rows,
            )
            touched = {shard_key for shard_key, _, _ in records}
            conn.executemany(
                "UPDATE kinesis_shards SET last_counter = ?, last_arrival = ? WHERE key = ?",
                [(last[k], now, k) for k in touched],
            )
        return counters

    def _first_live_id(self, base: int, after_id: int, min_arrival: float) -> int | None:
        """The first record id > ``after_id`` in the shard that arrived at or after ``min_arrival``.

        Arrival times never decrease within a shard (the service guarantees it), so this is
        a binary search over rowids: O(log n) point queries instead of a scan of expired rows.
        """
        conn = self.db.conn
        top = base | COUNTER_MASK
        first = conn.execute(
            "SELECT id, arrival FROM kinesis_records WHERE id > ? AND id <= ? ORDER BY id LIMIT 1",
            (after_id, top),
        ).fetchone()
        if first is None or first[1] >= min_arrival:
            return None if first is None else int(first[0])
        last = conn.execute(
            "SELECT id, arrival FROM kinesis_records WHERE id > ? AND id <= ?"
            " ORDER BY id DESC LIMIT 1",
            (after_id, top),
        ).fetchone()
        if last[1] < min_arrival:
            return None
        # Invariant: the first record at or after id ``low`` expired, the first at or after
        # ``high`` did not (ids may have gaps; ``last_id`` bounds every lookup and exists).
        low, high = int(first[0]), int(last[0])
        last_id = high
        while high - low > 1:
            middle = (low + high) // 2
            row = conn.execute(
                "SELECT arrival FROM kinesis_records WHERE id >= ? AND id <= ? ORDER BY id LIMIT 1",
                (middle, last_id),
            ).fetchone()
            if row[0] >= min_arrival:
                high = middle
            else:
                low = middle
        row = conn.execute(
            "SELECT id FROM kinesis_records WHERE id >= ? AND id <= ? ORDER BY id LIMIT 1",
            (high, top),
        ).fetchone()
        return int(row[0])

    def read(
        self, shard_key: int, after_counter: int, limit: int, max_bytes: int, min_arrival: float
    ) -> list[StoredRecord]:
        base = shard_key << COUNTER_BITS
        found: list[StoredRecord] = []
        size = 0
        with self.db.read():
            start = base | after_counter
            first = self._first_live_id(base, start, min_arrival)
            if first is None:
                return []
            rows = self.db.conn.execute(
                "SELECT id, arrival, partition_key, data FROM kinesis_records"
                " WHERE id >= ? AND id <= ? ORDER BY id LIMIT ?",
                (first, base | COUNTER_MASK, limit),
            ).fetchall()
        for rowid, arrival, partition_key, data in rows:
            if found and size + len(data) > max_bytes:
                break
            size += len(data)
            found.append(StoredRecord(rowid & COUNTER_MASK, arrival, partition_key, bytes(data)))
        return found

    def first_counter_at(self, shard_key: int, min_arrival: float) -> int | None:
        base = shard_key << COUNTER_BITS
        with self.db.read():
            first = self._first_live_id(base, base, min_arrival)
        return None if first is None else first & COUNTER_MASK

    def trim(self, shard_key: int, before_arrival: float) -> int:
        base = shard_key << COUNTER_BITS
        with self.db.transaction():
            first = self._first_live_id(base, base, before_arrival)
            end = base | COUNTER_MASK if first is None else first - 1
            cursor = self.db.conn.execute(
                "DELETE FROM kinesis_records WHERE id > ? AND id <= ?", (base, end)
            )
            return cursor.rowcount


def _stream(row: Any) -> StreamRow:
    return StreamRow(
        arn=str(row[0]),
        name=str(row[1]),
        region=str(row[2]),
        account=str(row[3]),
        created=float(row[4]),
        retention_hours=int(row[5]),
        mode=str(row[6]),
        next_shard_index=int(row[7]),
        max_record_kib=int(row[8]),
        tags=json.loads(str(row[9])),
    )
