"""``KinesisService``: every Kinesis operation headwater implements, plus the stream source."""

from __future__ import annotations

from headwater.services.kinesis.consumer_operations import ConsumerOperations
from headwater.services.kinesis.record_operations import RecordOperations
from headwater.services.kinesis.reshard_operations import ReshardOperations
from headwater.services.kinesis.source import KinesisStreamSource
from headwater.services.kinesis.stream_operations import StreamOperations


class KinesisService(
    KinesisStreamSource, StreamOperations, ReshardOperations, RecordOperations, ConsumerOperations
):
    """Kinesis Data Streams: streams are ACTIVE at once, records durable on SQLite."""

    service_name = "kinesis"
