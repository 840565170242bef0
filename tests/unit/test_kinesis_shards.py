"""Hash-key space, partition-key hashing and resharding plans."""

from __future__ import annotations

import itertools

import pytest

from headwater.services.kinesis.shards import (
    HASH_SPACE,
    MAX_HASH_KEY,
    HashRouter,
    partition_key_hash,
    plan_merge,
    plan_split,
    plan_uniform_scaling,
    shard_id,
    shard_index,
    uniform_ranges,
)


def test_two_shards_split_at_half() -> None:
    assert uniform_ranges(2) == [
        (0, 170141183460469231731687303715884105727),
        (170141183460469231731687303715884105728, MAX_HASH_KEY),
    ]


def test_three_shards_match_aws_cli_example() -> None:
    ranges = uniform_ranges(3)
    assert [end for _, end in ranges] == [
        113427455640312821154458202477256070484,
        226854911280625642308916404954512140969,
        340282366920938463463374607431768211455,
    ]
    assert ranges[1][0] == 113427455640312821154458202477256070485


def test_four_shards_starts() -> None:
    assert [start for start, _ in uniform_ranges(4)] == [
        0,
        85070591730234615865843651857942052864,
        170141183460469231731687303715884105728,
        255211775190703847597530955573826158592,
    ]


@pytest.mark.parametrize("count", [1, 2, 3, 4, 5, 7, 100])
def test_uniform_ranges_tile_the_space(count: int) -> None:
    ranges = uniform_ranges(count)
    assert ranges[0][0] == 0 and ranges[-1][1] == HASH_SPACE - 1
    for (_, end), (start, _) in itertools.pairwise(ranges):
        assert start == end + 1


def test_partition_key_hash_is_big_endian_md5() -> None:
    # md5("a") = 0cc175b9c0f1b6a831c399e269772661
    assert partition_key_hash("a") == 0x0CC175B9C0F1B6A831C399E269772661
    assert 0 <= partition_key_hash("anything") < HASH_SPACE


def test_router_boundaries_for_two_three_four_shards() -> None:
    for count in (2, 3, 4):
        ranges = uniform_ranges(count)
        router = HashRouter.build([(start, i) for i, (start, _) in enumerate(ranges)])
        for i, (start, end) in enumerate(ranges):
            assert router.route(start) == i
            assert router.route(end) == i
        assert router.route(0) == 0 and router.route(MAX_HASH_KEY) == count - 1


def test_shard_ids() -> None:
    assert shard_id(0) == "shardId-000000000000"
    assert shard_index("shardId-000000000012") == 12
    assert shard_index("7") == 7
    assert shard_index("shardId-x") is None


def test_split_and_merge_plans() -> None:
    split = plan_split("shardId-000000000000", 0, 99, 50, 4)
    assert split.close == ["shardId-000000000000"]
    assert [(s.index, s.start, s.end, s.parent) for s in split.create] == [
        (4, 0, 49, "shardId-000000000000"),
        (5, 50, 99, "shardId-000000000000"),
    ]
    merge = plan_merge("shardId-000000000001", "shardId-000000000002", 0, 99, 3)
    assert merge.create[0].adjacent_parent == "shardId-000000000002"


@pytest.mark.parametrize(
    ("current", "target"), [(1, 2), (2, 4), (4, 2), (3, 2), (3, 5), (5, 3), (4, 4)]
)
def test_uniform_scaling_reaches_uniform_target_with_at_most_two_parents(
    current: int, target: int
) -> None:
    open_shards = [(shard_id(i), s, e) for i, (s, e) in enumerate(uniform_ranges(current))]
    plan = plan_uniform_scaling(open_shards, current, target)
    ids = {sid for sid, _, _ in open_shards}
    created_ids = {s.shard_id for s in plan.create}
    final = [(s.start, s.end) for s in plan.create if not s.closed]
    still_open = [(s, e) for sid, s, e in open_shards if sid not in plan.close]
    assert sorted(final + still_open) == uniform_ranges(target)
    for spec in plan.create:
        assert spec.parent in ids | created_ids
        assert spec.adjacent_parent is None or spec.adjacent_parent in ids | created_ids
    indexes = [s.index for s in plan.create]
    assert indexes == list(range(current, current + len(indexes)))
