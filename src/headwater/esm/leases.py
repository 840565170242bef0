"""Several engine nodes on one database: membership, shares and shard leases.

``NodeMembership`` is this engine node: an identity, a heartbeat every ``interval`` and the
list of live nodes, from which every node computes the same split of a mapping's
concurrency (``share``), so MaximumConcurrency, reserved concurrency and the scaling ramp
hold across nodes once their views agree (within one heartbeat).

``ShardLeases`` is one stream mapping's view of its shard leases, KCL-style: each tick it
renews what it holds, takes shards nobody holds (new, released or expired: a dead node's
shards come back within the TTL), and, while it holds fewer than its fair share
(``ceil(shards / nodes)``) and some node holds more, steals one shard a tick from the
most loaded node, so a node joining gets its share within a few ticks.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from headwater.store.leases import Lease, LeaseStore

log = logging.getLogger(__name__)

#: Seconds a lease (and a node's heartbeat) lasts without renewal (KCL's failover time).
DEFAULT_LEASE_TTL_SECONDS = 10.0
#: Longest pause between two heartbeats / rebalancing ticks.
MAX_TICK_SECONDS = 0.5

T = TypeVar("T")
#: Runs a blocking store call off the event loop.
Offload = Callable[..., Awaitable[Any]]


async def inline(function: Callable[..., T], *args: Any) -> T:
    """``Offload`` for stores that never block (memory)."""
    return function(*args)


class StoreThreads:
    """``Offload`` for SQLite and PostgreSQL: calls run on a few threads of their own, so a
    busy database (another process's write lock, a network round trip) never stalls the
    event loop."""

    def __init__(self, workers: int = 4) -> None:
        self._workers = workers
        self._executor: ThreadPoolExecutor | None = None

    async def __call__(self, function: Callable[..., T], *args: Any) -> T:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self._workers, thread_name_prefix="headwater-store")
        return await asyncio.get_running_loop().run_in_executor(
            self._executor, functools.partial(function, *args)
        )


def new_node_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def share_of(total: int, rank: int, count: int) -> int:
    """Node ``rank``'s part of ``total`` split over ``count`` nodes (parts add up)."""
    if count <= 1:
        return total
    return total // count + (1 if rank < total % count else 0)


class NodeMembership:
    """This node's identity and heartbeat, and the live nodes it sees."""

    def __init__(
        self,
        store: LeaseStore,
        *,
        ttl: float = DEFAULT_LEASE_TTL_SECONDS,
        node_id: str | None = None,
        offload: Offload = inline,
    ) -> None:
        self.store = store
        self.ttl = ttl
        self.interval = min(ttl / 3.0, MAX_TICK_SECONDS)
        self.node_id = node_id or new_node_id()
        self.started_at = time.time()
        self.offload = offload
        #: Live node ids, in the order every node agrees on (start time, then id).
        self.nodes: list[str] = [self.node_id]
        self._listeners: list[Callable[[], None]] = []
        self._task: asyncio.Task[None] | None = None

    @property
    def rank(self) -> int:
        return self.nodes.index(self.node_id) if self.node_id in self.nodes else 0

    def share(self, total: int) -> int:
        return share_of(total, self.rank, len(self.nodes))

    def on_change(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback`` (on the loop) when the live nodes change."""
        self._listeners.append(callback)
        return lambda: self._listeners.remove(callback) if callback in self._listeners else None

    def start(self) -> None:
        """Heartbeat on the running loop until ``stop``."""
        self.store.heartbeat(self.node_id, time.time(), self.started_at)
        self._refresh(self.store.live_nodes(time.time(), self.ttl))
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                now = time.time()
                await self.offload(self.store.heartbeat, self.node_id, now, self.started_at)
                self._refresh(await self.offload(self.store.live_nodes, now, self.ttl))
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the database is briefly unavailable: try again
                log.warning("node %s: heartbeat failed: %s", self.node_id, error)

    def _refresh(self, records: list[Any]) -> None:
        nodes = [r.node_id for r in records]
        if self.node_id not in nodes:
            nodes.append(self.node_id)
        if nodes != self.nodes:
            self.nodes = nodes
            for callback in list(self._listeners):
                callback()

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        try:
            await self.offload(self.store.forget_node, self.node_id)
        except Exception:  # closing: the row expires on its own
            log.debug("node %s: could not leave cleanly", self.node_id)


class ShardLeases:
    """One stream mapping's shard leases on this node (see the module docstring)."""

    def __init__(self, membership: NodeMembership, mapping_uuid: str) -> None:
        self.membership = membership
        self.store = membership.store
        self.prefix = f"{mapping_uuid}/"
        self.held: dict[str, Lease] = {}

    def resource(self, shard_id: str) -> str:
        return self.prefix + shard_id

    async def tick(self, eligible: list[str]) -> tuple[list[str], list[str]]:
        """Renew, take and steal for the readable shards ``eligible``: ``(gained, lost)``."""
        membership = self.membership
        node, ttl, offload = membership.node_id, membership.ttl, membership.offload
        now = time.time()
        renewed, lost_leases = await offload(self.store.renew, list(self.held.values()), now, ttl)
        lost = [lease.resource[len(self.prefix) :] for lease in lost_leases]
        self.held = {lease.resource[len(self.prefix) :]: lease for lease in renewed}
        wanted = set(eligible)
        for shard_id in [s for s in self.held if s not in wanted]:
            # finished (read and settled to its end): nothing left to hold it for
            await offload(self.store.release, self.held.pop(shard_id))
        leases = {
            lease.resource[len(self.prefix) :]: lease
            for lease in await offload(self.store.leases, self.prefix)
            if lease.resource[len(self.prefix) :] in wanted
        }
        target = math.ceil(len(wanted) / max(1, len(membership.nodes)))
        gained: list[str] = []
        for shard_id in eligible:
            if len(self.held) >= target:
                break
            if shard_id in self.held:
                continue
            current = leases.get(shard_id)
            if current is not None and current.owner and current.expires_at > now:
                continue
            lease = await offload(self.store.acquire, self.resource(shard_id), node, now, ttl)
            if lease is not None:
                self.held[shard_id] = lease
                gained.append(shard_id)
        if len(self.held) < target:
            stolen = await self._steal(leases, target, now)
            if stolen is not None:
                gained.append(stolen)
        return gained, lost

    async def _steal(self, leases: dict[str, Lease], target: int, now: float) -> str | None:
        """One shard from the node holding the most, if it holds more than its share."""
        membership = self.membership
        by_owner: dict[str, list[Lease]] = {}
        for other in leases.values():
            if other.owner and other.owner != membership.node_id and other.expires_at > now:
                by_owner.setdefault(other.owner, []).append(other)
        if not by_owner:
            return None
        owner, theirs = max(by_owner.items(), key=lambda item: (len(item[1]), item[0]))
        if len(theirs) <= target:
            return None
        victim = max(theirs, key=lambda other: other.resource)
        lease: Lease | None = await membership.offload(
            self.store.steal, victim, membership.node_id, now, membership.ttl
        )
        if lease is None:
            return None
        shard_id = lease.resource[len(self.prefix) :]
        self.held[shard_id] = lease
        log.info("mapping %s: took %s from %s (rebalance)", self.prefix[:-1], shard_id, owner)
        return shard_id

    def drop(self, shard_id: str) -> None:
        """Forget a lease lost by a fenced write (the next tick will not renew it)."""
        self.held.pop(shard_id, None)

    async def release_all(self) -> None:
        """A stopping mapping gives its shards up, so other nodes take them at once."""
        held, self.held = list(self.held.values()), {}
        for lease in held:
            try:
                await self.membership.offload(self.store.release, lease)
            except Exception:  # closing: the lease expires on its own
                log.debug("could not release %s", lease.resource)
