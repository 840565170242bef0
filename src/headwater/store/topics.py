"""The SNS store: topics, subscriptions, FIFO deduplication and the delivery outbox.

One portable-SQL class over ``db.conn`` (runs on "memory" and "sqlite" alike, and through
the PostgreSQL backend). Attributes and tags are JSON text columns: SNS reads them whole.
The outbox holds deliveries that leave the publishing transaction (Lambda, HTTP, retries):
a row is written in the same transaction as the publish, so a published message is
delivered even if the process dies right after ``Publish`` returned.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import orjson

from headwater.store.database import Database

_SCHEMA = """
CREATE TABLE sns_topics (
    arn TEXT PRIMARY KEY,
    region TEXT NOT NULL,
    account TEXT NOT NULL,
    name TEXT NOT NULL,
    fifo INTEGER NOT NULL,
    attributes TEXT NOT NULL,
    tags TEXT NOT NULL,
    created REAL NOT NULL,
    sequence INTEGER NOT NULL
);
CREATE INDEX sns_topics_by_region ON sns_topics (account, region, arn);
CREATE TABLE sns_subscriptions (
    arn TEXT PRIMARY KEY,
    topic_arn TEXT NOT NULL,
    protocol TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    owner TEXT NOT NULL,
    attributes TEXT NOT NULL,
    confirmed INTEGER NOT NULL,
    token TEXT,
    created REAL NOT NULL,
    seq INTEGER NOT NULL
);
CREATE INDEX sns_subscriptions_by_topic ON sns_subscriptions (topic_arn, seq);
CREATE INDEX sns_subscriptions_by_token ON sns_subscriptions (token);
CREATE TABLE sns_counters (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
CREATE TABLE sns_dedup (
    topic_arn TEXT NOT NULL,
    dedup_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    sequence_number TEXT NOT NULL,
    expires REAL NOT NULL,
    PRIMARY KEY (topic_arn, dedup_id)
);
CREATE TABLE sns_outbox (
    id TEXT PRIMARY KEY,
    subscription_arn TEXT NOT NULL,
    notification TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    due REAL NOT NULL,
    claimed_until REAL NOT NULL
);
CREATE INDEX sns_outbox_due ON sns_outbox (due)
"""


@dataclass(frozen=True, slots=True)
class TopicRecord:
    arn: str
    region: str
    account: str
    name: str
    fifo: bool
    attributes: dict[str, str]
    tags: dict[str, str]
    created: float


@dataclass(frozen=True, slots=True)
class SubscriptionRecord:
    arn: str
    topic_arn: str
    protocol: str
    endpoint: str
    owner: str
    attributes: dict[str, str]
    confirmed: bool
    token: str | None
    created: float
    seq: int = 0

    def with_attributes(self, attributes: dict[str, str]) -> SubscriptionRecord:
        return replace(self, attributes=attributes)


@dataclass(slots=True)
class OutboxEntry:
    """One pending delivery of one notification to one subscription."""

    id: str
    subscription_arn: str
    notification: dict[str, Any]
    attempt: int
    due: float
    extra: dict[str, Any] = field(default_factory=dict)


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


_TOPIC_COLUMNS = "arn, region, account, name, fifo, attributes, tags, created"
_SUB_COLUMNS = (
    "arn, topic_arn, protocol, endpoint, owner, attributes, confirmed, token, created, seq"
)


def _topic(row: Any) -> TopicRecord:
    return TopicRecord(
        arn=row[0],
        region=row[1],
        account=row[2],
        name=row[3],
        fifo=bool(row[4]),
        attributes=orjson.loads(row[5]),
        tags=orjson.loads(row[6]),
        created=row[7],
    )


def _subscription(row: Any) -> SubscriptionRecord:
    return SubscriptionRecord(
        arn=row[0],
        topic_arn=row[1],
        protocol=row[2],
        endpoint=row[3],
        owner=row[4],
        attributes=orjson.loads(row[5]),
        confirmed=bool(row[6]),
        token=row[7],
        created=row[8],
        seq=row[9],
    )


class TopicStore:
    """Topics, subscriptions, dedup entries and the outbox, in portable SQL."""

    def __init__(self, db: Database) -> None:
        self.db = db
        db.migrate("sns", [_SCHEMA])

    # ---- topics ----

    def get_topic(self, arn: str) -> TopicRecord | None:
        row = self.db.conn.execute(
            f"SELECT {_TOPIC_COLUMNS} FROM sns_topics WHERE arn = ?", (arn,)
        ).fetchone()
        return None if row is None else _topic(row)

    def put_topic(self, topic: TopicRecord) -> None:
        """Insert or replace a topic's attributes and tags."""
        self.db.conn.execute(
            f"INSERT INTO sns_topics ({_TOPIC_COLUMNS}, sequence)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)"
            " ON CONFLICT (arn) DO UPDATE SET attributes = excluded.attributes,"
            " tags = excluded.tags",
            (
                topic.arn,
                topic.region,
                topic.account,
                topic.name,
                int(topic.fifo),
                _dumps(topic.attributes),
                _dumps(topic.tags),
                topic.created,
            ),
        )

    def delete_topic(self, arn: str) -> list[str]:
        """Delete a topic and its subscriptions; returns the deleted subscription ARNs."""
        conn = self.db.conn
        subs = [
            row[0]
            for row in conn.execute(
                "SELECT arn FROM sns_subscriptions WHERE topic_arn = ?", (arn,)
            ).fetchall()
        ]
        conn.execute("DELETE FROM sns_subscriptions WHERE topic_arn = ?", (arn,))
        conn.execute("DELETE FROM sns_dedup WHERE topic_arn = ?", (arn,))
        conn.execute("DELETE FROM sns_topics WHERE arn = ?", (arn,))
        return subs

    def list_topics(self, account: str, region: str, after: str | None, limit: int) -> list[str]:
        rows = self.db.conn.execute(
            "SELECT arn FROM sns_topics WHERE account = ? AND region = ? AND arn > ?"
            " ORDER BY arn LIMIT ?",
            (account, region, after or "", limit),
        ).fetchall()
        return [row[0] for row in rows]

    def next_sequence_numbers(self, topic_arn: str, count: int) -> list[int]:
        """``count`` new FIFO sequence numbers of a topic (inside the transaction)."""
        row = self.db.conn.execute(
            "UPDATE sns_topics SET sequence = sequence + ? WHERE arn = ? RETURNING sequence",
            (count, topic_arn),
        ).fetchone()
        last = int(row[0])
        return list(range(last - count + 1, last + 1))

    # ---- subscriptions ----

    def next_counter(self, name: str) -> int:
        row = self.db.conn.execute(
            "INSERT INTO sns_counters (name, value) VALUES (?, 1)"
            " ON CONFLICT (name) DO UPDATE SET value = sns_counters.value + 1 RETURNING value",
            (name,),
        ).fetchone()
        return int(row[0])

    def generation(self) -> int:
        """Bumped on every topic or subscription change (cache validation)."""
        row = self.db.conn.execute(
            "SELECT value FROM sns_counters WHERE name = 'generation'"
        ).fetchone()
        return 0 if row is None else int(row[0])

    def add_subscription(self, sub: SubscriptionRecord) -> SubscriptionRecord:
        seq = self.next_counter("subscription")
        stored = replace(sub, seq=seq)
        self.db.conn.execute(
            f"INSERT INTO sns_subscriptions ({_SUB_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                stored.arn,
                stored.topic_arn,
                stored.protocol,
                stored.endpoint,
                stored.owner,
                _dumps(stored.attributes),
                int(stored.confirmed),
                stored.token,
                stored.created,
                stored.seq,
            ),
        )
        return stored

    def update_subscription(self, sub: SubscriptionRecord) -> None:
        self.db.conn.execute(
            "UPDATE sns_subscriptions SET attributes = ?, confirmed = ?, token = ? WHERE arn = ?",
            (_dumps(sub.attributes), int(sub.confirmed), sub.token, sub.arn),
        )

    def get_subscription(self, arn: str) -> SubscriptionRecord | None:
        row = self.db.conn.execute(
            f"SELECT {_SUB_COLUMNS} FROM sns_subscriptions WHERE arn = ?", (arn,)
        ).fetchone()
        return None if row is None else _subscription(row)

    def subscription_by_token(self, token: str) -> SubscriptionRecord | None:
        row = self.db.conn.execute(
            f"SELECT {_SUB_COLUMNS} FROM sns_subscriptions WHERE token = ?", (token,)
        ).fetchone()
        return None if row is None else _subscription(row)

    def delete_subscription(self, arn: str) -> bool:
        found = self.db.conn.execute(
            "DELETE FROM sns_subscriptions WHERE arn = ? RETURNING arn", (arn,)
        ).fetchone()
        return found is not None

    def subscriptions_of(self, topic_arn: str) -> list[SubscriptionRecord]:
        rows = self.db.conn.execute(
            f"SELECT {_SUB_COLUMNS} FROM sns_subscriptions WHERE topic_arn = ? ORDER BY seq",
            (topic_arn,),
        ).fetchall()
        return [_subscription(row) for row in rows]

    def list_subscriptions(
        self, account: str, region: str, after: int, limit: int
    ) -> list[SubscriptionRecord]:
        prefix = f"arn:aws:sns:{region}:{account}:"
        rows = self.db.conn.execute(
            f"SELECT {_SUB_COLUMNS} FROM sns_subscriptions WHERE seq > ?"
            " AND substr(topic_arn, 1, ?) = ? ORDER BY seq LIMIT ?",
            (after, len(prefix), prefix, limit),
        ).fetchall()
        return [_subscription(row) for row in rows]

    # ---- FIFO deduplication ----

    def find_dedup(self, topic_arn: str, dedup_id: str, now: float) -> tuple[str, str] | None:
        row = self.db.conn.execute(
            "SELECT message_id, sequence_number FROM sns_dedup"
            " WHERE topic_arn = ? AND dedup_id = ? AND expires > ?",
            (topic_arn, dedup_id, now),
        ).fetchone()
        return None if row is None else (row[0], row[1])

    def put_dedup(
        self, topic_arn: str, dedup_id: str, message_id: str, sequence: str, expires: float
    ) -> None:
        self.db.conn.execute(
            "INSERT INTO sns_dedup (topic_arn, dedup_id, message_id, sequence_number, expires)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (topic_arn, dedup_id) DO UPDATE SET"
            " message_id = excluded.message_id, sequence_number = excluded.sequence_number,"
            " expires = excluded.expires",
            (topic_arn, dedup_id, message_id, sequence, expires),
        )

    def trim_dedup(self, now: float) -> None:
        self.db.conn.execute("DELETE FROM sns_dedup WHERE expires <= ?", (now,))

    # ---- the outbox ----

    def add_outbox(self, entry: OutboxEntry) -> None:
        notification = dict(entry.notification)
        if entry.extra:
            notification["_extra"] = entry.extra
        self.db.conn.execute(
            "INSERT INTO sns_outbox (id, subscription_arn, notification, attempt, due,"
            " claimed_until) VALUES (?, ?, ?, ?, ?, 0)",
            (entry.id, entry.subscription_arn, _dumps(notification), entry.attempt, entry.due),
        )

    def claim_due(self, now: float, lease: float, limit: int) -> list[OutboxEntry]:
        """Due, unclaimed deliveries, claimed until ``now + lease`` (so another worker or
        process does not send them too); a crashed claimer's rows come back after it."""
        conn = self.db.conn
        rows = conn.execute(
            "SELECT id, subscription_arn, notification, attempt, due FROM sns_outbox"
            " WHERE due <= ? AND claimed_until <= ? ORDER BY due, id LIMIT ?",
            (now, now, limit),
        ).fetchall()
        claimed: list[OutboxEntry] = []
        for row in rows:
            won = conn.execute(
                "UPDATE sns_outbox SET claimed_until = ? WHERE id = ? AND claimed_until <= ?"
                " RETURNING id",
                (now + lease, row[0], now),
            ).fetchone()
            if won is None:
                continue
            notification = orjson.loads(row[2])
            extra = notification.pop("_extra", {})
            claimed.append(OutboxEntry(row[0], row[1], notification, row[3], row[4], extra))
        return claimed

    def reschedule(self, entry_id: str, attempt: int, due: float) -> None:
        self.db.conn.execute(
            "UPDATE sns_outbox SET attempt = ?, due = ?, claimed_until = 0 WHERE id = ?",
            (attempt, due, entry_id),
        )

    def finish(self, entry_id: str) -> None:
        self.db.conn.execute("DELETE FROM sns_outbox WHERE id = ?", (entry_id,))

    def next_due(self) -> float | None:
        row = self.db.conn.execute("SELECT min(due) FROM sns_outbox").fetchone()
        return None if row is None or row[0] is None else float(row[0])

    def outbox_size(self) -> int:
        row = self.db.conn.execute("SELECT count(*) FROM sns_outbox").fetchone()
        return int(row[0])

    def iter_topics(self) -> Iterator[TopicRecord]:
        for row in self.db.conn.execute(f"SELECT {_TOPIC_COLUMNS} FROM sns_topics").fetchall():
            yield _topic(row)
