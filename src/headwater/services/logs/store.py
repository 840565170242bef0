"""Where CloudWatch Logs lives: log groups, streams and events in portable SQL over ``db.conn``.

Events carry a store-wide sequence number (kept in a counter row), which orders events
that share a millisecond and gives each its ``eventId``. ``headwater logs`` opens this
store on a data directory without a server, so every read is a plain query.
"""

from __future__ import annotations

import functools
import itertools
import operator
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import orjson

from headwater.store.database import Database

_MIGRATIONS = [
    """
    CREATE TABLE logs_groups (
        group_key TEXT PRIMARY KEY,
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        name TEXT NOT NULL,
        created INTEGER NOT NULL,
        retention_days INTEGER,
        kms_key TEXT,
        group_class TEXT NOT NULL,
        tags TEXT NOT NULL,
        stored_bytes INTEGER NOT NULL
    );
    CREATE INDEX logs_groups_name ON logs_groups(account, region, name);
    CREATE TABLE logs_streams (
        group_key TEXT NOT NULL,
        name TEXT NOT NULL,
        created INTEGER NOT NULL,
        first_event INTEGER,
        last_event INTEGER,
        last_ingestion INTEGER,
        stored_bytes INTEGER NOT NULL,
        PRIMARY KEY (group_key, name)
    );
    CREATE TABLE logs_events (
        group_key TEXT NOT NULL,
        seq INTEGER NOT NULL,
        stream_name TEXT NOT NULL,
        ts INTEGER NOT NULL,
        ingested INTEGER NOT NULL,
        message TEXT NOT NULL,
        PRIMARY KEY (group_key, seq)
    );
    CREATE INDEX logs_events_time ON logs_events(group_key, ts, seq);
    CREATE INDEX logs_events_stream ON logs_events(group_key, stream_name, seq);
    CREATE TABLE logs_counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)
    """,
    """
    CREATE TABLE logs_metric_filters (
        group_key TEXT NOT NULL,
        name TEXT NOT NULL,
        body TEXT NOT NULL,
        PRIMARY KEY (group_key, name)
    )
    """,
    """
    CREATE TABLE logs_subscription_filters (
        group_key TEXT NOT NULL,
        name TEXT NOT NULL,
        body TEXT NOT NULL,
        PRIMARY KEY (group_key, name)
    )
    """,
]

#: The ``Database.version`` component that changes with any group's metric filters.
METRIC_FILTERS_VERSION = "logs-metric-filters"
#: The ``Database.version`` component that changes with any group's subscription filters.
SUBSCRIPTION_FILTERS_VERSION = "logs-subscription-filters"


@dataclass(slots=True)
class LogGroup:
    account: str
    region: str
    name: str
    created: int
    retention_days: int | None = None
    kms_key: str | None = None
    group_class: str = "STANDARD"
    tags: dict[str, str] = field(default_factory=dict)
    stored_bytes: int = 0

    @property
    def key(self) -> str:
        return group_key(self.account, self.region, self.name)

    @property
    def arn(self) -> str:
        return f"arn:aws:logs:{self.region}:{self.account}:log-group:{self.name}"


@dataclass(frozen=True, slots=True)
class LogStream:
    name: str
    created: int
    first_event: int | None
    last_event: int | None
    last_ingestion: int | None
    stored_bytes: int


@dataclass(frozen=True, slots=True)
class LogEvent:
    seq: int
    stream_name: str
    timestamp: int
    ingested: int
    message: str

    @property
    def event_id(self) -> str:
        return f"{self.seq:056d}"


class Appended(NamedTuple):
    """What one append stored: its bytes, and the sequence number of its first event."""

    size: int
    first_seq: int


#: Events one INSERT stores (2 parameters each and 4 for the whole page: within SQLite's
#: oldest limit of 999).
INSERT_PAGE = 400


@functools.lru_cache(maxsize=16)
def _insert_events_sql(rows: int) -> str:
    # The columns every event of an append shares (group, stream, ingestion time) and the
    # first seq are bound once per page; each event binds only its timestamp and message
    # (column1 is its offset in the page). Binding is done holding the GIL, which the
    # thread invoking functions then waits for: a third of the parameters of one
    # (?, ?, ?, ?, ?, ?) row per event. VALUES columns are named column1.. in SQLite and
    # PostgreSQL alike.
    return (
        "INSERT INTO logs_events(group_key, seq, stream_name, ts, ingested, message)"
        " SELECT ?, ? + column1, ?, column2, ?, column3 FROM (VALUES "
        + ", ".join(f"({offset}, ?, ?)" for offset in range(rows))
        + ") AS page"
    )


#: Events ``trim`` reads per query while it looks for where to cut.
TRIM_PAGE = 2000


#: Bytes CloudWatch Logs counts for an event besides its UTF-8 message.
_STORED_OVERHEAD = 26
_TIMESTAMP = operator.itemgetter(0)
_MESSAGE = operator.itemgetter(1)


def stored_size(messages: str, events: int = 1) -> int:
    """Bytes ``events`` events count for, ``messages`` being their messages joined: their
    UTF-8 bytes plus 26 each, as CloudWatch Logs counts."""
    utf8 = len(messages) if messages.isascii() else len(messages.encode("utf-8"))
    return utf8 + _STORED_OVERHEAD * events


def group_key(account: str, region: str, name: str) -> str:
    return f"{account}\x1f{region}\x1f{name}"


_GROUP_COLUMNS = (
    "account, region, name, created, retention_days, kms_key, group_class, tags, stored_bytes"
)


def _group(row: Sequence[object]) -> LogGroup:
    account, region, name, created, retention, kms, group_class, tags, stored = row
    return LogGroup(
        str(account),
        str(region),
        str(name),
        int(created),  # type: ignore[call-overload]
        None if retention is None else int(retention),  # type: ignore[call-overload]
        None if kms is None else str(kms),
        str(group_class),
        orjson.loads(tags),  # type: ignore[arg-type]
        int(stored),  # type: ignore[call-overload]
    )


class LogStore:
    """Groups, streams and events; every method joins the caller's transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db
        db.migrate("logs", _MIGRATIONS)

    # ---- groups ----

    def get_group(self, account: str, region: str, name: str) -> LogGroup | None:
        with self.db.transaction():
            row = self.db.conn.execute(
                f"SELECT {_GROUP_COLUMNS} FROM logs_groups WHERE group_key = ?",
                (group_key(account, region, name),),
            ).fetchone()
        return None if row is None else _group(row)

    def groups(self, account: str | None = None, region: str | None = None) -> list[LogGroup]:
        """Log groups of an account and region (or every group), by name."""
        sql = f"SELECT {_GROUP_COLUMNS} FROM logs_groups"
        args: tuple[str, ...] = ()
        if account is not None and region is not None:
            sql += " WHERE account = ? AND region = ?"
            args = (account, region)
        with self.db.transaction():
            rows = self.db.conn.execute(sql + " ORDER BY name", args).fetchall()
        return [_group(row) for row in rows]

    def insert_group(self, group: LogGroup) -> bool:
        """Create ``group``; False when it exists already."""
        with self.db.transaction():
            cursor = self.db.conn.execute(
                f"INSERT INTO logs_groups(group_key, {_GROUP_COLUMNS})"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (group_key) DO NOTHING",
                (
                    group.key,
                    group.account,
                    group.region,
                    group.name,
                    group.created,
                    group.retention_days,
                    group.kms_key,
                    group.group_class,
                    orjson.dumps(group.tags).decode(),
                    group.stored_bytes,
                ),
            )
        return cursor.rowcount > 0

    def update_group(self, group: LogGroup) -> None:
        with self.db.transaction():
            self.db.conn.execute(
                "UPDATE logs_groups SET retention_days = ?, kms_key = ?, tags = ?"
                " WHERE group_key = ?",
                (group.retention_days, group.kms_key, orjson.dumps(group.tags).decode(), group.key),
            )

    def delete_group(self, group: LogGroup) -> None:
        conn = self.db.conn
        with self.db.transaction():
            for table in ("logs_events", "logs_streams", "logs_groups"):
                conn.execute(f"DELETE FROM {table} WHERE group_key = ?", (group.key,))
            cursor = conn.execute(
                "DELETE FROM logs_metric_filters WHERE group_key = ?", (group.key,)
            )
            if cursor.rowcount:
                self.db.bump(METRIC_FILTERS_VERSION)
            cursor = conn.execute(
                "DELETE FROM logs_subscription_filters WHERE group_key = ?", (group.key,)
            )
            if cursor.rowcount:
                self.db.bump(SUBSCRIPTION_FILTERS_VERSION)

    # ---- streams ----

    def insert_stream(self, group: LogGroup, name: str, created: int) -> bool:
        with self.db.transaction():
            cursor = self.db.conn.execute(
                "INSERT INTO logs_streams(group_key, name, created, stored_bytes)"
                " VALUES (?, ?, ?, 0) ON CONFLICT (group_key, name) DO NOTHING",
                (group.key, name, created),
            )
        return cursor.rowcount > 0

    def get_stream(self, group: LogGroup, name: str) -> LogStream | None:
        with self.db.transaction():
            row = self.db.conn.execute(
                "SELECT name, created, first_event, last_event, last_ingestion, stored_bytes"
                " FROM logs_streams WHERE group_key = ? AND name = ?",
                (group.key, name),
            ).fetchone()
        return None if row is None else LogStream(*row)

    def streams(self, group: LogGroup, prefix: str = "") -> list[LogStream]:
        with self.db.transaction():
            rows = self.db.conn.execute(
                "SELECT name, created, first_event, last_event, last_ingestion, stored_bytes"
                " FROM logs_streams WHERE group_key = ? AND name >= ? ORDER BY name",
                (group.key, prefix),
            ).fetchall()
        return [LogStream(*row) for row in rows if str(row[0]).startswith(prefix)]

    def delete_stream(self, group: LogGroup, name: str) -> bool:
        conn = self.db.conn
        with self.db.transaction():
            conn.execute(
                "DELETE FROM logs_events WHERE group_key = ? AND stream_name = ?",
                (group.key, name),
            )
            cursor = conn.execute(
                "DELETE FROM logs_streams WHERE group_key = ? AND name = ?", (group.key, name)
            )
        return cursor.rowcount > 0

    # ---- events ----

    def append(
        self, group: LogGroup, stream: str, events: Sequence[tuple[int, str]], ingested: int
    ) -> int:
        """Store ``(timestamp ms, message)`` events in ``stream``; returns bytes stored."""
        return self.append_events(group, stream, events, ingested).size

    def append_events(
        self, group: LogGroup, stream: str, events: Sequence[tuple[int, str]], ingested: int
    ) -> Appended:
        """``append``, answering the bytes stored and the first event's sequence number
        (the events are numbered from it in order: subscription deliveries carry their ids)."""
        if not events:
            return Appended(0, 0)
        # The UTF-8 length of all messages at once, not one by one.
        size = stored_size("".join(map(_MESSAGE, events)), len(events))
        stamps = list(map(_TIMESTAMP, events))
        return self.append_pairs(
            group,
            stream,
            list(itertools.chain.from_iterable(events)),
            size=size,
            first=min(stamps),
            last=max(stamps),
            ingested=ingested,
        )

    def append_pairs(
        self,
        group: LogGroup,
        stream: str,
        pairs: list[int | str],
        *,
        size: int,
        first: int,
        last: int,
        ingested: int,
    ) -> Appended:
        """``append`` for a writer that queued its events flat, ``[timestamp ms, message,
        timestamp ms, message, ...]``, and kept their stored ``size`` (UTF-8 bytes plus 26
        each) and ``first`` and ``last`` timestamps as it queued them: the function log
        sink, whose flush then does no per-event Python work. Returns ``size`` and the
        first event's sequence number."""
        count = len(pairs) // 2
        if not count:
            return Appended(0, 0)
        conn = self.db.conn
        key = group.key
        with self.db.transaction():
            row = conn.execute(
                "INSERT INTO logs_counters(name, value) VALUES ('events', ?)"
                " ON CONFLICT (name) DO UPDATE SET value = logs_counters.value + ?"
                " RETURNING value",
                (count, count),
            ).fetchone()
            first_seq = int(row[0]) - count + 1
            # Many rows per INSERT, not executemany: one statement step per page instead of
            # one per event (the sqlite3 module lets go of the GIL around each step, and the
            # thread invoking functions then waits to get it back, per event).
            # Full pages, then the rest in power-of-two pages: a handful of statement
            # shapes, prepared once and kept in the connection's statement cache, where
            # a page of whatever was left would compile a new statement on most flushes.
            start = 0
            while start < count:
                rows = min(INSERT_PAGE, count - start)
                if rows < INSERT_PAGE:
                    rows = 1 << (rows.bit_length() - 1)
                page = pairs[2 * start : 2 * (start + rows)]
                conn.execute(
                    _insert_events_sql(rows), [key, first_seq + start, stream, ingested, *page]
                )
                start += rows
            current = conn.execute(
                "SELECT first_event, last_event FROM logs_streams WHERE group_key = ? AND name = ?",
                (key, stream),
            ).fetchone()
            if current is not None:
                if current[0] is not None:
                    first = min(first, int(current[0]))
                if current[1] is not None:
                    last = max(last, int(current[1]))
            conn.execute(
                "UPDATE logs_streams SET first_event = ?, last_event = ?, last_ingestion = ?,"
                " stored_bytes = stored_bytes + ? WHERE group_key = ? AND name = ?",
                (first, last, ingested, size, key, stream),
            )
            conn.execute(
                "UPDATE logs_groups SET stored_bytes = stored_bytes + ? WHERE group_key = ?",
                (size, key),
            )
        return Appended(size, first_seq)

    def events(
        self,
        group: LogGroup,
        *,
        streams: Iterable[str] | None = None,
        start: int | None = None,
        end: int | None = None,
        after: tuple[int, int] | None = None,
        limit: int = 10_000,
    ) -> list[LogEvent]:
        """Events in time order (then sequence), after the ``(timestamp, seq)`` cursor."""
        sql = "SELECT seq, stream_name, ts, ingested, message FROM logs_events WHERE group_key = ?"
        args: list[object] = [group.key]
        if start is not None:
            sql += " AND ts >= ?"
            args.append(start)
        if end is not None:
            sql += " AND ts <= ?"
            args.append(end)
        if after is not None:
            sql += " AND (ts > ? OR (ts = ? AND seq > ?))"
            args.extend((after[0], after[0], after[1]))
        names = None if streams is None else list(streams)
        if names is not None:
            sql += f" AND stream_name IN ({', '.join('?' * len(names))})"
            args.extend(names)
        sql += " ORDER BY ts, seq LIMIT ?"
        args.append(limit)
        with self.db.transaction():
            rows = self.db.conn.execute(sql, args).fetchall()
        return [LogEvent(*row) for row in rows]

    def stream_events(
        self,
        group: LogGroup,
        stream: str,
        *,
        start: int | None,
        end: int | None,
        from_head: bool,
        before_seq: int | None = None,
        after_seq: int | None = None,
        limit: int,
    ) -> list[LogEvent]:
        """One stream's events in order; from the head, or the newest ``limit`` ones."""
        sql = (
            "SELECT seq, stream_name, ts, ingested, message FROM logs_events"
            " WHERE group_key = ? AND stream_name = ?"
        )
        args: list[object] = [group.key, stream]
        if start is not None:
            sql += " AND ts >= ?"
            args.append(start)
        if end is not None:
            sql += " AND ts < ?"
            args.append(end)
        if before_seq is not None:
            sql += " AND seq < ?"
            args.append(before_seq)
        if after_seq is not None:
            sql += " AND seq > ?"
            args.append(after_seq)
        descending = not from_head or before_seq is not None
        sql += f" ORDER BY seq {'DESC' if descending else 'ASC'} LIMIT ?"
        args.append(limit)
        with self.db.transaction():
            rows = self.db.conn.execute(sql, args).fetchall()
        found = [LogEvent(*row) for row in rows]
        return list(reversed(found)) if descending else found

    def expire(self, group: LogGroup, before: int) -> int:
        """Drop events older than ``before`` (ms); returns how many."""
        with self.db.transaction():
            cursor = self.db.conn.execute(
                "DELETE FROM logs_events WHERE group_key = ? AND ts < ?", (group.key, before)
            )
        return cursor.rowcount

    def trim(self, group: LogGroup, keep_bytes: int) -> int:
        """Drop the oldest events until the group holds at most ``keep_bytes``."""
        if group.stored_bytes <= keep_bytes:
            return 0
        conn = self.db.conn
        with self.db.transaction():
            excess = group.stored_bytes - keep_bytes // 2
            cut = None
            freed = 0
            # Oldest first, a page at a time, only as far as needed (about half the group).
            while freed < excess:
                rows = conn.execute(
                    "SELECT seq, message FROM logs_events WHERE group_key = ? AND seq > ?"
                    " ORDER BY seq LIMIT ?",
                    (group.key, -1 if cut is None else cut, TRIM_PAGE),
                ).fetchall()
                for seq, message in rows:
                    freed += stored_size(str(message))
                    cut = seq
                    if freed >= excess:
                        break
                if len(rows) < TRIM_PAGE:
                    break
            if cut is None:
                return 0
            conn.execute(
                "DELETE FROM logs_events WHERE group_key = ? AND seq <= ?", (group.key, cut)
            )
            stored = conn.execute(
                "SELECT stored_bytes FROM logs_groups WHERE group_key = ?", (group.key,)
            ).fetchone()
            group.stored_bytes = max(0, int(stored[0]) - freed) if stored else 0
            conn.execute(
                "UPDATE logs_groups SET stored_bytes = ? WHERE group_key = ?",
                (group.stored_bytes, group.key),
            )
        return freed

    # ---- metric filters ----

    def put_metric_filter(self, group: LogGroup, name: str, body: dict[str, Any]) -> None:
        """Create or replace the metric filter ``name`` of ``group`` (AWS-shaped ``body``)."""
        with self.db.transaction():
            self.db.conn.execute(
                "INSERT INTO logs_metric_filters(group_key, name, body) VALUES (?, ?, ?)"
                " ON CONFLICT (group_key, name) DO UPDATE SET body = excluded.body",
                (group.key, name, orjson.dumps(body).decode()),
            )
            self.db.bump(METRIC_FILTERS_VERSION)

    def delete_metric_filter(self, group: LogGroup, name: str) -> bool:
        with self.db.transaction():
            cursor = self.db.conn.execute(
                "DELETE FROM logs_metric_filters WHERE group_key = ? AND name = ?",
                (group.key, name),
            )
            if cursor.rowcount:
                self.db.bump(METRIC_FILTERS_VERSION)
        return cursor.rowcount > 0

    def metric_filters(self) -> list[tuple[str, dict[str, Any]]]:
        """Every metric filter as ``(group key, body)``, by filter name then group key."""
        with self.db.transaction():
            rows = self.db.conn.execute(
                "SELECT group_key, body FROM logs_metric_filters ORDER BY name, group_key"
            ).fetchall()
        return [(str(key), orjson.loads(body)) for key, body in rows]

    # ---- subscription filters ----

    def put_subscription_filter(self, group: LogGroup, name: str, body: dict[str, Any]) -> None:
        """Create or replace the subscription filter ``name`` of ``group`` (AWS-shaped
        ``body``)."""
        with self.db.transaction():
            self.db.conn.execute(
                "INSERT INTO logs_subscription_filters(group_key, name, body) VALUES (?, ?, ?)"
                " ON CONFLICT (group_key, name) DO UPDATE SET body = excluded.body",
                (group.key, name, orjson.dumps(body).decode()),
            )
            self.db.bump(SUBSCRIPTION_FILTERS_VERSION)

    def delete_subscription_filter(self, group: LogGroup, name: str) -> bool:
        with self.db.transaction():
            cursor = self.db.conn.execute(
                "DELETE FROM logs_subscription_filters WHERE group_key = ? AND name = ?",
                (group.key, name),
            )
            if cursor.rowcount:
                self.db.bump(SUBSCRIPTION_FILTERS_VERSION)
        return cursor.rowcount > 0

    def subscription_filters(self) -> list[tuple[str, dict[str, Any]]]:
        """Every subscription filter as ``(group key, body)``, by filter name then group key."""
        with self.db.transaction():
            rows = self.db.conn.execute(
                "SELECT group_key, body FROM logs_subscription_filters ORDER BY name, group_key"
            ).fetchall()
        return [(str(key), orjson.loads(body)) for key, body in rows]
