"""UpdateItem on SQLite reads the item, applies the update and writes the result only if
the item and the table definitions are unchanged since the read; otherwise it runs again
in a transaction. These tests move the item or the table in between, from another
process, and check that no update is lost and none lands on a stale table."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from headwater import Headwater
from headwater.core.expressions.values import item_size
from headwater.store.tables import TableStore
from tests.functional.dynamodb_tables import create_table, gsi

ADD_ONE: dict[str, Any] = {
    "UpdateExpression": "ADD n :one",
    "ExpressionAttributeValues": {":one": {"N": "1"}},
}


def counter(hw: Headwater, table: str = "items", pk: str = "a") -> int:
    item = hw.dynamodb.get_item(TableName=table, Key={"pk": {"S": pk}}, ConsistentRead=True)
    return int(item["Item"]["n"]["N"])


def test_an_item_written_between_the_read_and_the_write_is_updated_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Headwater(data_dir=tmp_path) as here, Headwater(data_dir=tmp_path) as there:
        create_table(here.dynamodb, "items")
        here.dynamodb.update_item(TableName="items", Key={"pk": {"S": "a"}}, **ADD_ONE)
        reads: list[Any] = []
        original = TableStore.get_item_row
        here_db = here.database

        def read_then_race(self: TableStore, table_id: int, key: Any) -> Any:
            found = original(self, table_id, key)
            if self.db is here_db:
                if not reads:  # the other process writes right after the first read
                    there.dynamodb.update_item(TableName="items", Key={"pk": {"S": "a"}}, **ADD_ONE)
                reads.append(found)
            return found

        checked_read = TableStore.get_item_row_if_current

        def transaction_read(self: TableStore, table_id: int, key: Any, version: int) -> Any:
            current, found = checked_read(self, table_id, key, version)
            if self.db is here_db:
                reads.append(found)
            return current, found

        monkeypatch.setattr(TableStore, "get_item_row", read_then_race)
        monkeypatch.setattr(TableStore, "get_item_row_if_current", transaction_read)
        here.dynamodb.update_item(TableName="items", Key={"pk": {"S": "a"}}, **ADD_ONE)
        monkeypatch.undo()
        assert len(reads) == 2  # the optimistic read, then the transaction's
        assert counter(here) == 3
        # an item created by the other process where there was none
        reads.clear()

        def create_then_race(self: TableStore, table_id: int, key: Any) -> Any:
            found = original(self, table_id, key)
            if self.db is here_db:
                if not reads:
                    there.dynamodb.put_item(
                        TableName="items", Item={"pk": {"S": "b"}, "n": {"N": "10"}}
                    )
                reads.append(found)
            return found

        monkeypatch.setattr(TableStore, "get_item_row", create_then_race)
        monkeypatch.setattr(TableStore, "get_item_row_if_current", transaction_read)
        here.dynamodb.update_item(TableName="items", Key={"pk": {"S": "b"}}, **ADD_ONE)
        monkeypatch.undo()
        assert reads[0] is None and len(reads) == 2
        assert counter(here, pk="b") == 11


def test_an_update_with_a_schema_another_process_changed_writes_to_the_current_table(
    tmp_path: Path,
) -> None:
    with Headwater(data_dir=tmp_path) as here, Headwater(data_dir=tmp_path) as there:
        create_table(here.dynamodb, "shared")
        here.dynamodb.update_item(TableName="shared", Key={"pk": {"S": "a"}}, **ADD_ONE)
        there.dynamodb.delete_table(TableName="shared")
        create_table(there.dynamodb, "shared")  # same keys, a new table
        here.dynamodb.update_item(TableName="shared", Key={"pk": {"S": "a"}}, **ADD_ONE)
        assert counter(there, "shared") == 1  # not the dropped table's 1 + 1
        # an index added elsewhere gets the updated item
        there.dynamodb.update_table(
            TableName="shared",
            AttributeDefinitions=[{"AttributeName": "g", "AttributeType": "S"}],
            GlobalSecondaryIndexUpdates=[{"Create": gsi("by-g", "g")}],
        )
        here.dynamodb.update_item(
            TableName="shared",
            Key={"pk": {"S": "a"}},
            UpdateExpression="SET g = :g",
            ExpressionAttributeValues={":g": {"S": "x"}},
        )
        found = there.dynamodb.query(
            TableName="shared",
            IndexName="by-g",
            KeyConditionExpression="g = :g",
            ExpressionAttributeValues={":g": {"S": "x"}},
        )
        assert [item["pk"]["S"] for item in found["Items"]] == ["a"]
        there.dynamodb.delete_table(TableName="shared")
        with pytest.raises(Exception, match="ResourceNotFoundException"):
            here.dynamodb.update_item(TableName="shared", Key={"pk": {"S": "a"}}, **ADD_ONE)


def test_stored_sizes_follow_every_kind_of_update(tmp_path: Path) -> None:
    """The size kept beside an item is worked out from the old one's for the attributes an
    update touches: it must equal the new item's size after any update."""
    updates: list[dict[str, Any]] = [
        {"UpdateExpression": "SET a = :s, m = :m, l = :l, ns = :ns"},
        {"UpdateExpression": "SET m.nest.deep = :s, l[1] = :n"},
        {"UpdateExpression": "SET l = list_append(l, :l), a = if_not_exists(a, :n)"},
        {"UpdateExpression": "ADD ns :ns2, c :n"},
        {"UpdateExpression": "DELETE ns :ns"},
        {"UpdateExpression": "REMOVE m.nest, l[0] SET #u = :s"},
        {"UpdateExpression": "SET c = c + :n, m.x = :n REMOVE a"},
        {"UpdateExpression": "REMOVE #u, m, l, ns, c"},
    ]
    values = {
        ":s": {"S": "héllo"},
        ":n": {"N": "12345.678"},
        ":m": {"M": {"nest": {"M": {"deep": {"BOOL": True}}}}},
        ":l": {"L": [{"S": "x"}, {"N": "1"}]},
        ":ns": {"NS": ["1", "2"]},
        ":ns2": {"NS": ["3"]},
    }
    with Headwater(data_dir=tmp_path) as hw:
        create_table(hw.dynamodb, "sized")
        for update in updates:
            expression = update["UpdateExpression"]
            used = {k: values[k] for k in re.findall(r":\w+", expression)}
            hw.dynamodb.update_item(
                TableName="sized",
                Key={"pk": {"S": "a"}},
                UpdateExpression=expression,
                **({"ExpressionAttributeValues": used} if used else {}),
                # a name whose size in UTF-8 is not its length
                **({"ExpressionAttributeNames": {"#u": "ü"}} if "#u" in expression else {}),
            )
            item = hw.dynamodb.get_item(TableName="sized", Key={"pk": {"S": "a"}})["Item"]
            described = hw.dynamodb.describe_table(TableName="sized")["Table"]
            assert described["TableSizeBytes"] == item_size(item), expression


COUNTING_PROCESS = """
import sys
from headwater import Headwater
with Headwater(data_dir=sys.argv[1]) as hw:
    for _ in range(int(sys.argv[2])):
        hw.dynamodb.update_item(
            TableName="items", Key={"pk": {"S": "a"}},
            UpdateExpression="ADD n :one", ExpressionAttributeValues={":one": {"N": "1"}},
        )
"""


def test_processes_updating_one_item_lose_no_update(tmp_path: Path) -> None:
    with Headwater(data_dir=tmp_path) as hw:
        create_table(hw.dynamodb, "items")
    processes = [
        subprocess.Popen([sys.executable, "-c", COUNTING_PROCESS, str(tmp_path), "200"])
        for _ in range(3)
    ]
    for process in processes:
        assert process.wait(timeout=120) == 0
    with Headwater(data_dir=tmp_path) as hw:
        assert counter(hw) == 600
