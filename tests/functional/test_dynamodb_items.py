"""DynamoDB item operations through hw.dynamodb (boto3 shapes), on memory and SQLite."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from headwater import Headwater
from tests.functional.dynamodb_tables import create_table, gsi, lsi


@pytest.fixture
def ddb(hw: Headwater) -> Any:
    client = hw.dynamodb
    create_table(client, "items", range_key=("sk", "N"))
    return client


def error_of(call: Any, **params: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**params)
    error = caught.value.response["Error"]
    return error["Code"], error["Message"]


KEY = {"pk": {"S": "a"}, "sk": {"N": "1"}}


def test_put_get_round_trip_keeps_exact_numbers_binary_and_empty_strings(ddb: Any) -> None:
    item = {
        **KEY,
        "big": {"N": "12345678901234567890123456789012345678"},
        "tiny": {"N": "1E-130"},
        "neg": {"N": "-0.000"},
        "bin": {"B": b"\x00\xff"},
        "bins": {"BS": [b"\x01", b"\x02"]},
        "blank": {"S": ""},
        "nested": {"M": {"l": {"L": [{"N": "1.50"}, {"NULL": True}, {"BOOL": False}]}}},
    }
    ddb.put_item(TableName="items", Item=item)
    got = ddb.get_item(TableName="items", Key=KEY)["Item"]
    assert got["big"] == {"N": "12345678901234567890123456789012345678"}
    assert got["tiny"] == {"N": "0." + "0" * 129 + "1"}
    assert got["neg"] == {"N": "0"}
    assert got["bin"] == {"B": b"\x00\xff"} and got["bins"] == {"BS": [b"\x01", b"\x02"]}
    assert got["blank"] == {"S": ""}
    assert got["nested"] == {"M": {"l": {"L": [{"N": "1.5"}, {"NULL": True}, {"BOOL": False}]}}}


def test_a_binary_given_as_text_is_its_utf8_bytes_as_boto3_sends_it(ddb: Any) -> None:
    # botocore encodes text for a blob as UTF-8; in process it was refused as an empty
    # binary, so code that worked with boto3 failed with hw.client
    ddb.put_item(
        TableName="items",
        Item={**KEY, "bin": {"B": "caf\u00e9"}, "bins": {"BS": ["x", b"y"]}},
    )
    got = ddb.get_item(TableName="items", Key=KEY)["Item"]
    assert got["bin"] == {"B": "caf\u00e9".encode()}
    assert got["bins"] == {"BS": [b"x", b"y"]}
    keyed = {"pk": {"S": "b"}, "sk": {"N": "1"}, "k": {"B": "t"}}
    ddb.put_item(TableName="items", Item=keyed)
    assert ddb.get_item(TableName="items", Key={"pk": {"S": "b"}, "sk": {"N": "1"}})["Item"] == {
        **keyed,
        "k": {"B": b"t"},
    }


def test_get_missing_item_and_projection(ddb: Any) -> None:
    assert "Item" not in ddb.get_item(TableName="items", Key=KEY)
    ddb.put_item(
        TableName="items",
        Item={**KEY, "a": {"S": "x"}, "m": {"M": {"b": {"N": "2"}, "c": {"N": "3"}}}},
    )
    got = ddb.get_item(
        TableName="items", Key=KEY, ProjectionExpression="a, m.c", ConsistentRead=True
    )["Item"]
    assert got == {"a": {"S": "x"}, "m": {"M": {"c": {"N": "3"}}}}
    legacy = ddb.get_item(TableName="items", Key=KEY, AttributesToGet=["a"])["Item"]
    assert legacy == {"a": {"S": "x"}}


def test_return_values(ddb: Any) -> None:
    assert "Attributes" not in ddb.put_item(
        TableName="items", Item={**KEY, "v": {"N": "1"}}, ReturnValues="ALL_OLD"
    )
    old = ddb.put_item(TableName="items", Item={**KEY, "v": {"N": "2"}}, ReturnValues="ALL_OLD")
    assert old["Attributes"]["v"] == {"N": "1"}
    upd = ddb.update_item(
        TableName="items",
        Key=KEY,
        UpdateExpression="SET v = v + :one, w = :w",
        ExpressionAttributeValues={":one": {"N": "1"}, ":w": {"S": "new"}},
        ReturnValues="UPDATED_OLD",
    )
    assert upd["Attributes"] == {"v": {"N": "2"}}
    upd = ddb.update_item(
        TableName="items",
        Key=KEY,
        UpdateExpression="REMOVE w SET v = :v",
        ExpressionAttributeValues={":v": {"N": "9"}},
        ReturnValues="UPDATED_NEW",
    )
    assert upd["Attributes"] == {"v": {"N": "9"}}
    gone = ddb.delete_item(TableName="items", Key=KEY, ReturnValues="ALL_OLD")
    assert gone["Attributes"] == {**KEY, "v": {"N": "9"}}
    assert error_of(ddb.put_item, TableName="items", Item=KEY, ReturnValues="ALL_NEW") == (
        "ValidationException",
        "ReturnValues can only be ALL_OLD or NONE",
    )


def test_conditional_writes_fail_without_changing_anything(ddb: Any) -> None:
    ddb.put_item(
        TableName="items",
        Item={**KEY, "v": {"N": "1"}},
        ConditionExpression="attribute_not_exists(pk)",
    )
    with pytest.raises(ddb.exceptions.ConditionalCheckFailedException) as caught:
        ddb.put_item(
            TableName="items",
            Item={**KEY, "v": {"N": "2"}},
            ConditionExpression="attribute_not_exists(pk)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    assert caught.value.response["Error"]["Message"] == "The conditional request failed"
    assert caught.value.response["Item"] == {**KEY, "v": {"N": "1"}}
    with pytest.raises(ddb.exceptions.ConditionalCheckFailedException) as caught:
        ddb.update_item(
            TableName="items",
            Key=KEY,
            UpdateExpression="SET v = :v",
            ConditionExpression="v > :v",
            ExpressionAttributeValues={":v": {"N": "5"}},
        )
    assert "Item" not in caught.value.response
    with pytest.raises(ddb.exceptions.ConditionalCheckFailedException):
        ddb.delete_item(TableName="items", Key=KEY, Expected={"v": {"Value": {"N": "7"}}})
    assert ddb.get_item(TableName="items", Key=KEY)["Item"]["v"] == {"N": "1"}
    ddb.delete_item(TableName="items", Key=KEY, Expected={"v": {"Value": {"N": "1"}}})
    assert "Item" not in ddb.get_item(TableName="items", Key=KEY)


def test_update_creates_item_and_legacy_attribute_updates(ddb: Any) -> None:
    ddb.update_item(
        TableName="items",
        Key=KEY,
        AttributeUpdates={
            "n": {"Action": "ADD", "Value": {"N": "5"}},
            "s": {"Action": "PUT", "Value": {"SS": ["a"]}},
            "l": {"Action": "ADD", "Value": {"L": [{"S": "x"}]}},
        },
    )
    ddb.update_item(
        TableName="items",
        Key=KEY,
        AttributeUpdates={"n": {"Action": "ADD", "Value": {"N": "-2"}}, "s": {"Action": "DELETE"}},
    )
    assert ddb.get_item(TableName="items", Key=KEY)["Item"] == {
        **KEY,
        "n": {"N": "3"},
        "l": {"L": [{"S": "x"}]},
    }


@pytest.mark.parametrize(
    "update",
    [
        {"s": {"Action": "ADD", "Value": {"N": "1"}}},
        {"s": {"Action": "ADD", "Value": {"L": [{"S": "x"}]}}},
        {"ns": {"Action": "ADD", "Value": {"SS": ["x"]}}},
        {"ns": {"Action": "DELETE", "Value": {"SS": ["x"]}}},
    ],
)
def test_legacy_attribute_updates_of_the_wrong_type_keep_the_item(
    ddb: Any, update: dict[str, Any]
) -> None:
    item = {**KEY, "s": {"S": "text"}, "ns": {"NS": ["1"]}}
    ddb.put_item(TableName="items", Item=item)
    # AWS's AttributeUpdates text, not the UpdateExpression one ("An operand in the update
    # expression has an incorrect data type").
    assert error_of(ddb.update_item, TableName="items", Key=KEY, AttributeUpdates=update) == (
        "ValidationException",
        "Type mismatch for attribute to update",
    )
    assert ddb.get_item(TableName="items", Key=KEY)["Item"] == item


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"Item": {"pk": {"S": "a"}}},
            "One or more parameter values were invalid: Missing the key sk in the item",
        ),
        (
            {"Item": {"pk": {"S": "a"}, "sk": {"S": "1"}}},
            "One or more parameter values were invalid: Type mismatch for key sk expected: N "
            "actual: S",
        ),
        (
            {"Item": {"pk": {"S": ""}, "sk": {"N": "1"}}},
            "One or more parameter values are not valid. The AttributeValue for a key "
            "attribute cannot contain an empty string value. Key: pk",
        ),
        (
            {"Item": {**KEY, "x": {"S": "x" * 410_000}}},
            "Item size has exceeded the maximum allowed size",
        ),
        ({"Item": {**KEY, "": {"S": "x"}}}, "Empty attribute name"),
        (
            {"Item": {**KEY, "x": {"N": "1" * 39}}},
            "Attempting to store more than 38 significant digits in a Number",
        ),
        (
            {"Item": {"pk": {"S": "p" * 2049}, "sk": {"N": "1"}}},
            "One or more parameter values were invalid: Size of hashkey has exceeded the "
            "maximum size limit of2048 bytes",
        ),
        (
            {"Item": KEY, "ConditionExpression": "attribute_not_exists(status)"},
            "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved "
            "keyword: status",
        ),
        (
            {
                "Item": KEY,
                "ExpressionAttributeValues": {":v": {"S": "x"}},
                "ConditionExpression": "a = :v",
                "Expected": {"a": {"Exists": False}},
            },
            "Can not use both expression and non-expression parameters in the same request: "
            "Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}",
        ),
    ],
)
def test_put_item_validation_errors(ddb: Any, params: dict[str, Any], message: str) -> None:
    assert error_of(ddb.put_item, TableName="items", **params) == ("ValidationException", message)


def enum_message(value: str, where: str, allowed: str) -> str:
    return (
        f"1 validation error detected: Value '{value}' at '{where}' failed to satisfy "
        f"constraint: Member must satisfy enum value set: [{allowed}]"
    )


@pytest.mark.parametrize("table", ["items", "nothere"])
@pytest.mark.parametrize(
    ("operation", "params", "message"),
    [
        (
            "put_item",
            {"Item": KEY, "ReturnConsumedCapacity": "ALL"},
            enum_message("ALL", "returnConsumedCapacity", "INDEXES, TOTAL, NONE"),
        ),
        (
            "get_item",
            {"Key": KEY, "ReturnConsumedCapacity": "total"},
            enum_message("total", "returnConsumedCapacity", "INDEXES, TOTAL, NONE"),
        ),
        (
            "delete_item",
            {"Key": KEY, "ReturnItemCollectionMetrics": "ALL"},
            enum_message("ALL", "returnItemCollectionMetrics", "SIZE, NONE"),
        ),
        (
            "update_item",
            {"Key": KEY, "ReturnValuesOnConditionCheckFailure": "ALL_NEW"},
            enum_message("ALL_NEW", "returnValuesOnConditionCheckFailure", "ALL_OLD, NONE"),
        ),
        (
            "put_item",
            {"Item": KEY, "ReturnValues": "OLD", "ReturnConsumedCapacity": "ALL"},
            enum_message("OLD", "returnValues", "ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW"),
        ),
    ],
)
def test_enum_members_are_checked_first_even_without_the_table(
    ddb: Any, table: str, operation: str, params: dict[str, Any], message: str
) -> None:
    # AWS's request model refuses a value outside an enum before any other check, and
    # before the table is looked up; nothing is written.
    assert error_of(getattr(ddb, operation), TableName=table, **params) == (
        "ValidationException",
        message,
    )
    assert "Item" not in ddb.get_item(TableName="items", Key=KEY)


@pytest.mark.parametrize(
    ("operation", "params", "message"),
    [
        (
            "update_item",
            {
                "Key": KEY,
                "AttributeUpdates": {
                    "a": {"Action": "ADD"},
                    "b": {"Action": "REPLACE", "Value": {"S": "x"}},
                },
            },
            enum_message("REPLACE", "attributeUpdates.b.member.action", "ADD, DELETE, PUT"),
        ),
        (
            "delete_item",
            {
                "Key": KEY,
                "Expected": {
                    "a": {"Exists": True},
                    "b": {"ComparisonOperator": "EQUALS", "AttributeValueList": [{"S": "x"}]},
                },
            },
            enum_message(
                "EQUALS",
                "expected.b.member.comparisonOperator",
                "IN, NULL, BETWEEN, LT, NOT_CONTAINS, EQ, GT, NOT_NULL, NE, LE, BEGINS_WITH, "
                "GE, CONTAINS",
            ),
        ),
        (
            "put_item",
            {"Item": KEY, "Expected": {"a": {"Exists": True}}, "ConditionalOperator": "XOR"},
            enum_message("XOR", "conditionalOperator", "OR, AND"),
        ),
    ],
)
def test_legacy_enum_members_are_checked_before_their_entries(
    ddb: Any, operation: str, params: dict[str, Any], message: str
) -> None:
    assert error_of(getattr(ddb, operation), TableName="items", **params) == (
        "ValidationException",
        message,
    )


@pytest.mark.parametrize(
    ("operation", "params", "message"),
    [
        (
            "put_item",
            {"Item": KEY, "ReturnValues": "ALL_NEW"},
            "ReturnValues can only be ALL_OLD or NONE",
        ),
        (
            "delete_item",
            {"Key": KEY, "ReturnValues": "UPDATED_OLD"},
            "ReturnValues can only be ALL_OLD or NONE",
        ),
        (
            "put_item",
            {
                "Item": KEY,
                "ConditionExpression": "attribute_exists(a)",
                "Expected": {"a": {"Exists": False}},
            },
            "Can not use both expression and non-expression parameters in the same request: "
            "Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}",
        ),
        (
            "get_item",
            {"Key": KEY, "AttributesToGet": ["a"], "ProjectionExpression": "a"},
            "Can not use both expression and non-expression parameters in the same request: "
            "Non-expression parameters: {AttributesToGet} Expression parameters: "
            "{ProjectionExpression}",
        ),
        (
            "get_item",
            {"Key": {"pk": {"SS": []}}},
            "One or more parameter values were invalid: An string set  may not be empty",
        ),
        (
            "put_item",
            {"Item": {**KEY, "n": {"N": "x"}}},
            "The parameter cannot be converted to a numeric value: x",
        ),
        (
            "delete_item",
            {"Key": KEY, "ConditionExpression": "a = = b"},
            'Invalid ConditionExpression: Syntax error; token: "=", near: "= = b"',
        ),
        (
            "update_item",
            {"Key": KEY, "UpdateExpression": "SET a = :v"},
            "Invalid UpdateExpression: An expression attribute value used in expression is not "
            "defined; attribute value: :v",
        ),
        (
            "update_item",
            {"Key": KEY, "AttributeUpdates": {"a": {"Action": "ADD", "Value": {"S": "x"}}}},
            "One or more parameter values were invalid: ADD action is not supported for the type S",
        ),
    ],
)
def test_a_bad_request_to_a_missing_table_answers_the_request_error(
    ddb: Any, operation: str, params: dict[str, Any], message: str
) -> None:
    # AWS checks the request on its own before it looks the table up.
    assert error_of(getattr(ddb, operation), TableName="nothere", **params) == (
        "ValidationException",
        message,
    )
    # The same request to an existing table answers the same.
    assert error_of(getattr(ddb, operation), TableName="items", **params) == (
        "ValidationException",
        message,
    )


@pytest.mark.parametrize(
    ("operation", "params"),
    [
        ("get_item", {"TableName": "items", "Key": KEY}),
        ("get_item", {"TableName": "nothere", "Key": KEY}),
        ("scan", {"TableName": "items"}),
    ],
)
def test_empty_attributes_to_get_is_refused(
    ddb: Any, hw: Headwater, operation: str, params: dict[str, Any]
) -> None:
    # botocore refuses it before sending; other SDKs (and boto3 without parameter
    # validation) reach the server, which answers the model's length constraint.
    unchecked = hw.client("dynamodb", validate=False)
    assert error_of(getattr(unchecked, operation), AttributesToGet=[], **params) == (
        "ValidationException",
        "1 validation error detected: Value '[]' at 'attributesToGet' failed to satisfy "
        "constraint: Member must have length greater than or equal to 1",
    )


EQ_X = {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "x"}]}
WITHOUT_EXPECTED = "ConditionalOperator cannot be used without Filter or Expected"
ONE_EXPECTED = (
    "ConditionalOperator can only be used when Filter or Expected has two or more elements"
)


@pytest.mark.parametrize(
    ("operation", "params", "message"),
    [
        ("put_item", {"Item": KEY, "ConditionalOperator": "AND"}, WITHOUT_EXPECTED),
        ("delete_item", {"Key": KEY, "ConditionalOperator": "OR"}, WITHOUT_EXPECTED),
        ("update_item", {"Key": KEY, "ConditionalOperator": "AND"}, WITHOUT_EXPECTED),
        (
            "update_item",
            {
                "Key": KEY,
                "ConditionalOperator": "AND",
                "AttributeUpdates": {"a": {"Action": "PUT", "Value": {"S": "v"}}},
            },
            WITHOUT_EXPECTED,
        ),
        ("put_item", {"Item": KEY, "ConditionalOperator": "AND", "Expected": {}}, WITHOUT_EXPECTED),
        (
            "put_item",
            {"Item": KEY, "ConditionalOperator": "AND", "Expected": {"a": EQ_X}},
            ONE_EXPECTED,
        ),
        (
            "delete_item",
            {"Key": KEY, "ConditionalOperator": "OR", "Expected": {"a": {"Exists": False}}},
            ONE_EXPECTED,
        ),
        (
            "put_item",
            {
                "Item": KEY,
                "ConditionalOperator": "AND",
                "ConditionExpression": "attribute_exists(a)",
            },
            "Can not use both expression and non-expression parameters in the same request: "
            "Non-expression parameters: {ConditionalOperator} Expression parameters: "
            "{ConditionExpression}",
        ),
        (
            "update_item",
            {
                "Key": KEY,
                "AttributeUpdates": {"a": {"Value": {"S": "v"}, "Action": "PUT"}},
                "Expected": {"a": EQ_X},
                "ConditionalOperator": "AND",
                "UpdateExpression": "SET a = :v",
                "ConditionExpression": "attribute_exists(pk)",
                "ExpressionAttributeValues": {":v": {"S": "x"}},
            },
            "Can not use both expression and non-expression parameters in the same request: "
            "Non-expression parameters: {AttributeUpdates, Expected, ConditionalOperator} "
            "Expression parameters: {UpdateExpression, ConditionExpression}",
        ),
    ],
)
def test_conditional_operator_needs_two_expected_conditions(
    ddb: Any, operation: str, params: dict[str, Any], message: str
) -> None:
    assert error_of(getattr(ddb, operation), TableName="items", **params) == (
        "ValidationException",
        message,
    )
    assert "Item" not in ddb.get_item(TableName="items", Key=KEY)


def test_conditional_operator_joins_two_expected_conditions(ddb: Any) -> None:
    item = {**KEY, "a": {"S": "x"}}
    ddb.put_item(TableName="items", Item=item)
    either = {"a": EQ_X, "b": {"ComparisonOperator": "NOT_NULL"}}
    ddb.put_item(TableName="items", Item=item, Expected=either, ConditionalOperator="OR")
    assert error_of(
        ddb.delete_item, TableName="items", Key=KEY, Expected=either, ConditionalOperator="AND"
    ) == ("ConditionalCheckFailedException", "The conditional request failed")
    ddb.delete_item(TableName="items", Key=KEY, Expected=either, ConditionalOperator="OR")
    assert "Item" not in ddb.get_item(TableName="items", Key=KEY)


@pytest.mark.parametrize(
    "condition",
    [
        {"ConditionExpression": "attribute_exists(pk)"},
        {"Expected": {"pk": {"Value": {"S": "other"}}}},
    ],
)
def test_an_item_too_large_is_refused_before_its_condition_is_read(
    ddb: Any, condition: dict[str, Any]
) -> None:
    # The size is a check of the request: a condition that would fail does not hide it.
    big = {**KEY, "b": {"S": "x" * 410_000}}
    assert error_of(ddb.put_item, TableName="items", Item=big, **condition) == (
        "ValidationException",
        "Item size has exceeded the maximum allowed size",
    )


def test_an_item_too_large_for_a_missing_table_is_a_missing_table(ddb: Any) -> None:
    # AWS checks the item's size only once it has the table.
    big = {**KEY, "b": {"S": "x" * 400_001}}
    assert error_of(ddb.put_item, TableName="nothere", Item=big) == (
        "ResourceNotFoundException",
        "Requested resource not found",
    )


@pytest.mark.parametrize(("kind", "empty", "word"), [("S", "", "string"), ("B", b"", "binary")])
def test_an_empty_index_key_is_worded_for_the_put_or_the_update(
    ddb: Any, kind: str, empty: Any, word: str
) -> None:
    create_table(ddb, "indexed", attributes={"g": kind}, GlobalSecondaryIndexes=[gsi("by_g", "g")])
    key = {"pk": {"S": "a"}}
    assert error_of(ddb.put_item, TableName="indexed", Item={**key, "g": {kind: empty}}) == (
        "ValidationException",
        "One or more parameter values are not valid. A value specified for a secondary index "
        f"key is not supported. The AttributeValue for a key attribute cannot contain an empty "
        f"{word} value. IndexName: by_g, IndexKey: g",
    )
    # An update's result names no index (AWS, for a new item and an existing one alike).
    for existing in (False, True):
        if existing:
            ddb.put_item(TableName="indexed", Item=key)
        assert error_of(
            ddb.update_item,
            TableName="indexed",
            Key=key,
            UpdateExpression="SET g = :v",
            ExpressionAttributeValues={":v": {kind: empty}},
        ) == (
            "ValidationException",
            "One or more parameter values are not valid. The update expression attempted to "
            "update a secondary index key to a value that is not supported. The AttributeValue "
            f"for a key attribute cannot contain an empty {word} value.",
        )
        found = ddb.get_item(TableName="indexed", Key=key).get("Item")
        assert found == (key if existing else None)


def test_a_transaction_update_emptying_an_index_key_is_worded_as_an_update(ddb: Any) -> None:
    create_table(ddb, "indexed", attributes={"g": "S"}, GlobalSecondaryIndexes=[gsi("by_g", "g")])
    key = {"pk": {"S": "a"}}
    update = {
        "TableName": "indexed",
        "Key": key,
        "UpdateExpression": "SET g = :v",
        "ExpressionAttributeValues": {":v": {"S": ""}},
    }
    with pytest.raises(ClientError) as caught:
        ddb.transact_write_items(TransactItems=[{"Update": update}])
    assert caught.value.response["CancellationReasons"] == [
        {
            "Code": "ValidationError",
            "Message": "One or more parameter values are not valid. The update expression "
            "attempted to update a secondary index key to a value that is not supported. The "
            "AttributeValue for a key attribute cannot contain an empty string value.",
        }
    ]
    assert ddb.get_item(TableName="indexed", Key=key).get("Item") is None


def oversized_index_key(name: str, size: int, limit: int, index: str) -> str:
    """AWS's refusal of an index key value over its limit (quoted from live AWS in public
    issues: architect/dynalite#35, wellcomecollection/platform#2285)."""
    return (
        f"One or more parameter values were invalid: Size limit exceeded for Index Key {name} "
        f"Actual Size: {size} bytes Max Size: {limit} bytes IndexName: {index}"
    )


def test_an_index_key_over_the_key_size_limits_is_refused_by_every_write(ddb: Any) -> None:
    create_table(
        ddb,
        "indexed",
        range_key=("sk", "S"),
        attributes={"g": "S", "gs": "B", "ls": "S"},
        GlobalSecondaryIndexes=[gsi("by_g", "g", "gs")],
        LocalSecondaryIndexes=[lsi("by_ls", "ls")],
    )
    key = {"pk": {"S": "a"}, "sk": {"S": "b"}}
    # A partition key may hold 2048 bytes and a sort key 1024, counted in UTF-8 or raw
    # bytes (not base64), as the table's own key is.
    at_limit = {"g": {"S": "é" * 1024}, "gs": {"B": b"x" * 1024}, "ls": {"S": "y" * 1024}}
    ddb.put_item(TableName="indexed", Item={**key, **at_limit})
    over = [
        ("g", {"S": "é" * 1024 + "x"}, oversized_index_key("g", 2049, 2048, "by_g")),
        ("gs", {"B": b"x" * 1025}, oversized_index_key("gs", 1025, 1024, "by_g")),
        ("ls", {"S": "y" * 1025}, oversized_index_key("ls", 1025, 1024, "by_ls")),
    ]
    for name, value, message in over:
        item = {**key, **at_limit, name: value}
        assert error_of(ddb.put_item, TableName="indexed", Item=item) == (
            "ValidationException",
            message,
        )
        assert error_of(
            ddb.update_item,
            TableName="indexed",
            Key=key,
            UpdateExpression="SET #k = :v",
            ExpressionAttributeNames={"#k": name},
            ExpressionAttributeValues={":v": value},
        ) == ("ValidationException", message)
        assert error_of(
            ddb.batch_write_item, RequestItems={"indexed": [{"PutRequest": {"Item": item}}]}
        ) == ("ValidationException", message)
        with pytest.raises(ClientError) as caught:
            ddb.transact_write_items(
                TransactItems=[{"Put": {"TableName": "indexed", "Item": item}}]
            )
        assert caught.value.response["CancellationReasons"] == [
            {"Code": "ValidationError", "Message": message}
        ]
    # Nothing was written: the item is as first put, and each index holds it once.
    assert ddb.get_item(TableName="indexed", Key=key)["Item"] == {**key, **at_limit}
    for index in ("by_g", "by_ls"):
        assert ddb.scan(TableName="indexed", IndexName=index)["Count"] == 1


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "",
            "1 validation error detected: Value '' at 'tableName' failed to satisfy constraint: "
            "Member must have length greater than or equal to 1",
        ),
        (
            "ab",
            "1 validation error detected: Value 'ab' at 'tableName' failed to satisfy "
            "constraint: Member must have length greater than or equal to 3",
        ),
        (
            "a" * 256,
            f"1 validation error detected: Value '{'a' * 256}' at 'tableName' failed to satisfy "
            "constraint: Member must have length less than or equal to 255",
        ),
        (
            "bad table!@#",
            "1 validation error detected: Value 'bad table!@#' at 'tableName' failed to "
            "satisfy constraint: Member must satisfy regular expression pattern: "
            "[a-zA-Z0-9_.-]+",
        ),
    ],
)
@pytest.mark.parametrize("operation", ["put_item", "get_item", "update_item", "delete_item"])
def test_a_malformed_table_name_is_refused_before_anything_else(
    ddb: Any, hw: Headwater, operation: str, name: str, message: str
) -> None:
    unchecked = hw.client("dynamodb", validate=False)
    # The name's error comes before the request's own (here a mixed condition).
    params: dict[str, Any] = {
        "TableName": name,
        "ConditionalOperator": "AND",
        "ConditionExpression": "attribute_exists(pk)",
    }
    if operation == "put_item":
        params["Item"] = KEY
    else:
        params["Key"] = KEY
    if operation == "get_item":
        params = {
            "TableName": name,
            "Key": KEY,
            "AttributesToGet": ["a"],
            "ProjectionExpression": "a",
        }
    assert error_of(getattr(unchecked, operation), **params) == ("ValidationException", message)


def test_sets_come_back_in_dynamodbs_order_not_as_written(ddb: Any) -> None:
    # Strings and binaries bytewise, numbers by value, the empty member first (AWS).
    ddb.put_item(
        TableName="items",
        Item={
            **KEY,
            "ss": {"SS": ["b", "é", "", "a", "B"]},
            "ns": {"NS": ["10", "-1.5", "9", "0.5"]},
            "bs": {"BS": [b"\xff", b"\x00\x01", b"", b"\x00"]},
        },
    )
    item = ddb.get_item(TableName="items", Key=KEY)["Item"]
    assert item["ss"] == {"SS": ["", "B", "a", "b", "é"]}
    assert item["ns"] == {"NS": ["-1.5", "0.5", "9", "10"]}
    assert item["bs"] == {"BS": [b"", b"\x00", b"\x00\x01", b"\xff"]}
    added = ddb.update_item(
        TableName="items",
        Key=KEY,
        UpdateExpression="ADD ss :s, ns :n SET fresh = :s",
        ExpressionAttributeValues={":s": {"SS": ["c", "0"]}, ":n": {"NS": ["2", "100"]}},
        ReturnValues="UPDATED_NEW",
    )["Attributes"]
    assert added == {
        "ss": {"SS": ["", "0", "B", "a", "b", "c", "é"]},
        "ns": {"NS": ["-1.5", "0.5", "2", "9", "10", "100"]},
        "fresh": {"SS": ["0", "c"]},
    }


def not_scalar(where: str) -> str:
    return (
        "Key attributes must be scalars; list random access '[]' and map lookup '.' are not "
        f"allowed: {where}"
    )


@pytest.mark.parametrize(
    ("operation", "params", "message"),
    [
        ("get_item", {"ProjectionExpression": "v, pk.x"}, not_scalar("Key: pk")),
        (
            "get_item",
            {"ProjectionExpression": "#s[0]", "ExpressionAttributeNames": {"#s": "sk"}},
            not_scalar("Key: sk"),
        ),
        ("get_item", {"ProjectionExpression": "g.x"}, not_scalar("IndexKey: g")),
        (
            "update_item",
            {"UpdateExpression": "SET g.x = :v", "ExpressionAttributeValues": {":v": {"S": "x"}}},
            not_scalar("IndexKey: g"),
        ),
        ("update_item", {"UpdateExpression": "REMOVE g[0]"}, not_scalar("IndexKey: g")),
        (
            "update_item",
            {
                "UpdateExpression": "SET v = if_not_exists(pk.x, :v)",
                "ExpressionAttributeValues": {":v": {"S": "x"}},
            },
            not_scalar("Key: pk"),
        ),
        (
            "update_item",
            {"UpdateExpression": "SET pk.x = :v", "ExpressionAttributeValues": {":v": {"S": "x"}}},
            "One or more parameter values were invalid: Cannot update attribute pk. This "
            "attribute is part of the key",
        ),
    ],
)
def test_a_path_into_a_key_attribute_is_refused(
    ddb: Any, operation: str, params: dict[str, Any], message: str
) -> None:
    # Key attributes of the table and its indexes are scalars (AWS; dynalite's checked
    # GetItem test, and a suite run against AWS for an index key in an update).
    create_table(
        ddb,
        "keyed",
        range_key=("sk", "N"),
        attributes={"g": "S"},
        GlobalSecondaryIndexes=[gsi("by_g", "g")],
    )
    item = {**KEY, "g": {"S": "a"}, "v": {"S": "b"}}
    ddb.put_item(TableName="keyed", Item=item)
    assert error_of(getattr(ddb, operation), TableName="keyed", Key=KEY, **params) == (
        "ValidationException",
        message,
    )
    assert ddb.get_item(TableName="keyed", Key=KEY)["Item"] == item


EMPTY_SET = "One or more parameter values were invalid: An string set  may not be empty"
BAD_KEY = {"pk": {"SS": []}, "sk": {"N": "1"}}


@pytest.mark.parametrize("table", ["items", "nothere"])
@pytest.mark.parametrize(
    ("operation", "params", "message"),
    [
        # The item's or key's values come before ReturnValues, Expected and expressions...
        ("put_item", {"Item": {**KEY, "s": {"SS": []}}, "ConditionExpression": ""}, EMPTY_SET),
        ("put_item", {"Item": {**KEY, "s": {"SS": []}}, "ReturnValues": "ALL_NEW"}, EMPTY_SET),
        ("put_item", {"Item": {**KEY, "s": {"SS": []}}, "Expected": {"a": {}}}, EMPTY_SET),
        ("delete_item", {"Key": BAD_KEY, "ConditionExpression": "a = = b"}, EMPTY_SET),
        ("get_item", {"Key": BAD_KEY, "ProjectionExpression": "a.."}, EMPTY_SET),
        (
            "update_item",
            {"Key": BAD_KEY, "Expected": {"a": {}}, "AttributeUpdates": {"a": {"Action": "PUT"}}},
            EMPTY_SET,
        ),
        # ... an update's AttributeUpdates before its Expected ...
        (
            "update_item",
            {
                "Key": KEY,
                "Expected": {"a": {}},
                "AttributeUpdates": {"a": {"Action": "ADD", "Value": {"S": "x"}}},
            },
            "One or more parameter values were invalid: ADD action is not supported for the type S",
        ),
        (
            "update_item",
            {"Key": {"pk": {"S": "a"}}, "AttributeUpdates": {"a": {"Action": "ADD"}}},
            "One or more parameter values were invalid: Only DELETE action is allowed when no "
            "attribute value is specified",
        ),
        # ... and mixed parameters before the values.
        (
            "put_item",
            {
                "Item": {**KEY, "s": {"SS": []}},
                "Expected": {"a": {"Exists": False}},
                "ConditionExpression": "attribute_exists(a)",
            },
            "Can not use both expression and non-expression parameters in the same request: "
            "Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}",
        ),
        (
            "delete_item",
            {"Key": BAD_KEY, "ExpressionAttributeNames": {"#a": "a"}},
            "ExpressionAttributeNames can only be specified when using expressions",
        ),
    ],
)
def test_values_are_checked_after_the_parameters_and_before_the_rest(
    ddb: Any, table: str, operation: str, params: dict[str, Any], message: str
) -> None:
    # The order of AWS's request checks (dynalite's AWS-checked validation tests).
    assert error_of(getattr(ddb, operation), TableName=table, **params) == (
        "ValidationException",
        message,
    )


def test_key_errors_and_missing_table(ddb: Any) -> None:
    assert error_of(ddb.get_item, TableName="items", Key={"pk": {"S": "a"}}) == (
        "ValidationException",
        "The provided key element does not match the schema",
    )
    assert error_of(ddb.get_item, TableName="items", Key={**KEY, "x": {"S": "a"}}) == (
        "ValidationException",
        "The provided key element does not match the schema",
    )
    assert error_of(
        ddb.update_item,
        TableName="items",
        Key=KEY,
        UpdateExpression="SET sk = :v",
        ExpressionAttributeValues={":v": {"N": "2"}},
    ) == (
        "ValidationException",
        "One or more parameter values were invalid: Cannot update attribute sk. This attribute "
        "is part of the key",
    )
    assert error_of(ddb.get_item, TableName="nothere", Key=KEY) == (
        "ResourceNotFoundException",
        "Requested resource not found",
    )
    code, _ = error_of(ddb.put_item, TableName="nothere", Item=KEY)
    assert code == "ResourceNotFoundException"


def test_table_arn_works_as_table_name(ddb: Any, hw: Headwater) -> None:
    arn = ddb.describe_table(TableName="items")["Table"]["TableArn"]
    ddb.put_item(TableName=arn, Item=KEY)
    assert ddb.get_item(TableName=arn, Key=KEY)["Item"] == KEY


def test_consumed_capacity_shapes(ddb: Any) -> None:
    # The single-item operations give CapacityUnits alone, without the
    # ReadCapacityUnits / WriteCapacityUnits breakdown (AWS, as dynalite and a suite run
    # against live DynamoDB show).
    put = ddb.put_item(TableName="items", Item=KEY, ReturnConsumedCapacity="TOTAL")
    assert put["ConsumedCapacity"] == {"TableName": "items", "CapacityUnits": 1.0}
    get = ddb.get_item(TableName="items", Key=KEY, ReturnConsumedCapacity="INDEXES")
    assert get["ConsumedCapacity"] == {
        "TableName": "items",
        "CapacityUnits": 0.5,
        "Table": {"CapacityUnits": 0.5},
    }
    update = ddb.update_item(
        TableName="items", Key=KEY, UpdateExpression="REMOVE a", ReturnConsumedCapacity="INDEXES"
    )
    assert update["ConsumedCapacity"] == {
        "TableName": "items",
        "CapacityUnits": 1.0,
        "Table": {"CapacityUnits": 1.0},
    }
    delete = ddb.delete_item(TableName="items", Key=KEY, ReturnConsumedCapacity="TOTAL")
    assert delete["ConsumedCapacity"] == {"TableName": "items", "CapacityUnits": 1.0}


def test_a_put_is_charged_for_the_larger_of_the_old_and_the_new_item(ddb: Any) -> None:
    # AWS: replacing a 2 KB item with a small one costs 2 write units, not 1.
    ddb.put_item(TableName="items", Item={**KEY, "b": {"S": "x" * 1500}})
    # The first put is charged for the old item, the second (replacing a small one) not.
    for expected in (2.0, 1.0):
        put = ddb.put_item(TableName="items", Item=KEY, ReturnConsumedCapacity="TOTAL")
        assert put["ConsumedCapacity"]["CapacityUnits"] == expected


def wrapped_in_maps(count: int) -> dict[str, Any]:
    value: dict[str, Any] = {"S": "leaf"}
    for _ in range(count):
        value = {"M": {"n": value}}
    return value


NESTED_TOO_DEEP = (
    "Nesting Levels have exceeded supported limits: Attributes in the item have nested "
    "levels beyond supported limit"
)


def test_a_value_nested_past_32_levels_is_refused_on_every_write_surface(ddb: Any) -> None:
    # AWS accepts a leaf at level 32 (31 map wraps) and refuses one at level 33, for a
    # PutItem, a BatchWriteItem put and a TransactWriteItems put alike: a top-level
    # ValidationException, never a cancellation, and nothing stored.
    ddb.put_item(TableName="items", Item={**KEY, "d": wrapped_in_maps(31)})
    assert ddb.get_item(TableName="items", Key=KEY)["Item"]["d"] == wrapped_in_maps(31)
    deep_key = {"pk": {"S": "deep"}, "sk": {"N": "1"}}
    deep_item = {**deep_key, "d": wrapped_in_maps(32)}
    assert error_of(ddb.put_item, TableName="items", Item=deep_item) == (
        "ValidationException",
        NESTED_TOO_DEEP,
    )
    assert error_of(
        ddb.batch_write_item, RequestItems={"items": [{"PutRequest": {"Item": deep_item}}]}
    ) == ("ValidationException", NESTED_TOO_DEEP)
    assert error_of(
        ddb.transact_write_items, TransactItems=[{"Put": {"TableName": "items", "Item": deep_item}}]
    ) == ("ValidationException", NESTED_TOO_DEEP)
    assert "Item" not in ddb.get_item(TableName="items", Key=deep_key)


def test_a_transaction_lets_an_expression_value_nest_one_level_deeper_than_an_item(
    ddb: Any,
) -> None:
    # 30 of 33 regions (captured by a conformance suite): TransactWriteItems runs with
    # a 32-wrap expression value, so a condition comparing it fails and an Update
    # writing it into the item cancels with the short nesting sentence; 33 wraps are
    # refused up front naming the value's key. UpdateItem refuses 32 wraps itself.
    ddb.put_item(TableName="items", Item=KEY)
    compare = {
        "TableName": "items",
        "Key": KEY,
        "ConditionExpression": "d = :deep",
        "ExpressionAttributeValues": {":deep": wrapped_in_maps(32)},
    }
    with pytest.raises(ClientError) as caught:
        ddb.transact_write_items(TransactItems=[{"ConditionCheck": compare}])
    reasons = caught.value.response["CancellationReasons"]
    assert [reason["Code"] for reason in reasons] == ["ConditionalCheckFailed"]
    write = {
        "TableName": "items",
        "Key": KEY,
        "UpdateExpression": "SET d = :deep",
        "ExpressionAttributeValues": {":deep": wrapped_in_maps(32)},
    }
    with pytest.raises(ClientError) as caught:
        ddb.transact_write_items(TransactItems=[{"Update": write}])
    assert caught.value.response["CancellationReasons"] == [
        {"Code": "ValidationError", "Message": "Nesting Levels have exceeded supported limits"}
    ]
    assert ddb.get_item(TableName="items", Key=KEY)["Item"] == KEY
    too_deep = {**write, "ExpressionAttributeValues": {":deep": wrapped_in_maps(33)}}
    assert error_of(ddb.transact_write_items, TransactItems=[{"Update": too_deep}]) == (
        "ValidationException",
        f"ExpressionAttributeValues contains invalid value: {NESTED_TOO_DEEP} for key :deep",
    )
    assert error_of(ddb.update_item, **write) == (
        "ValidationException",
        f"ExpressionAttributeValues contains invalid value: {NESTED_TOO_DEEP} for key :deep",
    )


def test_a_transaction_refuses_a_put_over_400_kb_before_it_runs(ddb: Any) -> None:
    # A put's size is known from the request: AWS answers a top-level
    # ValidationException, not a cancellation (eu-west-2, captured by a conformance
    # suite), and writes nothing; 409,600 bytes is still accepted.
    def item(name: str, size: int) -> dict[str, Any]:
        key = {"pk": {"S": name}, "sk": {"N": "1"}}
        padding = size - (2 + len(name)) - (2 + 2) - 1
        return {**key, "p": {"S": "x" * padding}}

    fits = item("fits", 409_600)
    ddb.transact_write_items(TransactItems=[{"Put": {"TableName": "items", "Item": fits}}])
    assert "Item" in ddb.get_item(TableName="items", Key={"pk": fits["pk"], "sk": fits["sk"]})
    over = item("over", 409_601)
    first = {"pk": {"S": "first"}, "sk": {"N": "1"}}
    assert error_of(
        ddb.transact_write_items,
        TransactItems=[
            {"Put": {"TableName": "items", "Item": first}},
            {"Put": {"TableName": "items", "Item": over}},
        ],
    ) == ("ValidationException", "Item size has exceeded the maximum allowed size")
    assert "Item" not in ddb.get_item(TableName="items", Key=first)


def test_a_transaction_checks_every_action_request_before_looking_tables_up(ddb: Any) -> None:
    # AWS checks the actions one at a time, in request order, before any table is
    # looked up: a bad action beside a missing table answers its own error (a
    # conformance suite, ten regions). Within an action the expressions come first,
    # then the item's top-level names, then its values or the key's.
    absent = "deep_order_absent"

    def key(pk: dict[str, Any]) -> dict[str, Any]:
        return {"pk": pk, "sk": {"S": "1"}}

    def put(item: dict[str, Any], **more: Any) -> dict[str, Any]:
        return {"Put": {"TableName": absent, "Item": item, **more}}

    empty_name = {**key({"S": "a"}), "": {"S": "x"}}
    deep = {**key({"S": "b"}), "d": wrapped_in_maps(40)}
    syntax = 'Invalid ConditionExpression: Syntax error; token: "=", near: "= = b"'
    cases = [
        ([put(deep), put(empty_name)], NESTED_TOO_DEEP),
        ([put(empty_name), put(deep)], "Empty attribute name"),
        ([put({**deep, "": {"S": "x"}})], "Empty attribute name"),
        (
            [
                {"Delete": {"TableName": absent, "Key": key(wrapped_in_maps(40))}},
                put(key({"S": "a"}), ConditionExpression="a = = b"),
            ],
            NESTED_TOO_DEEP,
        ),
        (
            [
                {
                    "Delete": {
                        "TableName": absent,
                        "Key": key(wrapped_in_maps(100)),
                        "ConditionExpression": "a = = b",
                    }
                }
            ],
            syntax,
        ),
    ]
    for actions, message in cases:
        assert error_of(ddb.transact_write_items, TransactItems=actions) == (
            "ValidationException",
            message,
        )
    valid = put(key({"S": "a"}))
    assert error_of(ddb.transact_write_items, TransactItems=[valid])[0] == (
        "ResourceNotFoundException"
    )


def test_a_write_charges_only_the_indexes_whose_entries_it_changes(ddb: Any) -> None:
    """AWS's developer guide: an item without an index's key costs that index nothing, an
    unchanged entry nothing, a changed one a write, a moved index key two (delete and put)."""
    create_table(
        ddb,
        "charged",
        attributes={"g": "S", "k": "S"},
        GlobalSecondaryIndexes=[gsi("by_g", "g"), gsi("by_k", "k", projection="KEYS_ONLY")],
    )
    key = {"pk": {"S": "a"}}

    def charged(call: Any, **params: Any) -> dict[str, Any]:
        capacity: dict[str, Any] = call(
            TableName="charged", ReturnConsumedCapacity="INDEXES", **params
        )["ConsumedCapacity"]
        return {
            "total": capacity["CapacityUnits"],
            **{
                n: v["CapacityUnits"] for n, v in capacity.get("GlobalSecondaryIndexes", {}).items()
            },
        }

    assert charged(ddb.put_item, Item={**key, "x": {"S": "1"}}) == {"total": 1.0}
    assert charged(ddb.put_item, Item={**key, "g": {"S": "g1"}, "k": {"S": "k1"}}) == {
        "total": 3.0,
        "by_g": 1.0,
        "by_k": 1.0,
    }
    # a non-key attribute: the ALL index's entry changes, the KEYS_ONLY one's does not
    update = {"UpdateExpression": "SET x = :v", "ExpressionAttributeValues": {":v": {"S": "2"}}}
    assert charged(ddb.update_item, Key=key, **update) == {"total": 2.0, "by_g": 1.0}
    # the KEYS_ONLY index's key moves: its old entry is deleted and a new one put
    move = {"UpdateExpression": "SET k = :v", "ExpressionAttributeValues": {":v": {"S": "k2"}}}
    assert charged(ddb.update_item, Key=key, **move) == {"total": 4.0, "by_g": 1.0, "by_k": 2.0}
    assert charged(ddb.delete_item, Key=key) == {"total": 3.0, "by_g": 1.0, "by_k": 1.0}


def test_a_list_index_up_to_the_largest_appends_and_past_it_changes_nothing(ddb: Any) -> None:
    # AWS appends at any index past the end up to 4294967294 and refuses 4294967295
    # (us-east-1, 2026-09-05, floci-io/floci#3073).
    key = {"pk": {"S": "l"}, "sk": {"N": "1"}}
    ddb.put_item(TableName="items", Item={**key, "l": {"L": [{"S": "a"}]}})
    ddb.update_item(
        TableName="items",
        Key=key,
        UpdateExpression="SET l[4294967294] = :v",
        ExpressionAttributeValues={":v": {"S": "b"}},
    )
    assert error_of(
        ddb.update_item,
        TableName="items",
        Key=key,
        UpdateExpression="SET l[4294967295] = :v",
        ExpressionAttributeValues={":v": {"S": "c"}},
    ) == (
        "ValidationException",
        "Invalid UpdateExpression: List index is not within the allowable range; "
        "index: [4294967295]",
    )
    assert ddb.get_item(TableName="items", Key=key)["Item"]["l"] == {"L": [{"S": "a"}, {"S": "b"}]}
    # An index in range past the end reads nothing.
    read = ddb.get_item(TableName="items", Key=key, ProjectionExpression="l[4294967294]")
    assert read.get("Item", {}) == {}


def test_an_index_key_is_refused_before_the_write_condition_is_evaluated(ddb: Any) -> None:
    # dynalite's AWS-checked order: a PutItem's or UpdateItem's index key of the wrong type
    # is refused ahead of a condition that fails; the empty and oversized keys with it.
    create_table(ddb, "indexed", attributes={"g": "S"}, GlobalSecondaryIndexes=[gsi("by_g", "g")])
    key = {"pk": {"S": "a"}}
    ddb.put_item(TableName="indexed", Item=key)
    failing = {"ConditionExpression": "attribute_exists(absent)"}
    mismatch = (
        "ValidationException",
        "One or more parameter values were invalid: Type mismatch for Index Key g Expected: S "
        "Actual: N IndexName: by_g",
    )
    assert (
        error_of(ddb.put_item, TableName="indexed", Item={**key, "g": {"N": "1"}}, **failing)
        == mismatch
    )
    assert (
        error_of(
            ddb.update_item,
            TableName="indexed",
            Key=key,
            UpdateExpression="SET g = :v",
            ExpressionAttributeValues={":v": {"N": "1"}},
            **failing,
        )
        == mismatch
    )
    assert error_of(
        ddb.put_item, TableName="indexed", Item={**key, "g": {"S": "x" * 2049}}, **failing
    ) == ("ValidationException", oversized_index_key("g", 2049, 2048, "by_g"))
    # an update that cannot apply to the item leaves the failed condition to answer
    assert error_of(
        ddb.update_item,
        TableName="indexed",
        Key=key,
        UpdateExpression="SET m.x = :v",
        ExpressionAttributeValues={":v": {"N": "1"}},
        **failing,
    ) == ("ConditionalCheckFailedException", "The conditional request failed")
    assert ddb.get_item(TableName="indexed", Key=key)["Item"] == key
