"""The queue store of the SQL backends (SQLite, PostgreSQL): receive, delete and send
cost O(log depth).

Standard receive walks ``(queue_id, visible_at)``; FIFO receive walks the group table by
``(queue_id, head_visible_at)`` (the time the group is next receivable), so blocked groups
are never scanned message by message, however deep they are.

Claims: on SQLite the transaction holds the database's write lock, so what ``receivable``
returns is this transaction's alone. On PostgreSQL ``receivable`` locks what it returns
(``FOR UPDATE SKIP LOCKED``: message rows of standard queues, group rows of FIFO queues),
so concurrent receivers on several nodes get disjoint messages and a FIFO group is
received by one node at a time. Writers that touch a FIFO group's messages lock its group
row first (``_lock_groups``), in group order, so receivers and deleters never deadlock.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from headwater.store.database import Database
from headwater.store.queues import (
    DedupEntry,
    MessageCounts,
    MoveTaskRecord,
    NewMessage,
    QueueClaims,
    QueueRecord,
    Received,
    StoredMessage,
)

#: PostgreSQL: fewest inserted messages between two ``ANALYZE sqs_messages``.
ANALYZE_AT_LEAST = 1000

MIGRATIONS: list[str] = [
    """
    CREATE TABLE sqs_queues (
        queue_id INTEGER PRIMARY KEY AUTOINCREMENT,
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        name TEXT NOT NULL,
        attributes TEXT NOT NULL,
        tags TEXT NOT NULL,
        created_at REAL NOT NULL,
        modified_at REAL NOT NULL,
        purged_at REAL,
        sequence INTEGER NOT NULL DEFAULT 0,
        UNIQUE (account, region, name)
    );
    CREATE TABLE sqs_deleted_queues (
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        name TEXT NOT NULL,
        deleted_at REAL NOT NULL,
        PRIMARY KEY (account, region, name)
    ) WITHOUT ROWID;
    CREATE TABLE sqs_messages (
        row_id INTEGER PRIMARY KEY,
        queue_id INTEGER NOT NULL,
        visible_at REAL NOT NULL,
        receive_count INTEGER NOT NULL DEFAULT 0,
        sent_at REAL NOT NULL,
        first_receive_at REAL,
        message_id TEXT NOT NULL,
        body TEXT NOT NULL,
        md5_of_body TEXT NOT NULL,
        message_attributes TEXT,
        md5_of_message_attributes TEXT,
        sender_id TEXT NOT NULL,
        group_id TEXT,
        dedup_id TEXT,
        sequence_number TEXT,
        trace_header TEXT,
        dead_letter_source_arn TEXT
    );
    CREATE INDEX sqs_messages_visible ON sqs_messages (queue_id, visible_at, receive_count);
    CREATE INDEX sqs_messages_sent ON sqs_messages (queue_id, sent_at);
    CREATE INDEX sqs_messages_group ON sqs_messages (queue_id, group_id, row_id)
        WHERE group_id IS NOT NULL;
    CREATE TABLE sqs_fifo_groups (
        queue_id INTEGER NOT NULL,
        group_id TEXT NOT NULL,
        head_row_id INTEGER NOT NULL,
        head_visible_at REAL NOT NULL,
        PRIMARY KEY (queue_id, group_id)
    ) WITHOUT ROWID;
    CREATE INDEX sqs_fifo_groups_ready ON sqs_fifo_groups (queue_id, head_visible_at, head_row_id);
    CREATE TABLE sqs_fifo_dedup (
        queue_id INTEGER NOT NULL,
        scope TEXT NOT NULL,
        dedup_id TEXT NOT NULL,
        message_id TEXT NOT NULL,
        sequence_number TEXT,
        expires_at REAL NOT NULL,
        PRIMARY KEY (queue_id, scope, dedup_id)
    ) WITHOUT ROWID;
    CREATE TABLE sqs_move_tasks (
        task_handle TEXT PRIMARY KEY,
        source_arn TEXT NOT NULL,
        started_at REAL NOT NULL,
        data TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX sqs_move_tasks_source ON sqs_move_tasks (source_arn, started_at)
    """,
    "ALTER TABLE sqs_messages ADD COLUMN received_at REAL",
]

_QUEUE_COLUMNS = (
    "queue_id, account, region, name, attributes, tags, created_at, modified_at, purged_at"
)
_MESSAGE_COLUMNS = (
    "row_id, message_id, body, md5_of_body, message_attributes, md5_of_message_attributes,"
    " sent_at, visible_at, receive_count, first_receive_at, sender_id, group_id, dedup_id,"
    " sequence_number, trace_header, dead_letter_source_arn, received_at"
)
_PREFIXED_COLUMNS = ", ".join(
    "sqs_messages." + column.strip() for column in _MESSAGE_COLUMNS.split(",")
)
_INSERT_MESSAGE = (
    "INSERT INTO sqs_messages (queue_id, visible_at, sent_at, message_id, body, md5_of_body,"
    " message_attributes, md5_of_message_attributes, sender_id, group_id, dedup_id,"
    " sequence_number, trace_header, dead_letter_source_arn, receive_count, first_receive_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
#: Rows read per step when recomputing a FIFO group's state.
_GROUP_SCAN_CHUNK = 64
#: Dedup entries are swept every this many puts per store (amortized cleanup).
_DEDUP_SWEEP_EVERY = 1000


def _queue(row: Any) -> QueueRecord:
    return QueueRecord(
        queue_id=row[0],
        account=row[1],
        region=row[2],
        name=row[3],
        attributes=json.loads(row[4]),
        tags=json.loads(row[5]),
        created_at=row[6],
        modified_at=row[7],
        purged_at=row[8],
    )


def _message_params(queue_id: int, m: NewMessage) -> tuple[Any, ...]:
    """The parameters of ``_INSERT_MESSAGE`` for ``m``, in its column order."""
    return (
        queue_id,
        m.visible_at,
        m.sent_at,
        m.message_id,
        m.body,
        m.md5_of_body,
        m.message_attributes,
        m.md5_of_message_attributes,
        m.sender_id,
        m.group_id,
        m.dedup_id,
        m.sequence_number,
        m.trace_header,
        m.dead_letter_source_arn,
        m.receive_count,
        m.first_receive_at,
    )


def _message(row: Any) -> StoredMessage:
    return StoredMessage(*row)


class SqlQueueStore(QueueClaims):
    """Queues in the application's SQL database."""

    def __init__(self, db: Database) -> None:
        self.db = db
        db.migrate("queues", MIGRATIONS)
        self._dedup_puts = 0
        self._skip_locked = db.dialect.skip_locked
        self._for_update = db.dialect.for_update
        #: PostgreSQL: messages this process inserted since the table was last analyzed,
        #: and how many more make its statistics stale (see ``_keep_statistics_fresh``).
        self._inserted_since_analyze = 0
        self._analyze_after = ANALYZE_AT_LEAST

    @property
    def _conn(self) -> Any:
        return self.db.conn

    def _lock_groups(self, queue: QueueRecord, group_ids: Iterable[str]) -> None:
        """Lock FIFO group rows (PostgreSQL) before changing their messages, in order."""
        if not self._for_update or not queue.fifo:
            return
        for group_id in sorted(group_ids):
            self._conn.execute(
                "SELECT 1 FROM sqs_fifo_groups WHERE queue_id = ? AND group_id = ?"
                + self._for_update,
                (queue.queue_id, group_id),
            )

    # -- queues ---------------------------------------------------------------------------
    def get_queue(self, account: str, region: str, name: str) -> QueueRecord | None:
        row = self._conn.execute(
            f"SELECT {_QUEUE_COLUMNS} FROM sqs_queues WHERE account = ? AND region = ?"
            " AND name = ?",
            (account, region, name),
        ).fetchone()
        return None if row is None else _queue(row)

    def list_queues(self, account: str, region: str, prefix: str = "") -> list[QueueRecord]:
        rows = self._conn.execute(
            f"SELECT {_QUEUE_COLUMNS} FROM sqs_queues WHERE account = ? AND region = ?"
            " AND substr(name, 1, ?) = ? ORDER BY name",
            (account, region, len(prefix), prefix),
        ).fetchall()
        return [_queue(row) for row in rows]

    def all_queues(self) -> list[QueueRecord]:
        rows = self._conn.execute(
            f"SELECT {_QUEUE_COLUMNS} FROM sqs_queues ORDER BY name"
        ).fetchall()
        return [_queue(row) for row in rows]

    def insert_queue(
        self,
        account: str,
        region: str,
        name: str,
        *,
        attributes: dict[str, str],
        tags: dict[str, str],
        now: float,
    ) -> QueueRecord | None:
        row = self._conn.execute(
            "INSERT INTO sqs_queues (account, region, name, attributes, tags, created_at,"
            " modified_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (account, region, name) DO NOTHING RETURNING queue_id",
            (account, region, name, json.dumps(attributes), json.dumps(tags), now, now),
        ).fetchone()
        if row is None:
            return None  # another process created it first
        self._conn.execute(
            "DELETE FROM sqs_deleted_queues WHERE account = ? AND region = ? AND name = ?",
            (account, region, name),
        )
        return QueueRecord(
            int(row[0]), account, region, name, dict(attributes), dict(tags), now, now
        )

    def update_queue(self, queue: QueueRecord) -> None:
        self._conn.execute(
            "UPDATE sqs_queues SET attributes = ?, tags = ?, modified_at = ?, purged_at = ?"
            " WHERE queue_id = ?",
            (
                json.dumps(queue.attributes),
                json.dumps(queue.tags),
                queue.modified_at,
                queue.purged_at,
                queue.queue_id,
            ),
        )

    def delete_queue(self, queue: QueueRecord, now: float) -> None:
        qid = (queue.queue_id,)
        self._conn.execute("DELETE FROM sqs_messages WHERE queue_id = ?", qid)
        self._conn.execute("DELETE FROM sqs_fifo_groups WHERE queue_id = ?", qid)
        self._conn.execute("DELETE FROM sqs_fifo_dedup WHERE queue_id = ?", qid)
        self._conn.execute("DELETE FROM sqs_queues WHERE queue_id = ?", qid)
        self._conn.execute(
            "INSERT INTO sqs_deleted_queues VALUES (?, ?, ?, ?)"
            " ON CONFLICT (account, region, name) DO UPDATE SET deleted_at = excluded.deleted_at",
            (queue.account, queue.region, queue.name, now),
        )

    def deleted_at(self, account: str, region: str, name: str) -> float | None:
        row = self._conn.execute(
            "SELECT deleted_at FROM sqs_deleted_queues WHERE account = ? AND region = ?"
            " AND name = ?",
            (account, region, name),
        ).fetchone()
        return None if row is None else float(row[0])

    # -- messages -------------------------------------------------------------------------
    def insert_messages(self, queue: QueueRecord, messages: Sequence[NewMessage]) -> None:
        qid = queue.queue_id
        conn = self._conn
        if self._skip_locked:
            self._keep_statistics_fresh(len(messages))
        if not queue.fifo:
            conn.executemany(_INSERT_MESSAGE, [_message_params(qid, m) for m in messages])
            return
        for m in messages:
            row_id = conn.execute(
                _INSERT_MESSAGE + " RETURNING row_id", _message_params(qid, m)
            ).fetchone()[0]
            conn.execute(
                "INSERT INTO sqs_fifo_groups VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (qid, m.group_id or "", row_id, m.visible_at),
            )

    def _keep_statistics_fresh(self, inserting: int) -> None:
        """PostgreSQL: ``ANALYZE sqs_messages`` once the table may have doubled since its
        statistics were taken. With statistics from a nearly empty table the planner sorts
        every visible message of a deep queue to claim a batch and hash-joins a whole queue
        to delete one (10-20 ms per statement at 20,000 messages instead of under 1 ms), and
        autovacuum looks only once a minute."""
        self._inserted_since_analyze += inserting
        if self._inserted_since_analyze < self._analyze_after:
            return
        conn = self._conn
        conn.execute("ANALYZE sqs_messages")
        row = conn.execute(
            "SELECT reltuples FROM pg_class WHERE oid = CAST('sqs_messages' AS regclass)"
        ).fetchone()
        self._inserted_since_analyze = 0
        self._analyze_after = max(ANALYZE_AT_LEAST, int(row[0]) if row else 0)

    def next_sequence_numbers(self, queue: QueueRecord, count: int) -> list[int]:
        row = self._conn.execute(
            "UPDATE sqs_queues SET sequence = sequence + ? WHERE queue_id = ? RETURNING sequence",
            (count, queue.queue_id),
        ).fetchone()
        last = int(row[0])
        return list(range(last - count + 1, last + 1))

    def receivable(self, queue: QueueRecord, now: float, limit: int) -> list[StoredMessage]:
        conn = self._conn
        if not queue.fifo:
            rows = conn.execute(
                f"SELECT {_MESSAGE_COLUMNS} FROM sqs_messages INDEXED BY sqs_messages_visible"
                " WHERE queue_id = ? AND visible_at <= ? ORDER BY visible_at LIMIT ?"
                + self._skip_locked,
                (queue.queue_id, now, limit),
            ).fetchall()
            return [_message(row) for row in rows]
        groups = conn.execute(
            "SELECT group_id FROM sqs_fifo_groups WHERE queue_id = ? AND head_visible_at <= ?"
            " ORDER BY head_visible_at, head_row_id LIMIT ?" + self._skip_locked,
            (queue.queue_id, now, limit),
        ).fetchall()
        found: list[StoredMessage] = []
        for (group_id,) in groups:
            rows = conn.execute(
                f"SELECT {_MESSAGE_COLUMNS} FROM sqs_messages INDEXED BY sqs_messages_group"
                " WHERE queue_id = ? AND group_id = ? ORDER BY row_id LIMIT ?",
                (queue.queue_id, group_id, limit - len(found)),
            ).fetchall()
            for row in rows:
                message = _message(row)
                if message.visible_at > now:
                    break
                found.append(message)
            if len(found) >= limit:
                break
        return found

    def mark_received(self, queue: QueueRecord, updates: Sequence[Received]) -> None:
        self._conn.executemany(
            "UPDATE sqs_messages SET visible_at = ?, receive_count = ?, first_receive_at = ?,"
            " received_at = ? WHERE row_id = ?",
            [
                (u.visible_at, u.receive_count, u.first_receive_at, u.received_at, u.row_id)
                for u in updates
            ],
        )
        if queue.fifo:
            # The group stays blocked until the last of its received messages is visible.
            self._conn.executemany(
                "UPDATE sqs_fifo_groups SET head_visible_at = CASE WHEN head_visible_at > ?"
                " THEN head_visible_at ELSE ? END WHERE queue_id = ? AND group_id = ?",
                [(u.visible_at, u.visible_at, queue.queue_id, u.group_id or "") for u in updates],
            )

    def get_message(self, queue: QueueRecord, row_id: int) -> StoredMessage | None:
        row = self._conn.execute(
            f"SELECT {_MESSAGE_COLUMNS} FROM sqs_messages WHERE row_id = ? AND queue_id = ?",
            (row_id, queue.queue_id),
        ).fetchone()
        return None if row is None else _message(row)

    def set_visible_at(
        self, queue: QueueRecord, row_id: int, group_id: str | None, visible_at: float
    ) -> None:
        self._lock_groups(queue, {group_id or ""})
        self._conn.execute(
            "UPDATE sqs_messages SET visible_at = ? WHERE row_id = ?", (visible_at, row_id)
        )
        if queue.fifo:
            self._refresh_group_heads(queue, {group_id or ""})

    def delete_messages(self, queue: QueueRecord, messages: Sequence[StoredMessage]) -> int:
        if not messages:
            return 0
        conn = self._conn
        self._lock_groups(queue, {m.group_id or "" for m in messages})
        deleted = conn.executemany(
            "DELETE FROM sqs_messages WHERE row_id = ? AND queue_id = ?",
            [(m.row_id, queue.queue_id) for m in messages],
        ).rowcount
        if queue.fifo:
            self._refresh_group_heads(queue, {m.group_id or "" for m in messages})
        return int(deleted)

    def claim_receivable(
        self,
        queue: QueueRecord,
        now: float,
        limit: int,
        visible_at: float,
        max_receive_count: int | None,
    ) -> tuple[list[StoredMessage], list[StoredMessage]]:
        if queue.fifo or not self._skip_locked:
            return super().claim_receivable(queue, now, limit, visible_at, max_receive_count)
        # PostgreSQL, standard queue: claim and mark in one statement (one round trip
        # instead of a SELECT and an UPDATE per message), in delivery order.
        under = "" if max_receive_count is None else " AND receive_count < ?"
        params: list[Any] = [queue.queue_id, now]
        if max_receive_count is not None:
            params.append(max_receive_count)
        rows = self._conn.execute(
            "WITH picked AS (SELECT row_id, visible_at AS was_visible_at FROM sqs_messages"
            f" WHERE queue_id = ? AND visible_at <= ?{under}"
            f" ORDER BY visible_at LIMIT ?{self._skip_locked})"
            " UPDATE sqs_messages SET visible_at = ?, receive_count = receive_count + 1,"
            " first_receive_at = COALESCE(first_receive_at, ?), received_at = ?"
            f" FROM picked WHERE sqs_messages.row_id = picked.row_id"
            f" RETURNING {_PREFIXED_COLUMNS}, picked.was_visible_at",
            (*params, limit, visible_at, now, now),
        ).fetchall()
        rows.sort(key=lambda row: (row[-1], row[0]))
        received = [_message(row[:-1]) for row in rows]
        dead: list[StoredMessage] = []
        if max_receive_count is not None and len(received) < limit:
            dead = [
                _message(row)
                for row in self._conn.execute(
                    f"SELECT {_MESSAGE_COLUMNS} FROM sqs_messages WHERE queue_id = ?"
                    " AND visible_at <= ? AND receive_count >= ? ORDER BY visible_at LIMIT ?"
                    + self._skip_locked,
                    (queue.queue_id, now, max_receive_count, limit - len(received)),
                ).fetchall()
            ]
        return received, dead

    def delete_received(self, queue: QueueRecord, keys: Sequence[tuple[int, int, str]]) -> int:
        if not keys:
            return 0
        if not queue.fifo and self._skip_locked:
            # PostgreSQL: one statement for the whole batch (not one per message).
            rows = ", ".join("(?, ?, ?)" for _ in keys)
            return int(
                self._conn.execute(
                    "DELETE FROM sqs_messages WHERE queue_id = ?"
                    f" AND (row_id, receive_count, message_id) IN (VALUES {rows})",
                    (queue.queue_id, *(value for key in keys for value in key)),
                ).rowcount
            )
        conn = self._conn
        qid = queue.queue_id
        groups: set[str] = set()
        if queue.fifo:
            for row_id, _, _ in keys:
                row = conn.execute(
                    "SELECT group_id FROM sqs_messages WHERE row_id = ? AND queue_id = ?",
                    (row_id, qid),
                ).fetchone()
                if row is not None:
                    groups.add(row[0] or "")
            self._lock_groups(queue, groups)
        deleted = conn.executemany(
            "DELETE FROM sqs_messages WHERE row_id = ? AND queue_id = ? AND receive_count = ?"
            " AND message_id = ?",
            [(row_id, qid, count, message_id) for row_id, count, message_id in keys],
        ).rowcount
        if groups and deleted:
            self._refresh_group_heads(queue, groups)
        return int(deleted)

    def _refresh_group_heads(self, queue: QueueRecord, group_ids: set[str]) -> None:
        """Recompute each group's head and the time it next becomes receivable.

        A group is receivable when its head is visible and none of its received messages
        is in flight; received messages always form a prefix of the group, so the time is
        the latest ``visible_at`` in that prefix (or the head's own, for delays).
        """
        conn = self._conn
        qid = queue.queue_id
        for group_id in group_ids:
            head_row: int | None = None
            ready_at = 0.0
            offset = 0
            while True:
                rows = conn.execute(
                    "SELECT row_id, visible_at, receive_count FROM sqs_messages"
                    " INDEXED BY sqs_messages_group WHERE queue_id = ? AND group_id = ?"
                    " ORDER BY row_id LIMIT ? OFFSET ?",
                    (qid, group_id, _GROUP_SCAN_CHUNK, offset),
                ).fetchall()
                done = len(rows) < _GROUP_SCAN_CHUNK
                for row_id, visible_at, receive_count in rows:
                    if head_row is None:
                        head_row, ready_at = row_id, visible_at
                    if receive_count == 0:
                        done = True
                        break
                    ready_at = max(ready_at, visible_at)
                if done:
                    break
                offset += len(rows)
            if head_row is None:
                conn.execute(
                    "DELETE FROM sqs_fifo_groups WHERE queue_id = ? AND group_id = ?",
                    (qid, group_id),
                )
            else:
                conn.execute(
                    "UPDATE sqs_fifo_groups SET head_row_id = ?, head_visible_at = ?"
                    " WHERE queue_id = ? AND group_id = ?",
                    (head_row, ready_at, qid, group_id),
                )

    def delete_sent_before(self, queue: QueueRecord, cutoff: float) -> int:
        conn = self._conn
        if queue.fifo:
            groups = {
                row[0]
                for row in conn.execute(
                    "SELECT DISTINCT group_id FROM sqs_messages INDEXED BY sqs_messages_sent"
                    " WHERE queue_id = ? AND sent_at <= ?",
                    (queue.queue_id, cutoff),
                )
            }
            if not groups:
                return 0
            self._lock_groups(queue, {g or "" for g in groups})
        deleted = conn.execute(
            "DELETE FROM sqs_messages WHERE queue_id = ? AND sent_at <= ?",
            (queue.queue_id, cutoff),
        ).rowcount
        if queue.fifo and deleted:
            self._refresh_group_heads(queue, {g or "" for g in groups})
        return int(deleted)

    def purge(self, queue: QueueRecord) -> int:
        deleted = self._conn.execute(
            "DELETE FROM sqs_messages WHERE queue_id = ?", (queue.queue_id,)
        ).rowcount
        self._conn.execute("DELETE FROM sqs_fifo_groups WHERE queue_id = ?", (queue.queue_id,))
        return int(deleted)

    def counts(self, queue: QueueRecord, now: float) -> MessageCounts:
        qid = queue.queue_id
        visible = self._conn.execute(
            "SELECT COUNT(*) FROM sqs_messages WHERE queue_id = ? AND visible_at <= ?", (qid, now)
        ).fetchone()[0]
        hidden = self._conn.execute(
            "SELECT COALESCE(SUM(CASE WHEN receive_count > 0 THEN 1 ELSE 0 END), 0),"
            " COALESCE(SUM(CASE WHEN receive_count = 0 THEN 1 ELSE 0 END), 0)"
            " FROM sqs_messages WHERE queue_id = ? AND visible_at > ?",
            (qid, now),
        ).fetchone()
        return MessageCounts(int(visible), int(hidden[0]), int(hidden[1]))

    def oldest_sent_at(self, queue: QueueRecord) -> float | None:
        row = self._conn.execute(
            "SELECT MIN(sent_at) FROM sqs_messages WHERE queue_id = ?", (queue.queue_id,)
        ).fetchone()
        return None if row[0] is None else float(row[0])

    def next_visible_at(self, queue: QueueRecord, now: float) -> float | None:
        if queue.fifo:
            sql = (
                "SELECT MIN(head_visible_at) FROM sqs_fifo_groups"
                " WHERE queue_id = ? AND head_visible_at > ?"
            )
        else:
            sql = "SELECT MIN(visible_at) FROM sqs_messages WHERE queue_id = ? AND visible_at > ?"
        row = self._conn.execute(sql, (queue.queue_id, now)).fetchone()
        return None if row[0] is None else float(row[0])

    # -- FIFO deduplication ---------------------------------------------------------------
    def claim_dedup(
        self, queue: QueueRecord, entries: Sequence[DedupEntry], now: float
    ) -> dict[tuple[str, str], tuple[str, str | None]]:
        claimed: dict[tuple[str, str], tuple[str, str | None]] = {}
        if not entries:
            return claimed
        conn = self._conn
        qid = queue.queue_id
        self._dedup_puts += len(entries)
        if self._dedup_puts >= _DEDUP_SWEEP_EVERY:
            self._dedup_puts = 0
            conn.execute(
                "DELETE FROM sqs_fifo_dedup WHERE queue_id = ? AND expires_at <= ?", (qid, now)
            )
        for e in entries:
            # Insert, or take over an expired entry; a live one stays and is reported.
            row = conn.execute(
                "INSERT INTO sqs_fifo_dedup VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (queue_id, scope, dedup_id) DO UPDATE SET"
                " message_id = excluded.message_id, sequence_number = excluded.sequence_number,"
                " expires_at = excluded.expires_at WHERE sqs_fifo_dedup.expires_at <= ?"
                " RETURNING message_id",
                (qid, e.scope, e.dedup_id, e.message_id, e.sequence_number, e.expires_at, now),
            ).fetchone()
            if row is not None:
                continue
            existing = conn.execute(
                "SELECT message_id, sequence_number FROM sqs_fifo_dedup"
                " WHERE queue_id = ? AND scope = ? AND dedup_id = ?",
                (qid, e.scope, e.dedup_id),
            ).fetchone()
            claimed[(e.scope, e.dedup_id)] = (existing[0], existing[1])
        return claimed

    # -- move tasks -----------------------------------------------------------------------
    def save_move_task(self, task: MoveTaskRecord) -> None:
        data = {
            "destination_arn": task.destination_arn,
            "max_per_second": task.max_per_second,
            "status": task.status,
            "moved": task.moved,
            "to_move": task.to_move,
            "failure_reason": task.failure_reason,
            "progressed_at": task.progressed_at,
            "extra": task.extra,
        }
        self._conn.execute(
            "INSERT INTO sqs_move_tasks VALUES (?, ?, ?, ?) ON CONFLICT (task_handle) DO UPDATE"
            " SET source_arn = excluded.source_arn, started_at = excluded.started_at,"
            " data = excluded.data",
            (task.task_handle, task.source_arn, task.started_at, json.dumps(data)),
        )

    def move_tasks(self, source_arn: str | None = None) -> list[MoveTaskRecord]:
        if source_arn is None:
            rows = self._conn.execute(
                "SELECT task_handle, source_arn, started_at, data FROM sqs_move_tasks"
                " ORDER BY started_at DESC"
            ).fetchall()
        else:
            rows = self._conn.execute(
                "SELECT task_handle, source_arn, started_at, data FROM sqs_move_tasks"
                " WHERE source_arn = ? ORDER BY started_at DESC",
                (source_arn,),
            ).fetchall()
        tasks = []
        for handle, source, started_at, raw in rows:
            data = json.loads(raw)
            tasks.append(
                MoveTaskRecord(
                    task_handle=handle,
                    source_arn=source,
                    destination_arn=data["destination_arn"],
                    max_per_second=data["max_per_second"],
                    status=data["status"],
                    moved=data["moved"],
                    to_move=data["to_move"],
                    started_at=started_at,
                    failure_reason=data["failure_reason"],
                    progressed_at=data["progressed_at"],
                    extra=data["extra"],
                )
            )
        return tasks
