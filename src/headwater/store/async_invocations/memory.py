"""The asynchronous invocation store of a memory database: a heap and dicts, no SQL.

Nothing outlives the process on a memory database, so the invocations only need the
store's semantics (due order, leases), and this keeps accepting an Event invoke about as
cheap as the queue was before it was stored.
"""

from __future__ import annotations

import dataclasses
import heapq
import threading

from headwater.store.async_invocations import AsyncInvocation


class MemoryAsyncInvocationStore:
    """Unleased invocations in a heap by ``due_at``; leased ones beside it with their lease.

    Heap entries go stale when an invocation is claimed, rescheduled or deleted; they are
    skipped when they reach the top (the entry's due time no longer matches, or the
    invocation is leased or gone).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[str, AsyncInvocation] = {}
        self._heap: list[tuple[float, str]] = []
        self._leases: dict[str, tuple[str, float]] = {}  # request id -> (owner, until)
        #: No lease expires before this (leases are only scanned from then on: a process
        #: holds its whole accepted backlog leased).
        self._first_expiry = float("inf")

    def add(
        self, invocation: AsyncInvocation, owner: str | None = None, lease_until: float = 0.0
    ) -> None:
        with self._lock:
            if invocation.request_id in self._items:
                raise ValueError(f"invocation {invocation.request_id} is already stored")
            self._items[invocation.request_id] = dataclasses.replace(invocation)
            if owner is not None:
                self._leases[invocation.request_id] = (owner, lease_until)
                self._first_expiry = min(self._first_expiry, lease_until)
            else:
                heapq.heappush(self._heap, (invocation.due_at, invocation.request_id))

    def _expire_leases(self, wall_now: float) -> None:
        """Leases that ran out: their invocations are claimable again (lock held)."""
        if wall_now < self._first_expiry:
            return
        expired = [rid for rid, (_, until) in self._leases.items() if until <= wall_now]
        self._first_expiry = min(
            (until for _, until in self._leases.values() if until > wall_now), default=float("inf")
        )
        for request_id in expired:
            del self._leases[request_id]
            heapq.heappush(self._heap, (self._items[request_id].due_at, request_id))

    def _top(self) -> tuple[float, str] | None:
        """The earliest live heap entry, stale ones dropped (lock held)."""
        while self._heap:
            due_at, request_id = self._heap[0]
            item = self._items.get(request_id)
            if item is not None and item.due_at == due_at and request_id not in self._leases:
                return due_at, request_id
            heapq.heappop(self._heap)
        return None

    def claim_due(
        self, now: float, owner: str, wall_now: float, lease_until: float, limit: int
    ) -> list[AsyncInvocation]:
        claimed: list[AsyncInvocation] = []
        with self._lock:
            self._expire_leases(wall_now)
            while len(claimed) < limit:
                top = self._top()
                if top is None or top[0] > now:
                    break
                heapq.heappop(self._heap)
                self._leases[top[1]] = (owner, lease_until)
                self._first_expiry = min(self._first_expiry, lease_until)
                claimed.append(dataclasses.replace(self._items[top[1]]))
        return claimed

    def renew(self, owner: str, lease_until: float) -> int:
        with self._lock:
            mine = [rid for rid, (holder, _) in self._leases.items() if holder == owner]
            for request_id in mine:
                self._leases[request_id] = (owner, lease_until)
        return len(mine)

    def reschedule(self, owner: str, invocation: AsyncInvocation) -> bool:
        request_id = invocation.request_id
        with self._lock:
            lease = self._leases.get(request_id)
            if lease is None or lease[0] != owner:
                return False
            del self._leases[request_id]
            item = self._items[request_id]
            item.attempt, item.throttles = invocation.attempt, invocation.throttles
            item.due_at = invocation.due_at
            heapq.heappush(self._heap, (item.due_at, request_id))
        return True

    def delete(self, request_id: str) -> bool:
        with self._lock:
            self._leases.pop(request_id, None)
            return self._items.pop(request_id, None) is not None

    def release(self, owner: str) -> int:
        with self._lock:
            mine = [rid for rid, (holder, _) in self._leases.items() if holder == owner]
            for request_id in mine:
                del self._leases[request_id]
                heapq.heappush(self._heap, (self._items[request_id].due_at, request_id))
        return len(mine)

    def next_due(self, wall_now: float) -> float | None:
        with self._lock:
            self._expire_leases(wall_now)
            top = self._top()
        return None if top is None else top[0]

    def count(self) -> int:
        return len(self._items)

    def get(self, request_id: str) -> AsyncInvocation | None:
        with self._lock:
            item = self._items.get(request_id)
            return None if item is None else dataclasses.replace(item)
