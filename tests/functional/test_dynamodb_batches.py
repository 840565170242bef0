"""BatchGetItem, BatchWriteItem, TransactWriteItems, TransactGetItems, and the change feed."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from headwater import Headwater, ManualClock
from tests.functional.dynamodb_tables import create_table, gsi, lsi

STREAM = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}


@pytest.fixture
def ddb(hw: Headwater) -> Any:
    client = hw.dynamodb
    create_table(client, "accounts", StreamSpecification=STREAM)
    create_table(client, "ledger", range_key=("sk", "N"))
    return client


def key(name: str) -> dict[str, Any]:
    return {"pk": {"S": name}}


def error_of(call: Any, **params: Any) -> ClientError:
    with pytest.raises(ClientError) as caught:
        call(**params)
    return caught.value


def test_batch_write_and_get(ddb: Any) -> None:
    result = ddb.batch_write_item(
        RequestItems={
            "accounts": [
                {"PutRequest": {"Item": {**key(f"a{i}"), "n": {"N": str(i)}}}} for i in range(20)
            ],
            "ledger": [{"PutRequest": {"Item": {**key("x"), "sk": {"N": "1"}}}}],
        }
    )
    assert result["UnprocessedItems"] == {}
    ddb.batch_write_item(RequestItems={"accounts": [{"DeleteRequest": {"Key": key("a0")}}]})
    got = ddb.batch_get_item(
        RequestItems={
            "accounts": {"Keys": [key("a0"), key("a1"), key("a2")], "ProjectionExpression": "n"},
            "ledger": {"Keys": [{**key("x"), "sk": {"N": "1"}}]},
        }
    )
    assert sorted(got["Responses"]["accounts"], key=lambda i: i["n"]["N"]) == [
        {"n": {"N": "1"}},
        {"n": {"N": "2"}},
    ]
    assert got["Responses"]["ledger"] == [{**key("x"), "sk": {"N": "1"}}]
    assert got["UnprocessedKeys"] == {}


def test_batch_limits_and_errors(ddb: Any) -> None:
    # More than 25 writes or 100 keys over several tables; one table's own list over its
    # limit is refused as a length constraint (test_batch_list_lengths).
    too_many = {
        "accounts": [{"PutRequest": {"Item": key(f"k{i}")}} for i in range(13)],
        "ledger": [{"PutRequest": {"Item": {**key("x"), "sk": {"N": str(i)}}}} for i in range(13)],
    }
    assert error_of(ddb.batch_write_item, RequestItems=too_many).response["Error"]["Message"] == (
        "Too many items requested for the BatchWriteItem call"
    )
    assert error_of(
        ddb.batch_get_item,
        RequestItems={
            "accounts": {"Keys": [key(f"k{i}") for i in range(60)]},
            "ledger": {"Keys": [{**key("x"), "sk": {"N": str(i)}} for i in range(41)]},
        },
    ).response["Error"]["Message"] == ("Too many items requested for the BatchGetItem call")
    twice = [{"PutRequest": {"Item": key("k")}}, {"DeleteRequest": {"Key": key("k")}}]
    assert error_of(ddb.batch_write_item, RequestItems={"accounts": twice}).response["Error"][
        "Message"
    ] == ("Provided list of item keys contains duplicates")
    wrong = [{"PutRequest": {"Item": {"other": {"S": "x"}}}}]
    assert error_of(ddb.batch_write_item, RequestItems={"accounts": wrong}).response["Error"][
        "Message"
    ] == ("The provided key element does not match the schema")
    # nothing of a rejected batch was written
    partly_bad = [
        {"PutRequest": {"Item": key("good")}},
        {"PutRequest": {"Item": {"pk": {"N": "1"}}}},
    ]
    error_of(ddb.batch_write_item, RequestItems={"accounts": partly_bad})
    assert "Item" not in ddb.get_item(TableName="accounts", Key=key("good"))
    missing = error_of(
        ddb.batch_write_item, RequestItems={"nothere": [{"PutRequest": {"Item": key("k")}}]}
    )
    assert missing.response["Error"] == {
        "Code": "ResourceNotFoundException",
        "Message": "Requested resource not found",
    }


def test_transaction_commits_all_or_nothing(ddb: Any) -> None:
    ddb.put_item(TableName="accounts", Item={**key("alice"), "balance": {"N": "100"}})
    ddb.put_item(TableName="accounts", Item={**key("bob"), "balance": {"N": "0"}})

    def transfer(amount: int) -> dict[str, Any]:
        return ddb.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": "accounts",
                        "Key": key("alice"),
                        "UpdateExpression": "SET balance = balance - :a",
                        "ConditionExpression": "balance >= :a",
                        "ExpressionAttributeValues": {":a": {"N": str(amount)}},
                    }
                },
                {
                    "Update": {
                        "TableName": "accounts",
                        "Key": key("bob"),
                        "UpdateExpression": "SET balance = balance + :a",
                        "ExpressionAttributeValues": {":a": {"N": str(amount)}},
                    }
                },
                {"Put": {"TableName": "ledger", "Item": {**key("log"), "sk": {"N": str(amount)}}}},
            ]
        )

    transfer(60)
    with pytest.raises(ddb.exceptions.TransactionCanceledException) as caught:
        transfer(60)
    assert caught.value.response["Error"]["Message"] == (
        "Transaction cancelled, please refer cancellation reasons for specific reasons "
        "[ConditionalCheckFailed, None, None]"
    )
    assert caught.value.response["CancellationReasons"] == [
        {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"},
        {"Code": "None"},
        {"Code": "None"},
    ]
    balances = {i["pk"]["S"]: i["balance"]["N"] for i in ddb.scan(TableName="accounts")["Items"]}
    assert balances == {"alice": "40", "bob": "60"}
    assert ddb.scan(TableName="ledger")["Count"] == 1


def test_transaction_reasons_item_and_condition_check(ddb: Any) -> None:
    ddb.put_item(TableName="accounts", Item={**key("a"), "v": {"N": "1"}})
    with pytest.raises(ddb.exceptions.TransactionCanceledException) as caught:
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": "accounts", "Item": key("b")}},
                {
                    "ConditionCheck": {
                        "TableName": "accounts",
                        "Key": key("a"),
                        "ConditionExpression": "v = :two",
                        "ExpressionAttributeValues": {":two": {"N": "2"}},
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                },
            ]
        )
    assert caught.value.response["CancellationReasons"] == [
        {"Code": "None"},
        {
            "Code": "ConditionalCheckFailed",
            "Message": "The conditional request failed",
            "Item": {**key("a"), "v": {"N": "1"}},
        },
    ]
    assert "Item" not in ddb.get_item(TableName="accounts", Key=key("b"))
    same_item = error_of(
        ddb.transact_write_items,
        TransactItems=[
            {"Put": {"TableName": "accounts", "Item": key("a")}},
            {"Delete": {"TableName": "accounts", "Key": key("a")}},
        ],
    )
    assert (
        same_item.response["Error"]["Message"]
        == "Transaction request cannot include multiple operations on one item"
    )


def test_client_request_token_makes_retries_idempotent(ddb: Any, clock: ManualClock) -> None:
    action = [
        {
            "Update": {
                "TableName": "accounts",
                "Key": key("c"),
                "UpdateExpression": "ADD n :one",
                "ExpressionAttributeValues": {":one": {"N": "1"}},
            }
        }
    ]
    for _ in range(3):
        ddb.transact_write_items(TransactItems=action, ClientRequestToken="tok-1")
    assert ddb.get_item(TableName="accounts", Key=key("c"))["Item"]["n"] == {"N": "1"}
    other = [{"Put": {"TableName": "accounts", "Item": key("d")}}]
    assert error_of(
        ddb.transact_write_items, TransactItems=other, ClientRequestToken="tok-1"
    ).response["Error"]["Code"] == ("IdempotentParameterMismatchException")
    clock.advance(601)
    ddb.transact_write_items(TransactItems=action, ClientRequestToken="tok-1")
    assert ddb.get_item(TableName="accounts", Key=key("c"))["Item"]["n"] == {"N": "2"}


def test_a_replayed_transaction_is_charged_read_units_on_the_images_first_written(
    ddb: Any,
) -> None:
    # AWS answers a same-token replay in read capacity: 2 units a 4 KB of each image the
    # first call wrote or checked, the larger of before and after, summed action by action
    # (dynoxide's eu-west-2 captures S1-S3, R1-R2: 18 then 6 for a ~9 KB item, 20 then 8
    # with a small put beside it). A replayed delete or shrinking put no longer finds the
    # large image stored, so the figure is the first call's.
    def big(name: str) -> dict[str, Any]:
        return {**key(name), "blob": {"S": "x" * 9000}}

    for name in ("shrunk", "deleted", "checked", "pair"):
        ddb.put_item(TableName="accounts", Item=big(name))
    cases: list[tuple[str, list[dict[str, Any]], float, float]] = [
        ("shrink", [{"Put": {"TableName": "accounts", "Item": key("shrunk")}}], 18.0, 6.0),
        ("grow", [{"Put": {"TableName": "accounts", "Item": big("grown")}}], 18.0, 6.0),
        ("delete", [{"Delete": {"TableName": "accounts", "Key": key("deleted")}}], 18.0, 6.0),
        (
            "check",
            [
                {
                    "ConditionCheck": {
                        "TableName": "accounts",
                        "Key": key("checked"),
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                }
            ],
            18.0,
            6.0,
        ),
        (
            "pair",
            [
                {"Delete": {"TableName": "accounts", "Key": key("pair")}},
                {"Put": {"TableName": "accounts", "Item": key("small")}},
            ],
            20.0,
            8.0,
        ),
    ]
    for token, actions, written, replayed in cases:
        first = ddb.transact_write_items(
            TransactItems=actions, ClientRequestToken=token, ReturnConsumedCapacity="TOTAL"
        )["ConsumedCapacity"]
        assert first == [
            {"TableName": "accounts", "CapacityUnits": written, "WriteCapacityUnits": written}
        ], token
        again = ddb.transact_write_items(
            TransactItems=actions, ClientRequestToken=token, ReturnConsumedCapacity="TOTAL"
        )["ConsumedCapacity"]
        assert again == [
            {"TableName": "accounts", "CapacityUnits": replayed, "ReadCapacityUnits": replayed}
        ], token


def test_a_replay_answers_its_own_capacity_mode_on_the_table_alone(hw: Headwater) -> None:
    # The replay's ReturnConsumedCapacity decides the shape, whatever the first call asked;
    # it reads the table's items and writes no index, so INDEXES answers a Table figure and
    # no index arm (a put of a GSI member: table 2 + index 1 written, 2 read on replay).
    ddb = hw.dynamodb
    create_table(ddb, "indexed", attributes={"g": "S"}, GlobalSecondaryIndexes=[gsi("by_g", "g")])
    actions = [{"Put": {"TableName": "indexed", "Item": {**key("a"), "g": {"S": "x"}}}}]
    assert "ConsumedCapacity" not in ddb.transact_write_items(
        TransactItems=actions, ClientRequestToken="t"
    )
    again = ddb.transact_write_items(
        TransactItems=actions, ClientRequestToken="t", ReturnConsumedCapacity="INDEXES"
    )
    assert again["ConsumedCapacity"] == [
        {
            "TableName": "indexed",
            "CapacityUnits": 2.0,
            "ReadCapacityUnits": 2.0,
            "Table": {"CapacityUnits": 2.0, "ReadCapacityUnits": 2.0},
        }
    ]
    assert "ConsumedCapacity" not in ddb.transact_write_items(
        TransactItems=actions, ClientRequestToken="t", ReturnConsumedCapacity="NONE"
    )


def test_transact_write_reports_the_item_collections_it_wrote(hw: Headwater) -> None:
    # With SIZE, each Put, Update and Delete on a table with a local index names its item
    # collection under its table, in request order, as BatchWriteItem does a request; a
    # ConditionCheck writes none and a table without local indexes has none (the API
    # reference's TransactWriteItems output). A same-token replay answers the same
    # collections when it asks for them.
    ddb = hw.dynamodb
    create_table(
        ddb,
        "collections",
        range_key=("sk", "N"),
        attributes={"l": "S"},
        LocalSecondaryIndexes=[lsi("by_l", "l", "KEYS_ONLY")],
    )
    create_table(ddb, "plain")
    create_table(
        ddb,
        "numbered",
        hash_key=("pk", "N"),
        range_key=("sk", "N"),
        attributes={"l": "S"},
        LocalSecondaryIndexes=[lsi("by_l", "l")],
    )
    ddb.put_item(TableName="collections", Item={"pk": {"S": "b"}, "sk": {"N": "1"}})
    ddb.put_item(TableName="collections", Item={"pk": {"S": "d"}, "sk": {"N": "1"}})

    def at(pk: str) -> dict[str, Any]:
        return {"pk": {"S": pk}, "sk": {"N": "1"}}

    actions: list[dict[str, Any]] = [
        {"Put": {"TableName": "collections", "Item": {**at("a"), "l": {"S": "x"}}}},
        {"Put": {"TableName": "plain", "Item": key("p")}},
        {
            "Update": {
                "TableName": "collections",
                "Key": at("b"),
                "UpdateExpression": "SET l = :l",
                "ExpressionAttributeValues": {":l": {"S": "y"}},
            }
        },
        {
            "ConditionCheck": {
                "TableName": "collections",
                "Key": at("d"),
                "ConditionExpression": "attribute_exists(pk)",
            }
        },
        {"Delete": {"TableName": "collections", "Key": at("c")}},
        {
            "Put": {
                "TableName": "numbered",
                "Item": {"pk": {"N": "1.50"}, "sk": {"N": "1"}},
            }
        },
        {"Delete": {"TableName": "collections", "Key": {"pk": {"S": "a"}, "sk": {"N": "2"}}}},
    ]

    def collection(value: dict[str, str]) -> dict[str, Any]:
        return {"ItemCollectionKey": {"pk": value}, "SizeEstimateRangeGB": [0.0, 1.0]}

    expected = {
        "collections": [
            collection({"S": "a"}),
            collection({"S": "b"}),
            collection({"S": "c"}),
            collection({"S": "a"}),
        ],
        "numbered": [collection({"N": "1.5"})],
    }
    first = ddb.transact_write_items(
        TransactItems=actions, ClientRequestToken="icm", ReturnItemCollectionMetrics="SIZE"
    )
    assert first["ItemCollectionMetrics"] == expected
    replay = ddb.transact_write_items(
        TransactItems=actions, ClientRequestToken="icm", ReturnItemCollectionMetrics="SIZE"
    )
    assert replay["ItemCollectionMetrics"] == expected
    for mode in ("NONE", None):
        asked = {} if mode is None else {"ReturnItemCollectionMetrics": mode}
        assert "ItemCollectionMetrics" not in ddb.transact_write_items(
            TransactItems=actions, ClientRequestToken="icm", **asked
        )
    # A transaction on tables without local indexes answers no metrics at all.
    assert "ItemCollectionMetrics" not in ddb.transact_write_items(
        TransactItems=[{"Put": {"TableName": "plain", "Item": key("q")}}],
        ReturnItemCollectionMetrics="SIZE",
    )


def test_transact_get(ddb: Any) -> None:
    ddb.put_item(TableName="accounts", Item={**key("a"), "v": {"N": "1"}, "w": {"S": "x"}})
    got = ddb.transact_get_items(
        TransactItems=[
            {"Get": {"TableName": "accounts", "Key": key("a"), "ProjectionExpression": "v"}},
            {"Get": {"TableName": "accounts", "Key": key("zz")}},
        ]
    )
    assert got["Responses"] == [{"Item": {"v": {"N": "1"}}}, {}]


ENUM_RCC = (
    "Value 'BOGUS' at 'returnConsumedCapacity' failed to satisfy constraint: "
    "Member must satisfy enum value set: [INDEXES, TOTAL, NONE]"
)
ENUM_RICM = (
    "Value 'BOGUS2' at 'returnItemCollectionMetrics' failed to satisfy constraint: "
    "Member must satisfy enum value set: [SIZE, NONE]"
)


def test_transactions_check_member_constraints_before_anything(ddb: Any, hw: Headwater) -> None:
    # AWS (us-east-1, eu-west-2; a conformance suite's captures) refuses a bad enum or an
    # over-long ClientRequestToken before it looks up a table or a duplicate target, all
    # broken members in one message, and writes nothing.
    unchecked = hw.client("dynamodb", validate=False)
    put = {"Put": {"TableName": "accounts", "Item": key("t")}}
    one = "1 validation error detected: "
    cases: list[tuple[dict[str, Any], str]] = [
        ({"TransactItems": [put], "ReturnConsumedCapacity": "BOGUS"}, one + ENUM_RCC),
        ({"TransactItems": [put], "ReturnItemCollectionMetrics": "BOGUS2"}, one + ENUM_RICM),
        (
            {
                "TransactItems": [put],
                "ReturnConsumedCapacity": "BOGUS",
                "ReturnItemCollectionMetrics": "BOGUS2",
            },
            f"2 validation errors detected: {ENUM_RCC}; {ENUM_RICM}",
        ),
        (
            {
                "TransactItems": [{"Put": {"TableName": "missing", "Item": key("t")}}],
                "ReturnConsumedCapacity": "BOGUS",
            },
            one + ENUM_RCC,
        ),
        (
            {
                "TransactItems": [put, {"Delete": {"TableName": "accounts", "Key": key("t")}}],
                "ReturnConsumedCapacity": "BOGUS",
            },
            one + ENUM_RCC,
        ),
        (
            {
                "TransactItems": [put],
                "ClientRequestToken": "x" * 37,
                "ReturnConsumedCapacity": "BOGUS",
            },
            f"2 validation errors detected: Value '{'x' * 37}' at 'clientRequestToken' failed "
            "to satisfy constraint: Member must have length less than or equal to 36; " + ENUM_RCC,
        ),
        (
            {"TransactItems": []},
            one + "Value '[]' at 'transactItems' failed to satisfy constraint: "
            "Member must have length greater than or equal to 1",
        ),
    ]
    for params, message in cases:
        error = error_of(unchecked.transact_write_items, **params)
        assert error.response["Error"]["Message"] == message, params
    assert "Item" not in ddb.get_item(TableName="accounts", Key=key("t"))
    get = {"Get": {"TableName": "accounts", "Key": key("t")}}
    for items in ([get], [{"Get": {"TableName": "missing", "Key": key("t")}}], [get, get]):
        error = error_of(
            unchecked.transact_get_items, TransactItems=items, ReturnConsumedCapacity="BOGUS"
        )
        assert error.response["Error"]["Message"] == one + ENUM_RCC


def test_transaction_key_off_the_schema_cancels_with_a_validation_reason(
    ddb: Any, hw: Headwater
) -> None:
    # AWS (captured in four regions): a key of the wrong type cancels the transaction with a
    # ValidationError reason; an empty key value is refused outright.
    unchecked = hw.client("dynamodb", validate=False)
    ddb.put_item(TableName="accounts", Item={**key("x"), "v": {"N": "1"}})
    cases: list[tuple[dict[str, Any], str]] = [
        (
            {"Put": {"TableName": "accounts", "Item": {"pk": {"N": "5"}}}},
            "One or more parameter values were invalid: Type mismatch for key pk expected: S "
            "actual: N",
        ),
        (
            {"Delete": {"TableName": "accounts", "Key": {"pk": {"L": [{"S": "x"}]}}}},
            "The provided key element does not match the schema",
        ),
        (
            {
                "ConditionCheck": {
                    "TableName": "accounts",
                    "Key": {"pk": {"N": "5"}},
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            "The provided key element does not match the schema",
        ),
    ]
    update = {
        "Update": {
            "TableName": "accounts",
            "Key": key("x"),
            "UpdateExpression": "SET v = :v",
            "ExpressionAttributeValues": {":v": {"N": "2"}},
        }
    }
    for action, reason in cases:
        error = error_of(unchecked.transact_write_items, TransactItems=[update, action])
        assert error.response["Error"]["Code"] == "TransactionCanceledException"
        assert error.response["Error"]["Message"] == (
            "Transaction cancelled, please refer cancellation reasons for specific reasons "
            "[None, ValidationError]"
        )
        assert error.response["CancellationReasons"] == [
            {"Code": "None"},
            {"Code": "ValidationError", "Message": reason},
        ]
    assert ddb.get_item(TableName="accounts", Key=key("x"))["Item"]["v"] == {"N": "1"}
    empty = error_of(
        unchecked.transact_write_items,
        TransactItems=[{"Delete": {"TableName": "accounts", "Key": {"pk": {"S": ""}}}}],
    )
    assert empty.response["Error"]["Code"] == "ValidationException"
    got = error_of(
        unchecked.transact_get_items, TransactItems=[{"Get": {"TableName": "accounts", "Key": {}}}]
    )
    assert got.response["CancellationReasons"] == [
        {"Code": "ValidationError", "Message": "The provided key element does not match the schema"}
    ]


def test_change_feed_records_every_write_in_order(ddb: Any, hw: Headwater) -> None:
    feed = hw.service("dynamodb").feed
    arn = ddb.describe_table(TableName="accounts")["Table"]["LatestStreamArn"]
    woken: list[str] = []
    feed.subscribe(woken.append)
    ddb.put_item(TableName="accounts", Item={**key("a"), "v": {"N": "1"}})
    ddb.put_item(TableName="accounts", Item={**key("a"), "v": {"N": "1"}})  # unchanged
    ddb.update_item(
        TableName="accounts",
        Key=key("a"),
        UpdateExpression="SET v = :v",
        ExpressionAttributeValues={":v": {"N": "2"}},
    )
    ddb.batch_write_item(
        RequestItems={
            "accounts": [{"PutRequest": {"Item": key("b")}}, {"DeleteRequest": {"Key": key("a")}}]
        }
    )
    ddb.delete_item(TableName="accounts", Key=key("never-there"))  # nothing to record
    ddb.transact_write_items(TransactItems=[{"Put": {"TableName": "accounts", "Item": key("c")}}])
    with pytest.raises(ClientError):
        ddb.put_item(
            TableName="accounts", Item=key("b"), ConditionExpression="attribute_not_exists(pk)"
        )
    records = feed.read(arn)
    assert [(r.event_name, r.keys["pk"]["S"], r.changed) for r in records] == [
        ("INSERT", "a", True),
        ("MODIFY", "a", False),
        ("MODIFY", "a", True),
        ("INSERT", "b", True),
        ("REMOVE", "a", True),
        ("INSERT", "c", True),
    ]
    assert [r.sequence for r in records] == list(range(1, 7))
    assert records[2].old_image == {**key("a"), "v": {"N": "1"}} and records[2].new_image == {
        **key("a"),
        "v": {"N": "2"},
    }
    assert not any(r.by_service for r in records)
    assert feed.read(arn, after=4) == records[4:]
    assert feed.latest_sequence(arn) == 6
    assert set(woken) == {arn} and len(woken) == 5


def test_writes_without_a_stream_are_not_recorded(ddb: Any, hw: Headwater) -> None:
    ddb.put_item(TableName="ledger", Item={**key("x"), "sk": {"N": "1"}})
    assert hw.service("dynamodb").feed.streams("000000000000", "us-east-1", "ledger") == []


def test_batch_return_modes_must_be_known(hw: Headwater, ddb: Any) -> None:
    unchecked = hw.client("dynamodb", validate=False)
    error = error_of(
        unchecked.batch_write_item,
        RequestItems={"accounts": [{"PutRequest": {"Item": key("a")}}]},
        ReturnConsumedCapacity="ALL",
        ReturnItemCollectionMetrics="FULL",
    )
    assert error.response["Error"]["Message"] == (
        "2 validation errors detected: Value 'ALL' at 'returnConsumedCapacity' failed to "
        "satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]; "
        "Value 'FULL' at 'returnItemCollectionMetrics' failed to satisfy constraint: Member "
        "must satisfy enum value set: [SIZE, NONE]"
    )
    assert "Item" not in ddb.get_item(TableName="accounts", Key=key("a"))
    error = error_of(
        unchecked.batch_get_item,
        RequestItems={"accounts": {"Keys": [key("a")]}},
        ReturnConsumedCapacity="ALL",
    )
    assert error.response["Error"]["Message"] == (
        "1 validation error detected: Value 'ALL' at 'returnConsumedCapacity' failed to "
        "satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]"
    )


def test_batches_check_table_names_and_enums_before_tables(hw: Headwater, ddb: Any) -> None:
    # AWS (us-east-1 and eu-west-2, 2026-10-09, a conformance suite): a malformed table name
    # is a constraint on RequestItems' keys, reported with BatchGetItem's other member
    # errors; BatchWriteItem reports a bad enum alone, and writes nothing.
    unchecked = hw.client("dynamodb", validate=False)
    names = (
        "failed to satisfy constraint: Map keys must satisfy constraint: [Member must have "
        "length less than or equal to 255, Member must have length greater than or equal to "
        "3, Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+]"
    )
    bad_get = {"bad!name": {"Keys": [key("a")]}}
    echoed = """Value '{"bad!name":{"Keys":[{"pk":{"S":"a"}}]}}' at 'requestItems' """ + names
    assert error_of(unchecked.batch_get_item, RequestItems=bad_get).response["Error"][
        "Message"
    ] == (f"1 validation error detected: {echoed}")
    assert error_of(
        unchecked.batch_get_item, RequestItems=bad_get, ReturnConsumedCapacity="BOGUS"
    ).response["Error"]["Message"] == (f"2 validation errors detected: {echoed}; {ENUM_RCC}")
    bad_write = {"bad!name": [{"PutRequest": {"Item": key("a")}}]}
    message = error_of(unchecked.batch_write_item, RequestItems=bad_write).response["Error"][
        "Message"
    ]
    # Java's toString of the request, as AWS's over-25 echo shows it (eu-west-2 capture).
    assert message == (
        "1 validation error detected: Value '{bad!name=[WriteRequest(putRequest=PutRequest("
        "item={pk=AttributeValue(s=a, n=null, b=null, iNT=null, dECIMAL=null, dOUBLE=null, "
        "sS=null, nS=null, bS=null, iNTSET=null, dECIMALSET=null, dOUBLESET=null, m=null, "
        "l=null, nULL=null, bOOL=null)}, workloadProfileName=null), deleteRequest=null)]}' at "
        f"'requestItems' {names}"
    )
    assert error_of(
        unchecked.batch_write_item, RequestItems=bad_write, ReturnConsumedCapacity="BOGUS"
    ).response["Error"]["Message"] == (f"1 validation error detected: {ENUM_RCC}")
    assert error_of(
        unchecked.batch_write_item,
        RequestItems={"accounts": [{"PutRequest": {"Item": key("w")}}]},
        ReturnConsumedCapacity="BOGUS",
        ReturnItemCollectionMetrics="BOGUS2",
    ).response["Error"]["Message"] == (f"2 validation errors detected: {ENUM_RCC}; {ENUM_RICM}")
    assert "Item" not in ddb.get_item(TableName="accounts", Key=key("w"))
    assert error_of(unchecked.batch_get_item, RequestItems={}).response["Error"]["Message"] == (
        "1 validation error detected: Value at 'RequestItems' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1"
    )
    assert error_of(unchecked.batch_write_item, RequestItems={}).response["Error"]["Message"] == (
        "The requestItems parameter is required for BatchWriteItem"
    )


def test_batch_get_holds_every_table_to_one_projection_style(ddb: Any) -> None:
    # AWS refuses ProjectionExpression on one table beside AttributesToGet on another, as
    # it refuses both in one entry (a conformance suite, against live AWS).
    ddb.create_table(
        TableName="other",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    error = error_of(
        ddb.batch_get_item,
        RequestItems={
            "accounts": {"Keys": [key("a")], "ProjectionExpression": "pk"},
            "other": {"Keys": [key("b")], "AttributesToGet": ["pk"]},
        },
    )
    assert error.response["Error"]["Message"] == (
        "Can not use both expression and non-expression parameters in the same request: "
        "Non-expression parameters: {AttributesToGet} Expression parameters: "
        "{ProjectionExpression}"
    )


def test_batch_list_lengths(hw: Headwater, ddb: Any) -> None:
    """One table's list is held to its own length constraint (BatchGetItem's Keys in the
    validation framework's words, which a conformance suite pins against live AWS in 2026;
    the write requests as Java shows them)."""
    unchecked = hw.client("dynamodb", validate=False)
    assert error_of(unchecked.batch_get_item, RequestItems={"accounts": {"Keys": []}}).response[
        "Error"
    ]["Message"] == (
        "1 validation error detected: Value at 'RequestItems.accounts.member.Keys' failed "
        "to satisfy constraint: Member must have length greater than or equal to 1"
    )
    assert error_of(
        unchecked.batch_get_item,
        RequestItems={"accounts": {"Keys": [key("a")], "AttributesToGet": []}},
    ).response["Error"]["Message"] == (
        "1 validation error detected: Value '[]' at 'requestItems.accounts.member."
        "attributesToGet' failed to satisfy constraint: Member must have length greater than "
        "or equal to 1"
    )
    message = error_of(
        ddb.batch_get_item, RequestItems={"accounts": {"Keys": [key(f"k{i}") for i in range(101)]}}
    ).response["Error"]["Message"]
    assert message == (
        "1 validation error detected: Value at 'RequestItems.accounts.member.Keys' failed to "
        "satisfy constraint: Member must have length less than or equal to 100"
    )
    assert error_of(unchecked.batch_write_item, RequestItems={"accounts": []}).response["Error"][
        "Message"
    ] == (
        "1 validation error detected: Value '{accounts=[]}' at 'requestItems' failed to satisfy "
        "constraint: Map value must satisfy constraint: [Member must have length less than or "
        "equal to 25, Member must have length greater than or equal to 1]"
    )
    too_many = [{"PutRequest": {"Item": key(f"k{i}")}} for i in range(26)]
    message = error_of(ddb.batch_write_item, RequestItems={"accounts": too_many}).response["Error"][
        "Message"
    ]
    # Every request's fields, as 26 of 33 regions echo them (a conformance suite's
    # 2026-09-20 capture; the seven others show JVM object identities).
    assert message.startswith(
        "1 validation error detected: Value '{accounts=[WriteRequest(putRequest=PutRequest("
        "item={pk=AttributeValue(s=k0, n=null, b=null, iNT=null, dECIMAL=null, dOUBLE=null, "
        "sS=null, nS=null, bS=null, iNTSET=null, dECIMALSET=null, dOUBLESET=null, m=null, "
        "l=null, nULL=null, bOOL=null)}, workloadProfileName=null), deleteRequest=null), "
    )
    assert message.endswith(
        "]}' at 'requestItems' failed to satisfy constraint: Map value must satisfy constraint: "
        "[Member must have length less than or equal to 25, Member must have length greater "
        "than or equal to 1]"
    )
    assert ddb.scan(TableName="accounts")["Count"] == 0


def test_batch_get_charges_each_key_as_a_get(ddb: Any) -> None:
    """Each key of a BatchGetItem is rounded up to 4 KB on its own, and one that finds no
    item costs the least read (AWS's capacity rules for BatchGetItem)."""
    for name in ("a", "b"):
        ddb.put_item(TableName="accounts", Item=key(name))
    got = ddb.batch_get_item(
        RequestItems={"accounts": {"Keys": [key("a"), key("b"), key("none")]}},
        ReturnConsumedCapacity="TOTAL",
    )
    # AWS CLI's batch-get-item example: three eventually consistent reads cost 1.5,
    # reported as CapacityUnits alone.
    assert got["ConsumedCapacity"] == [{"TableName": "accounts", "CapacityUnits": 1.5}]
    got = ddb.batch_get_item(
        RequestItems={"accounts": {"Keys": [key("a"), key("b")], "ConsistentRead": True}},
        ReturnConsumedCapacity="TOTAL",
    )
    assert got["ConsumedCapacity"][0]["CapacityUnits"] == 2.0


def test_batch_write_empty_key_is_named(ddb: Any) -> None:
    """An empty string key is refused as PutItem refuses it, not as a schema mismatch."""
    empty = [{"PutRequest": {"Item": {"pk": {"S": ""}}}}]
    assert error_of(ddb.batch_write_item, RequestItems={"accounts": empty}).response["Error"][
        "Message"
    ] == (
        "One or more parameter values are not valid. The AttributeValue for a key attribute "
        "cannot contain an empty string value. Key: pk"
    )


def test_batch_delete_of_a_missing_item_reports_its_item_collection(hw: Headwater) -> None:
    """With a local index, SIZE metrics name the deleted key's item collection even when
    there was no item to delete (this was an InternalFailure)."""
    ddb = hw.dynamodb
    create_table(
        ddb,
        "collections",
        range_key=("sk", "N"),
        attributes={"l": "S"},
        LocalSecondaryIndexes=[lsi("by_l", "l", "KEYS_ONLY")],
    )
    result = ddb.batch_write_item(
        RequestItems={
            "collections": [{"DeleteRequest": {"Key": {"pk": {"S": "none"}, "sk": {"N": "1"}}}}]
        },
        ReturnItemCollectionMetrics="SIZE",
    )
    assert result["ItemCollectionMetrics"] == {
        "collections": [
            {"ItemCollectionKey": {"pk": {"S": "none"}}, "SizeEstimateRangeGB": [0.0, 1.0]}
        ]
    }


def test_batch_requests_are_checked_before_their_tables(hw: Headwater) -> None:
    """A duplicate key, a request with neither put nor delete, an item over the size limit
    are refused before the tables are looked up (dynalite's AWS-checked order)."""
    ddb = hw.dynamodb
    message = error_of(
        ddb.batch_get_item, RequestItems={"missing": {"Keys": [key("a"), key("a")]}}
    ).response["Error"]["Message"]
    assert message == "Provided list of item keys contains duplicates"
    message = error_of(
        ddb.batch_get_item,
        RequestItems={"missing": {"Keys": [{"n": {"N": "1"}}, {"n": {"N": "1.0"}}]}},
    ).response["Error"]["Message"]
    assert message == "Provided list of item keys contains duplicates"
    message = error_of(ddb.batch_write_item, RequestItems={"missing": [{}]}).response["Error"][
        "Message"
    ]
    assert message == (
        "Supplied AttributeValue has more than one datatypes set, must contain exactly one of "
        "the supported datatypes"
    )
    big = [{"PutRequest": {"Item": {**key("a"), "data": {"S": "x" * 410_000}}}}]
    message = error_of(ddb.batch_write_item, RequestItems={"missing": big}).response["Error"][
        "Message"
    ]
    assert message == "Item size has exceeded the maximum allowed size"
    # Whether a key fits the key schema needs the table.
    wrong = [{"PutRequest": {"Item": {"other": {"S": "x"}}}}]
    assert (
        error_of(ddb.batch_write_item, RequestItems={"missing": wrong}).response["Error"]["Code"]
        == "ResourceNotFoundException"
    )


def test_batch_write_capacity_by_table_and_index(hw: Headwater) -> None:
    """The shape of AWS CLI's batch-write-item example: CapacityUnits for the table and each
    index written, no WriteCapacityUnits."""
    ddb = hw.dynamodb
    create_table(ddb, "indexed", attributes={"g": "S"}, GlobalSecondaryIndexes=[gsi("by_g", "g")])
    result = ddb.batch_write_item(
        RequestItems={"indexed": [{"PutRequest": {"Item": {**key("a"), "g": {"S": "x"}}}}]},
        ReturnConsumedCapacity="INDEXES",
    )
    assert result["ConsumedCapacity"] == [
        {
            "TableName": "indexed",
            "CapacityUnits": 2.0,
            "Table": {"CapacityUnits": 1.0},
            "GlobalSecondaryIndexes": {"by_g": {"CapacityUnits": 1.0}},
        }
    ]


def test_a_transaction_doubles_its_table_writes_but_not_its_index_writes(hw: Headwater) -> None:
    """The transactional 2x is the base table's alone; each index is charged what the same
    write costs it outside a transaction."""
    ddb = hw.dynamodb
    create_table(ddb, "indexed", attributes={"g": "S"}, GlobalSecondaryIndexes=[gsi("by_g", "g")])
    result = ddb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": "indexed", "Item": {"pk": {"S": "in"}, "g": {"S": "x"}}}},
            {"Put": {"TableName": "indexed", "Item": {"pk": {"S": "out"}}}},
        ],
        ReturnConsumedCapacity="INDEXES",
    )
    assert result["ConsumedCapacity"] == [
        {
            "TableName": "indexed",
            "CapacityUnits": 5.0,
            "WriteCapacityUnits": 5.0,
            "Table": {"CapacityUnits": 4.0, "WriteCapacityUnits": 4.0},
            "GlobalSecondaryIndexes": {"by_g": {"CapacityUnits": 1.0, "WriteCapacityUnits": 1.0}},
        }
    ]


def _transaction_capacity(ddb: Any, action: dict[str, Any], mode: str) -> dict[str, Any]:
    result = ddb.transact_write_items(TransactItems=[action], ReturnConsumedCapacity=mode)
    capacity: dict[str, Any] = result["ConsumedCapacity"][0]
    return capacity


def test_transaction_index_capacity_matches_aws_figures(hw: Headwater) -> None:
    """Figures measured against DynamoDB (eu-west-2, 2026-08, as dynoxide's
    tests/transact_index_capacity cases record them) on a pk/sk table with a GSI on gsiPk
    projecting INCLUDE [proj] and an LSI on lsiSk projecting ALL."""
    ddb = hw.dynamodb
    create_table(
        ddb,
        "tx_idx",
        range_key=("sk", "S"),
        attributes={"gsiPk": "S", "lsiSk": "S"},
        GlobalSecondaryIndexes=[gsi("gsi-inc", "gsiPk", projection="INCLUDE", non_key=("proj",))],
        LocalSecondaryIndexes=[lsi("lsi-all", "lsiSk")],
    )

    def item(name: str, **attributes: str) -> dict[str, Any]:
        return {"pk": {"S": name}, "sk": {"S": "1"}} | {k: {"S": v} for k, v in attributes.items()}

    def put(entry: dict[str, Any]) -> dict[str, Any]:
        return {"Put": {"TableName": "tx_idx", "Item": entry}}

    def update(name: str, expression: str, value: str) -> dict[str, Any]:
        return {
            "Update": {
                "TableName": "tx_idx",
                "Key": item(name),
                "UpdateExpression": expression,
                "ExpressionAttributeValues": {":v": {"S": value}},
            }
        }

    def arms(capacity: dict[str, Any]) -> tuple[float, float, float | None, float | None]:
        def index(group: str, name: str) -> float | None:
            found = capacity.get(group, {}).get(name)
            return None if found is None else float(found["CapacityUnits"])

        return (
            capacity["CapacityUnits"],
            capacity["Table"]["CapacityUnits"],
            index("GlobalSecondaryIndexes", "gsi-inc"),
            index("LocalSecondaryIndexes", "lsi-all"),
        )

    # A3: a put of a member of both indexes: total 4, table 2, each index 1
    both = put(item("a3", gsiPk="g1", lsiSk="L1", proj="p"))
    assert arms(_transaction_capacity(ddb, both, "INDEXES")) == (4.0, 2.0, 1.0, 1.0)
    # A7: moving a GSI key is a delete and a put in the index, neither doubled
    ddb.put_item(TableName="tx_idx", Item=item("a7", gsiPk="g1", lsiSk="L1"))
    move = update("a7", "SET gsiPk = :v", "g2")
    assert arms(_transaction_capacity(ddb, move, "INDEXES")) == (5.0, 2.0, 2.0, 1.0)
    # B7: a ~1.5KB key move: table 2 x 2, index 2 + 2 (doubling the index would answer 12)
    ddb.put_item(TableName="tx_idx", Item=item("b7", gsiPk="g1", proj="x" * 1500))
    big_move = update("b7", "SET gsiPk = :v", "g9")
    assert arms(_transaction_capacity(ddb, big_move, "INDEXES")) == (8.0, 4.0, 4.0, None)
    # B5: a delete sized on the stored ~3KB image: table 6, index 3
    ddb.put_item(TableName="tx_idx", Item=item("b5", gsiPk="g1", proj="x" * 3000))
    delete = {"Delete": {"TableName": "tx_idx", "Key": item("b5")}}
    assert arms(_transaction_capacity(ddb, delete, "INDEXES")) == (9.0, 6.0, 3.0, None)
    # TOTAL folds the same undoubled index units into the one figure (A3 again: 4)
    total = _transaction_capacity(ddb, put(item("t1", gsiPk="g1", lsiSk="L1")), "TOTAL")
    assert total == {"TableName": "tx_idx", "CapacityUnits": 4.0, "WriteCapacityUnits": 4.0}


def test_a_malformed_table_names_echo_shows_an_empty_value_with_every_field_null(
    hw: Headwater,
) -> None:
    # An empty attribute value ({}, which botocore lets through) once stopped the echo's
    # walk with StopIteration. Java's toString of an empty AttributeValue lists every field
    # null. Found by the odd-input property test.
    message = error_of(
        hw.client("dynamodb").batch_write_item,
        RequestItems={"0": [{"PutRequest": {"Item": {"x": {}}}}]},
    ).response["Error"]["Message"]
    assert message.startswith(
        "1 validation error detected: Value '{0=[WriteRequest(putRequest=PutRequest(item={x="
        "AttributeValue(s=null, n=null, b=null, iNT=null, dECIMAL=null, dOUBLE=null, sS=null, "
        "nS=null, bS=null, iNTSET=null, dECIMALSET=null, dOUBLESET=null, m=null, l=null, "
        "nULL=null, bOOL=null)}, workloadProfileName=null), deleteRequest=null)]}' at "
        "'requestItems' failed to satisfy constraint: Map keys must satisfy constraint"
    )
