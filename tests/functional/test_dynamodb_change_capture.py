"""SQLite records the changes of item puts itself (triggers on ddb_items, issue 12): the
records must be the ones the Python path (still PostgreSQL's) appends, write for write.
The same script of writes runs on a SQLite store with its triggers and on one with them
dropped (the writers then append every record from Python): the two feeds must be equal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from headwater import Headwater
from headwater.core.clock import ManualClock
from headwater.services.dynamodb.change_feed import ChangeRecord
from tests.functional.dynamodb_tables import create_table


def _python_path(app: Headwater) -> None:
    """Turn the store's own change capture off: writers append records themselves."""
    store = app.service("dynamodb").store
    with store.db.transaction():
        for event in ("insert", "update"):
            store.db.conn.execute(f"DROP TRIGGER ddb_items_{event}_change")
    store.captures_changes = False


def _key(pk: str, sk: int) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"N": str(sk)}}


def _script(app: Headwater, clock: ManualClock) -> list[ChangeRecord]:
    """Every kind of write, including ones that change nothing; the table's records."""
    ddb = app.dynamodb
    arn = create_table(
        ddb,
        "feed",
        range_key=("sk", "N"),
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )["TableDescription"]["LatestStreamArn"]
    for n in range(3):
        ddb.put_item(TableName="feed", Item={**_key("a", n), "v": {"N": "1"}})
    ddb.put_item(TableName="feed", Item={**_key("a", 0), "v": {"N": "1"}})  # same bytes
    ddb.put_item(TableName="feed", Item={**_key("a", 0), "v": {"N": "1.0"}})  # same value
    ddb.put_item(TableName="feed", Item={**_key("a", 0), "v": {"SS": ["p", "q"]}})
    ddb.put_item(TableName="feed", Item={**_key("a", 0), "v": {"SS": ["q", "p"]}})  # same set
    ddb.put_item(TableName="feed", Item={**_key("a", 1), "v": {"N": "2"}}, ReturnValues="ALL_OLD")
    ddb.put_item(
        TableName="feed",
        Item={**_key("a", 2), "v": {"N": "3"}},
        ConditionExpression="attribute_exists(pk)",
    )
    ddb.update_item(
        TableName="feed",
        Key=_key("a", 1),
        UpdateExpression="SET w = :w",
        ExpressionAttributeValues={":w": {"B": b"\x00\xff"}},
    )
    ddb.update_item(  # sets what is already there
        TableName="feed",
        Key=_key("a", 1),
        UpdateExpression="SET w = :w",
        ExpressionAttributeValues={":w": {"B": b"\x00\xff"}},
    )
    ddb.update_item(TableName="feed", Key=_key("b", 7), UpdateExpression="SET v = :v",
                    ExpressionAttributeValues={":v": {"N": "7"}})  # fmt: skip
    ddb.delete_item(TableName="feed", Key=_key("a", 2))
    ddb.delete_item(TableName="feed", Key=_key("nobody", 0))  # finds nothing: no record
    ddb.batch_write_item(
        RequestItems={
            "feed": [
                {"PutRequest": {"Item": {**_key("c", 1), "exp": {"N": str(clock.now() + 5)}}}},
                {"PutRequest": {"Item": {**_key("a", 0), "v": {"N": "9"}}}},
                {"DeleteRequest": {"Key": _key("b", 7)}},
            ]
        }
    )
    ddb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": "feed", "Item": {**_key("d", 1), "v": {"N": "1"}}}},
            {
                "Update": {
                    "TableName": "feed",
                    "Key": _key("a", 1),
                    "UpdateExpression": "REMOVE w",
                }
            },
            {"Delete": {"TableName": "feed", "Key": _key("a", 0)}},
            {"ConditionCheck": {"TableName": "feed", "Key": _key("d", 9),
                                "ConditionExpression": "attribute_not_exists(pk)"}},
        ]
    )  # fmt: skip
    clock.advance(1)
    # Setting the TTL attribute stores expiry times on existing items: no change.
    ddb.update_time_to_live(
        TableName="feed", TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"}
    )
    clock.advance(3600)  # the sweep deletes c/1 as the service
    ddb.update_table(TableName="feed", StreamSpecification={"StreamEnabled": False})
    ddb.put_item(TableName="feed", Item=_key("after", 1))  # stream disabled: no record
    return app.service("dynamodb").feed.read(arn)


def test_trigger_records_are_the_python_paths_records(tmp_path: Path) -> None:
    feeds = []
    for python_path in (False, True):
        clock = ManualClock()
        app = Headwater(data_dir=tmp_path / f"python-{python_path}", clock=clock)
        try:
            if python_path:
                _python_path(app)
            feeds.append(_script(app, clock))
        finally:
            app.close()
    captured, appended = feeds
    assert captured == appended
    assert [(r.event_name, r.changed, r.by_service) for r in captured] == [
        ("INSERT", True, False),
        ("INSERT", True, False),
        ("INSERT", True, False),
        ("MODIFY", False, False),  # same bytes
        ("MODIFY", False, False),  # 1.0 is 1
        ("MODIFY", True, False),
        ("MODIFY", False, False),  # the same set
        ("MODIFY", True, False),
        ("MODIFY", True, False),
        ("MODIFY", True, False),
        ("MODIFY", False, False),
        ("INSERT", True, False),
        ("REMOVE", True, False),
        ("INSERT", True, False),
        ("MODIFY", True, False),
        ("REMOVE", True, False),
        ("INSERT", True, False),
        ("MODIFY", True, False),
        ("REMOVE", True, False),
        ("REMOVE", True, True),
    ]
    assert [r.sequence for r in captured] == list(range(1, len(captured) + 1))
    assert captured[-1].keys == _key("c", 1) and captured[9].new_image is not None
    assert captured[9].new_image["w"] == {"B": b"\x00\xff"}


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_a_streamed_put_is_one_statement_without_reading_the_old_item(
    tmp_path: Path, backend: str
) -> None:
    """An unconditional PutItem on a streamed table runs no transaction and no read of
    the old item: the database records the change, old image included."""
    app = Headwater(data_dir=None if backend == "memory" else tmp_path, clock=ManualClock())
    try:
        arn = create_table(
            app.dynamodb,
            "streamed",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )["TableDescription"]["LatestStreamArn"]
        app.dynamodb.put_item(TableName="streamed", Item={"pk": {"S": "k"}, "v": {"N": "1"}})
        store = app.service("dynamodb").store
        statements: list[str] = []
        store.db.conn.set_trace_callback(statements.append)
        app.dynamodb.put_item(TableName="streamed", Item={"pk": {"S": "k"}, "v": {"N": "2"}})
        store.db.conn.set_trace_callback(None)
        # (SQLite traces the statement again for each trigger step it runs.)
        run = {s for s in statements if not s.startswith("PRAGMA")}
        assert len(run) == 1 and run.pop().startswith("INSERT INTO ddb_items")
        records = app.service("dynamodb").feed.read(arn)
        assert [(r.event_name, r.old_image, r.new_image) for r in records][-1] == (
            "MODIFY",
            {"pk": {"S": "k"}, "v": {"N": "1"}},
            {"pk": {"S": "k"}, "v": {"N": "2"}},
        )
    finally:
        app.close()
