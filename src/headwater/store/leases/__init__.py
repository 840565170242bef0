"""Leases: which engine node holds which shard of a stream mapping, for how long.

Every engine node has an identity (``NodeRecord``) and heartbeats it. A node processes a
shard only while it holds the shard's lease: a row ``(resource, owner, expires_at, token)``
it renews every heartbeat. A node that dies stops renewing, its leases expire after the
TTL, and another node takes them over (``acquire`` succeeds once a lease is expired or
released). Each change of owner increments ``token``, and checkpoint saves are fenced by
``(owner, token)`` (``holds`` inside the save's transaction), so a node that lost a lease
can never move that shard's checkpoint, back or forward. Times are wall-clock seconds
(``time.time()``) shared by the nodes, not a headwater ``Clock``: a ManualClock or a
``--time-scale`` must not expire leases.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Lease:
    """A lease as held by ``owner``; ``token`` fences writes made under it."""

    resource: str
    owner: str
    token: int
    expires_at: float


@dataclass(frozen=True, slots=True)
class NodeRecord:
    node_id: str
    heartbeat_at: float
    started_at: float


class LeaseLost(Exception):
    """The lease a write was fenced by is no longer this node's (expired or taken over)."""


from headwater.store.leases.sql import LeaseStore  # noqa: E402

__all__ = ["Lease", "LeaseLost", "LeaseStore", "NodeRecord"]
