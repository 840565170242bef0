"""The hash-key space: shard ranges, partition-key hashing and resharding plans."""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

HASH_SPACE = 2**128
MAX_HASH_KEY = HASH_SPACE - 1
SHARD_ID_PREFIX = "shardId-"


def shard_id(index: int) -> str:
    """``shardId-000000000000`` for shard ``index``."""
    return f"{SHARD_ID_PREFIX}{index:012d}"


def shard_index(text: str) -> int | None:
    """The index in a shard id; accepts ``shardId-000000000003`` and ``3`` as AWS does."""
    digits = text[len(SHARD_ID_PREFIX) :] if text.startswith(SHARD_ID_PREFIX) else text
    if not digits.isdigit() or len(digits) > 12:
        return None
    return int(digits)


def partition_key_hash(partition_key: str) -> int:
    """The 128-bit hash key Kinesis derives from a partition key (MD5, big-endian)."""
    return int.from_bytes(hashlib.md5(partition_key.encode("utf-8")).digest(), "big")


def uniform_ranges(count: int) -> list[tuple[int, int]]:
    """``count`` equal hash-key ranges as AWS creates them (the last one takes the rest)."""
    step = HASH_SPACE // count
    ranges = [(i * step, (i + 1) * step - 1) for i in range(count)]
    ranges[-1] = (ranges[-1][0], MAX_HASH_KEY)
    return ranges


@dataclass(frozen=True, slots=True)
class HashRouter:
    """Finds the open shard whose range holds a hash key (open ranges tile the space)."""

    starts: tuple[int, ...]
    shard_keys: tuple[int, ...]

    @classmethod
    def build(cls, ranges: Sequence[tuple[int, int]]) -> HashRouter:
        """``ranges``: ``(starting_hash_key, shard_key)`` of every open shard."""
        ordered = sorted(ranges)
        return cls(tuple(r[0] for r in ordered), tuple(r[1] for r in ordered))

    def route(self, hash_key: int) -> int:
        """The key of the shard that owns ``hash_key``."""
        return self.shard_keys[bisect_right(self.starts, hash_key) - 1]


def uniform_scaling_targets(target: int) -> list[int]:
    """The inner boundaries (starting keys except 0) of ``target`` uniform shards."""
    return [start for start, _ in uniform_ranges(target)[1:]]


@dataclass(slots=True)
class ShardSpec:
    """A shard a reshard creates; ``closed`` when a later step of the same reshard closed it."""

    index: int
    start: int
    end: int
    parent: str | None
    adjacent_parent: str | None = None
    closed: bool = False

    @property
    def shard_id(self) -> str:
        return shard_id(self.index)


@dataclass(slots=True)
class ReshardPlan:
    """What a reshard does: existing shards to close and shards to create, in order."""

    close: list[str]
    create: list[ShardSpec]


def plan_split(parent: str, start: int, end: int, new_start: int, next_index: int) -> ReshardPlan:
    """SplitShard: ``parent`` closes, children take ``[start, new-1]`` and ``[new, end]``."""
    return ReshardPlan(
        close=[parent],
        create=[
            ShardSpec(next_index, start, new_start - 1, parent),
            ShardSpec(next_index + 1, new_start, end, parent),
        ],
    )


def plan_merge(left: str, right: str, start: int, end: int, next_index: int) -> ReshardPlan:
    """MergeShards: both parents close, the child spans both ranges."""
    return ReshardPlan(close=[left, right], create=[ShardSpec(next_index, start, end, left, right)])


def plan_uniform_scaling(
    open_shards: Sequence[tuple[str, int, int]], next_index: int, target: int
) -> ReshardPlan:
    """UpdateShardCount(UNIFORM_SCALING) as a series of splits then merges.

    ``open_shards`` are ``(shard_id, start, end)``. Like AWS, the result is ``target``
    uniform shards whose lineage only ever has one or two parents per shard (intermediate
    shards may be created and closed on the way), so readers can follow parents to children.
    """
    plan = ReshardPlan(close=[], create=[])
    created: dict[str, ShardSpec] = {}
    current: list[tuple[str, int, int]] = sorted(open_shards, key=lambda s: s[1])
    counter = [next_index]

    def close(shard: str) -> None:
        spec = created.get(shard)
        if spec is None:
            plan.close.append(shard)
        else:
            spec.closed = True

    def new(start: int, end: int, parent: str, adjacent: str | None = None) -> tuple[str, int, int]:
        spec = ShardSpec(counter[0], start, end, parent, adjacent)
        counter[0] += 1
        created[spec.shard_id] = spec
        plan.create.append(spec)
        return (spec.shard_id, start, end)

    boundaries = uniform_scaling_targets(target)
    for boundary in boundaries:
        for position, (sid, start, end) in enumerate(current):
            if start < boundary <= end:
                close(sid)
                left = new(start, boundary - 1, sid)
                right = new(boundary, end, sid)
                current[position : position + 1] = [left, right]
                break
    groups: dict[int, list[tuple[str, int, int]]] = {}
    for shard in current:
        groups.setdefault(bisect_right(boundaries, shard[1]), []).append(shard)
    for members in groups.values():
        merged = members[0]
        for following in members[1:]:
            close(merged[0])
            close(following[0])
            merged = new(merged[1], following[2], merged[0], following[0])
    return plan
