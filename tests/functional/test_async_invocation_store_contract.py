"""One contract for the asynchronous invocation store on every backend (memory, SQLite,
PostgreSQL): what is added is claimed once per lease, rescheduled, renewed and deleted."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from headwater.store.async_invocations import (
    AsyncInvocation,
    AsyncInvocationStore,
    open_async_invocation_store,
)
from headwater.store.database import Database


@pytest.fixture
def store(db: Database) -> AsyncInvocationStore:
    return open_async_invocation_store(db)


def invocation(request_id: str, due_at: float = 0.0, payload: bytes = b"{}") -> AsyncInvocation:
    return AsyncInvocation(
        request_id=request_id,
        region="us-east-1",
        function_name="fn",
        qualifier=None,
        payload=payload,
        accepted_at=due_at,
        due_at=due_at,
    )


def test_an_added_invocation_reads_back_whole(store: AsyncInvocationStore) -> None:
    stored = AsyncInvocation(
        "rid-1", "eu-west-1", "fn", "live", b'{"k": "\xc3\xa9"}\x00', 5.5, 7.25, 1, 2
    )
    store.add(stored)
    assert store.get("rid-1") == stored
    assert store.get("missing") is None
    assert store.count() == 1


def test_claim_takes_due_invocations_earliest_first_and_leases_them(
    store: AsyncInvocationStore,
) -> None:
    store.add(invocation("late", due_at=50.0))
    store.add(invocation("b", due_at=2.0))
    store.add(invocation("a", due_at=1.0))
    claimed = store.claim_due(10.0, "node-1", wall_now=100.0, lease_until=110.0, limit=10)
    assert [item.request_id for item in claimed] == ["a", "b"]
    # leased: another node (or the same one) gets nothing until the lease expires
    assert store.claim_due(10.0, "node-2", wall_now=105.0, lease_until=115.0, limit=10) == []
    assert store.next_due(wall_now=105.0) == 50.0
    retaken = store.claim_due(10.0, "node-2", wall_now=110.0, lease_until=120.0, limit=1)
    assert [item.request_id for item in retaken] == ["a"]
    assert store.count() == 3


def test_a_renewed_lease_is_not_taken_over(store: AsyncInvocationStore) -> None:
    store.add(invocation("a"))
    store.add(invocation("b"))
    store.claim_due(0.0, "node-1", wall_now=100.0, lease_until=110.0, limit=1)
    assert store.renew("node-1", lease_until=130.0) == 1  # "a" only: "b" is free
    assert [i.request_id for i in store.claim_due(0.0, "node-2", 120.0, 140.0, 5)] == ["b"]
    assert store.renew("node-2", lease_until=200.0) == 1  # "b", not node-1's "a"
    assert [i.request_id for i in store.claim_due(0.0, "node-2", 130.0, 140.0, 5)] == ["a"]
    assert store.renew("node-1", lease_until=300.0) == 0  # node-1 lost it


def test_an_invocation_added_leased_is_its_accepters_until_the_lease_expires(
    store: AsyncInvocationStore,
) -> None:
    store.add(invocation("mine"), owner="node-1", lease_until=110.0)
    assert store.claim_due(0.0, "node-2", wall_now=100.0, lease_until=120.0, limit=5) == []
    assert store.next_due(wall_now=100.0) is None
    assert store.renew("node-1", lease_until=130.0) == 1
    assert store.claim_due(0.0, "node-2", wall_now=120.0, lease_until=140.0, limit=5) == []
    assert store.next_due(wall_now=130.0) == 0.0  # node-1 stopped renewing: free again
    taken = store.claim_due(0.0, "node-2", wall_now=130.0, lease_until=140.0, limit=5)
    assert [i.request_id for i in taken] == ["mine"]
    assert store.delete("mine")


def test_reschedule_frees_the_lease_only_for_its_holder(store: AsyncInvocationStore) -> None:
    store.add(invocation("a"))
    (item,) = store.claim_due(0.0, "node-1", wall_now=100.0, lease_until=110.0, limit=1)
    item.attempt, item.throttles, item.due_at = 1, 3, 60.0
    assert not store.reschedule("node-2", item)
    assert store.reschedule("node-1", item)
    assert store.claim_due(59.0, "node-2", wall_now=101.0, lease_until=111.0, limit=1) == []
    assert store.next_due(wall_now=101.0) == 60.0
    (again,) = store.claim_due(60.0, "node-2", wall_now=101.0, lease_until=111.0, limit=1)
    assert (again.attempt, again.throttles, again.due_at, again.accepted_at) == (1, 3, 60.0, 0.0)


def test_delete_and_release(store: AsyncInvocationStore) -> None:
    for rid in ("a", "b", "c"):
        store.add(invocation(rid))
    store.claim_due(0.0, "node-1", wall_now=100.0, lease_until=1000.0, limit=2)
    assert store.delete("a")
    assert not store.delete("a")
    assert store.next_due(wall_now=100.0) == 0.0  # "c" is free
    assert store.release("node-1") == 1  # "b"
    assert [i.request_id for i in store.claim_due(0.0, "n2", 100.0, 110.0, 10)] == ["b", "c"]
    assert store.count() == 2
    assert store.next_due(wall_now=100.0) is None


def test_two_databases_on_one_store_never_claim_the_same_invocation(
    db_factory: Callable[[], Database],
) -> None:
    if getattr(db_factory, "kind", "") == "memory":
        pytest.skip("a memory database is private to one process")
    first = open_async_invocation_store(db_factory())
    second = open_async_invocation_store(db_factory())
    for n in range(20):
        first.add(invocation(f"r{n:02d}", payload=b"x" * n))
    seen: list[str] = []
    while True:
        got = first.claim_due(0.0, "n1", 100.0, 200.0, 3) + second.claim_due(
            0.0, "n2", 100.0, 200.0, 4
        )
        if not got:
            break
        seen += [item.request_id for item in got]
    assert sorted(seen) == [f"r{n:02d}" for n in range(20)]
    assert second.get("r05") == invocation("r05", payload=b"xxxxx")


def test_invocations_survive_reopening_the_store(db_factory: Callable[[], Database]) -> None:
    if getattr(db_factory, "kind", "") == "memory":
        pytest.skip("a memory database is gone with its process")
    first_db = db_factory()
    open_async_invocation_store(first_db).add(invocation("kept", due_at=3.0))
    first_db.close()
    reopened = open_async_invocation_store(db_factory())
    assert reopened.get("kept") == invocation("kept", due_at=3.0)
