"""In-memory queue store for tests: same contract as SQLite, dicts and lazy heaps.

Two heaps per queue keep receive and retention expiry cheap on deep queues: one ordered
by (visible_at, row) for standard receives, one by (sent_at, row) for expiry. Entries go
stale when a message's visibility changes or it is deleted; they are dropped when popped.
"""

from __future__ import annotations

import copy
import heapq
from collections.abc import Sequence
from dataclasses import dataclass, field

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


@dataclass(slots=True)
class _QueueState:
    record: QueueRecord
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    #: FIFO group id -> row ids in order.
    groups: dict[str, list[int]] = field(default_factory=dict)
    sequence: int = 0
    dedup: dict[tuple[str, str], tuple[str, str | None, float]] = field(default_factory=dict)
    by_visibility: list[tuple[float, int]] = field(default_factory=list)
    by_sent: list[tuple[float, int]] = field(default_factory=list)


class MemoryQueueStore(QueueClaims):
    """Queues in process memory (``Headwater.in_memory()``)."""

    def __init__(self) -> None:
        self._queues: dict[int, _QueueState] = {}
        self._names: dict[tuple[str, str, str], int] = {}
        self._deleted: dict[tuple[str, str, str], float] = {}
        self._tasks: dict[str, MoveTaskRecord] = {}
        self._next_queue_id = 1
        self._next_row_id = 1

    def _state(self, queue: QueueRecord) -> _QueueState:
        return self._queues[queue.queue_id]

    # -- queues ---------------------------------------------------------------------------
    def get_queue(self, account: str, region: str, name: str) -> QueueRecord | None:
        queue_id = self._names.get((account, region, name))
        return None if queue_id is None else copy.deepcopy(self._queues[queue_id].record)

    def list_queues(self, account: str, region: str, prefix: str = "") -> list[QueueRecord]:
        return sorted(
            (
                copy.deepcopy(s.record)
                for s in self._queues.values()
                if s.record.account == account
                and s.record.region == region
                and s.record.name.startswith(prefix)
            ),
            key=lambda q: q.name,
        )

    def all_queues(self) -> list[QueueRecord]:
        return sorted(
            (copy.deepcopy(s.record) for s in self._queues.values()), key=lambda q: q.name
        )

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
        if (account, region, name) in self._names:
            return None
        self._deleted.pop((account, region, name), None)
        record = QueueRecord(
            self._next_queue_id, account, region, name, dict(attributes), dict(tags), now, now
        )
        self._next_queue_id += 1
        self._queues[record.queue_id] = _QueueState(copy.deepcopy(record))
        self._names[(account, region, name)] = record.queue_id
        return record

    def update_queue(self, queue: QueueRecord) -> None:
        self._state(queue).record = copy.deepcopy(queue)

    def delete_queue(self, queue: QueueRecord, now: float) -> None:
        key = (queue.account, queue.region, queue.name)
        self._names.pop(key, None)
        self._queues.pop(queue.queue_id, None)
        self._deleted[key] = now

    def deleted_at(self, account: str, region: str, name: str) -> float | None:
        return self._deleted.get((account, region, name))

    # -- messages -------------------------------------------------------------------------
    def insert_messages(self, queue: QueueRecord, messages: Sequence[NewMessage]) -> None:
        state = self._state(queue)
        for m in messages:
            row_id = self._next_row_id
            self._next_row_id += 1
            state.messages[row_id] = StoredMessage(
                row_id=row_id,
                message_id=m.message_id,
                body=m.body,
                md5_of_body=m.md5_of_body,
                message_attributes=m.message_attributes,
                md5_of_message_attributes=m.md5_of_message_attributes,
                sent_at=m.sent_at,
                visible_at=m.visible_at,
                receive_count=m.receive_count,
                first_receive_at=m.first_receive_at,
                sender_id=m.sender_id,
                group_id=m.group_id,
                dedup_id=m.dedup_id,
                sequence_number=m.sequence_number,
                trace_header=m.trace_header,
                dead_letter_source_arn=m.dead_letter_source_arn,
            )
            if queue.fifo:
                state.groups.setdefault(m.group_id or "", []).append(row_id)
            else:
                heapq.heappush(state.by_visibility, (m.visible_at, row_id))
            heapq.heappush(state.by_sent, (m.sent_at, row_id))

    def next_sequence_numbers(self, queue: QueueRecord, count: int) -> list[int]:
        state = self._state(queue)
        first = state.sequence + 1
        state.sequence += count
        return list(range(first, state.sequence + 1))

    def receivable(self, queue: QueueRecord, now: float, limit: int) -> list[StoredMessage]:
        state = self._state(queue)
        if not queue.fifo:
            return self._receivable_standard(state, now, limit)
        heads = []
        for rows in state.groups.values():
            head = state.messages[rows[0]]
            ready_at = self._group_ready_at(state, rows)
            if ready_at <= now:
                heads.append((ready_at, head.row_id, rows))
        heads.sort(key=lambda item: (item[0], item[1]))
        found: list[StoredMessage] = []
        for _, _, rows in heads:
            for row_id in rows:
                message = state.messages[row_id]
                if message.visible_at > now or len(found) >= limit:
                    break
                found.append(copy.copy(message))
            if len(found) >= limit:
                break
        return found

    @staticmethod
    def _receivable_standard(state: _QueueState, now: float, limit: int) -> list[StoredMessage]:
        heap = state.by_visibility
        found: list[StoredMessage] = []
        kept: list[tuple[float, int]] = []
        while heap and len(found) < limit and heap[0][0] <= now:
            entry = heapq.heappop(heap)
            message = state.messages.get(entry[1])
            if message is None or message.visible_at != entry[0]:
                continue  # stale: deleted, or its visibility changed since
            if kept and kept[-1] == entry:
                continue  # the same entry pushed twice
            kept.append(entry)
            found.append(copy.copy(message))
        for entry in kept:
            heapq.heappush(heap, entry)
        return found

    @staticmethod
    def _group_ready_at(state: _QueueState, rows: list[int]) -> float:
        """When a FIFO group is next receivable: its head is visible and nothing in flight."""
        ready_at = state.messages[rows[0]].visible_at
        for row_id in rows:
            message = state.messages[row_id]
            if message.receive_count == 0:
                break
            ready_at = max(ready_at, message.visible_at)
        return ready_at

    def mark_received(self, queue: QueueRecord, updates: Sequence[Received]) -> None:
        state = self._state(queue)
        messages = state.messages
        for u in updates:
            message = messages.get(u.row_id)
            if message is not None:
                if not queue.fifo:
                    heapq.heappush(state.by_visibility, (u.visible_at, u.row_id))
                message.visible_at = u.visible_at
                message.receive_count = u.receive_count
                message.first_receive_at = u.first_receive_at
                message.received_at = u.received_at

    def get_message(self, queue: QueueRecord, row_id: int) -> StoredMessage | None:
        message = self._state(queue).messages.get(row_id)
        return None if message is None else copy.copy(message)

    def set_visible_at(
        self, queue: QueueRecord, row_id: int, group_id: str | None, visible_at: float
    ) -> None:
        state = self._state(queue)
        message = state.messages.get(row_id)
        if message is not None:
            message.visible_at = visible_at
            if not queue.fifo:
                heapq.heappush(state.by_visibility, (visible_at, row_id))

    def delete_messages(self, queue: QueueRecord, messages: Sequence[StoredMessage]) -> int:
        state = self._state(queue)
        deleted = 0
        for m in messages:
            if state.messages.pop(m.row_id, None) is None:
                continue
            deleted += 1
            if queue.fifo:
                key = m.group_id or ""
                rows = state.groups.get(key)
                if rows is not None:
                    rows.remove(m.row_id)
                    if not rows:
                        del state.groups[key]
        return deleted

    def delete_received(self, queue: QueueRecord, keys: Sequence[tuple[int, int, str]]) -> int:
        messages = self._state(queue).messages
        matching = []
        for row_id, count, message_id in keys:
            found = messages.get(row_id)
            if (
                found is not None
                and found.receive_count == count
                and found.message_id == message_id
            ):
                matching.append(found)
        return self.delete_messages(queue, matching)

    def delete_sent_before(self, queue: QueueRecord, cutoff: float) -> int:
        state = self._state(queue)
        expired = []
        while state.by_sent and state.by_sent[0][0] <= cutoff:
            _, row_id = heapq.heappop(state.by_sent)
            message = state.messages.get(row_id)
            if message is not None:
                expired.append(message)
        return self.delete_messages(queue, expired)

    def purge(self, queue: QueueRecord) -> int:
        state = self._state(queue)
        count = len(state.messages)
        state.messages.clear()
        state.groups.clear()
        state.by_visibility.clear()
        state.by_sent.clear()
        return count

    def counts(self, queue: QueueRecord, now: float) -> MessageCounts:
        counts = MessageCounts(0, 0, 0)
        for m in self._state(queue).messages.values():
            if m.visible_at <= now:
                counts.visible += 1
            elif m.receive_count > 0:
                counts.not_visible += 1
            else:
                counts.delayed += 1
        return counts

    def oldest_sent_at(self, queue: QueueRecord) -> float | None:
        state = self._state(queue)
        while state.by_sent and state.by_sent[0][1] not in state.messages:
            heapq.heappop(state.by_sent)
        return state.by_sent[0][0] if state.by_sent else None

    def next_visible_at(self, queue: QueueRecord, now: float) -> float | None:
        state = self._state(queue)
        if queue.fifo:
            times = (self._group_ready_at(state, rows) for rows in state.groups.values())
        else:
            times = (m.visible_at for m in state.messages.values())
        return min((t for t in times if t > now), default=None)

    # -- FIFO deduplication ---------------------------------------------------------------
    def claim_dedup(
        self, queue: QueueRecord, entries: Sequence[DedupEntry], now: float
    ) -> dict[tuple[str, str], tuple[str, str | None]]:
        dedup = self._state(queue).dedup
        claimed: dict[tuple[str, str], tuple[str, str | None]] = {}
        for e in entries:
            key = (e.scope, e.dedup_id)
            found = dedup.get(key)
            if found is not None and found[2] > now:
                claimed[key] = (found[0], found[1])
                continue
            dedup[key] = (e.message_id, e.sequence_number, e.expires_at)
        return claimed

    # -- move tasks -----------------------------------------------------------------------
    def save_move_task(self, task: MoveTaskRecord) -> None:
        self._tasks[task.task_handle] = copy.deepcopy(task)

    def move_tasks(self, source_arn: str | None = None) -> list[MoveTaskRecord]:
        tasks = [
            copy.deepcopy(t)
            for t in self._tasks.values()
            if source_arn is None or t.source_arn == source_arn
        ]
        tasks.sort(key=lambda t: t.started_at, reverse=True)
        return tasks
