"""Storage for Kinesis streams: stream metadata, shards and records.

Records are identified by ``(shard key, counter)``: the shard key is the store's integer
id for a shard, the counter grows by one per record in that shard (sequence numbers are
derived from it by the service). Stores never validate AWS input: the service does that
before calling a mutating method, so memory stores need no rollback.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from headwater.store.database import Database


@dataclass(frozen=True, slots=True)
class StreamRow:
    """One stream's metadata."""

    arn: str
    name: str
    region: str
    account: str
    created: float
    retention_hours: int
    mode: str
    next_shard_index: int
    max_record_kib: int = 1024
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class NewShard:
    """A shard to create (at stream creation or by a reshard)."""

    index: int
    start_hash: int
    end_hash: int
    parent: str | None = None
    adjacent_parent: str | None = None
    closed: bool = False


@dataclass(frozen=True, slots=True)
class ShardRow:
    """One shard as stored; ``key`` is the store's id for it."""

    key: int
    index: int
    start_hash: int
    end_hash: int
    parent: str | None
    adjacent_parent: str | None
    created: float
    closed_at: float | None
    last_counter: int

    @property
    def shard_id(self) -> str:
        return f"shardId-{self.index:012d}"

    @property
    def closed(self) -> bool:
        return self.closed_at is not None


@dataclass(frozen=True, slots=True)
class StoredRecord:
    """One record: its counter in the shard, arrival time (epoch s), key and data."""

    counter: int
    arrival: float
    partition_key: str
    data: bytes


#: (shard key, partition key, data) of a record to append.
NewRecord = tuple[int, str, bytes]


class StreamStore(Protocol):
    """What the Kinesis service needs from storage. Call mutators inside a transaction."""

    def create_stream(self, stream: StreamRow, shards: Sequence[NewShard]) -> None:
        """Store a new stream (its name is not taken) and its first shards."""
        ...

    def get_stream(self, arn: str) -> StreamRow | None: ...

    def list_streams(self, region: str, account: str) -> list[StreamRow]:
        """Streams of one account and region, ordered by name."""
        ...

    def delete_stream(self, arn: str) -> None:
        """Remove a stream with its shards and records."""
        ...

    def set_retention(self, arn: str, hours: int) -> None: ...

    def set_mode(self, arn: str, mode: str) -> None:
        """Set the capacity mode (PROVISIONED or ON_DEMAND)."""
        ...

    def set_tags(self, arn: str, tags: Mapping[str, str]) -> None:
        """Replace the stream's tag map."""
        ...

    def shards(self, arn: str) -> list[ShardRow]:
        """All shards (open and closed) of a stream, ordered by index."""
        ...

    def get_shard(self, arn: str, index: int) -> ShardRow | None:
        """One shard of a stream by its index."""
        ...

    def reshard(
        self, arn: str, close: Sequence[str], create: Sequence[NewShard], now: float
    ) -> None:
        """Close open shards (by id) and create new ones; new indexes follow the last."""
        ...

    def append(
        self, arn: str, records: Sequence[NewRecord], now: float, ordering_floor: int = 0
    ) -> list[int]:
        """Append records to open shards; returns each record's counter, in order.

        ``ordering_floor``: every new counter is greater than it (SequenceNumberForOrdering).
        """
        ...

    def read(
        self, shard_key: int, after_counter: int, limit: int, max_bytes: int, min_arrival: float
    ) -> list[StoredRecord]:
        """Records with counter > ``after_counter`` and arrival >= ``min_arrival``, in order.

        Stops at ``limit`` records or once the data read reaches ``max_bytes`` (at least
        one record is returned when one exists).
        """
        ...

    def first_counter_at(self, shard_key: int, min_arrival: float) -> int | None:
        """The counter of the first record that arrived at or after ``min_arrival``."""
        ...

    def trim(self, shard_key: int, before_arrival: float) -> int:
        """Delete records that arrived before ``before_arrival``; returns how many."""
        ...


def open_stream_store(db: Database) -> StreamStore:
    """The stream store for ``db``'s kind (use ``db.store(open_stream_store)``: one each)."""
    if db.kind == "memory":
        from headwater.store.database import MemoryDatabase
        from headwater.store.streams.memory import MemoryStreamStore

        assert isinstance(db, MemoryDatabase)
        return MemoryStreamStore(db.lock)
    from headwater.store.streams.sql import SqlStreamStore

    return SqlStreamStore(db)
