"""What the stream engine needs from a stream (``StreamSource``) and the local Kinesis one.

The engine sees records (sequence number, partition key, data, arrival time) and shards
(id, parents, closed); the source also owns everything that differs between Kinesis and
DynamoDB Streams: the event record shape, the failure record's batch-info object and the
poll cadence AWS uses (Kinesis: one GetRecords per second per shard).

Records and shards (``StreamRecord``, ``ShardInfo``) are the engine's own types: sources
(the Kinesis and DynamoDB Streams services, through the adapters in ``headwater.wiring``)
produce them, and the engine never imports a service.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class StreamRecord:
    """One record as a stream mapping sees it."""

    sequence_number: str
    partition_key: str
    data: bytes
    approximate_arrival: float  # epoch seconds


@dataclass(frozen=True, slots=True)
class ShardInfo:
    """A shard and the parents that must be read to their end before it."""

    shard_id: str
    parent_shard_ids: tuple[str, ...]
    closed: bool


@dataclass(frozen=True, slots=True)
class StartPosition:
    """Where a shard without a checkpoint starts."""

    kind: str  # LATEST | TRIM_HORIZON | AT_TIMESTAMP
    timestamp: float | None = None


class StreamSource(Protocol):
    """A stream as the engine sees it; every call is short and non-blocking."""

    arn: str
    region: str
    #: Seconds between polls of an idle shard in AWS-cadence mode (Kinesis: 1.0).
    poll_interval: float
    #: Key of the batch-info object in on-failure records (``KinesisBatchInfo``).
    batch_info_key: str

    def exists(self) -> bool: ...

    def shards(self) -> list[ShardInfo]:
        """Readable shards (expired parents are not listed)."""
        ...

    async def read(
        self, shard_id: str, after: str | None, limit: int, start: StartPosition | None
    ) -> tuple[list[StreamRecord], bool]:
        """Records after sequence ``after`` (or from ``start`` when ``after`` is None) and
        whether the end of a closed shard was reached (off the event loop when the
        storage may block)."""
        ...

    def latest(self, shard_id: str) -> str | None:
        """Sequence number of the newest record of the shard (LATEST starts after it)."""
        ...

    def subscribe(self, callback: Callable[[str], None]) -> Callable[[], None]:
        """Call ``callback(shard_id)`` (any thread) after records were added to a shard."""
        ...

    def event_record(
        self, record: StreamRecord, shard_id: str, role_arn: str
    ) -> tuple[dict[str, Any], bytes]:
        """The record as the function sees it, and its JSON encoding."""
        ...

    def arrival_text(self, epoch: float) -> str:
        """An arrival time as failure records show it."""
        ...

    def retention_cutoff(self, now: float) -> float | None:
        """Arrival time before which records have left the stream (``None``: unknown)."""
        ...
