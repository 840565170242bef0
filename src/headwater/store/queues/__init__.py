"""Queue storage: queues, their messages, FIFO groups and dedup ids, and message move tasks.

The store keeps data and answers indexed questions ("which messages are receivable now?");
the SQS service owns the semantics (visibility, redrive, retention, FIFO rules). Every
method runs inside the caller's ``db.transaction()`` so one API call is one transaction,
and the read-then-write pairs are named operations that stay correct when several
processes or nodes share the store: ``claim_receivable`` (receive), ``claim_dedup`` (FIFO
deduplication check-and-insert) and ``insert_queue`` (insert if absent).

Receivable order: standard queues yield messages by ``visible_at`` (then insertion order);
FIFO queues yield whole group prefixes, groups ordered by when their head became
receivable. A FIFO group is receivable only when its head (lowest sequence still stored)
is visible and none of its received messages is in flight; received messages always form
a prefix of their group, so stores keep one "ready at" time per group.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from headwater.store.database import Database

#: How long SQS remembers a FIFO deduplication id (5 minutes).
DEDUP_WINDOW_SECONDS = 300.0


@dataclass(slots=True)
class QueueRecord:
    """A queue as stored: identity, settable attributes (AWS string values) and tags."""

    queue_id: int
    account: str
    region: str
    name: str
    attributes: dict[str, str]
    tags: dict[str, str]
    created_at: float
    modified_at: float
    purged_at: float | None = None

    @property
    def fifo(self) -> bool:
        return self.name.endswith(".fifo")


@dataclass(slots=True)
class NewMessage:
    """A message to enqueue; ``message_attributes`` is the encoded form (see codec)."""

    message_id: str
    body: str
    md5_of_body: str
    message_attributes: str | None
    md5_of_message_attributes: str | None
    sent_at: float
    visible_at: float
    sender_id: str
    group_id: str | None = None
    dedup_id: str | None = None
    sequence_number: str | None = None
    trace_header: str | None = None
    dead_letter_source_arn: str | None = None
    #: Receives so far: 0 for a new message; a message moved to a DLQ keeps its count.
    receive_count: int = 0
    first_receive_at: float | None = None


@dataclass(slots=True)
class StoredMessage:
    """A stored message; ``row_id`` is its position in the queue (insertion order)."""

    row_id: int
    message_id: str
    body: str
    md5_of_body: str
    message_attributes: str | None
    md5_of_message_attributes: str | None
    sent_at: float
    visible_at: float
    receive_count: int
    first_receive_at: float | None
    sender_id: str
    group_id: str | None
    dedup_id: str | None
    sequence_number: str | None
    trace_header: str | None
    dead_letter_source_arn: str | None
    #: Clock time of the latest receive (the 12-hour visibility limit counts from it).
    received_at: float | None = None


@dataclass(slots=True)
class Received:
    """The new receive state of a message (after a receive)."""

    row_id: int
    group_id: str | None
    visible_at: float
    receive_count: int
    first_receive_at: float
    received_at: float


@dataclass(frozen=True, slots=True)
class DedupEntry:
    """A FIFO deduplication id remembered until ``expires_at`` (scope: "" or a group)."""

    scope: str
    dedup_id: str
    message_id: str
    sequence_number: str | None
    expires_at: float


@dataclass(slots=True)
class MessageCounts:
    visible: int
    not_visible: int
    delayed: int


@dataclass(slots=True)
class MoveTaskRecord:
    """A StartMessageMoveTask task, persisted so ListMessageMoveTasks survives restarts."""

    task_handle: str
    source_arn: str
    destination_arn: str | None
    max_per_second: int | None
    status: str
    moved: int
    to_move: int
    started_at: float
    failure_reason: str | None = None
    #: Clock time up to which the rate budget has been spent.
    progressed_at: float = 0.0
    extra: dict[str, str] = field(default_factory=dict)


class QueueStore(Protocol):
    """Storage for SQS queues; call inside ``db.transaction()``."""

    # -- queues ---------------------------------------------------------------------------
    def get_queue(self, account: str, region: str, name: str) -> QueueRecord | None:
        """The live queue called ``name``, or ``None``."""
        ...

    def list_queues(self, account: str, region: str, prefix: str = "") -> list[QueueRecord]:
        """Live queues whose name starts with ``prefix``, sorted by name."""
        ...

    def all_queues(self) -> list[QueueRecord]:
        """Every live queue in every account and region."""
        ...

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
        """Create a queue if the name is free (clearing a tombstone); ``None`` if another
        transaction holds the name (a create race: the caller reports the existing one)."""
        ...

    def update_queue(self, queue: QueueRecord) -> None:
        """Persist ``attributes``, ``tags``, ``modified_at`` and ``purged_at``."""
        ...

    def delete_queue(self, queue: QueueRecord, now: float) -> None:
        """Drop the queue and everything in it; remember when (QueueDeletedRecently)."""
        ...

    def deleted_at(self, account: str, region: str, name: str) -> float | None:
        """When a queue of that name was last deleted, if remembered."""
        ...

    # -- messages -------------------------------------------------------------------------
    def insert_messages(self, queue: QueueRecord, messages: Sequence[NewMessage]) -> None:
        """Enqueue messages in order."""
        ...

    def next_sequence_numbers(self, queue: QueueRecord, count: int) -> list[int]:
        """Reserve ``count`` increasing FIFO sequence numbers for ``queue``."""
        ...

    def receivable(self, queue: QueueRecord, now: float, limit: int) -> list[StoredMessage]:
        """Up to ``limit`` messages receivable at ``now``, in delivery order, claimed by this
        transaction: no concurrent transaction gets them until it ends (the caller marks
        them received, moves or deletes them within it)."""
        ...

    def mark_received(self, queue: QueueRecord, updates: Sequence[Received]) -> None:
        """Record receives: new visibility deadline, receive count, first receive time."""
        ...

    def get_message(self, queue: QueueRecord, row_id: int) -> StoredMessage | None: ...

    def set_visible_at(
        self, queue: QueueRecord, row_id: int, group_id: str | None, visible_at: float
    ) -> None: ...

    def delete_messages(self, queue: QueueRecord, messages: Sequence[StoredMessage]) -> int:
        """Delete the given messages (by row); returns how many existed."""
        ...

    def delete_received(self, queue: QueueRecord, keys: Sequence[tuple[int, int, str]]) -> int:
        """Delete messages named by (row id, receive count, message id) of their latest receive.

        Keys from an older receive (the count moved on) match nothing; returns the count.
        """
        ...

    def delete_sent_before(self, queue: QueueRecord, cutoff: float) -> int:
        """Delete messages with ``sent_at <= cutoff`` (retention expiry); returns the count."""
        ...

    def purge(self, queue: QueueRecord) -> int:
        """Delete every message of ``queue``; returns the count."""
        ...

    def counts(self, queue: QueueRecord, now: float) -> MessageCounts: ...

    def oldest_sent_at(self, queue: QueueRecord) -> float | None: ...

    def next_visible_at(self, queue: QueueRecord, now: float) -> float | None:
        """Earliest ``visible_at`` after ``now`` that could make a message receivable."""
        ...

    def claim_receivable(
        self,
        queue: QueueRecord,
        now: float,
        limit: int,
        visible_at: float,
        max_receive_count: int | None,
    ) -> tuple[list[StoredMessage], list[StoredMessage]]:
        """Receive up to ``limit`` messages: ``(received, dead)``.

        ``received`` are marked received (count + 1, hidden until ``visible_at``);
        ``dead`` already reached ``max_receive_count`` and stay claimed, unchanged, for the
        caller to move to the dead-letter queue in the same transaction.
        """
        ...

    # -- FIFO deduplication ---------------------------------------------------------------
    def claim_dedup(
        self, queue: QueueRecord, entries: Sequence[DedupEntry], now: float
    ) -> dict[tuple[str, str], tuple[str, str | None]]:
        """Remember deduplication ids, check-and-insert in one call.

        Entries whose ``(scope, dedup_id)`` is still remembered (unexpired at ``now``) are
        not stored: the result maps them to the remembered (message id, sequence number).
        Expired entries are replaced.
        """
        ...

    # -- move tasks -----------------------------------------------------------------------
    def save_move_task(self, task: MoveTaskRecord) -> None:
        """Insert or replace a move task."""
        ...

    def move_tasks(self, source_arn: str | None = None) -> list[MoveTaskRecord]:
        """Tasks (of one source queue), newest first."""
        ...


class QueueClaims:
    """``claim_receivable`` over ``receivable`` and ``mark_received`` (every store)."""

    def receivable(self, queue: QueueRecord, now: float, limit: int) -> list[StoredMessage]:
        raise NotImplementedError

    def mark_received(self, queue: QueueRecord, updates: Sequence[Received]) -> None:
        raise NotImplementedError

    def claim_receivable(
        self,
        queue: QueueRecord,
        now: float,
        limit: int,
        visible_at: float,
        max_receive_count: int | None,
    ) -> tuple[list[StoredMessage], list[StoredMessage]]:
        received: list[StoredMessage] = []
        dead: list[StoredMessage] = []
        updates: list[Received] = []
        for message in self.receivable(queue, now, limit):
            if max_receive_count is not None and message.receive_count >= max_receive_count:
                dead.append(message)
                continue
            message.receive_count += 1
            if message.first_receive_at is None:
                message.first_receive_at = now
            message.visible_at = visible_at
            message.received_at = now
            updates.append(
                Received(
                    message.row_id,
                    message.group_id,
                    visible_at,
                    message.receive_count,
                    message.first_receive_at,
                    now,
                )
            )
            received.append(message)
        if updates:
            self.mark_received(queue, updates)
        return received, dead


def open_queue_store(db: Database) -> QueueStore:
    """The queue store for ``db``'s kind (use ``db.store(open_queue_store)``: one each)."""
    if db.kind == "memory":
        from headwater.store.queues.memory import MemoryQueueStore

        return MemoryQueueStore()
    from headwater.store.queues.sql import SqlQueueStore

    return SqlQueueStore(db)
