"""State and helpers shared by every group of Kinesis operations."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from headwater.core.arn import kinesis_stream_arn
from headwater.core.errors import AwsError
from headwater.core.listeners import Listeners
from headwater.services.base import RequestContext, ServiceEnvironment
from headwater.services.kinesis.sequence import ENDING_COUNTER, format_sequence, shard_prefix
from headwater.services.kinesis.shards import HashRouter, shard_id, shard_index
from headwater.services.kinesis.validation import (
    check_stream_name,
    invalid_argument,
    stream_name_from_arn,
)
from headwater.store.streams import ShardRow, StreamRow, open_stream_store
from headwater.store.streams.extras import StreamExtrasStore

log = logging.getLogger(__name__)

#: Default account-wide open-shard limit (AWS's default is lower; headwater is local).


@dataclass(frozen=True, slots=True)
class StreamRef:
    """A stream as a request names it."""

    region: str
    account: str
    name: str

    @property
    def arn(self) -> str:
        return kinesis_stream_arn(self.region, self.account, self.name)


@dataclass(frozen=True, slots=True)
class Routing:
    """What a put needs about a stream, cached until the stream changes."""

    stream: StreamRow
    router: HashRouter
    #: shard key -> (shard id, sequence-number prefix) of open shards.
    open_shards: dict[int, tuple[str, str]]


def not_found(ref: StreamRef) -> AwsError:
    return AwsError(
        "ResourceNotFoundException", f"Stream {ref.name} under account {ref.account} not found."
    )


def sequence_prefix(shard: ShardRow) -> str:
    return shard_prefix(shard.created, shard.index)


def shard_shape(shard: ShardRow) -> dict[str, Any]:
    """A shard as DescribeStream and ListShards return it."""
    prefix = sequence_prefix(shard)
    numbers: dict[str, str] = {"StartingSequenceNumber": format_sequence(prefix, 0)}
    if shard.closed:
        numbers["EndingSequenceNumber"] = format_sequence(prefix, ENDING_COUNTER)
    shape: dict[str, Any] = {"ShardId": shard.shard_id}
    if shard.parent is not None:
        shape["ParentShardId"] = shard.parent
    if shard.adjacent_parent is not None:
        shape["AdjacentParentShardId"] = shard.adjacent_parent
    shape["HashKeyRange"] = {
        "StartingHashKey": str(shard.start_hash),
        "EndingHashKey": str(shard.end_hash),
    }
    shape["SequenceNumberRange"] = numbers
    return shape


class KinesisCore:
    """What every Kinesis operation group shares (owned by ``KinesisService``): storage,
    stream lookup, the routing cache and put listeners."""

    def __init__(self, env: ServiceEnvironment) -> None:
        self.env = env
        self.db = env.database
        self.store = env.database.store(open_stream_store)
        #: Stream consumers and resource policies.
        self.extras = StreamExtrasStore(env.database)
        self.shard_limit = env.options.kinesis_shard_limit
        #: Enforce AWS's per-shard write limits (1,000 records/s, 1 MiB/s) as partial failures.
        self.enforce_throughput = env.options.kinesis_enforce_throughput
        #: Open-shard routing per stream, valid while the "kinesis" version holds.
        self._routing: dict[str, Routing] = {}
        self._routing_version = -1
        self._listeners: Listeners[Callable[[str, str], None]] = Listeners()
        self._last_arrival = 0.0
        self._last_trim: dict[str, float] = {}

    def forget_stream_extras(self, stream_arn: str) -> None:
        """Drop a deleted stream's consumers and resource policy (see consumer_operations)."""
        self.extras.delete_stream(stream_arn)

    # -- time ---------------------------------------------------------------------------

    def arrival_time(self) -> float:
        """Clock time for a new record, never below the previous one (reads rely on it).

        Millisecond precision, like AWS's ApproximateArrivalTimestamp.
        """
        now = int(self.env.clock.now() * 1000) / 1000
        now = max(now, self._last_arrival)
        self._last_arrival = now
        return now

    def now_ms(self) -> int:
        return int(self.env.clock.now() * 1000)

    # -- streams ------------------------------------------------------------------------

    def stream_ref(
        self,
        params: dict[str, Any],
        ctx: RequestContext,
        *,
        name_key: str = "StreamName",
        arn_key: str = "StreamARN",
    ) -> StreamRef:
        """The stream named by StreamARN and/or StreamName (ARN wins when both match)."""
        arn_value = params.get(arn_key)
        name_value = params.get(name_key)
        if arn_value is not None:
            region, account, name = stream_name_from_arn(arn_value)
            if name_value is not None and check_stream_name(name_value) != name:
                raise invalid_argument(
                    f"StreamARN {arn_value} and StreamName {name_value} do not name the same"
                    " stream."
                )
            return StreamRef(region, account, name)
        if name_value is None:
            raise invalid_argument("Either StreamName or StreamARN must be provided.")
        return StreamRef(ctx.region, ctx.account, check_stream_name(name_value))

    def require_stream(self, ref: StreamRef) -> StreamRow:
        stream = self.store.get_stream(ref.arn)
        if stream is None:
            raise not_found(ref)
        return stream

    @staticmethod
    def ref_of(stream: StreamRow) -> StreamRef:
        return StreamRef(stream.region, stream.account, stream.name)

    @staticmethod
    def retention_cutoff(stream: StreamRow, now: float) -> float:
        """Records that arrived before this time have expired."""
        return now - stream.retention_hours * 3600.0

    def visible_shards(self, stream: StreamRow, now: float) -> list[ShardRow]:
        """Shards still listed: open ones, and closed ones not yet past retention."""
        cutoff = self.retention_cutoff(stream, now)
        return [
            s for s in self.store.shards(stream.arn) if s.closed_at is None or s.closed_at >= cutoff
        ]

    def find_shard(self, stream: StreamRow, shard: str) -> ShardRow | None:
        """The shard with id ``shard`` (canonical ``shardId-`` + 12 digits) of ``stream``."""
        index = shard_index(shard)
        if index is None or shard_id(index) != shard:
            return None
        return self.store.get_shard(stream.arn, index)

    # -- routing cache --------------------------------------------------------------------

    def routing(self, ref: StreamRef) -> Routing:
        """The stream's open-shard routing (cached; every stream change invalidates it)."""
        arn = ref.arn
        version = self.db.version("kinesis")
        if version != self._routing_version:
            self._routing = {}
            self._routing_version = version
        found = self._routing.get(arn)
        if found is not None:
            return found
        with self.db.read():
            stream = self.require_stream(ref)
            open_rows = [s for s in self.store.shards(arn) if not s.closed]
        found = Routing(
            stream=stream,
            router=HashRouter.build([(s.start_hash, s.key) for s in open_rows]),
            open_shards={s.key: (s.shard_id, sequence_prefix(s)) for s in open_rows},
        )
        self._routing[arn] = found
        return found

    def invalidate(self, arn: str) -> None:
        """Forget ``arn``'s routing in every process (its shards or existence changed)."""
        self._routing.pop(arn, None)
        self.db.bump("kinesis")

    # -- listeners ------------------------------------------------------------------------

    def add_listener(self, callback: Callable[[str, str], None]) -> Callable[[], None]:
        """Call ``callback(stream_arn, shard_id)`` after puts commit (outside the DB lock).

        Returns a function that removes the listener.
        """
        return self._listeners.add(callback)

    def notify(self, arn: str, shard_ids: Iterable[str]) -> None:
        if self.db.kind == "postgresql":
            self.db.publish(arn)  # other nodes' shard pollers (NOTIFY)
        callbacks = self._listeners.snapshot()
        if not callbacks:
            return
        for shard in shard_ids:
            for callback in callbacks:
                try:
                    callback(arn, shard)
                except Exception:  # a listener's bug must not fail the put
                    log.exception("kinesis put listener failed")

    def open_shard_total(self, region: str, account: str) -> int:
        total = 0
        for stream in self.store.list_streams(region, account):
            total += sum(1 for s in self.store.shards(stream.arn) if not s.closed)
        return total

    def check_shard_limit(self, region: str, account: str, extra: int) -> None:
        current = self.open_shard_total(region, account)
        if current + extra > self.shard_limit:
            raise AwsError(
                "LimitExceededException",
                f"This request would exceed the shard limit for the account {account} in "
                f"{region}. Current shard count for the account: {current}. Limit: "
                f"{self.shard_limit}. Number of additional shards that would have resulted "
                f"from this request: {extra}. Refer to the AWS Service Limits page "
                "(http://docs.aws.amazon.com/general/latest/gr/aws_service_limits.html) "
                "for current limits and how to request higher limits.",
            )

    # -- retention ------------------------------------------------------------------------

    def trim_expired(self, stream: StreamRow, now: float) -> None:
        """Delete expired records now and then (reads already skip them)."""
        last = self._last_trim.get(stream.arn)
        if last is not None and now - last < 60.0:
            return
        self._last_trim[stream.arn] = now
        cutoff = self.retention_cutoff(stream, now)
        with self.db.transaction():
            for shard in self.store.shards(stream.arn):
                self.store.trim(shard.key, cutoff)
