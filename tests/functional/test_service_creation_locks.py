"""A service first looked up inside a database transaction, while another thread builds the
engine or makes another service, is made without either thread waiting forever.

Making a service writes its schema (it takes the database's write lock). Services were
made holding the application's lock, which building the engine holds too, while it runs
transactions: a transaction looking up a new service then waited for the engine's builder,
which waited for the transaction (EventBridge's first scheduled firing after a restart did
exactly that). The threads here are real and the test waits for them with a deadline: on
the old lock order they never finish.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from headwater import Headwater

#: Real seconds the threads get to finish (they take milliseconds when nothing deadlocks).
DEADLINE = 10.0
#: Real seconds to wait for the other thread to hold the application's lock (it holds it at
#: once on the old lock order; on the new one it waits for the write lock, holding nothing).
HOLD_WAIT = 0.5


class Headwaters:
    """Headwaters on one backend, each with no service made yet, closed after the test
    (but for a deadlocked one: closing it would wait forever too)."""

    def __init__(self, backend: str, tmp_path: Path, pg_url: str | None) -> None:
        self.backend = backend
        self.tmp_path = tmp_path
        self.pg_url = pg_url
        self.made: list[Headwater] = []
        self.deadlocked: list[Headwater] = []

    def make(self) -> Headwater:
        where = self.tmp_path / f"data{len(self.made)}"
        if self.pg_url is not None:
            hw = Headwater(database_url=self.pg_url, data_dir=where)
        elif self.backend == "sqlite":
            hw = Headwater(data_dir=where, functions="inline")
        else:
            hw = Headwater.in_memory(functions="inline")
        self.made.append(hw)
        return hw

    def run_together(
        self, hw: Headwater, in_transaction: Callable[[], Any], other: Callable[[], Any]
    ) -> dict[str, Any]:
        """Run ``other`` on a thread while another thread, inside a transaction, waits for
        it to hold the application's lock (briefly) and then calls ``in_transaction``.
        Answers what each returned; fails the test if either is not done by the deadline."""
        results: dict[str, Any] = {}
        errors: list[BaseException] = []

        def guarded(key: str, work: Callable[[], Any]) -> Callable[[], None]:
            def run() -> None:
                try:
                    results[key] = work()
                except BaseException as error:  # raised again on the test's thread
                    errors.append(error)

            return run

        other_thread = threading.Thread(target=guarded("other", other), daemon=True)

        def transaction() -> Any:
            with hw.database.transaction():
                other_thread.start()
                wait_for_lock_holder(hw, other_thread)
                return in_transaction()

        first = threading.Thread(target=guarded("in_transaction", transaction), daemon=True)
        first.start()
        first.join(DEADLINE)
        other_thread.join(max(0.0, DEADLINE - 1.0))
        if first.is_alive() or other_thread.is_alive():
            self.deadlocked.append(hw)
            pytest.fail("a thread making a service inside a transaction deadlocked")
        if errors:
            raise errors[0]
        return results

    def close(self) -> None:
        for hw in self.made:
            if hw not in self.deadlocked:
                hw.close()


@pytest.fixture(params=["sqlite", "memory", "postgresql"])
def headwaters(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Headwaters]:
    # PostgreSQL's schema is dropped after the headwaters close (set up before them)
    pg_url = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    made = Headwaters(request.param, tmp_path, pg_url)
    yield made
    made.close()


def wait_for_lock_holder(hw: Headwater, thread: threading.Thread) -> None:
    """Return once ``thread`` holds the application's lock, it finished, or ``HOLD_WAIT``
    passed (real time: another thread's progress)."""
    deadline = time.monotonic() + HOLD_WAIT
    while thread.is_alive() and time.monotonic() < deadline:
        if not hw._lock.acquire(blocking=False):
            return  # another thread holds it
        hw._lock.release()
        time.sleep(0.005)


def test_a_service_made_in_a_transaction_while_the_engine_is_built(headwaters: Headwaters) -> None:
    hw = headwaters.make()
    results = headwaters.run_together(
        hw,
        in_transaction=lambda: hw.sqs.create_queue(QueueName="made-in-a-transaction"),
        other=lambda: hw.engine,
    )
    assert results["other"] is hw.engine
    assert hw.sqs.get_queue_url(QueueName="made-in-a-transaction")["QueueUrl"]


def test_a_service_made_in_a_transaction_while_another_is_made(headwaters: Headwaters) -> None:
    hw = headwaters.make()
    results = headwaters.run_together(
        hw,
        in_transaction=lambda: hw.service("sqs"),
        other=lambda: hw.sns.create_topic(Name="made-beside")["TopicArn"],
    )
    assert results["in_transaction"] is hw.service("sqs")
    assert hw.sns.list_topics()["Topics"] == [{"TopicArn": results["other"]}]


def test_a_store_made_in_a_transaction_while_another_is_made(headwaters: Headwaters) -> None:
    """The stores' registry keeps the same order (write lock, then its own)."""
    from headwater.store.leases import LeaseStore
    from headwater.store.mappings import open_mapping_store

    hw = headwaters.make()
    results = headwaters.run_together(
        hw,
        in_transaction=lambda: hw.database.store(LeaseStore),
        other=lambda: hw.database.store(open_mapping_store),
    )
    assert results["in_transaction"] is hw.database.store(LeaseStore)
    assert results["other"] is hw.database.store(open_mapping_store)


def test_a_service_made_in_a_transaction_that_rolls_back_keeps_its_tables(
    headwaters: Headwaters,
) -> None:
    """Its schema was written inside the transaction (SQLite has one connection): the
    rollback took the tables from the service that stays made, until a restart."""
    hw = headwaters.make()
    with pytest.raises(RuntimeError), hw.database.transaction():
        hw.env.service("sqs")
        hw.env.service("dynamodb")
        raise RuntimeError("the write failed")
    assert hw.sqs.create_queue(QueueName="after-the-rollback")["QueueUrl"]
    hw.dynamodb.create_table(
        TableName="after-the-rollback",
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    assert hw.dynamodb.list_tables()["TableNames"] == ["after-the-rollback"]


def test_a_store_made_in_a_transaction_that_rolls_back_keeps_its_tables(
    headwaters: Headwaters,
) -> None:
    from headwater.store.leases import LeaseStore

    hw = headwaters.make()
    with pytest.raises(RuntimeError), hw.database.transaction():
        hw.database.store(LeaseStore)
        raise RuntimeError("the write failed")
    with hw.database.read():
        assert hw.database.conn.execute("SELECT COUNT(*) FROM esm_leases").fetchone()[0] == 0
