"""Record journeys: what happened to one message or stream record, in order.

Each step is a row (record id, sequence, clock time, kind, where, detail JSON) written in
batches by the recorder; rows older than the configured window are pruned, so the cost is
bounded in time and space. ``headwater trace`` and the dashboard read them back by id.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from headwater.store.database import Database

_MIGRATIONS = [
    """
    CREATE TABLE journey_steps (
        record_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        at REAL NOT NULL,
        kind TEXT NOT NULL,
        place TEXT NOT NULL,
        detail TEXT NOT NULL,
        PRIMARY KEY (record_id, seq)
    );
    CREATE INDEX journey_steps_at ON journey_steps(at);
    CREATE TABLE journey_counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)
    """,
]


@dataclass(frozen=True, slots=True)
class Step:
    """One step of a record's journey."""

    record_id: str
    at: float
    kind: str
    #: The queue, stream, mapping or function it happened at (ARN or name).
    place: str
    detail: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"at": self.at, "kind": self.kind, "place": self.place, **self.detail}


class JourneyStore:
    """Journey steps in portable SQL; every method joins the caller's transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db
        db.migrate("journeys", _MIGRATIONS)

    def add(self, steps: Sequence[Step]) -> None:
        if not steps:
            return
        conn = self.db.conn
        with self.db.transaction():
            row = conn.execute(
                "INSERT INTO journey_counters(name, value) VALUES ('steps', ?)"
                " ON CONFLICT (name) DO UPDATE SET value = journey_counters.value + ?"
                " RETURNING value",
                (len(steps), len(steps)),
            ).fetchone()
            first = int(row[0]) - len(steps) + 1
            conn.executemany(
                "INSERT INTO journey_steps(record_id, seq, at, kind, place, detail)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (s.record_id, first + i, s.at, s.kind, s.place, orjson.dumps(s.detail).decode())
                    for i, s in enumerate(steps)
                ],
            )

    def journey(self, record_id: str) -> list[Step]:
        """Every retained step of ``record_id``, oldest first."""
        with self.db.transaction():
            rows = self.db.conn.execute(
                "SELECT at, kind, place, detail FROM journey_steps WHERE record_id = ?"
                " ORDER BY seq",
                (record_id,),
            ).fetchall()
        return [
            Step(record_id, at, kind, place, orjson.loads(detail))
            for at, kind, place, detail in rows
        ]

    def recent(self, limit: int = 50, kinds: Sequence[str] | None = None) -> list[Step]:
        """The newest steps (of some kinds), newest first."""
        sql = "SELECT record_id, at, kind, place, detail FROM journey_steps"
        args: list[object] = []
        if kinds:
            sql += f" WHERE kind IN ({', '.join('?' * len(kinds))})"
            args.extend(kinds)
        sql += " ORDER BY seq DESC LIMIT ?"
        args.append(limit)
        with self.db.transaction():
            rows = self.db.conn.execute(sql, args).fetchall()
        return [
            Step(rid, at, kind, place, orjson.loads(detail))
            for rid, at, kind, place, detail in rows
        ]

    def prune(self, before: float) -> int:
        """Forget steps older than clock time ``before``."""
        with self.db.transaction():
            cursor = self.db.conn.execute("DELETE FROM journey_steps WHERE at < ?", (before,))
        return cursor.rowcount
