"""A write that read its table's definition before another process changed the table.

Every item write looks its table's schema up (indexes, stream, vector indexes) before it
opens its transaction. These tests let another headwater on the same store (a second
connection: what another process is) add an index, enable a stream or recreate the table
right after that look-up, then check that the write used the definition current inside
its transaction: the new index holds the item, the stream has its record, the item is in
the new table. Without the check inside the transaction each of them was silently lost.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from headwater import Headwater, ManualClock
from headwater.services.base import RequestContext
from headwater.services.dynamodb.schema import TableSchema
from headwater.services.dynamodb.tables import TableCatalog
from headwater.store.tables import TableStore
from tests.functional.dynamodb_tables import create_table, gsi

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("HEADWATER_TEST_HW_POSTGRESQL") else [])

ITEM = {"pk": {"S": "a"}, "g": {"S": "g1"}, "h": {"S": "x"}}


@pytest.fixture(params=BACKENDS)
def two(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Headwater, Headwater]]:
    """Two headwaters on one store: ``here`` writes, ``there`` changes the table."""
    if request.param == "postgresql":
        url = request.getfixturevalue("pg_url")
        # poll_fallback_seconds=0: each node sees the other's definition changes at once
        here = Headwater(tmp_path / "a", database_url=url, poll_fallback_seconds=0.0)
        there = Headwater(tmp_path / "b", database_url=url, poll_fallback_seconds=0.0)
    else:
        here = Headwater(data_dir=tmp_path)
        there = Headwater(data_dir=tmp_path)
    try:
        yield here, there
    finally:
        there.close()
        here.close()


def change_after_lookup(
    monkeypatch: pytest.MonkeyPatch, here: Headwater, change: Callable[[], None], at: int = 1
) -> list[int]:
    """Run ``change`` (on the other headwater) right after ``here``'s ``at``-th schema
    look-up from now, the one its write follows: the write then holds a definition older
    than the store's. Returns the versions looked up, for the test to see that the write
    looked again."""
    original = TableCatalog.schema
    catalog = here.service("dynamodb").catalog
    lookups: list[int] = []

    def looked_up(
        self: TableCatalog, ctx: RequestContext, table_name: str, *, named: bool = False
    ) -> TableSchema:
        found = original(self, ctx, table_name, named=named)
        if self is catalog:
            lookups.append(found.version)
            if len(lookups) == at:
                change()
        return found

    monkeypatch.setattr(TableCatalog, "schema", looked_up)
    return lookups


def add_index(there: Headwater) -> None:
    there.dynamodb.update_table(
        TableName="shared",
        AttributeDefinitions=[{"AttributeName": "h", "AttributeType": "S"}],
        GlobalSecondaryIndexUpdates=[{"Create": gsi("by-h", "h")}],
    )


def in_index(hw: Headwater) -> list[str]:
    found = hw.dynamodb.query(
        TableName="shared",
        IndexName="by-h",
        KeyConditionExpression="h = :h",
        ExpressionAttributeValues={":h": {"S": "x"}},
    )
    return [item["pk"]["S"] for item in found["Items"]]


def shared_table(hw: Headwater) -> None:
    """A table with an index: its writes take the checked path, never the fast one."""
    create_table(
        hw.dynamodb,
        "shared",
        attributes={"g": "S"},
        GlobalSecondaryIndexes=[gsi("by-g", "g")],
    )


#: Each write of item ``a``. A PartiQL statement looks its table's keys up first, then
#: runs as PutItem: its second look-up is the one the write follows.
WRITES: dict[str, Callable[[Headwater], Any]] = {
    "PutItem": lambda hw: hw.dynamodb.put_item(TableName="shared", Item=ITEM),
    "UpdateItem": lambda hw: hw.dynamodb.update_item(
        TableName="shared",
        Key={"pk": {"S": "a"}},
        UpdateExpression="SET g = :g, h = :h",
        ExpressionAttributeValues={":g": {"S": "g1"}, ":h": {"S": "x"}},
    ),
    "BatchWriteItem": lambda hw: hw.dynamodb.batch_write_item(
        RequestItems={"shared": [{"PutRequest": {"Item": ITEM}}]}
    ),
    "TransactWriteItems": lambda hw: hw.dynamodb.transact_write_items(
        TransactItems=[{"Put": {"TableName": "shared", "Item": ITEM}}]
    ),
    "ExecuteStatement": lambda hw: hw.dynamodb.execute_statement(
        Statement="INSERT INTO shared VALUE {'pk': 'a', 'g': 'g1', 'h': 'x'}"
    ),
    "BatchExecuteStatement": lambda hw: hw.dynamodb.batch_execute_statement(
        Statements=[{"Statement": "INSERT INTO shared VALUE {'pk': 'a', 'g': 'g1', 'h': 'x'}"}]
    ),
}


@pytest.mark.parametrize("write", list(WRITES))
def test_an_index_another_process_adds_gets_the_item_written_meanwhile(
    two: tuple[Headwater, Headwater], monkeypatch: pytest.MonkeyPatch, write: str
) -> None:
    here, there = two
    shared_table(here)
    here.dynamodb.put_item(TableName="shared", Item={"pk": {"S": "z"}, "g": {"S": "g1"}})
    at = 2 if "Statement" in write else 1
    lookups = change_after_lookup(monkeypatch, here, lambda: add_index(there), at)
    WRITES[write](here)
    monkeypatch.undo()
    assert in_index(there) == ["a"]
    assert in_index(here) == ["a"]
    assert len(set(lookups)) == 2  # looked up again, at the new version


def stream_records(hw: Headwater) -> list[tuple[str, str]]:
    """``(event, pk)`` of every record of the table's stream."""
    streams = hw.client("dynamodbstreams")
    arn = hw.dynamodb.describe_table(TableName="shared")["Table"]["LatestStreamArn"]
    shards = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    found = []
    for shard in shards:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        records = streams.get_records(ShardIterator=iterator)["Records"]
        found += [(r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"]) for r in records]
    return found


def enable_stream(there: Headwater) -> None:
    there.dynamodb.update_table(
        TableName="shared",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )


STREAMED_WRITES: dict[str, tuple[Callable[[Headwater], Any], str]] = {
    "PutItem": (lambda hw: hw.dynamodb.put_item(TableName="shared", Item=ITEM), "INSERT"),
    "DeleteItem": (
        lambda hw: hw.dynamodb.delete_item(TableName="shared", Key={"pk": {"S": "z"}}),
        "REMOVE",
    ),
    "BatchWriteItem": (
        lambda hw: hw.dynamodb.batch_write_item(
            RequestItems={"shared": [{"DeleteRequest": {"Key": {"pk": {"S": "z"}}}}]}
        ),
        "REMOVE",
    ),
    "TransactWriteItems": (
        lambda hw: hw.dynamodb.transact_write_items(
            TransactItems=[{"Delete": {"TableName": "shared", "Key": {"pk": {"S": "z"}}}}]
        ),
        "REMOVE",
    ),
}


@pytest.mark.parametrize("write", list(STREAMED_WRITES))
def test_a_stream_another_process_enables_records_the_write_made_meanwhile(
    two: tuple[Headwater, Headwater], monkeypatch: pytest.MonkeyPatch, write: str
) -> None:
    here, there = two
    shared_table(here)
    here.dynamodb.put_item(TableName="shared", Item={"pk": {"S": "z"}, "g": {"S": "g1"}})
    run, event = STREAMED_WRITES[write]
    change_after_lookup(monkeypatch, here, lambda: enable_stream(there))
    run(here)
    monkeypatch.undo()
    pk = "z" if event == "REMOVE" else "a"
    assert stream_records(there) == [(event, pk)]


def recreate(there: Headwater) -> None:
    there.dynamodb.delete_table(TableName="shared")
    shared_table(there)


def test_the_ttl_sweep_records_a_deletion_in_a_stream_another_process_enabled_meanwhile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sweep reads every table's schema, then deletes expired items table by table:
    a stream enabled in between must still get the deletion's record."""
    clock = ManualClock()
    with (
        Headwater(data_dir=tmp_path, clock=clock) as here,
        Headwater(data_dir=tmp_path, clock=ManualClock()) as there,
    ):
        shared_table(here)
        here.dynamodb.update_time_to_live(
            TableName="shared",
            TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"},
        )
        expired = {"N": str(int(clock.now()) - 10)}
        here.dynamodb.put_item(
            TableName="shared", Item={"pk": {"S": "z"}, "g": {"S": "g1"}, "expires": expired}
        )
        original = TableStore.all_tables
        listed: list[int] = []

        def all_tables(self: TableStore) -> Any:
            rows = original(self)
            if self.db is here.database and not listed:
                listed.append(len(rows))
                enable_stream(there)
            return rows

        monkeypatch.setattr(TableStore, "all_tables", all_tables)
        assert here.service("dynamodb").ttl.sweep() == 1
        monkeypatch.undo()
        assert stream_records(there) == [("REMOVE", "z")]


@pytest.mark.parametrize("write", ["PutItem", "UpdateItem", "BatchWriteItem", "TransactWriteItems"])
def test_a_write_lands_in_the_table_another_process_recreated_meanwhile(
    two: tuple[Headwater, Headwater], monkeypatch: pytest.MonkeyPatch, write: str
) -> None:
    here, there = two
    shared_table(here)
    here.dynamodb.put_item(TableName="shared", Item={"pk": {"S": "z"}, "g": {"S": "g1"}})
    change_after_lookup(monkeypatch, here, lambda: recreate(there))
    WRITES[write](here)
    monkeypatch.undo()
    found = there.dynamodb.scan(TableName="shared")["Items"]
    assert [item["pk"]["S"] for item in found] == ["a"]


def test_a_write_to_a_table_another_process_deleted_meanwhile_finds_no_table(
    two: tuple[Headwater, Headwater], monkeypatch: pytest.MonkeyPatch
) -> None:
    here, there = two
    shared_table(here)
    change_after_lookup(monkeypatch, here, lambda: there.dynamodb.delete_table(TableName="shared"))
    with pytest.raises(Exception, match="ResourceNotFoundException"):
        WRITES["PutItem"](here)


@pytest.mark.parametrize("write", ["PutItem", "UpdateItem"])
def test_a_write_to_a_table_without_indexes_gets_into_an_index_added_meanwhile(
    two: tuple[Headwater, Headwater], monkeypatch: pytest.MonkeyPatch, write: str
) -> None:
    """A table without indexes: a put is one statement of its own (SQLite's fast path
    failing over to it, PostgreSQL's every put), which checks the table's version too."""
    here, there = two
    create_table(here.dynamodb, "shared")
    here.dynamodb.put_item(TableName="shared", Item={"pk": {"S": "z"}})
    change_after_lookup(monkeypatch, here, lambda: add_index(there))
    if here.database.kind == "sqlite":
        # the fast path's own check finds the definitions moved: the look-up comes next
        there.dynamodb.tag_resource(
            ResourceArn=here.dynamodb.describe_table(TableName="shared")["Table"]["TableArn"],
            Tags=[{"Key": "k", "Value": "v"}],
        )
    WRITES[write](here)
    monkeypatch.undo()
    assert in_index(there) == ["a"]


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.005)
    return False


def test_on_postgresql_an_index_added_while_a_write_commits_waits_for_it(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL runs the two transactions at once: the write's check must hold the
    table's row, so that UpdateTable, which reads it first, waits for the write to commit
    and its backfill finds the item. Without the lock the index was added, backfilled
    and committed between the write's check and its commit, without the item."""
    here = Headwater(tmp_path / "a", database_url=pg_url, poll_fallback_seconds=0.0)
    there = Headwater(tmp_path / "b", database_url=pg_url, poll_fallback_seconds=0.0)
    try:
        shared_table(here)
        original = TableStore.get_item_row_if_current
        changes: list[threading.Thread] = []

        def waiting_for_lock() -> bool:
            with psycopg.connect(pg_url, autocommit=True) as conn:
                row = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                ).fetchone()
            return row is not None and row[0] > 0

        def checked_then_changed(
            self: TableStore, table_id: int, key: Any, version: int
        ) -> tuple[bool, Any]:
            found = original(self, table_id, key, version)
            if self.db is here.database and not changes:
                change = threading.Thread(target=add_index, args=(there,))
                changes.append(change)
                change.start()
                # the UpdateTable runs until it waits for this transaction (or, without
                # the lock, to its end)
                assert wait_until(lambda: not change.is_alive() or waiting_for_lock())
            return found

        monkeypatch.setattr(TableStore, "get_item_row_if_current", checked_then_changed)
        WRITES["PutItem"](here)
        monkeypatch.undo()
        changes[0].join(timeout=30)
        assert in_index(there) == ["a"]
    finally:
        there.close()
        here.close()


WRITING_PROCESS = """
import sys
from pathlib import Path
from headwater import Headwater, ManualClock
stop = Path(sys.argv[2])
with Headwater(data_dir=sys.argv[1]) as hw:
    for n in range(20000):
        if stop.exists():
            break
        hw.dynamodb.put_item(
            TableName="shared", Item={"pk": {"S": f"i{n}"}, "g": {"S": "g1"}, "h": {"S": "x"}}
        )
"""


def item_count(hw: Headwater) -> int:
    return int(hw.dynamodb.scan(TableName="shared", Select="COUNT")["Count"])


def index_count(hw: Headwater, index: str) -> int:
    count, start = 0, None
    while True:
        page = hw.dynamodb.query(
            TableName="shared",
            IndexName=index,
            KeyConditionExpression="h = :h",
            ExpressionAttributeValues={":h": {"S": "x"}},
            Select="COUNT",
            **({"ExclusiveStartKey": start} if start else {}),
        )
        count += page["Count"]
        start = page.get("LastEvaluatedKey")
        if start is None:
            return count


def test_indexes_added_while_another_process_writes_hold_every_item(tmp_path: Path) -> None:
    """Real processes: one writes items as fast as it can while this one adds indexes.
    Each UpdateTable holds the write lock while it backfills, and the writer, waiting for
    it, holds the schema it looked up before: without the check in its transaction, the
    item it then wrote was missing from the new index."""
    data, stop = tmp_path / "data", tmp_path / "stop"
    with Headwater(data_dir=data) as hw:
        shared_table(hw)
        writer = subprocess.Popen([sys.executable, "-c", WRITING_PROCESS, str(data), str(stop)])
        try:
            indexes = [f"by-h{n}" for n in range(3)]
            for index in indexes:
                # the writer is writing (its first items, or more since the last index)
                written = item_count(hw)
                assert wait_until(lambda written=written: item_count(hw) > written + 20)
                hw.dynamodb.update_table(
                    TableName="shared",
                    AttributeDefinitions=[{"AttributeName": "h", "AttributeType": "S"}],
                    GlobalSecondaryIndexUpdates=[{"Create": gsi(index, "h")}],
                )
        finally:
            stop.touch()
            assert writer.wait(timeout=60) == 0
        items = item_count(hw)
        assert {index: index_count(hw, index) for index in indexes} == dict.fromkeys(indexes, items)
