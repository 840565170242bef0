"""SplitShard, MergeShards and UpdateShardCount, with parent/child lineage."""

from __future__ import annotations

from headwater.core.errors import AwsError
from headwater.services.base import Params, RequestContext, Result, operation
from headwater.services.kinesis.core import KinesisCore, StreamRef
from headwater.services.kinesis.shards import (
    ReshardPlan,
    plan_merge,
    plan_split,
    plan_uniform_scaling,
    shard_id,
    shard_index,
)
from headwater.services.kinesis.validation import (
    check_hash_key,
    check_int,
    check_shard_id,
    invalid_argument,
    require,
)
from headwater.store.streams import NewShard, ShardRow, StreamRow


class ReshardOperations:
    """Resharding closes parents (they keep their records) and opens children at once."""

    def __init__(self, core: KinesisCore) -> None:
        self.core = core

    def _shard_or_404(self, ref: StreamRef, stream: StreamRow, text: str) -> ShardRow:
        index = shard_index(text)
        found = None if index is None else self.core.find_shard(stream, shard_id(index))
        if found is None:
            raise AwsError(
                "ResourceNotFoundException",
                f"Could not find shard {text} in stream {ref.name} under account {ref.account}.",
            )
        return found

    def _apply(self, ref: StreamRef, plan: ReshardPlan) -> None:
        opened = sum(1 for s in plan.create if not s.closed) - len(plan.close)
        if opened > 0:
            self.core.check_shard_limit(ref.region, ref.account, opened)
        self.core.store.reshard(
            ref.arn,
            plan.close,
            [
                NewShard(s.index, s.start, s.end, s.parent, s.adjacent_parent, s.closed)
                for s in plan.create
            ],
            self.core.env.clock.now(),
        )
        self.core.invalidate(ref.arn)

    @operation("SplitShard")
    def split_shard(self, params: Params, ctx: RequestContext) -> Result:
        ref = self.core.stream_ref(params, ctx)
        target = check_shard_id(require(params, "ShardToSplit", "shardToSplit"), "shardToSplit")
        new_start = check_hash_key(
            require(params, "NewStartingHashKey", "newStartingHashKey"), "newStartingHashKey"
        )
        with self.core.db.transaction():
            stream = self.core.require_stream(ref)
            shard = self._shard_or_404(ref, stream, target)
            if shard.closed:
                raise invalid_argument(
                    f"Shard {shard.shard_id} in stream {ref.name} under account {ref.account} "
                    "has already been merged or split, and thus is not eligible for splitting."
                )
            if new_start <= shard.start_hash + 1 or new_start >= shard.end_hash:
                raise invalid_argument(
                    f"NewStartingHashKey {new_start} used in SplitShard() on shard "
                    f"{shard.shard_id} in stream {ref.name} under account {ref.account} is not "
                    "both greater than one plus the shard's StartingHashKey "
                    f"{shard.start_hash} and less than the shard's EndingHashKey "
                    f"{shard.end_hash}."
                )
            plan = plan_split(
                shard.shard_id, shard.start_hash, shard.end_hash, new_start, stream.next_shard_index
            )
            self._apply(ref, plan)
        return {}

    @operation("MergeShards")
    def merge_shards(self, params: Params, ctx: RequestContext) -> Result:
        ref = self.core.stream_ref(params, ctx)
        first = check_shard_id(require(params, "ShardToMerge", "shardToMerge"), "shardToMerge")
        second = check_shard_id(
            require(params, "AdjacentShardToMerge", "adjacentShardToMerge"),
            "adjacentShardToMerge",
        )
        with self.core.db.transaction():
            stream = self.core.require_stream(ref)
            shards = [
                self._shard_or_404(ref, stream, first),
                self._shard_or_404(ref, stream, second),
            ]
            for shard in shards:
                if shard.closed:
                    raise invalid_argument(
                        f"Shard {shard.shard_id} in stream {ref.name} under account "
                        f"{ref.account} has already been merged or split, and thus is not "
                        "eligible for merging."
                    )
            left, right = sorted(shards, key=lambda s: s.start_hash)
            if left.shard_id == right.shard_id or left.end_hash + 1 != right.start_hash:
                raise invalid_argument(
                    f"Shards {shards[0].shard_id} and {shards[1].shard_id} in stream {ref.name} "
                    f"under account {ref.account} are not an adjacent pair of shards eligible "
                    "for merging"
                )
            plan = plan_merge(
                shards[0].shard_id,
                shards[1].shard_id,
                left.start_hash,
                right.end_hash,
                stream.next_shard_index,
            )
            self._apply(ref, plan)
        return {}

    @operation("UpdateShardCount")
    def update_shard_count(self, params: Params, ctx: RequestContext) -> Result:
        ref = self.core.stream_ref(params, ctx)
        target = check_int(
            require(params, "TargetShardCount", "targetShardCount"),
            "targetShardCount",
            minimum=1,
            maximum=None,
        )
        scaling = require(params, "ScalingType", "scalingType")
        if scaling != "UNIFORM_SCALING":
            raise AwsError(
                "ValidationException",
                f"1 validation error detected: Value '{scaling}' at 'scalingType' failed to "
                "satisfy constraint: Member must satisfy enum value set: [UNIFORM_SCALING]",
            )
        with self.core.db.transaction():
            stream = self.core.require_stream(ref)
            if stream.mode == "ON_DEMAND":
                raise invalid_argument(
                    f"UpdateShardCount is not supported for stream {ref.name} under account "
                    f"{ref.account} in ON_DEMAND mode."
                )
            open_shards = [s for s in self.core.store.shards(ref.arn) if not s.closed]
            current = len(open_shards)
            if target > current * 2:
                raise AwsError(
                    "LimitExceededException",
                    "UpdateShardCount cannot scale up over double your current open shard "
                    f"count. Current open shard count: {current}, Target shard count: {target}",
                )
            if target * 2 < current:
                raise AwsError(
                    "LimitExceededException",
                    "UpdateShardCount cannot scale down below half your current open shard "
                    f"count. Current open shard count: {current}, Target shard count: {target}",
                )
            plan = plan_uniform_scaling(
                [(s.shard_id, s.start_hash, s.end_hash) for s in open_shards],
                stream.next_shard_index,
                target,
            )
            self._apply(ref, plan)
        return {
            "StreamName": ref.name,
            "CurrentShardCount": current,
            "TargetShardCount": target,
            "StreamARN": ref.arn,
        }
