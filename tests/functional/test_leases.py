"""Leases on every backend: takeover after expiry, stealing, and checkpoints fenced by them."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from headwater.esm.leases import NodeMembership, ShardLeases, share_of
from headwater.store.checkpoints import Checkpoint, open_checkpoint_store
from headwater.store.database import Database
from headwater.store.leases import LeaseLost, LeaseStore

TTL = 10.0


def two_nodes(db_factory: Any) -> tuple[Database, Database]:
    first: Database = db_factory()
    second = first if db_factory.kind == "memory" else db_factory()
    return first, second


def test_a_live_lease_is_exclusive_and_an_expired_one_moves(db_factory: Any) -> None:
    db_a, db_b = two_nodes(db_factory)
    a, b = db_a.store(LeaseStore), db_b.store(LeaseStore)
    held = a.acquire("m/shard-0", "A", now=100.0, ttl=TTL)
    assert held is not None and held.owner == "A"
    assert b.acquire("m/shard-0", "B", now=105.0, ttl=TTL) is None  # live: A's
    renewed, lost = a.renew([held], now=108.0, ttl=TTL)
    assert lost == [] and renewed[0].expires_at == 118.0
    assert b.acquire("m/shard-0", "B", now=117.0, ttl=TTL) is None
    taken = b.acquire("m/shard-0", "B", now=118.5, ttl=TTL)  # A stopped renewing
    assert taken is not None and taken.token == held.token + 1
    renewed, lost = a.renew(renewed, now=119.0, ttl=TTL)
    assert (renewed, lost) == ([], [renewed_or(held)])


def renewed_or(lease: Any) -> Any:
    """The lease as A last renewed it (same owner and token)."""
    return type(lease)(lease.resource, lease.owner, lease.token, 118.0)


def test_checkpoints_are_fenced_by_the_lease(db_factory: Any) -> None:
    db_a, db_b = two_nodes(db_factory)
    a_leases, b_leases = db_a.store(LeaseStore), db_b.store(LeaseStore)
    a_checkpoints, b_checkpoints = open_checkpoint_store(db_a), open_checkpoint_store(db_b)
    a_lease = a_leases.acquire("m/s0", "A", now=0.0, ttl=TTL)
    assert a_lease is not None
    a_checkpoints.save("m", Checkpoint("s0", "10"), fence=a_lease)
    b_lease = b_leases.acquire("m/s0", "B", now=20.0, ttl=TTL)  # A died (or stalled)
    assert b_lease is not None
    b_checkpoints.save("m", Checkpoint("s0", "15"), fence=b_lease)
    # A wakes up and tries to record older (or newer) progress: refused, nothing moves
    with pytest.raises(LeaseLost):
        a_checkpoints.save("m", Checkpoint("s0", "12"), fence=a_lease)
    with pytest.raises(LeaseLost):
        a_checkpoints.save("m", Checkpoint("s0", "99"), fence=a_lease)
    assert b_checkpoints.get("m", "s0") == Checkpoint("s0", "15")
    b_leases.release(b_lease)
    with pytest.raises(LeaseLost):
        b_checkpoints.save("m", Checkpoint("s0", "16"), fence=b_lease)


def test_steal_changes_the_token_and_release_frees_at_once(db_factory: Any) -> None:
    db_a, db_b = two_nodes(db_factory)
    a, b = db_a.store(LeaseStore), db_b.store(LeaseStore)
    held = a.acquire("m/s1", "A", now=0.0, ttl=TTL)
    assert held is not None
    stolen = b.steal(held, "B", now=1.0, ttl=TTL)
    assert stolen is not None and (stolen.owner, stolen.token) == ("B", held.token + 1)
    assert b.steal(held, "B", now=1.0, ttl=TTL) is None  # stale view: nothing happens
    b.release(stolen)
    again = a.acquire("m/s1", "A", now=2.0, ttl=TTL)
    assert again is not None and again.token == stolen.token + 1
    assert [lease.resource for lease in a.leases("m/")] == ["m/s1"]
    a.delete("m/")
    assert a.leases("m/") == []


def test_shares_add_up() -> None:
    for total in range(0, 30):
        for count in range(1, 6):
            parts = [share_of(total, rank, count) for rank in range(count)]
            assert sum(parts) == total
            assert max(parts) - min(parts) <= 1


def test_nodes_split_shards_fairly_and_a_joining_node_gets_its_share(db_factory: Any) -> None:
    """KCL-style rebalancing: four shards, one node, then two: 2 and 2 after a few ticks."""
    db_a, db_b = two_nodes(db_factory)
    shards = [f"shardId-{i:012d}" for i in range(4)]

    async def scenario() -> None:
        a = NodeMembership(db_a.store(LeaseStore), ttl=TTL, node_id="A")
        b = NodeMembership(db_b.store(LeaseStore), ttl=TTL, node_id="B")
        a_leases, b_leases = ShardLeases(a, "m"), ShardLeases(b, "m")
        gained, _ = await a_leases.tick(shards)
        assert sorted(gained) == shards
        # B joins: both see two live nodes
        a.nodes = b.nodes = ["A", "B"]
        lost_by_a: list[str] = []
        for _ in range(4):
            await b_leases.tick(shards)
            _, lost = await a_leases.tick(shards)
            lost_by_a += lost
        assert len(a_leases.held) == len(b_leases.held) == 2
        assert sorted(lost_by_a) == sorted(b_leases.held)
        assert set(a_leases.held).isdisjoint(b_leases.held)

    asyncio.run(scenario())
