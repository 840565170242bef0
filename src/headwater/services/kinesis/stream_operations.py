"""Stream lifecycle, listing, retention and tags."""

from __future__ import annotations

import base64
import binascii
import json
import sqlite3
from typing import Any

from headwater.core.errors import AwsError
from headwater.core.values import as_datetime
from headwater.services.base import Params, RequestContext, Result, operation
from headwater.services.kinesis.core import KinesisCore, StreamRef, shard_shape
from headwater.services.kinesis.shards import uniform_ranges
from headwater.services.kinesis.validation import (
    MAX_RETENTION_HOURS,
    MIN_RETENTION_HOURS,
    check_int,
    check_shard_id,
    check_stream_name,
    check_string,
    check_timestamp,
    invalid_argument,
    require,
    stream_name_from_arn,
)
from headwater.store.streams import NewShard, ShardRow, StreamRow

ON_DEMAND_SHARDS = 4
MAX_TAGS = 50
DEFAULT_RETENTION_HOURS = 24


def mode_details(stream: StreamRow) -> dict[str, str]:
    return {"StreamMode": stream.mode}


def check_stream_mode(details: Any) -> str:
    """``StreamModeDetails``'s mode: ``PROVISIONED`` or ``ON_DEMAND``."""
    if not isinstance(details, dict):
        raise AwsError("SerializationException", "Expected a structure for streamModeDetails")
    mode = require(details, "StreamMode", "streamModeDetails.streamMode")
    if mode not in ("PROVISIONED", "ON_DEMAND"):
        raise AwsError(
            "ValidationException",
            f"1 validation error detected: Value '{mode}' at "
            "'streamModeDetails.streamMode' failed to satisfy constraint: Member must "
            "satisfy enum value set: [PROVISIONED, ON_DEMAND]",
        )
    return str(mode)


def check_tags(tags: Any) -> dict[str, str]:
    """A tag map: 1-200 entries, keys 1-128 chars, values 0-256 chars."""
    if not isinstance(tags, dict):
        raise AwsError("SerializationException", "Expected a map for tags")
    if not 1 <= len(tags) <= 200:
        raise AwsError(
            "ValidationException",
            "1 validation error detected: Value at 'tags' failed to satisfy constraint: "
            "Member must have length less than or equal to 200",
        )
    for key, value in tags.items():
        check_string(key, "tags.key", min_len=1, max_len=128)
        check_string(value, "tags.value", max_len=256)
    return {str(k): str(v) for k, v in tags.items()}


class StreamOperations:
    """CreateStream, DeleteStream, Describe*, ListStreams, ListShards, retention, tags."""

    def __init__(self, core: KinesisCore) -> None:
        self.core = core

    @operation("CreateStream")
    def create_stream(self, params: Params, ctx: RequestContext) -> Result:
        name = check_stream_name(require(params, "StreamName", "streamName"))
        details = params.get("StreamModeDetails")
        mode = None if details is None else check_stream_mode(details)
        shard_count = params.get("ShardCount")
        if shard_count is not None:
            shard_count = check_int(shard_count, "shardCount", minimum=1, maximum=None)
        if mode is None:
            mode = "ON_DEMAND" if shard_count is None else "PROVISIONED"
        if mode == "ON_DEMAND":
            if shard_count is not None:
                raise invalid_argument("ShardCount is not supported for ON_DEMAND streams.")
            shard_count = ON_DEMAND_SHARDS
        elif shard_count is None:
            raise invalid_argument("ShardCount is required for PROVISIONED streams.")
        max_kib = params.get("MaxRecordSizeInKiB")
        max_kib = (
            1024
            if max_kib is None
            else check_int(max_kib, "maxRecordSizeInKiB", minimum=1024, maximum=10240)
        )
        tags = check_tags(params["Tags"]) if params.get("Tags") is not None else {}
        ref = StreamRef(ctx.region, ctx.account, name)
        now = self.core.env.clock.now()
        try:
            with self.core.db.transaction():
                if self.core.store.get_stream(ref.arn) is not None:
                    raise AwsError(
                        "ResourceInUseException",
                        f"Stream {name} under account {ctx.account} already exists.",
                    )
                self.core.check_shard_limit(ctx.region, ctx.account, shard_count)
                stream = StreamRow(
                    arn=ref.arn,
                    name=name,
                    region=ctx.region,
                    account=ctx.account,
                    created=now,
                    retention_hours=DEFAULT_RETENTION_HOURS,
                    mode=mode,
                    next_shard_index=shard_count,
                    max_record_kib=max_kib,
                    tags=tags,
                )
                shards = [
                    NewShard(i, start, end)
                    for i, (start, end) in enumerate(uniform_ranges(shard_count))
                ]
                self.core.store.create_stream(stream, shards)
                self.core.invalidate(ref.arn)
        except sqlite3.IntegrityError as error:
            # another node created it between our check and our insert (PostgreSQL)
            raise AwsError(
                "ResourceInUseException",
                f"Stream {name} under account {ctx.account} already exists.",
            ) from error
        return {}

    @operation("DeleteStream")
    def delete_stream(self, params: Params, ctx: RequestContext) -> Result:
        ref = self.core.stream_ref(params, ctx)
        if params.get("EnforceConsumerDeletion") not in (None, True, False):
            raise AwsError(
                "SerializationException", "Expected a boolean for enforceConsumerDeletion"
            )
        with self.core.db.transaction():
            self.core.require_stream(ref)
            self.core.store.delete_stream(ref.arn)
            self.core.forget_stream_extras(ref.arn)
            self.core.invalidate(ref.arn)
        return {}

    def _description_base(self, stream: StreamRow) -> dict[str, Any]:
        return {
            "StreamName": stream.name,
            "StreamARN": stream.arn,
            "StreamStatus": "ACTIVE",
            "StreamModeDetails": mode_details(stream),
        }

    @operation("DescribeStream")
    def describe_stream(self, params: Params, ctx: RequestContext) -> Result:
        ref = self.core.stream_ref(params, ctx)
        limit = params.get("Limit")
        limit = 100 if limit is None else check_int(limit, "limit", minimum=1, maximum=10000)
        limit = min(limit, 100)
        start_after = params.get("ExclusiveStartShardId")
        if start_after is not None:
            check_shard_id(start_after, "exclusiveStartShardId")
        stream = self.core.require_stream(ref)
        shards = self.core.visible_shards(stream, self.core.env.clock.now())
        if start_after is not None:
            shards = [s for s in shards if s.shard_id > start_after]
        page = shards[:limit]
        description = self._description_base(stream)
        description.update(
            {
                "Shards": [shard_shape(s) for s in page],
                "HasMoreShards": len(shards) > limit,
                "RetentionPeriodHours": stream.retention_hours,
                "StreamCreationTimestamp": as_datetime(stream.created),
                "EnhancedMonitoring": [{"ShardLevelMetrics": []}],
                "EncryptionType": "NONE",
            }
        )
        return {"StreamDescription": description}

    @operation("DescribeStreamSummary")
    def describe_stream_summary(self, params: Params, ctx: RequestContext) -> Result:
        ref = self.core.stream_ref(params, ctx)
        stream = self.core.require_stream(ref)
        open_count = sum(1 for s in self.core.store.shards(stream.arn) if not s.closed)
        summary = self._description_base(stream)
        summary.update(
            {
                "RetentionPeriodHours": stream.retention_hours,
                "StreamCreationTimestamp": as_datetime(stream.created),
                "EnhancedMonitoring": [{"ShardLevelMetrics": []}],
                "EncryptionType": "NONE",
                "OpenShardCount": open_count,
                "ConsumerCount": 0,
                "MaxRecordSizeInKiB": stream.max_record_kib,
            }
        )
        return {"StreamDescriptionSummary": summary}

    @operation("ListStreams")
    def list_streams(self, params: Params, ctx: RequestContext) -> Result:
        limit = params.get("Limit")
        limit = 100 if limit is None else check_int(limit, "limit", minimum=1, maximum=10000)
        limit = min(limit, 100)  # AWS returns at most 100 streams per call
        start_after = params.get("ExclusiveStartStreamName")
        if start_after is not None:
            check_stream_name(start_after, "exclusiveStartStreamName")
        token = params.get("NextToken")
        if token is not None:
            start_after = _decode_token(check_string(token, "nextToken", min_len=1), "name")
        streams = self.core.store.list_streams(ctx.region, ctx.account)
        if start_after is not None:
            streams = [s for s in streams if s.name > start_after]
        page = streams[:limit]
        more = len(streams) > limit
        result: dict[str, Any] = {
            "StreamNames": [s.name for s in page],
            "HasMoreStreams": more,
            "StreamSummaries": [
                {
                    "StreamName": s.name,
                    "StreamARN": s.arn,
                    "StreamStatus": "ACTIVE",
                    "StreamModeDetails": mode_details(s),
                    "StreamCreationTimestamp": as_datetime(s.created),
                }
                for s in page
            ],
        }
        if more and page:
            result["NextToken"] = _encode_token({"name": page[-1].name})
        return result

    @operation("ListShards")
    def list_shards(self, params: Params, ctx: RequestContext) -> Result:
        token = params.get("NextToken")
        max_results = params.get("MaxResults")
        max_results = (
            1000
            if max_results is None
            else check_int(max_results, "maxResults", minimum=1, maximum=10000)
        )
        now = self.core.env.clock.now()
        start_after: str | None
        shard_filter: dict[str, Any] | None
        if token is not None:
            if params.get("StreamName") is not None or params.get("StreamARN") is not None:
                raise invalid_argument("NextToken and StreamName cannot be provided together.")
            if params.get("ExclusiveStartShardId") is not None:
                raise invalid_argument(
                    "NextToken and ExclusiveStartShardId cannot be provided together."
                )
            state = _decode_token(check_string(token, "nextToken", min_len=1), None)
            if not isinstance(state, dict) or now * 1000 - state.get("t", 0) > 300_000:
                raise AwsError("ExpiredNextTokenException", "The requested token has expired.")
            region, account, name = stream_name_from_arn(state["arn"])
            ref = StreamRef(region, account, name)
            start_after = state.get("after")
            shard_filter = state.get("filter")
        else:
            if params.get("StreamName") is None and params.get("StreamARN") is None:
                raise invalid_argument("Either NextToken or StreamName should be provided.")
            ref = self.core.stream_ref(params, ctx)
            start_after = params.get("ExclusiveStartShardId")
            if start_after is not None:
                check_shard_id(start_after, "exclusiveStartShardId")
            shard_filter = params.get("ShardFilter")
            if shard_filter is not None:
                shard_filter = _check_shard_filter(shard_filter)
        stream = self.core.require_stream(ref)
        shards = _apply_filter(self.core.visible_shards(stream, now), shard_filter, stream)
        if start_after is not None:
            shards = [s for s in shards if s.shard_id > start_after]
        max_results = min(max_results, 1000)  # AWS returns at most 1,000 shards per call
        page = shards[:max_results]
        result: dict[str, Any] = {"Shards": [shard_shape(s) for s in page]}
        if len(shards) > max_results:
            result["NextToken"] = _encode_token(
                {
                    "arn": stream.arn,
                    "after": page[-1].shard_id,
                    "filter": shard_filter,
                    "t": int(now * 1000),
                }
            )
        return result

    def _change_retention(self, params: Params, ctx: RequestContext, increase: bool) -> Result:
        ref = self.core.stream_ref(params, ctx)
        hours = check_int(
            require(params, "RetentionPeriodHours", "retentionPeriodHours"),
            "retentionPeriodHours",
            minimum=None,
            maximum=None,
        )
        with self.core.db.transaction():
            stream = self.core.require_stream(ref)
            if hours < MIN_RETENTION_HOURS:
                raise invalid_argument(
                    f"Minimum allowed retention period is {MIN_RETENTION_HOURS} hours. Requested "
                    f"retention period ({hours} hours) is too short."
                )
            if hours > MAX_RETENTION_HOURS:
                raise invalid_argument(
                    f"Maximum allowed retention period is {MAX_RETENTION_HOURS} hours. Requested "
                    f"retention period ({hours} hours) is too long."
                )
            if increase and hours < stream.retention_hours:
                raise invalid_argument(
                    f"Requested retention period ({hours} hours) for stream {ref.name} can not be "
                    f"shorter than existing retention period ({stream.retention_hours} hours). "
                    "Use DecreaseRetentionPeriod API."
                )
            if not increase and hours > stream.retention_hours:
                raise invalid_argument(
                    f"Requested retention period ({hours} hours) for stream {ref.name} can not be "
                    f"longer than existing retention period ({stream.retention_hours} hours). "
                    "Use IncreaseRetentionPeriod API."
                )
            # Expired records stay gone when retention grows again: drop them now.
            cutoff = self.core.env.clock.now() - min(hours, stream.retention_hours) * 3600.0
            for shard in self.core.store.shards(ref.arn):
                self.core.store.trim(shard.key, cutoff)
            self.core.store.set_retention(ref.arn, hours)
            self.core.invalidate(ref.arn)
        return {}

    @operation("IncreaseStreamRetentionPeriod")
    def increase_stream_retention_period(self, params: Params, ctx: RequestContext) -> Result:
        return self._change_retention(params, ctx, increase=True)

    @operation("DecreaseStreamRetentionPeriod")
    def decrease_stream_retention_period(self, params: Params, ctx: RequestContext) -> Result:
        return self._change_retention(params, ctx, increase=False)

    @operation("UpdateStreamMode")
    def update_stream_mode(self, params: Params, ctx: RequestContext) -> Result:
        region, account, name = stream_name_from_arn(require(params, "StreamARN", "streamARN"))
        mode = check_stream_mode(require(params, "StreamModeDetails", "streamModeDetails"))
        ref = StreamRef(region, account, name)
        with self.core.db.transaction():
            self.core.require_stream(ref)
            self.core.store.set_mode(ref.arn, mode)
            self.core.invalidate(ref.arn)
        return {}

    @operation("DescribeLimits")
    def describe_limits(self, params: Params, ctx: RequestContext) -> Result:
        streams = self.core.store.list_streams(ctx.region, ctx.account)
        return {
            "ShardLimit": self.core.shard_limit,
            "OpenShardCount": self.core.open_shard_total(ctx.region, ctx.account),
            "OnDemandStreamCount": sum(1 for s in streams if s.mode == "ON_DEMAND"),
            "OnDemandStreamCountLimit": 50,
        }

    # -- tags -------------------------------------------------------------------------------

    def _add_tags(self, ref: StreamRef, tags: dict[str, str]) -> None:
        with self.core.db.transaction():
            stream = self.core.require_stream(ref)
            merged = dict(stream.tags)
            merged.update(tags)
            if len(merged) > MAX_TAGS:
                raise invalid_argument(
                    f"Failed to add tags to stream {ref.name} under account {ref.account} because "
                    f"a given stream cannot have more than {MAX_TAGS} tags associated with it."
                )
            self.core.store.set_tags(ref.arn, merged)
            self.core.invalidate(ref.arn)

    def _remove_tags(self, ref: StreamRef, keys: Any) -> None:
        if not isinstance(keys, list) or not 1 <= len(keys) <= 50:
            raise AwsError(
                "ValidationException",
                "1 validation error detected: Value at 'tagKeys' failed to satisfy constraint: "
                "Member must have length between 1 and 50",
            )
        for key in keys:
            check_string(key, "tagKeys.member", min_len=1, max_len=128)
        with self.core.db.transaction():
            stream = self.core.require_stream(ref)
            remaining = {k: v for k, v in stream.tags.items() if k not in set(keys)}
            self.core.store.set_tags(ref.arn, remaining)
            self.core.invalidate(ref.arn)

    @operation("AddTagsToStream")
    def add_tags_to_stream(self, params: Params, ctx: RequestContext) -> Result:
        ref = self.core.stream_ref(params, ctx)
        self._add_tags(ref, check_tags(require(params, "Tags", "tags")))
        return {}

    @operation("RemoveTagsFromStream")
    def remove_tags_from_stream(self, params: Params, ctx: RequestContext) -> Result:
        ref = self.core.stream_ref(params, ctx)
        self._remove_tags(ref, require(params, "TagKeys", "tagKeys"))
        return {}

    @operation("ListTagsForStream")
    def list_tags_for_stream(self, params: Params, ctx: RequestContext) -> Result:
        ref = self.core.stream_ref(params, ctx)
        limit = params.get("Limit")
        limit = 50 if limit is None else check_int(limit, "limit", minimum=1, maximum=50)
        start = params.get("ExclusiveStartTagKey")
        if start is not None:
            check_string(start, "exclusiveStartTagKey", min_len=1, max_len=128)
        stream = self.core.require_stream(ref)
        keys = sorted(k for k in stream.tags if start is None or k > start)
        return {
            "Tags": [{"Key": k, "Value": stream.tags[k]} for k in keys[:limit]],
            "HasMoreTags": len(keys) > limit,
        }

    def _resource_ref(self, params: Params) -> StreamRef:
        arn = require(params, "ResourceARN", "resourceARN")
        region, account, name = stream_name_from_arn(arn, "resourceARN")
        return StreamRef(region, account, name)

    @operation("TagResource")
    def tag_resource(self, params: Params, ctx: RequestContext) -> Result:
        ref = self._resource_ref(params)
        self._add_tags(ref, check_tags(require(params, "Tags", "tags")))
        return {}

    @operation("UntagResource")
    def untag_resource(self, params: Params, ctx: RequestContext) -> Result:
        ref = self._resource_ref(params)
        self._remove_tags(ref, require(params, "TagKeys", "tagKeys"))
        return {}

    @operation("ListTagsForResource")
    def list_tags_for_resource(self, params: Params, ctx: RequestContext) -> Result:
        ref = self._resource_ref(params)
        stream = self.core.require_stream(ref)
        return {"Tags": [{"Key": k, "Value": stream.tags[k]} for k in sorted(stream.tags)]}


def _encode_token(state: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(state, separators=(",", ":")).encode()).decode()


def _decode_token(token: str, key: str | None) -> Any:
    try:
        state = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
    except (binascii.Error, UnicodeError, ValueError):
        raise invalid_argument(f"Invalid NextToken: {token}") from None
    if key is None:
        return state
    if not isinstance(state, dict) or not isinstance(state.get(key), str):
        raise invalid_argument(f"Invalid NextToken: {token}")
    return state[key]


FILTER_TYPES = (
    "AFTER_SHARD_ID",
    "AT_TRIM_HORIZON",
    "FROM_TRIM_HORIZON",
    "AT_LATEST",
    "AT_TIMESTAMP",
    "FROM_TIMESTAMP",
)


def _check_shard_filter(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise AwsError("SerializationException", "Expected a structure for shardFilter")
    kind = require(value, "Type", "shardFilter.type")
    if kind not in FILTER_TYPES:
        raise AwsError(
            "ValidationException",
            f"1 validation error detected: Value '{kind}' at 'shardFilter.type' failed to "
            f"satisfy constraint: Member must satisfy enum value set: [{', '.join(FILTER_TYPES)}]",
        )
    checked: dict[str, Any] = {"Type": kind}
    if kind == "AFTER_SHARD_ID":
        if value.get("ShardId") is None:
            raise invalid_argument("Must specify ShardId for ShardFilter type AFTER_SHARD_ID.")
        checked["ShardId"] = check_shard_id(value["ShardId"], "shardFilter.shardId")
    if kind in ("AT_TIMESTAMP", "FROM_TIMESTAMP"):
        if value.get("Timestamp") is None:
            raise invalid_argument(f"Must specify Timestamp for ShardFilter type {kind}.")
        checked["Timestamp"] = check_timestamp(value["Timestamp"], "shardFilter.timestamp")
    return checked


def _apply_filter(
    shards: list[ShardRow], shard_filter: dict[str, Any] | None, stream: StreamRow
) -> list[ShardRow]:
    if shard_filter is None:
        return shards
    kind = shard_filter["Type"]
    if kind == "AFTER_SHARD_ID":
        return [s for s in shards if s.shard_id > shard_filter["ShardId"]]
    if kind == "FROM_TRIM_HORIZON":
        return shards
    if kind == "AT_TRIM_HORIZON":
        listed = {s.shard_id for s in shards}
        return [
            s
            for s in shards
            if (s.parent is None or s.parent not in listed)
            and (s.adjacent_parent is None or s.adjacent_parent not in listed)
        ]
    if kind == "AT_LATEST":
        return [s for s in shards if not s.closed]
    moment = float(shard_filter["Timestamp"])
    if kind == "AT_TIMESTAMP":
        return [
            s
            for s in shards
            if (s.created <= moment or s.parent is None)
            and (s.closed_at is None or s.closed_at > moment)
        ]
    return [s for s in shards if s.closed_at is None or s.closed_at > moment]
