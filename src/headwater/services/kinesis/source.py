"""The typed read interface that stream event source mappings consume from Kinesis.

Small on purpose: the adapter in ``headwater.wiring`` turns it into the engine's
``StreamSource``, so the stream engine never sees Kinesis specifics beyond records and shards.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from headwater.core.arn import Arn, kinesis_consumer_stream_arn
from headwater.core.errors import AwsError
from headwater.esm.streams.source import ShardInfo, StreamRecord
from headwater.services.kinesis.core import KinesisCore, StreamRef, not_found
from headwater.services.kinesis.record_operations import RecordOperations
from headwater.services.kinesis.sequence import format_sequence, shard_prefix
from headwater.services.kinesis.validation import invalid_argument
from headwater.store.streams import ShardRow, StreamRow


class KinesisMappingApi(Protocol):
    """The typed calls the stream mapping adapter makes on ``KinesisService``."""

    def list_shards_for_mapping(self, stream_arn: str) -> list[ShardInfo]: ...

    def read_shard(
        self,
        stream_arn: str,
        shard_id: str,
        after_sequence: str | None,
        limit: int,
        *,
        at_timestamp: float | None = None,
        from_latest: bool = False,
    ) -> tuple[list[StreamRecord], bool]: ...

    def latest_sequence(self, stream_arn: str, shard_id: str) -> str | None: ...

    def add_listener(self, callback: Callable[[str, str], None]) -> Callable[[], None]: ...

    def stream_exists(self, stream_arn: str) -> bool: ...


def _ref(stream_arn: str) -> StreamRef:
    arn = Arn.try_parse(stream_arn)
    if arn is None or arn.service != "kinesis" or not arn.resource.startswith("stream/"):
        raise invalid_argument(f"Invalid stream ARN {stream_arn}")
    return StreamRef(arn.region, arn.account, arn.resource[len("stream/") :])


class KinesisStreamSource:
    """What stream mappings read (``KinesisMappingApi``), a part of ``KinesisService``."""

    def __init__(self, core: KinesisCore, records: RecordOperations) -> None:
        self.core = core
        self.records = records

    def _stream_and_shard(
        self, stream_arn: str, shard_id: str
    ) -> tuple[StreamRef, StreamRow, ShardRow]:
        ref = _ref(stream_arn)
        stream = self.core.require_stream(ref)
        shard = self.core.find_shard(stream, shard_id)
        if shard is None:
            raise self.records.shard_not_found(ref, shard_id)
        return ref, stream, shard

    def stream_exists(self, stream_arn: str) -> bool:
        """True while the stream exists; for a stream consumer's ARN (an enhanced fan-out
        mapping's source), while that consumer is registered."""
        if kinesis_consumer_stream_arn(stream_arn) is not None:
            with self.core.db.transaction():
                return self.core.extras.consumer_by_arn(stream_arn) is not None
        try:
            ref = _ref(stream_arn)
        except AwsError:
            return False
        return self.core.store.get_stream(ref.arn) is not None

    def list_shards_for_mapping(self, stream_arn: str) -> list[ShardInfo]:
        """Listed shards in index order; parents only if still listed (expired ones are done)."""
        ref = _ref(stream_arn)
        stream = self.core.require_stream(ref)
        shards = self.core.visible_shards(stream, self.core.env.clock.now())
        listed = {s.shard_id for s in shards}
        return [
            ShardInfo(
                s.shard_id,
                tuple(p for p in (s.parent, s.adjacent_parent) if p is not None and p in listed),
                s.closed,
            )
            for s in shards
        ]

    def read_shard(
        self,
        stream_arn: str,
        shard_id: str,
        after_sequence: str | None,
        limit: int,
        *,
        at_timestamp: float | None = None,
        from_latest: bool = False,
    ) -> tuple[list[StreamRecord], bool]:
        """Up to ``limit`` records after ``after_sequence`` (or from the start position).

        Without ``after_sequence`` reading starts at the trim horizon, at ``at_timestamp``,
        or at the tip (``from_latest``: nothing now, only later records). Returns the records
        and whether the end of a closed shard was reached (read its children next).
        """
        if limit < 1:
            raise invalid_argument("limit must be at least 1")
        ref, stream, shard = self._stream_and_shard(stream_arn, shard_id)
        if after_sequence is not None:
            after = self.records.sequence_counter(ref, shard, after_sequence, "GetRecords")
        elif from_latest:
            after = shard.last_counter
        elif at_timestamp is not None:
            first = self.core.store.first_counter_at(shard.key, at_timestamp)
            after = shard.last_counter if first is None else first - 1
        else:
            after = 0
        records, _, end, _ = self.records.read_from(stream, shard, after, min(limit, 10_000))
        prefix = shard_prefix(shard.created, shard.index)
        return [
            StreamRecord(format_sequence(prefix, r.counter), r.partition_key, r.data, r.arrival)
            for r in records
        ], end

    def latest_sequence(self, stream_arn: str, shard_id: str) -> str | None:
        """The position just before the shard's next record, for LATEST checkpoints.

        That is the newest record's sequence number, or the shard's StartingSequenceNumber
        when it has no record yet; ``read_shard(after_sequence=...)`` with it returns only
        records put afterwards. (Never ``None`` for Kinesis; other sources may return it.)
        """
        _, _, shard = self._stream_and_shard(stream_arn, shard_id)
        return format_sequence(shard_prefix(shard.created, shard.index), shard.last_counter)


__all__ = ["KinesisMappingApi", "KinesisStreamSource", "ShardInfo", "StreamRecord", "not_found"]
