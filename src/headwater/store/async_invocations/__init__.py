"""Accepted asynchronous (``InvocationType=Event``) Lambda invocations, until they settle.

Lambda answers an Event invoke with 202 once the invocation is in its internal queue; so
does headwater, once the invocation is a row here (committed before the 202), so a process
killed before the invocation ran loses nothing: the next process on the store runs it.

A row carries what a retry needs: the payload, the function and qualifier, the request id
(the invocation's identity, kept across retries as on AWS), the attempts so far, when the
next attempt is due and when the invocation was first accepted (``MaximumEventAgeInSeconds``
counts from there). ``due_at`` and ``accepted_at`` are headwater ``Clock`` seconds, so a
``ManualClock`` drives retries and ages.

A dispatcher runs a row only while it holds the row's lease (``claim_due`` takes due rows
whose lease is free or expired; ``add`` may store a row already leased to the process that
accepted it, which runs it without claiming; ``renew`` extends every lease a dispatcher
holds), so
several processes or nodes on one store never run the same invocation at once, and the rows
of a dispatcher that died come back when its leases expire. Lease times are wall-clock
seconds (``time.time()``) shared by the nodes, as for stream shard leases: a ManualClock or
``--time-scale`` must not expire them. A settled invocation (success, destination
delivered, dropped after its retries or age) is deleted; a retry is ``reschedule``d, which
frees its lease.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from headwater.store.database import Database


@dataclass(slots=True)
class AsyncInvocation:
    """One accepted asynchronous invocation."""

    request_id: str
    region: str
    function_name: str
    #: The version or alias invoked (``None``: unqualified).
    qualifier: str | None
    payload: bytes
    #: Clock seconds when the invocation was accepted (the 202).
    accepted_at: float
    #: Clock seconds when the next attempt may run.
    due_at: float
    #: Retries so far (function errors; 0 before the first retry).
    attempt: int = 0
    #: Throttles and service errors so far (re-attempted with backoff, not retries).
    throttles: int = 0


class AsyncInvocationStore(Protocol):
    """Persistence for accepted asynchronous invocations (see the package docstring).

    Each method is its own transaction unless the caller holds one.
    """

    def add(
        self, invocation: AsyncInvocation, owner: str | None = None, lease_until: float = 0.0
    ) -> None:
        """Store a newly accepted invocation: unleased, or leased to ``owner`` (the
        dispatcher that will run it) until ``lease_until``."""
        ...

    def claim_due(
        self, now: float, owner: str, wall_now: float, lease_until: float, limit: int
    ) -> list[AsyncInvocation]:
        """Up to ``limit`` invocations due at clock ``now`` (earliest first) whose lease is
        free or expired at ``wall_now``, leased to ``owner`` until ``lease_until``."""
        ...

    def renew(self, owner: str, lease_until: float) -> int:
        """Extend every lease ``owner`` still holds to ``lease_until``; returns how many."""
        ...

    def reschedule(self, owner: str, invocation: AsyncInvocation) -> bool:
        """Write ``invocation``'s attempt counts and ``due_at`` and free its lease; only
        while ``owner`` holds it (False, and nothing changes, otherwise)."""
        ...

    def delete(self, request_id: str) -> bool:
        """Forget a settled invocation; False if it was not there."""
        ...

    def release(self, owner: str) -> int:
        """Free every lease ``owner`` holds (a dispatcher stopping); returns how many."""
        ...

    def next_due(self, wall_now: float) -> float | None:
        """The earliest ``due_at`` among invocations not leased at ``wall_now``."""
        ...

    def count(self) -> int:
        """Invocations stored (queued, waiting for a retry, or running)."""
        ...

    def get(self, request_id: str) -> AsyncInvocation | None: ...


def open_async_invocation_store(db: Database) -> AsyncInvocationStore:
    """The asynchronous invocation store for ``db``'s kind: SQL on SQLite and PostgreSQL,
    a heap on a memory database (use ``db.store(open_async_invocation_store)``: one each)."""
    if db.kind == "memory":
        from headwater.store.async_invocations.memory import MemoryAsyncInvocationStore

        return MemoryAsyncInvocationStore()
    from headwater.store.async_invocations.sql import SqlAsyncInvocationStore

    return SqlAsyncInvocationStore(db)


__all__ = ["AsyncInvocation", "AsyncInvocationStore", "open_async_invocation_store"]
