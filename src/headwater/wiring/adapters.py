"""Local adapters: this headwater's services as the engine's sources, invoker and destinations.

The engine (``headwater.esm``) only knows the ``QueueSource``, ``StreamSource``,
``Invoker`` and ``DestinationSender`` protocols; these classes implement them over the
in-process services. A PostgreSQL-backed or real-AWS source is another adapter, not
another engine.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import orjson

from headwater.core.arn import Arn
from headwater.core.errors import AwsError
from headwater.core.values import iso_millis
from headwater.esm.leases import Offload, inline
from headwater.esm.records import QueueMessage
from headwater.esm.settle import InvocationLike
from headwater.esm.sources import QueueFacts
from headwater.esm.streams.dynamodb_records import encode_dynamodb_record, iso_seconds
from headwater.esm.streams.kinesis_records import encode_kinesis_record
from headwater.esm.streams.source import ShardInfo, StartPosition, StreamRecord
from headwater.services.base import RequestContext, Service

if TYPE_CHECKING:
    from headwater.services.dynamodb.change_feed import ShardView
    from headwater.services.dynamodbstreams import DynamoDBStreamsService
    from headwater.services.kinesis import KinesisService
    from headwater.services.lambda_ import LambdaService
    from headwater.services.sqs import SqsService

log = logging.getLogger(__name__)


class LocalQueueSource:
    """A queue of this headwater's ``SqsService`` (its typed internal API); store calls go
    through ``offload`` (threads for SQLite and PostgreSQL, inline for memory)."""

    def __init__(self, sqs: SqsService, queue_arn: str, offload: Offload = inline) -> None:
        self._sqs = sqs
        self.arn = queue_arn
        self._offload = offload

    def facts(self) -> QueueFacts:
        info = self._sqs.queue_info(self.arn)
        return QueueFacts(
            arn=self.arn,
            region=str(info.region),
            fifo=bool(info.fifo),
            visibility_timeout=int(info.visibility_timeout),
        )

    async def receive(
        self, max_messages: int, visibility_timeout: int | None = None
    ) -> Sequence[QueueMessage]:
        received: Sequence[QueueMessage] = await self._offload(
            self._sqs.receive_for_mapping, self.arn, max_messages, visibility_timeout
        )
        return received

    async def delete(self, receipt_handles: Sequence[str]) -> int:
        return int(await self._offload(self._sqs.delete_for_mapping, self.arn, receipt_handles))

    async def change_visibility(
        self, receipt_handles: Sequence[str], visibility_timeout: int
    ) -> None:
        await self._offload(
            self._sqs.change_visibility_for_mapping, self.arn, receipt_handles, visibility_timeout
        )

    async def next_visible_at(self, after: float) -> float | None:
        found = await self._offload(self._sqs.next_visible_at, self.arn, after)
        return None if found is None else float(found)

    def approximate_age_of_oldest_message(self) -> float:
        return float(self._sqs.approximate_age_of_oldest_message(self.arn))

    def subscribe(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Commits in this process at once; other processes' within the poll fallback."""
        arn = self.arn

        def on_commit(queue_arn: str | None) -> None:
            if queue_arn is None or queue_arn == arn:
                callback()

        return _both(self._sqs.add_listener(on_commit), self._sqs.db.watch(on_commit))


class LambdaInvoker:
    """Invokes functions of this headwater's ``LambdaService`` without blocking the loop."""

    def __init__(self, lambda_service: LambdaService) -> None:
        self._lambda = lambda_service

    async def invoke(self, function_arn: str, payload: bytes) -> InvocationLike:
        result: InvocationLike = await self._lambda.invoke_async(function_arn, payload)
        return result

    def function_limits(self, function_arn: str) -> tuple[int | None, int | None]:
        """Timeout and the concurrency the function can really get: its reserved
        concurrency, and never more than the runtime's worker processes (the local
        "account" limit), since invokes past it are only throttled."""
        try:
            info = self._lambda.resolve_function(function_arn)
        except Exception:  # a deleted function leaves the mapping enabled (§2.4)
            return None, None
        timeout = getattr(info, "timeout", None)
        reserved = getattr(info, "reserved_concurrency", None)
        limits = [int(reserved)] if reserved is not None else []
        workers = self._worker_limit()
        if workers is not None:
            limits.append(workers)
        return (None if timeout is None else int(timeout), min(limits) if limits else None)

    def function_role(self, function_arn: str) -> str:
        """The function's execution role ARN ("" once the function is gone)."""
        try:
            return str(self._lambda.resolve_function(function_arn).role)
        except Exception:  # a deleted function leaves the mapping enabled (§2.4)
            return ""

    def _worker_limit(self) -> int | None:
        options = self._lambda.env.options
        if options.functions != "process":
            return None  # inline handlers: no process pool
        if options.function_workers:
            return int(options.function_workers)
        from headwater.runtime.pool import default_max_workers

        return default_max_workers()


class LocalKinesisSource:
    """A stream of this headwater's ``KinesisService`` (its typed mapping interface)."""

    poll_interval = 1.0
    batch_info_key = "KinesisBatchInfo"

    def __init__(
        self, kinesis: KinesisService | None, stream_arn: str, offload: Offload = inline
    ) -> None:
        self._kinesis: Any = kinesis
        self.arn = stream_arn
        self._offload = offload
        parsed = Arn.try_parse(stream_arn)
        self.region = parsed.region if parsed is not None else ""

    def exists(self) -> bool:
        return bool(self._kinesis.stream_exists(self.arn))

    def shards(self) -> list[ShardInfo]:
        listed: list[ShardInfo] = self._kinesis.list_shards_for_mapping(self.arn)
        return listed

    async def read(
        self, shard_id: str, after: str | None, limit: int, start: StartPosition | None
    ) -> tuple[list[StreamRecord], bool]:
        return await self._offload(self._read, shard_id, after, limit, start)  # type: ignore[no-any-return]

    def _read(
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
        """Puts in this process at once (with their shard); other processes' within the
        poll fallback, as ``callback("")`` (some shard may have new records)."""
        arn = self.arn

        def on_put(stream_arn: str, shard_id: str) -> None:
            if stream_arn == arn:
                callback(shard_id)

        def on_change(resource: str | None) -> None:
            if resource is None or resource == arn:
                callback("")

        return _both(
            self._kinesis.add_listener(on_put), self._kinesis.env.database.watch(on_change)
        )

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


class LocalDynamoDBStreamSource:
    """A DynamoDB stream of this headwater's tables, read from the change feed.

    Records are keyed by the item's primary key (per-item order under
    ParallelizationFactor) and carry their event record ready-made; shards roll over as
    they are read (the feed closes a due shard and opens its child).
    """

    #: AWS polls a DynamoDB stream shard four times a second.
    poll_interval = 0.25
    batch_info_key = "DDBStreamBatchInfo"

    def __init__(
        self, streams: DynamoDBStreamsService, stream_arn: str, offload: Offload = inline
    ) -> None:
        self._streams = streams
        self.arn = stream_arn
        self._offload = offload
        parsed = Arn.try_parse(stream_arn)
        self.region = parsed.region if parsed is not None else ""

    def _shard(self, shard_id: str) -> ShardView | None:
        now = self._streams.now()
        for shard in self._streams.feed.shards(self.arn, now):
            if shard.shard_id == shard_id:
                return shard
        return None

    def exists(self) -> bool:
        return self._streams.stream_exists(self.arn)

    def shards(self) -> list[ShardInfo]:
        return [
            ShardInfo(
                s.shard_id,
                () if s.parent_shard_id is None else (s.parent_shard_id,),
                s.closed,
            )
            for s in self._streams.feed.shards(self.arn, self._streams.now())
        ]

    async def read(
        self, shard_id: str, after: str | None, limit: int, start: StartPosition | None
    ) -> tuple[list[StreamRecord], bool]:
        return await self._offload(self._read, shard_id, after, limit, start)  # type: ignore[no-any-return]

    def _read(
        self, shard_id: str, after: str | None, limit: int, start: StartPosition | None
    ) -> tuple[list[StreamRecord], bool]:
        from headwater.services.dynamodbstreams.records import sequence_position, stream_record

        feed = self._streams.feed
        shard = self._shard(shard_id)
        if shard is None:  # trimmed away, or the stream is gone
            return [], True
        if after is not None:
            position = sequence_position(after) or 0
        elif start is not None and start.kind == "LATEST":
            position = self._latest_position(shard)
        else:
            retained = feed.first_retained(self.arn)
            position = shard.first_sequence if retained is None else retained - 1
        info = feed.stream(self.arn)
        if info is None:
            return [], True
        changes, _, end = feed.read_shard(self.arn, shard, position, limit)
        records = []
        for change in changes:
            shaped = stream_record(change, info.view_type, self.region, lambda_event=True)
            records.append(
                StreamRecord(
                    sequence_number=shaped["dynamodb"]["SequenceNumber"],
                    partition_key=orjson.dumps(change.keys, option=orjson.OPT_SORT_KEYS).decode(),
                    data=orjson.dumps(shaped, default=_base64),
                    approximate_arrival=change.created,
                )
            )
        return records, end

    def _latest_position(self, shard: ShardView) -> int:
        if shard.last_sequence is not None:
            return shard.last_sequence
        return max(shard.first_sequence, self._streams.feed.latest_sequence(self.arn))

    def latest(self, shard_id: str) -> str | None:
        from headwater.services.dynamodbstreams.records import sequence_text

        shard = self._shard(shard_id)
        return None if shard is None else sequence_text(self._latest_position(shard))

    def subscribe(self, callback: Callable[[str], None]) -> Callable[[], None]:
        """Writes in this process at once; other processes' within the poll fallback (as
        ``callback("")``: some shard may have new records)."""
        arn = self.arn

        def on_write(stream_arn: str) -> None:
            if stream_arn == arn:
                callback("")

        def on_change(resource: str | None) -> None:
            callback("")

        return _both(
            self._streams.feed.subscribe(on_write),
            self._streams.env.database.watch(on_change),
        )

    def event_record(
        self, record: StreamRecord, shard_id: str, role_arn: str
    ) -> tuple[dict[str, Any], bytes]:
        return encode_dynamodb_record(record, self.arn)

    def arrival_text(self, epoch: float) -> str:
        return iso_seconds(epoch)

    def retention_cutoff(self, now: float) -> float | None:
        if not self.exists():
            return now
        return now - 24 * 3600.0


def _base64(value: Any) -> str:
    """Binary attribute values (``B``, ``BS``) travel base64 in Lambda events."""
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"cannot encode {type(value).__name__}")


def _both(first: Callable[[], None], second: Callable[[], None]) -> Callable[[], None]:
    def unsubscribe() -> None:
        first()
        second()

    return unsubscribe


#: Sends one failure record to a destination of one service kind; ``False`` if it failed.
DestinationHandler = Callable[[Arn, dict[str, Any]], bool]


class LocalDestinations:
    """``DestinationSender`` over this headwater's services, one handler per ARN service.

    SQS is built in; other services (SNS, S3) register theirs with ``register``. A
    destination of a service with no handler fails delivery (counted, never raised).
    """

    def __init__(self, lookup: Callable[[str], Service]) -> None:
        self._lookup = lookup
        self._handlers: dict[str, DestinationHandler] = {"sqs": self._send_sqs}

    def register(self, service: str, handler: DestinationHandler) -> None:
        self._handlers[service] = handler

    def send(self, destination_arn: str, body: dict[str, Any]) -> bool:
        arn = Arn.try_parse(destination_arn)
        handler = None if arn is None else self._handlers.get(arn.service)
        if arn is None or handler is None:
            log.warning(
                "on-failure destination %s: headwater cannot deliver there", destination_arn
            )
            return False
        try:
            return handler(arn, body)
        except Exception as error:  # a missing destination fails delivery, not the mapping
            log.warning("on-failure delivery to %s failed: %s", destination_arn, error)
            return False

    def _send_sqs(self, arn: Arn, body: dict[str, Any]) -> bool:
        if arn.resource.endswith(".fifo"):
            log.warning("on-failure destination %s is a FIFO queue", arn)
            return False
        sqs: Any = self._lookup("sqs")
        info = sqs.queue_info(str(arn))
        sqs.call(
            "SendMessage",
            {"QueueUrl": info.url, "MessageBody": orjson.dumps(body).decode()},
            RequestContext(region=arn.region, account=arn.account),
        )
        return True
