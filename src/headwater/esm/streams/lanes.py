"""ParallelizationFactor: up to N batches of one shard in flight, ordered per partition key.

Records are spread over N lanes by a stable hash of their partition key; each lane runs
one batch at a time, so records of one key stay in order. The shard checkpoint only moves
past a sequence number once every record up to it (in every lane, filtered ones included)
has settled: the ``Ledger`` keeps that contiguous prefix.
"""

from __future__ import annotations

import zlib
from collections import deque
from collections.abc import Iterable

from headwater.esm.batching import BatchBuilder, PendingRecord


def lane_of(partition_key: str, lanes: int) -> int:
    """The lane of a partition key (CRC-32: stable across processes, unlike ``hash``)."""
    if lanes <= 1:
        return 0
    return zlib.crc32(partition_key.encode("utf-8")) % lanes


class Lane:
    """One sequential lane of a shard: its batch being assembled and whether one is out."""

    def __init__(self, index: int, batch_size: int, window_seconds: float) -> None:
        self.index = index
        self.builder = BatchBuilder(batch_size, window_seconds)
        #: The batch this lane is settling (``None`` when free).
        self.batch: list[PendingRecord] | None = None
        #: Clock time a backing-off settle retries at (``None`` while invoking or free).
        self.retry_at: float | None = None

    @property
    def busy(self) -> bool:
        return self.batch is not None

    @property
    def pending(self) -> int:
        return len(self.builder.pending)


class Ledger:
    """Sequence numbers read from a shard and not yet behind the checkpoint, in order."""

    def __init__(self) -> None:
        self._order: deque[str] = deque()
        self._settled: set[str] = set()

    def __len__(self) -> int:
        return len(self._order)

    def add(self, sequence_number: str) -> None:
        self._order.append(sequence_number)

    def settle(self, sequence_numbers: Iterable[str]) -> str | None:
        """Mark records settled; returns the new checkpoint if the settled prefix grew."""
        self._settled.update(sequence_numbers)
        checkpoint = None
        order, settled = self._order, self._settled
        while order and order[0] in settled:
            checkpoint = order.popleft()
            settled.discard(checkpoint)
        return checkpoint

    def clear(self) -> None:
        self._order.clear()
        self._settled.clear()
