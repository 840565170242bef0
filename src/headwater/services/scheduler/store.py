"""Where EventBridge Scheduler lives: schedule groups and schedules in portable SQL.

A schedule's next firing time has its own indexed column, as a scheduled EventBridge
rule's has (``events.store``): the ticker reads the schedules that are due with one query
and claims a firing by moving that column on (compare and set), so a firing is sent once
even when two nodes share the database.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import orjson

from headwater.store.database import Database
from headwater.store.documents import DocumentTable

_MIGRATIONS = [
    """
    CREATE TABLE scheduler_groups (
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        name TEXT NOT NULL,
        body BLOB NOT NULL,
        PRIMARY KEY (account, region, name)
    );
    CREATE TABLE scheduler_schedules (
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        grp TEXT NOT NULL,
        name TEXT NOT NULL,
        body BLOB NOT NULL,
        next_fire REAL,
        PRIMARY KEY (account, region, grp, name)
    );
    CREATE INDEX scheduler_schedules_due ON scheduler_schedules(next_fire)
    """,
]


@dataclass(slots=True)
class GroupRecord:
    name: str
    arn: str
    created: float
    modified: float
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class ScheduleRecord:
    name: str
    group: str
    arn: str
    created: float
    modified: float
    expression: str
    timezone: str
    state: str
    #: Target, FlexibleTimeWindow as put (boto3-shaped), RetryPolicy filled in.
    target: dict[str, Any]
    flexible_window: dict[str, Any]
    action_after_completion: str = "NONE"
    description: str | None = None
    start: float | None = None
    end: float | None = None
    kms_key: str | None = None

    @property
    def enabled(self) -> bool:
        return self.state == "ENABLED"


@dataclass(frozen=True, slots=True)
class DueSchedule:
    account: str
    region: str
    schedule: ScheduleRecord
    next_fire: float


def _schedule(body: bytes | str) -> ScheduleRecord:
    return ScheduleRecord(**orjson.loads(body))


class SchedulerStore:
    """Groups and schedules; every method joins the caller's transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db
        db.migrate("scheduler", _MIGRATIONS)
        self._groups = DocumentTable(db, "scheduler_groups", ("account", "region", "name"))

    # ---- groups ----

    def get_group(self, account: str, region: str, name: str) -> GroupRecord | None:
        body = self._groups.get((account, region, name))
        return None if body is None else GroupRecord(**body)

    def put_group(self, account: str, region: str, group: GroupRecord) -> None:
        self._groups.put((account, region, group.name), asdict(group))

    def delete_group(self, account: str, region: str, name: str) -> None:
        """Delete a group and its schedules."""
        with self.db.transaction():
            self.db.conn.execute(
                "DELETE FROM scheduler_schedules WHERE account = ? AND region = ? AND grp = ?",
                (account, region, name),
            )
            self.db.conn.execute(
                "DELETE FROM scheduler_groups WHERE account = ? AND region = ? AND name = ?",
                (account, region, name),
            )

    def groups(self, account: str, region: str) -> list[GroupRecord]:
        return [GroupRecord(**body) for body in self._groups.all((account, region))]

    # ---- schedules ----

    def get_schedule(
        self, account: str, region: str, group: str, name: str
    ) -> ScheduleRecord | None:
        with self.db.read():
            row = self.db.conn.execute(
                "SELECT body FROM scheduler_schedules"
                " WHERE account = ? AND region = ? AND grp = ? AND name = ?",
                (account, region, group, name),
            ).fetchone()
        return None if row is None else _schedule(row[0])

    def put_schedule(
        self, account: str, region: str, schedule: ScheduleRecord, next_fire: float | None
    ) -> None:
        with self.db.transaction():
            self.db.conn.execute(
                "INSERT INTO scheduler_schedules(account, region, grp, name, body, next_fire)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (account, region, grp, name)"
                " DO UPDATE SET body = excluded.body, next_fire = excluded.next_fire",
                (
                    account,
                    region,
                    schedule.group,
                    schedule.name,
                    orjson.dumps(asdict(schedule)),
                    next_fire,
                ),
            )

    def delete_schedule(self, account: str, region: str, group: str, name: str) -> bool:
        with self.db.transaction():
            cursor = self.db.conn.execute(
                "DELETE FROM scheduler_schedules"
                " WHERE account = ? AND region = ? AND grp = ? AND name = ?",
                (account, region, group, name),
            )
            return cursor.rowcount > 0

    def schedules(self, account: str, region: str) -> list[ScheduleRecord]:
        """Every schedule of an account and region, by group then name."""
        with self.db.read():
            rows = self.db.conn.execute(
                "SELECT body FROM scheduler_schedules WHERE account = ? AND region = ?"
                " ORDER BY grp, name",
                (account, region),
            ).fetchall()
        return [_schedule(row[0]) for row in rows]

    def due(self, now: float) -> list[DueSchedule]:
        """Schedules whose next firing is at or before ``now``, earliest first."""
        with self.db.read():
            rows = self.db.conn.execute(
                "SELECT account, region, body, next_fire FROM scheduler_schedules"
                " WHERE next_fire IS NOT NULL AND next_fire <= ? ORDER BY next_fire",
                (now,),
            ).fetchall()
        return [
            DueSchedule(str(a), str(r), _schedule(body), float(fire)) for a, r, body, fire in rows
        ]

    def claim_firing(self, due: DueSchedule, following: float | None) -> bool:
        """Move a due schedule's next firing on; ``False`` if someone moved it first."""
        s = due.schedule
        with self.db.transaction():
            cursor = self.db.conn.execute(
                "UPDATE scheduler_schedules SET next_fire = ?"
                " WHERE account = ? AND region = ? AND grp = ? AND name = ? AND next_fire = ?",
                (following, due.account, due.region, s.group, s.name, due.next_fire),
            )
            return cursor.rowcount > 0
