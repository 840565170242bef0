"""``DynamoDBStreamsService``: ListStreams, DescribeStream, GetShardIterator, GetRecords.

It reads the DynamoDB service's change feed (``hw.service("dynamodb").feed``): streams
are the feed's, shards are the feed's shards, and records are shaped by ``records``.
Retention (24 hours) is applied on the headwater clock when the API is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from headwater.core.errors import AwsError
from headwater.core.values import as_datetime
from headwater.services.base import Params, RequestContext, Result, Service, operation
from headwater.services.dynamodb.change_feed import ChangeRecord, ShardView, StreamInfo
from headwater.services.dynamodbstreams.iterators import (
    ShardIterator,
    check_not_expired,
    decode_iterator,
    encode_iterator,
)
from headwater.services.dynamodbstreams.records import (
    sequence_position,
    sequence_text,
    stream_record,
)
from headwater.services.kinesis.validation import check_int, check_string, require

if TYPE_CHECKING:
    from headwater.services.dynamodb import ChangeFeed

#: GetRecords returns at most 1 MB.
MAX_RESPONSE_BYTES = 1024 * 1024
#: Clock seconds between retention trims done by API calls.
TRIM_EVERY_SECONDS = 60.0
ITERATOR_TYPES = ("TRIM_HORIZON", "LATEST", "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER")


def stream_not_found(arn: str) -> AwsError:
    return AwsError(
        "ResourceNotFoundException", f"Requested resource not found: Stream: {arn} not found"
    )


def shard_not_found(shard_id: str, arn: str) -> AwsError:
    return AwsError(
        "ResourceNotFoundException",
        f"Requested resource not found: Shard: {shard_id} in Stream: {arn} not found",
    )


def trimmed(arn: str) -> AwsError:
    return AwsError(
        "TrimmedDataAccessException",
        f"The operation attempted to read past the oldest stream record in a shard of {arn}",
    )


class DynamoDBStreamsService(Service):
    """The DynamoDB Streams API over the DynamoDB change feed."""

    service_name = "dynamodbstreams"

    @property
    def feed(self) -> ChangeFeed:
        dynamodb: Any = self.env.service("dynamodb")
        feed: ChangeFeed = dynamodb.feed
        return feed

    def now(self) -> float:
        return self.env.clock.now()

    _trimmed_at: float | None = None

    def _trim(self) -> None:
        """Drop what left the 24-hour retention (at most once a clock minute)."""
        now = self.now()
        if self._trimmed_at is None or now - self._trimmed_at >= TRIM_EVERY_SECONDS:
            self._trimmed_at = now
            self.feed.trim(now)

    # ---- lookups (also used by the event source mapping adapter) ----

    def stream_exists(self, arn: str) -> bool:
        return self.feed.stream(arn) is not None

    def stream_info(self, arn: Any) -> StreamInfo:
        arn = check_string(require({"a": arn}, "a", "streamArn"), "streamArn", min_len=37)
        if len(arn) > 1024:
            raise AwsError("ValidationException", "Invalid StreamArn")
        info = self.feed.stream(arn)
        if info is None:
            raise stream_not_found(arn)
        return info

    def shard(self, info: StreamInfo, shard_id: str) -> ShardView:
        for shard in self.feed.shards(info.arn, self.now()):
            if shard.shard_id == shard_id:
                return shard
        raise shard_not_found(shard_id, info.arn)

    # ---- operations ----

    @operation("ListStreams")
    def list_streams(self, params: Params, ctx: RequestContext) -> Result:
        self._trim()
        limit = check_int(params.get("Limit", 100), "limit", minimum=1, maximum=100)
        table = params.get("TableName")
        if table is not None:
            check_string(table, "tableName", min_len=3, max_len=255)
        streams = self.feed.streams(ctx.account, ctx.region, table)
        start = params.get("ExclusiveStartStreamArn")
        if start is not None:
            streams = [s for s in streams if s.arn > start]
        page = streams[:limit]
        result: Result = {
            "Streams": [
                {"StreamArn": s.arn, "TableName": s.table_name, "StreamLabel": s.label}
                for s in page
            ]
        }
        if len(streams) > limit:
            result["LastEvaluatedStreamArn"] = page[-1].arn
        return result

    @operation("DescribeStream")
    def describe_stream(self, params: Params, ctx: RequestContext) -> Result:
        self._trim()
        info = self.stream_info(params.get("StreamArn"))
        limit = check_int(params.get("Limit", 100), "limit", minimum=1, maximum=100)
        shards = self.feed.shards(info.arn, self.now())
        shard_filter = params.get("ShardFilter")
        if shard_filter is not None:
            if shard_filter.get("Type") != "CHILD_SHARDS" or not shard_filter.get("ShardId"):
                raise AwsError(
                    "ValidationException", "ShardFilter must be CHILD_SHARDS with a ShardId"
                )
            shards = [s for s in shards if s.parent_shard_id == shard_filter["ShardId"]]
        start = params.get("ExclusiveStartShardId")
        if start is not None:
            ids = [s.shard_id for s in shards]
            shards = shards[ids.index(start) + 1 :] if start in ids else []
        page = shards[:limit]
        description: dict[str, Any] = {
            "StreamArn": info.arn,
            "StreamLabel": info.label,
            "StreamStatus": "ENABLED" if info.enabled else "DISABLED",
            "StreamViewType": info.view_type,
            "CreationRequestDateTime": as_datetime(info.created),
            "TableName": info.table_name,
            "KeySchema": info.key_schema,
            "Shards": [_shard(s) for s in page],
        }
        if len(shards) > limit:
            description["LastEvaluatedShardId"] = page[-1].shard_id
        return {"StreamDescription": description}

    @operation("GetShardIterator")
    def get_shard_iterator(self, params: Params, ctx: RequestContext) -> Result:
        info = self.stream_info(params.get("StreamArn"))
        shard_id = check_string(
            require(params, "ShardId", "shardId"), "shardId", min_len=28, max_len=65
        )
        kind = require(params, "ShardIteratorType", "shardIteratorType")
        if kind not in ITERATOR_TYPES:
            raise AwsError(
                "ValidationException",
                f"1 validation error detected: Value '{kind}' at 'shardIteratorType' failed "
                "to satisfy constraint: Member must satisfy enum value set: "
                "[AFTER_SEQUENCE_NUMBER, AT_SEQUENCE_NUMBER, TRIM_HORIZON, LATEST]",
            )
        shard = self.shard(info, shard_id)
        retained = self.feed.first_retained(info.arn)
        floor = shard.first_sequence
        if kind == "TRIM_HORIZON":
            after = floor if retained is None else max(floor, retained - 1)
        elif kind == "LATEST":
            after = (
                shard.last_sequence
                if shard.last_sequence is not None
                else max(floor, self.feed.latest_sequence(info.arn))
            )
        else:
            text = params.get("SequenceNumber")
            if text is None:
                raise AwsError(
                    "ValidationException",
                    "Must specify a sequence number with AT_SEQUENCE_NUMBER or "
                    "AFTER_SEQUENCE_NUMBER iterator type",
                )
            position = sequence_position(str(text))
            upper = shard.last_sequence
            if position is None or position <= floor or (upper is not None and position > upper):
                raise AwsError(
                    "ValidationException",
                    f"Invalid SequenceNumber {text} for shard {shard_id}",
                )
            if retained is None or position < retained:
                raise trimmed(info.arn)
            after = position - 1 if kind == "AT_SEQUENCE_NUMBER" else position
        iterator = ShardIterator(info.arn, shard.shard_id, after, self._now_ms())
        return {"ShardIterator": encode_iterator(iterator)}

    @operation("GetRecords")
    def get_records(self, params: Params, ctx: RequestContext) -> Result:
        text = check_string(
            require(params, "ShardIterator", "shardIterator"),
            "shardIterator",
            min_len=1,
            max_len=2048,
        )
        limit = check_int(params.get("Limit", 1000), "limit", minimum=1, maximum=1000)
        state = decode_iterator(text)
        check_not_expired(state, self._now_ms())
        info = self.feed.stream(state.stream_arn)
        if info is None:
            raise stream_not_found(state.stream_arn)
        shard = self.shard(info, state.shard_id)
        retained = self.feed.first_retained(info.arn)
        if retained is not None and shard.first_sequence < state.after < retained - 1:
            raise trimmed(info.arn)  # records after the iterator's position are gone
        records, position, end = self.feed.read_shard(info.arn, shard, state.after, limit)
        shaped, kept_to = self._shaped(records, info, ctx.region)
        if kept_to is not None:
            position, end = kept_to, False
        result: Result = {"Records": shaped}
        if not end:
            result["NextShardIterator"] = encode_iterator(
                ShardIterator(info.arn, shard.shard_id, position, self._now_ms())
            )
        return result

    def _shaped(
        self, records: list[ChangeRecord], info: StreamInfo, region: str
    ) -> tuple[list[dict[str, Any]], int | None]:
        """Records as the API returns them, cut at 1 MB (and where the cut fell)."""
        shaped: list[dict[str, Any]] = []
        total = 0
        for record in records:
            one = stream_record(record, info.view_type, region)
            total += one["dynamodb"]["SizeBytes"]
            if shaped and total > MAX_RESPONSE_BYTES:
                return shaped, record.sequence - 1
            # AWS rounds it down to the second, as the record's shape for functions does
            one["dynamodb"]["ApproximateCreationDateTime"] = as_datetime(int(record.created))
            shaped.append(one)
        return shaped, None

    def _now_ms(self) -> int:
        return int(self.now() * 1000)


def _shard(shard: ShardView) -> dict[str, Any]:
    numbers = {"StartingSequenceNumber": sequence_text(shard.first_sequence + 1)}
    if shard.last_sequence is not None:
        numbers["EndingSequenceNumber"] = sequence_text(shard.last_sequence)
    described: dict[str, Any] = {"ShardId": shard.shard_id, "SequenceNumberRange": numbers}
    if shard.parent_shard_id is not None:
        described["ParentShardId"] = shard.parent_shard_id
    return described
