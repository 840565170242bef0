"""What the stream engine needs from a stream (``StreamSource``) and the local Kinesis one.

The engine sees records (sequence number, partition key, data, arrival time) and shards
(id, parents, closed); the source also owns everything that differs between Kinesis and
DynamoDB Streams: the event record shape, the failure record's batch-info object and the
poll cadence AWS uses (Kinesis: one GetRecords per second per shard).

Records and shards are the services' typed source values (``StreamRecord``, ``ShardInfo``
in ``headwater.services.kinesis``): the engine consumes that interface rather than keeping
a copy of it, and services never import the engine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from headwater.core.arn import Arn
from headwater.core.errors import AwsError
from headwater.esm.streams.kinesis_records import encode_kinesis_record
from headwater.services.base import RequestContext
from headwater.services.kinesis import ShardInfo, StreamRecord


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

    def read(
        self, shard_id: str, after: str | None, limit: int, start: StartPosition | None
    ) -> tuple[list[StreamRecord], bool]:
        """Records after sequence ``after`` (or from ``start`` when ``after`` is None) and
        whether the end of a closed shard was reached."""
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


def iso_millis(epoch: float) -> str:
    """``2025-11-25T16:34:01.000Z``."""
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class LocalKinesisSource:
    """A stream of this headwater's ``KinesisService`` (its typed mapping interface)."""

    poll_interval = 1.0
    batch_info_key = "KinesisBatchInfo"

    def __init__(self, kinesis: Any, stream_arn: str) -> None:
        self._kinesis = kinesis
        self.arn = stream_arn
        parsed = Arn.try_parse(stream_arn)
        self.region = parsed.region if parsed is not None else ""

    def exists(self) -> bool:
        return bool(self._kinesis.stream_exists(self.arn))

    def shards(self) -> list[ShardInfo]:
        listed: list[ShardInfo] = self._kinesis.list_shards_for_mapping(self.arn)
        return listed

    def read(
        self, shard_id: str, after: str | None, limit: int, start: StartPosition | None
    ) -> tuple[list[StreamRecord], bool]:
        at_timestamp = None
        if after is None and start is not None and start.kind == "AT_TIMESTAMP":
            at_timestamp = start.timestamp
        records: list[StreamRecord]
        end: bool
        records, end = self._kinesis.read_shard(
            self.arn,
            shard_id,
            after,
            limit,
            at_timestamp=at_timestamp,
            from_latest=after is None and start is not None and start.kind == "LATEST",
        )
        return records, end

    def latest(self, shard_id: str) -> str | None:
        found = self._kinesis.latest_sequence(self.arn, shard_id)
        return None if found is None else str(found)

    def subscribe(self, callback: Callable[[str], None]) -> Callable[[], None]:
        arn = self.arn

        def on_put(stream_arn: str, shard_id: str) -> None:
            if stream_arn == arn:
                callback(shard_id)

        unsubscribe: Callable[[], None] = self._kinesis.add_listener(on_put)
        return unsubscribe

    def event_record(
        self, record: StreamRecord, shard_id: str, role_arn: str
    ) -> tuple[dict[str, Any], bytes]:
        return encode_kinesis_record(record, shard_id, self.arn, self.region, role_arn)

    def arrival_text(self, epoch: float) -> str:
        return iso_millis(epoch)

    def retention_cutoff(self, now: float) -> float | None:
        arn = Arn.try_parse(self.arn)
        if arn is None:
            return None
        try:
            summary = self._kinesis.call(
                "DescribeStreamSummary",
                {"StreamARN": self.arn},
                RequestContext(region=arn.region, account=arn.account),
            )["StreamDescriptionSummary"]
        except AwsError:  # the stream is gone: nothing is retained
            return now
        return now - float(summary["RetentionPeriodHours"]) * 3600.0
