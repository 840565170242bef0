"""Where EventBridge lives: event buses and rules (with their targets) in portable SQL.

A rule's targets are kept in the rule's row (a rule has at most five), so PutTargets and
RemoveTargets rewrite one row. A scheduled rule's next firing time has its own column: the
scheduler reads the rules that are due with one indexed query and claims a firing by moving
that column on (compare and set), so a firing is sent once even when two nodes share the
database or headwater stops halfway through a tick.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import orjson

from headwater.store.database import Database
from headwater.store.documents import DocumentTable

_MIGRATIONS = [
    """
    CREATE TABLE events_buses (
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        name TEXT NOT NULL,
        body BLOB NOT NULL,
        PRIMARY KEY (account, region, name)
    );
    CREATE TABLE events_rules (
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        bus TEXT NOT NULL,
        name TEXT NOT NULL,
        body BLOB NOT NULL,
        next_fire REAL,
        PRIMARY KEY (account, region, bus, name)
    );
    CREATE INDEX events_rules_due ON events_rules(next_fire)
    """,
]


@dataclass(slots=True)
class BusRecord:
    name: str
    arn: str
    created: float
    modified: float
    description: str | None = None
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class RuleRecord:
    name: str
    bus: str
    arn: str
    #: When the rule was first put.
    created: float
    state: str = "ENABLED"
    event_pattern: str | None = None
    schedule: str | None = None
    description: str | None = None
    role_arn: str | None = None
    managed_by: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    #: When the current ScheduleExpression was put: a rate counts its periods from it.
    scheduled_since: float | None = None
    #: Targets as PutTargets took them (boto3-shaped dicts), in the order they were put.
    targets: list[dict[str, Any]] = field(default_factory=list)

    @property
    def enabled(self) -> bool:
        return self.state == "ENABLED"


@dataclass(frozen=True, slots=True)
class DueRule:
    """A scheduled rule whose next firing time has come."""

    account: str
    region: str
    rule: RuleRecord
    next_fire: float


def _rule(body: bytes | str) -> RuleRecord:
    return RuleRecord(**orjson.loads(body))


class EventsStore:
    """Buses and rules; every method joins the caller's transaction (reads stand alone
    outside one, so the scheduler's look for due rules never takes the write lock)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        db.migrate("events", _MIGRATIONS)
        self._buses = DocumentTable(db, "events_buses", ("account", "region", "name"))

    # ---- buses ----

    def get_bus(self, account: str, region: str, name: str) -> BusRecord | None:
        body = self._buses.get((account, region, name))
        return None if body is None else BusRecord(**body)

    def insert_bus(self, account: str, region: str, bus: BusRecord) -> bool:
        """Store a new bus; ``False`` if one of that name exists."""
        return self._buses.insert((account, region, bus.name), asdict(bus))

    def put_bus(self, account: str, region: str, bus: BusRecord) -> None:
        self._buses.put((account, region, bus.name), asdict(bus))

    def delete_bus(self, account: str, region: str, name: str) -> None:
        """Delete a bus and its rules."""
        with self.db.transaction():
            self.db.conn.execute(
                "DELETE FROM events_rules WHERE account = ? AND region = ? AND bus = ?",
                (account, region, name),
            )
            self.db.conn.execute(
                "DELETE FROM events_buses WHERE account = ? AND region = ? AND name = ?",
                (account, region, name),
            )

    def buses(self, account: str, region: str) -> list[BusRecord]:
        return [BusRecord(**body) for body in self._buses.all((account, region))]

    # ---- rules ----

    def get_rule(self, account: str, region: str, bus: str, name: str) -> RuleRecord | None:
        with self.db.read():
            row = self.db.conn.execute(
                "SELECT body FROM events_rules"
                " WHERE account = ? AND region = ? AND bus = ? AND name = ?",
                (account, region, bus, name),
            ).fetchone()
        return None if row is None else _rule(row[0])

    def put_rule(
        self, account: str, region: str, rule: RuleRecord, next_fire: float | None
    ) -> None:
        """Store ``rule`` (new or changed) with its next scheduled firing (or none)."""
        with self.db.transaction():
            self.db.conn.execute(
                "INSERT INTO events_rules(account, region, bus, name, body, next_fire)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (account, region, bus, name)"
                " DO UPDATE SET body = excluded.body, next_fire = excluded.next_fire",
                (account, region, rule.bus, rule.name, orjson.dumps(asdict(rule)), next_fire),
            )

    def update_rule_body(self, account: str, region: str, rule: RuleRecord) -> None:
        """Store a changed rule whose schedule and state did not change (targets, tags)."""
        with self.db.transaction():
            self.db.conn.execute(
                "UPDATE events_rules SET body = ?"
                " WHERE account = ? AND region = ? AND bus = ? AND name = ?",
                (orjson.dumps(asdict(rule)), account, region, rule.bus, rule.name),
            )

    def delete_rule(self, account: str, region: str, bus: str, name: str) -> None:
        with self.db.transaction():
            self.db.conn.execute(
                "DELETE FROM events_rules"
                " WHERE account = ? AND region = ? AND bus = ? AND name = ?",
                (account, region, bus, name),
            )

    def rules(self, account: str, region: str, bus: str) -> list[RuleRecord]:
        """The rules of a bus, by name."""
        with self.db.read():
            rows = self.db.conn.execute(
                "SELECT body FROM events_rules WHERE account = ? AND region = ? AND bus = ?"
                " ORDER BY name",
                (account, region, bus),
            ).fetchall()
        return [_rule(row[0]) for row in rows]

    def all_rules(self, account: str, region: str) -> list[RuleRecord]:
        """Every rule of an account and region (every bus), by bus then name."""
        with self.db.read():
            rows = self.db.conn.execute(
                "SELECT body FROM events_rules WHERE account = ? AND region = ? ORDER BY bus, name",
                (account, region),
            ).fetchall()
        return [_rule(row[0]) for row in rows]

    # ---- schedules ----

    def due(self, now: float) -> list[DueRule]:
        """Scheduled rules whose next firing is at or before ``now``, earliest first."""
        with self.db.read():
            rows = self.db.conn.execute(
                "SELECT account, region, body, next_fire FROM events_rules"
                " WHERE next_fire IS NOT NULL AND next_fire <= ? ORDER BY next_fire",
                (now,),
            ).fetchall()
        return [DueRule(str(a), str(r), _rule(body), float(fire)) for a, r, body, fire in rows]

    def claim_firing(self, due: DueRule, following: float | None) -> bool:
        """Move a due rule's next firing from ``due.next_fire`` to ``following``; ``False``
        if someone else (another node, a change to the rule) moved it first."""
        with self.db.transaction():
            cursor = self.db.conn.execute(
                "UPDATE events_rules SET next_fire = ?"
                " WHERE account = ? AND region = ? AND bus = ? AND name = ? AND next_fire = ?",
                (following, due.account, due.region, due.rule.bus, due.rule.name, due.next_fire),
            )
            return cursor.rowcount > 0
