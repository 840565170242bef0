"""``KinesisService``: every Kinesis operation headwater implements, plus the stream source.

The service owns its parts: the shared ``KinesisCore`` (storage, lookups, routing cache,
listeners) and one operation group per concern, each holding the core explicitly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from headwater.esm.streams.source import ShardInfo, StreamRecord
from headwater.services.base import Service, ServiceEnvironment
from headwater.services.kinesis.consumer_operations import ConsumerOperations
from headwater.services.kinesis.core import KinesisCore
from headwater.services.kinesis.record_operations import RecordOperations
from headwater.services.kinesis.reshard_operations import ReshardOperations
from headwater.services.kinesis.source import KinesisStreamSource
from headwater.services.kinesis.stream_operations import StreamOperations
from headwater.store.streams import StreamStore


class KinesisService(Service):
    """Kinesis Data Streams: streams are ACTIVE at once, records durable in the store."""

    service_name = "kinesis"
    parts: ClassVar[dict[str, type]] = {
        "streams": StreamOperations,
        "resharding": ReshardOperations,
        "records": RecordOperations,
        "consumers": ConsumerOperations,
    }

    def __init__(self, env: ServiceEnvironment) -> None:
        super().__init__(env)
        self.core = KinesisCore(env)
        self.streams = StreamOperations(self.core)
        self.resharding = ReshardOperations(self.core)
        self.records = RecordOperations(self.core)
        self.consumers = ConsumerOperations(self.core)
        self.source = KinesisStreamSource(self.core, self.records)

    # -- the stream mapping API (``KinesisMappingApi``) ----------------------------------

    @property
    def store(self) -> StreamStore:
        return self.core.store

    def stream_exists(self, stream_arn: str) -> bool:
        return self.source.stream_exists(stream_arn)

    def list_shards_for_mapping(self, stream_arn: str) -> list[ShardInfo]:
        return self.source.list_shards_for_mapping(stream_arn)

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
        return self.source.read_shard(
            stream_arn,
            shard_id,
            after_sequence,
            limit,
            at_timestamp=at_timestamp,
            from_latest=from_latest,
        )

    def latest_sequence(self, stream_arn: str, shard_id: str) -> str | None:
        return self.source.latest_sequence(stream_arn, shard_id)

    def add_listener(self, callback: Callable[[str, str], None]) -> Callable[[], None]:
        """Call ``callback(stream_arn, shard_id)`` after puts commit; returns unsubscribe."""
        return self.core.add_listener(callback)
