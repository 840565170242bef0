"""Batch assembly: BatchSize, MaximumBatchingWindowInSeconds and the 6 MB payload cap."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

#: Largest synchronous invoke request (6 MB); the batch is cut before passing it.
MAX_PAYLOAD_BYTES = 6_291_456


@dataclass(slots=True)
class PendingRecord:
    """A received message on its way to a batch: its record and the encoded record.

    The SQS poller leaves ``record`` empty once the record is encoded (fewer live objects
    for the garbage collector); stream pollers may keep it.
    """

    message_id: str
    receipt_handle: str
    record: dict[str, Any] | None
    encoded: bytes
    group_id: str | None
    sent_timestamp: float
    #: Clock time until which the message stays invisible (its receive's deadline).
    visible_again_at: float


@dataclass(slots=True)
class Batch:
    """Records that go to one invocation."""

    records: list[PendingRecord] = field(default_factory=list)
    size_bytes: int = 14  # len('{"Records":[]}')

    def __len__(self) -> int:
        return len(self.records)

    def would_exceed(self, record: PendingRecord, limit: int = MAX_PAYLOAD_BYTES) -> bool:
        extra = len(record.encoded) + (1 if self.records else 0)
        return self.size_bytes + extra > limit

    def add(self, record: PendingRecord) -> None:
        self.size_bytes += len(record.encoded) + (1 if self.records else 0)
        self.records.append(record)

    @property
    def receipt_handles(self) -> list[str]:
        return [r.receipt_handle for r in self.records]

    @property
    def message_ids(self) -> list[str]:
        return [r.message_id for r in self.records]


class BatchBuilder:
    """Fills batches from received records; says when one is ready to go.

    A batch goes when it holds ``batch_size`` records, when the next record would pass
    ``max_bytes``, or when the window (counted from its first record) has closed.
    """

    def __init__(self, batch_size: int, window_seconds: float, max_bytes: int = MAX_PAYLOAD_BYTES):
        self.batch_size = batch_size
        self.window_seconds = window_seconds
        self.max_bytes = max_bytes
        self.pending: deque[PendingRecord] = deque()
        self.opened_at: float | None = None

    def configure(self, batch_size: int, window_seconds: float) -> None:
        self.batch_size = batch_size
        self.window_seconds = window_seconds

    def add(self, records: list[PendingRecord], now: float) -> None:
        if records and self.opened_at is None:
            self.opened_at = now
        self.pending.extend(records)

    def wanted(self) -> int:
        """How many more records would fill the next batch."""
        return max(0, self.batch_size - len(self.pending))

    def window_closes_at(self) -> float | None:
        if self.opened_at is None:
            return None
        return self.opened_at + self.window_seconds

    def ready(self, now: float) -> bool:
        """Whether a batch should go now."""
        if not self.pending:
            return False
        if len(self.pending) >= self.batch_size:
            return True
        if self.window_seconds <= 0:
            return True
        closes = self.window_closes_at()
        if closes is not None and now >= closes:
            return True
        return self._size_capped()

    def _size_capped(self) -> bool:
        size = 14
        for count, record in enumerate(self.pending):
            size += len(record.encoded) + (1 if count else 0)
            if size > self.max_bytes:
                return True
        return False

    def take(self, now: float) -> Batch:
        """The next batch (at most ``batch_size`` records, within ``max_bytes``).

        A single record larger than the cap still goes alone (the invoke then fails as it
        would on AWS, and the queue's redrive policy applies).
        """
        batch = Batch()
        while self.pending and len(batch) < self.batch_size:
            record = self.pending[0]
            if batch.records and batch.would_exceed(record, self.max_bytes):
                break
            batch.add(self.pending.popleft())
        self.opened_at = now if self.pending else None
        return batch

    def drain(self) -> list[PendingRecord]:
        """Remove and return every pending record (stop, or FIFO leftovers)."""
        records = list(self.pending)
        self.pending.clear()
        self.opened_at = None
        return records
