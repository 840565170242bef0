"""Alarms and their history, in portable SQL over ``db.conn``.

An alarm row holds its configuration (the PutMetricAlarm / PutCompositeAlarm parameters
as given, JSON) and its state (value, reason, timestamps, JSON) separately, so an
evaluation rewrites only the state. History items outlive their alarm, as in CloudWatch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from headwater.store.database import Database

_MIGRATIONS = [
    """
    CREATE TABLE cw_alarms (
        alarm_key TEXT PRIMARY KEY,
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        name TEXT NOT NULL,
        kind TEXT NOT NULL,
        config TEXT NOT NULL,
        state TEXT NOT NULL,
        tags TEXT NOT NULL
    );
    CREATE INDEX cw_alarms_region ON cw_alarms(account, region, name);
    CREATE TABLE cw_alarm_history (
        alarm_key TEXT NOT NULL,
        seq INTEGER NOT NULL,
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        alarm_name TEXT NOT NULL,
        alarm_type TEXT NOT NULL,
        at REAL NOT NULL,
        item_type TEXT NOT NULL,
        summary TEXT NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (alarm_key, seq)
    );
    CREATE INDEX cw_alarm_history_at ON cw_alarm_history(account, region, at);
    CREATE TABLE cw_counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)
    """,
]

#: History items are kept this long (clock seconds), like CloudWatch's 30 days.
HISTORY_SECONDS = 30 * 86400.0


@dataclass(slots=True)
class AlarmRecord:
    """One alarm: ``kind`` is "MetricAlarm" or "CompositeAlarm"."""

    account: str
    region: str
    name: str
    kind: str
    config: dict[str, Any]
    state: dict[str, Any]
    tags: list[dict[str, str]] = field(default_factory=list)

    @property
    def key(self) -> str:
        return alarm_key(self.account, self.region, self.name)

    @property
    def arn(self) -> str:
        return f"arn:aws:cloudwatch:{self.region}:{self.account}:alarm:{self.name}"


@dataclass(frozen=True, slots=True)
class HistoryItem:
    alarm_name: str
    alarm_type: str
    at: float
    item_type: str
    summary: str
    data: str


def alarm_key(account: str, region: str, name: str) -> str:
    return f"{account}\x1f{region}\x1f{name}"


class AlarmStore:
    """Alarm rows and history; every method joins the caller's transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db
        db.migrate("cloudwatch_alarms", _MIGRATIONS)

    def get(self, account: str, region: str, name: str) -> AlarmRecord | None:
        with self.db.transaction():
            row = self.db.conn.execute(
                "SELECT account, region, name, kind, config, state, tags FROM cw_alarms"
                " WHERE alarm_key = ?",
                (alarm_key(account, region, name),),
            ).fetchone()
        return None if row is None else _record(row)

    def alarms(self, account: str | None = None, region: str | None = None) -> list[AlarmRecord]:
        """Alarms of one account and region (or all of them), by name."""
        sql = "SELECT account, region, name, kind, config, state, tags FROM cw_alarms"
        args: tuple[str, ...] = ()
        if account is not None and region is not None:
            sql += " WHERE account = ? AND region = ?"
            args = (account, region)
        sql += " ORDER BY name"
        with self.db.transaction():
            rows = self.db.conn.execute(sql, args).fetchall()
        return [_record(row) for row in rows]

    def save(self, alarm: AlarmRecord) -> None:
        with self.db.transaction():
            self.db.conn.execute(
                "INSERT INTO cw_alarms(alarm_key, account, region, name, kind, config, state,"
                " tags) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (alarm_key) DO UPDATE SET"
                " kind = excluded.kind, config = excluded.config, state = excluded.state,"
                " tags = excluded.tags",
                (
                    alarm.key,
                    alarm.account,
                    alarm.region,
                    alarm.name,
                    alarm.kind,
                    _dump(alarm.config),
                    _dump(alarm.state),
                    _dump(alarm.tags),
                ),
            )

    def save_state(self, alarm: AlarmRecord) -> None:
        with self.db.transaction():
            self.db.conn.execute(
                "UPDATE cw_alarms SET state = ? WHERE alarm_key = ?",
                (_dump(alarm.state), alarm.key),
            )

    def delete(self, account: str, region: str, name: str) -> bool:
        with self.db.transaction():
            cursor = self.db.conn.execute(
                "DELETE FROM cw_alarms WHERE alarm_key = ?", (alarm_key(account, region, name),)
            )
        return cursor.rowcount > 0

    # ---- history ----

    def add_history(
        self, alarm: AlarmRecord, at: float, item_type: str, summary: str, data: Any
    ) -> None:
        conn = self.db.conn
        with self.db.transaction():
            row = conn.execute(
                "INSERT INTO cw_counters(name, value) VALUES ('history', 1)"
                " ON CONFLICT (name) DO UPDATE SET value = cw_counters.value + 1"
                " RETURNING value"
            ).fetchone()
            conn.execute(
                "INSERT INTO cw_alarm_history(alarm_key, seq, account, region, alarm_name,"
                " alarm_type, at, item_type, summary, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    alarm.key,
                    row[0],
                    alarm.account,
                    alarm.region,
                    alarm.name,
                    alarm.kind,
                    at,
                    item_type,
                    summary,
                    data if isinstance(data, str) else _dump(data),
                ),
            )
            conn.execute("DELETE FROM cw_alarm_history WHERE at < ?", (at - HISTORY_SECONDS,))

    def history(
        self,
        account: str,
        region: str,
        name: str | None,
        start: float | None,
        end: float | None,
    ) -> list[HistoryItem]:
        """History items, newest first."""
        sql = (
            "SELECT alarm_name, alarm_type, at, item_type, summary, data FROM cw_alarm_history"
            " WHERE account = ? AND region = ?"
        )
        args: list[object] = [account, region]
        if name is not None:
            sql += " AND alarm_name = ?"
            args.append(name)
        if start is not None:
            sql += " AND at >= ?"
            args.append(start)
        if end is not None:
            sql += " AND at <= ?"
            args.append(end)
        sql += " ORDER BY at DESC, seq DESC"
        with self.db.transaction():
            rows = self.db.conn.execute(sql, args).fetchall()
        return [HistoryItem(*row) for row in rows]


def _dump(value: Any) -> str:
    return orjson.dumps(value).decode()


def _record(row: tuple[Any, ...]) -> AlarmRecord:
    account, region, name, kind, config, state, tags = row
    return AlarmRecord(
        account, region, name, kind, orjson.loads(config), orjson.loads(state), orjson.loads(tags)
    )
