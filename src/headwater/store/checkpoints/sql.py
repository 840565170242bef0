"""The checkpoint store: one row per mapping and shard, portable SQL for every backend."""

from __future__ import annotations

from typing import Any

import orjson

from headwater.store.checkpoints import Checkpoint
from headwater.store.database import Database
from headwater.store.leases import Lease, LeaseLost, LeaseStore

_MIGRATIONS = [
    """
    CREATE TABLE esm_checkpoints (
        mapping_uuid TEXT NOT NULL,
        shard_id TEXT NOT NULL,
        sequence_number TEXT,
        finished INTEGER NOT NULL,
        "window" BLOB,
        PRIMARY KEY (mapping_uuid, shard_id)
    ) WITHOUT ROWID
    """,
]


def _row(shard_id: str, row: tuple[Any, ...]) -> Checkpoint:
    window = None if row[2] is None else orjson.loads(row[2])
    return Checkpoint(shard_id, row[0], bool(row[1]), window)


class SqlCheckpointStore:
    """Checkpoints in table ``esm_checkpoints``."""

    def __init__(self, db: Database) -> None:
        self._db = db
        db.migrate("checkpoints", _MIGRATIONS)

    def get(self, mapping_uuid: str, shard_id: str) -> Checkpoint | None:
        with self._db.read():
            row = self._db.conn.execute(
                'SELECT sequence_number, finished, "window" FROM esm_checkpoints'
                " WHERE mapping_uuid = ? AND shard_id = ?",
                (mapping_uuid, shard_id),
            ).fetchone()
        return None if row is None else _row(shard_id, row)

    def list(self, mapping_uuid: str) -> dict[str, Checkpoint]:
        with self._db.read():
            rows = self._db.conn.execute(
                'SELECT shard_id, sequence_number, finished, "window" FROM esm_checkpoints'
                " WHERE mapping_uuid = ?",
                (mapping_uuid,),
            ).fetchall()
        return {r[0]: _row(r[0], r[1:]) for r in rows}

    def save(self, mapping_uuid: str, checkpoint: Checkpoint, fence: Lease | None = None) -> None:
        window = None if checkpoint.window is None else orjson.dumps(checkpoint.window)
        with self._db.transaction():
            if fence is not None and not self._db.store(LeaseStore).holds(fence):
                raise LeaseLost(f"{fence.resource}: the lease moved to another node")
            self._db.conn.execute(
                "INSERT INTO esm_checkpoints"
                ' (mapping_uuid, shard_id, sequence_number, finished, "window")'
                " VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (mapping_uuid, shard_id) DO UPDATE SET"
                " sequence_number = excluded.sequence_number,"
                ' finished = excluded.finished, "window" = excluded."window"',
                (
                    mapping_uuid,
                    checkpoint.shard_id,
                    checkpoint.sequence_number,
                    int(checkpoint.finished),
                    window,
                ),
            )

    def delete_mapping(self, mapping_uuid: str) -> int:
        with self._db.transaction():
            cursor = self._db.conn.execute(
                "DELETE FROM esm_checkpoints WHERE mapping_uuid = ?", (mapping_uuid,)
            )
            return int(cursor.rowcount)
