"""Global secondary indexes keyed on several attributes (DynamoDB, November 2025): up to
four HASH and four RANGE attributes, queried with an equality on every HASH attribute and
on RANGE attributes left to right, the last of which may take any key condition.

The behaviour and the query texts are a conformance suite's, verified against live AWS
(paritysuite/dynamodb-conformance, tests/tier1/query/multiAttributeGsiKey.test.ts and the
PartiQL files, October 2026); the legacy KeyConditions cases are moto's AWS-verified tests
(tests/test_dynamodb/test_dynamodb_multi_attribute_gsi.py)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from botocore.exceptions import ClientError
from hypothesis import given, settings
from hypothesis import strategies as st

from headwater import Headwater, ManualClock
from tests.functional.dynamodb_tables import create_table, lsi


def message_of(call: Any, **params: Any) -> str:
    with pytest.raises(ClientError) as caught:
        call(**params)
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    return str(caught.value.response["Error"]["Message"])


def index(name: str, hashes: list[str], ranges: list[str], projection: str = "ALL") -> Any:
    return {
        "IndexName": name,
        "KeySchema": [{"AttributeName": n, "KeyType": "HASH"} for n in hashes]
        + [{"AttributeName": n, "KeyType": "RANGE"} for n in ranges],
        "Projection": {"ProjectionType": projection},
    }


def strings(item: dict[str, str]) -> dict[str, Any]:
    return {k: {"S": v} for k, v in item.items()}


# ---- the conformance suite's table: one HASH attribute, four RANGE ----

ROWS = [
    {"pk": "p1", "a": "T", "b": "live", "c": "b", "d": "r1"},
    {"pk": "p2", "a": "T", "b": "live", "c": "a", "d": "r2"},
    {"pk": "p3", "a": "T", "b": "live", "c": "a", "d": "r1"},
    {"pk": "p4", "a": "T", "b": "draft", "c": "c", "d": "r1"},
    {"pk": "p5", "a": "F", "b": "live", "c": "a", "d": "r0"},
    {"pk": "p6", "a": "T", "b": "live", "d": "r1"},  # no c: not in the index
]
VALUES = {
    ":h": {"S": "o1"},
    ":a": {"S": "T"},
    ":b": {"S": "live"},
    ":c": {"S": "a"},
    ":d": {"S": "r"},
    ":x": {"S": "r1"},
    ":y": {"S": "r1"},
}


@pytest.fixture
def suite_table(hw: Headwater) -> Any:
    ddb = hw.dynamodb
    create_table(
        ddb,
        "multi",
        attributes=dict.fromkeys(["h", "a", "b", "c", "d"], "S"),
        GlobalSecondaryIndexes=[index("gsi", ["h"], ["a", "b", "c", "d"])],
    )
    for row in ROWS:
        ddb.put_item(TableName="multi", Item=strings({"h": "o1", **row}))
    return ddb


def query(ddb: Any, condition: str, **extra: Any) -> dict[str, Any]:
    used = {k: v for k, v in VALUES.items() if k in condition}
    result: dict[str, Any] = ddb.query(
        TableName="multi",
        IndexName="gsi",
        KeyConditionExpression=condition,
        ExpressionAttributeValues=used,
        **extra,
    )
    return result


def pks(page: dict[str, Any]) -> list[str]:
    return [item["pk"]["S"] for item in page["Items"]]


@pytest.mark.parametrize(
    ("condition", "extra", "expected"),
    [
        ("h = :h", {}, ["p5", "p4", "p3", "p2", "p1"]),
        ("h = :h AND a = :a", {}, ["p4", "p3", "p2", "p1"]),
        ("h = :h AND a = :a", {"ScanIndexForward": False}, ["p1", "p2", "p3", "p4"]),
        ("h = :h AND a = :a AND b = :b", {}, ["p3", "p2", "p1"]),
        ("h = :h AND a = :a AND b = :b AND c = :c", {}, ["p3", "p2"]),
        ("h = :h AND a = :a AND b = :b AND c > :c", {}, ["p1"]),
        ("h = :h AND a = :a AND b = :b AND c = :c AND begins_with(d, :d)", {}, ["p3", "p2"]),
        ("h = :h AND a = :a AND b = :b AND c = :c AND d BETWEEN :x AND :y", {}, ["p3"]),
        ("h = :h AND a = :a AND b < :b", {}, ["p4"]),
        ("b = :b AND h = :h AND a = :a", {}, ["p3", "p2", "p1"]),
    ],
)
def test_a_query_reads_the_sort_attributes_in_order(
    suite_table: Any, condition: str, extra: dict[str, Any], expected: list[str]
) -> None:
    assert pks(query(suite_table, condition, **extra)) == expected


def test_a_page_carries_every_key_attribute_and_resumes(suite_table: Any) -> None:
    first = query(suite_table, "h = :h AND a = :a", Limit=2)
    assert pks(first) == ["p4", "p3"]
    assert sorted(first["LastEvaluatedKey"]) == ["a", "b", "c", "d", "h", "pk"]
    rest = query(suite_table, "h = :h AND a = :a", ExclusiveStartKey=first["LastEvaluatedKey"])
    assert pks(rest) == ["p2", "p1"]
    # A start key is held to the conditions as on a one-attribute key.
    elsewhere = {**first["LastEvaluatedKey"], "h": {"S": "o2"}}
    assert message_of(
        suite_table.query,
        TableName="multi",
        IndexName="gsi",
        KeyConditionExpression="h = :h",
        ExpressionAttributeValues={":h": VALUES[":h"]},
        ExclusiveStartKey=elsewhere,
    ) == ("The provided starting key is outside query boundaries based on provided conditions")
    outside = {**first["LastEvaluatedKey"], "a": {"S": "A"}}
    assert message_of(
        suite_table.query,
        TableName="multi",
        IndexName="gsi",
        KeyConditionExpression="h = :h AND a = :a",
        ExpressionAttributeValues={":h": VALUES[":h"], ":a": VALUES[":a"]},
        ExclusiveStartKey=outside,
    ) == ("The provided starting key does not match the range key predicate")


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        (
            "h = :h AND a = :a AND c = :c",
            "RANGE key attributes b must have equality conditions specified in the query "
            "because a condition is present on key attribute c",
        ),
        (
            "h = :h AND a = :a AND b > :b AND c = :c",
            "RANGE key attributes b must have equality conditions specified in the query "
            "because a condition is present on key attribute c",
        ),
        (
            "h = :h AND b = :b",
            "RANGE key attributes a must have equality conditions specified in the query "
            "because a condition is present on key attribute b",
        ),
        ("a = :a", "Query condition missed key schema element: h"),
    ],
)
def test_a_key_condition_with_a_gap_is_refused(
    suite_table: Any, condition: str, message: str
) -> None:
    used = {k: v for k, v in VALUES.items() if k in condition}
    assert (
        message_of(
            suite_table.query,
            TableName="multi",
            IndexName="gsi",
            KeyConditionExpression=condition,
            ExpressionAttributeValues=used,
        )
        == message
    )


def test_an_index_scan_reads_only_the_items_with_every_key_attribute(suite_table: Any) -> None:
    seen: list[str] = []
    params: dict[str, Any] = {"TableName": "multi", "IndexName": "gsi", "Limit": 2}
    while True:
        page = suite_table.scan(**params)
        seen += pks(page)
        if "LastEvaluatedKey" not in page:
            break
        assert sorted(page["LastEvaluatedKey"]) == ["a", "b", "c", "d", "h", "pk"]
        params["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    assert sorted(seen) == ["p1", "p2", "p3", "p4", "p5"]


# ---- several HASH attributes ----


@pytest.fixture
def two_by_two(hw: Headwater) -> Any:
    ddb = hw.dynamodb
    create_table(
        ddb,
        "pairs",
        attributes={"h1": "S", "h2": "N", "r1": "N", "r2": "B"},
        GlobalSecondaryIndexes=[index("idx", ["h1", "h2"], ["r1", "r2"])],
    )
    return ddb


def test_every_hash_attribute_picks_the_partition(two_by_two: Any) -> None:
    ddb = two_by_two
    for n, (h2, r1) in enumerate([("1", "100"), ("1", "5"), ("2", "50"), ("1", "-7.5")]):
        item = {"pk": {"S": f"i{n}"}, "h1": {"S": "t"}, "h2": {"N": h2}, "r1": {"N": r1}}
        ddb.put_item(TableName="pairs", Item={**item, "r2": {"B": b"\x00\x01"}})
    page = ddb.query(
        TableName="pairs",
        IndexName="idx",
        KeyConditionExpression="h1 = :a AND h2 = :b",
        ExpressionAttributeValues={":a": {"S": "t"}, ":b": {"N": "1"}},
    )
    assert [i["r1"]["N"] for i in page["Items"]] == ["-7.5", "5", "100"]
    # Every HASH attribute needs an equality.
    assert message_of(
        ddb.query,
        TableName="pairs",
        IndexName="idx",
        KeyConditionExpression="h1 = :a",
        ExpressionAttributeValues={":a": {"S": "t"}},
    ) == ("Query condition missed key schema element: h2")
    assert message_of(
        ddb.query,
        TableName="pairs",
        IndexName="idx",
        KeyConditionExpression="h1 = :a AND h2 > :b",
        ExpressionAttributeValues={":a": {"S": "t"}, ":b": {"N": "1"}},
    ) == ("Query key condition not supported")
    assert message_of(
        ddb.query,
        TableName="pairs",
        IndexName="idx",
        KeyConditionExpression="h1 = :a AND h2 = :b",
        ExpressionAttributeValues={":a": {"S": "t"}, ":b": {"S": "1"}},
    ) == (
        "One or more parameter values were invalid: Condition parameter type does not match "
        "schema type"
    )
    assert message_of(
        ddb.query,
        TableName="pairs",
        IndexName="idx",
        KeyConditionExpression="h1 = :a AND h2 = :b",
        FilterExpression="r2 = :c",
        ExpressionAttributeValues={":a": {"S": "t"}, ":b": {"N": "1"}, ":c": {"B": b"x"}},
    ) == (
        "Filter Expression can only contain non-primary key attributes: Primary key attribute: r2"
    )


def test_an_item_is_in_the_index_only_with_every_key_attribute(two_by_two: Any) -> None:
    ddb = two_by_two
    key = {"pk": {"S": "i"}}
    ddb.put_item(
        TableName="pairs", Item={**key, "h1": {"S": "t"}, "h2": {"N": "1"}, "r1": {"N": "2"}}
    )
    values = {":a": {"S": "t"}, ":b": {"N": "1"}}
    read = {
        "TableName": "pairs",
        "IndexName": "idx",
        "KeyConditionExpression": "h1 = :a AND h2 = :b",
        "ExpressionAttributeValues": values,
    }
    assert ddb.query(**read)["Count"] == 0
    ddb.update_item(
        TableName="pairs",
        Key=key,
        UpdateExpression="SET r2 = :v",
        ExpressionAttributeValues={":v": {"B": b"z"}},
    )
    assert ddb.query(**read)["Count"] == 1
    ddb.update_item(TableName="pairs", Key=key, UpdateExpression="REMOVE h2")
    assert ddb.query(**read)["Count"] == 0
    assert ddb.scan(TableName="pairs", IndexName="idx")["Count"] == 0


def test_a_key_attribute_of_the_wrong_type_or_empty_is_refused(two_by_two: Any) -> None:
    ddb = two_by_two
    assert message_of(
        ddb.put_item, TableName="pairs", Item={"pk": {"S": "i"}, "h1": {"S": "t"}, "h2": {"S": "1"}}
    ) == (
        "One or more parameter values were invalid: Type mismatch for Index Key h2 Expected: N "
        "Actual: S IndexName: idx"
    )
    assert message_of(
        ddb.put_item, TableName="pairs", Item={"pk": {"S": "i"}, "r2": {"B": b""}}
    ) == (
        "One or more parameter values are not valid. A value specified for a secondary index "
        "key is not supported. The AttributeValue for a key attribute cannot contain an empty "
        "binary value. IndexName: idx, IndexKey: r2"
    )
    assert ddb.scan(TableName="pairs")["Count"] == 0


def test_each_key_attribute_is_held_to_its_own_size_limit(hw: Headwater) -> None:
    # Every HASH attribute may hold a partition key's 2048 bytes and every RANGE attribute a
    # sort key's 1024, each on its own (four of each would be past one key's limit together).
    ddb = hw.dynamodb
    create_table(
        ddb,
        "wide",
        attributes={name: "S" for name in ("h1", "h2", "r1", "r2")},
        GlobalSecondaryIndexes=[index("idx", ["h1", "h2"], ["r1", "r2"])],
    )
    full = {"h1": "a" * 2048, "h2": "b" * 2048, "r1": "c" * 1024, "r2": "d" * 1024}
    ddb.put_item(TableName="wide", Item=strings({"pk": "i", **full}))
    for name, limit in (("h2", 2048), ("r2", 1024)):
        item = strings({"pk": "j", **full, name: "x" * (limit + 1)})
        assert message_of(ddb.put_item, TableName="wide", Item=item) == (
            f"One or more parameter values were invalid: Size limit exceeded for Index Key "
            f"{name} Actual Size: {limit + 1} bytes Max Size: {limit} bytes IndexName: idx"
        )
    assert ddb.scan(TableName="wide")["Count"] == 1


# ---- legacy KeyConditions (moto's AWS-verified cases) ----


def test_legacy_key_conditions_read_a_multi_attribute_index(suite_table: Any) -> None:
    def eq(value: str) -> dict[str, Any]:
        return {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": value}]}

    page = suite_table.query(
        TableName="multi",
        IndexName="gsi",
        KeyConditions={
            "h": eq("o1"),
            "a": eq("T"),
            "b": eq("live"),
            "c": {"ComparisonOperator": "GT", "AttributeValueList": [{"S": "a"}]},
        },
    )
    assert pks(page) == ["p1"]
    assert message_of(
        suite_table.query,
        TableName="multi",
        IndexName="gsi",
        KeyConditions={"h": eq("o1"), "b": eq("live")},
    ) == (
        "RANGE key attributes a must have equality conditions specified in the query because "
        "a condition is present on key attribute b"
    )


# ---- PartiQL refuses the index (the conformance suite's exact text) ----

REFUSED = (
    "PartiQL statements cannot be executed on tables with multi-attribute HASH keys or "
    "multi-attribute RANGE keys."
)


def test_partiql_refuses_a_multi_attribute_index_but_reads_the_table(suite_table: Any) -> None:
    ddb = suite_table
    for statement in (
        'SELECT * FROM "multi"."gsi" WHERE h = \'o1\'',
        'SELECT pk FROM "multi"."gsi" WHERE h = \'o1\' ORDER BY a DESC',
        'SELECT * FROM "multi"."gsi" WHERE h = 5',
        'SELECT * FROM "multi"."gsi" WHERE pk = \'p1\'',
        'SELECT * FROM "multi"."gsi"',
    ):
        assert message_of(ddb.execute_statement, Statement=statement) == REFUSED
    assert (
        len(ddb.execute_statement(Statement="SELECT * FROM \"multi\" WHERE pk = 'p1'")["Items"])
        == 1
    )
    responses = ddb.batch_execute_statement(
        Statements=[
            {"Statement": "SELECT * FROM \"multi\".\"gsi\" WHERE h = 'o1' AND a = 'T'"},
            {"Statement": "SELECT * FROM \"multi\" WHERE pk = 'p1'"},
        ]
    )["Responses"]
    assert responses[0]["Error"] == {"Code": "ValidationError", "Message": REFUSED}
    assert responses[1]["Item"]["pk"] == {"S": "p1"}


# ---- creating such indexes ----


def test_describe_table_gives_the_key_schema_as_created(hw: Headwater) -> None:
    ddb = hw.dynamodb
    created = index("wide", ["h1", "h2", "h3", "h4"], ["r1", "r2", "r3", "r4"], "KEYS_ONLY")
    names = [k["AttributeName"] for k in created["KeySchema"]]
    create_table(
        ddb, "wide", attributes=dict.fromkeys(names, "S"), GlobalSecondaryIndexes=[created]
    )
    described = ddb.describe_table(TableName="wide")["Table"]["GlobalSecondaryIndexes"][0]
    assert described["KeySchema"] == created["KeySchema"]


def test_update_table_creates_one_and_fills_it(hw: Headwater) -> None:
    ddb = hw.dynamodb
    create_table(ddb, "later")
    for n in range(3):
        ddb.put_item(
            TableName="later", Item=strings({"pk": f"i{n}", "a": "x", "b": "y", "c": f"{2 - n}"})
        )
    ddb.update_table(
        TableName="later",
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in "abc"],
        GlobalSecondaryIndexUpdates=[{"Create": index("abc", ["a", "b"], ["c"])}],
    )
    page = ddb.query(
        TableName="later",
        IndexName="abc",
        KeyConditionExpression="a = :a AND b = :b",
        ExpressionAttributeValues={":a": {"S": "x"}, ":b": {"S": "y"}},
    )
    assert pks(page) == ["i2", "i1", "i0"]


def _schema(*elements: tuple[str, str]) -> list[dict[str, str]]:
    return [{"AttributeName": n, "KeyType": k} for n, k in elements]


@pytest.mark.parametrize(
    ("key_schema", "message"),
    [
        (
            _schema(*((f"h{i}", "HASH") for i in range(5))),
            "Invalid KeySchema: A global secondary index can have at most 4 HASH key type elements",
        ),
        (
            _schema(("h0", "HASH"), *((f"r{i}", "RANGE") for i in range(5))),
            "Invalid KeySchema: A global secondary index can have at most 4 RANGE key type "
            "elements",
        ),
        (
            _schema(("r0", "RANGE"), ("h0", "HASH")),
            "Invalid KeySchema: The first KeySchemaElement is not a HASH key type",
        ),
        (
            _schema(("h0", "HASH"), ("r0", "RANGE"), ("h1", "HASH")),
            "Invalid KeySchema: All HASH key type elements must precede the RANGE key type "
            "elements",
        ),
        (
            _schema(("h0", "HASH"), ("h1", "HASH"), ("h0", "RANGE")),
            "Invalid KeySchema: Duplicate attribute name in KeySchema: h0",
        ),
        (
            _schema(("h0", "HASH"), ("h0", "HASH")),
            "Both the Hash Key and the Range Key element in the KeySchema have the same name",
        ),
        (
            _schema(("h0", "HASH"), ("zz", "HASH")),
            "One or more parameter values were invalid: Some index key attributes are not "
            "defined in AttributeDefinitions. Keys: [h0, zz], AttributeDefinitions: [pk, h0, "
            "h1, h2, h3, h4, r0, r1, r2, r3, r4]",
        ),
    ],
)
def test_a_bad_multi_attribute_key_schema_is_refused(
    hw: Headwater, key_schema: list[dict[str, str]], message: str
) -> None:
    ddb = hw.dynamodb
    names = ["h0", "h1", "h2", "h3", "h4", "r0", "r1", "r2", "r3", "r4"]
    params = {
        "TableName": "bad",
        "KeySchema": _schema(("pk", "HASH")),
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}]
        + [{"AttributeName": n, "AttributeType": "S"} for n in names],
        "BillingMode": "PAY_PER_REQUEST",
        "GlobalSecondaryIndexes": [
            {"IndexName": "gsi", "KeySchema": key_schema, "Projection": {"ProjectionType": "ALL"}}
        ],
    }
    assert message_of(ddb.create_table, **params) == message
    create_table(ddb, "good")
    assert (
        message_of(
            ddb.update_table,
            TableName="good",
            AttributeDefinitions=params["AttributeDefinitions"],
            GlobalSecondaryIndexUpdates=[{"Create": params["GlobalSecondaryIndexes"][0]}],
        )
        == message
    )
    assert ddb.describe_table(TableName="good")["Table"].get("GlobalSecondaryIndexes") is None


def test_a_table_key_or_local_index_keeps_one_attribute_of_each_kind(hw: Headwater) -> None:
    ddb = hw.dynamodb
    unchecked = hw.client("dynamodb", validate=False)
    assert message_of(
        ddb.create_table,
        TableName="tbl",
        KeySchema=_schema(("a", "HASH"), ("b", "HASH")),
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in "ab"],
        BillingMode="PAY_PER_REQUEST",
    ) == ("Invalid KeySchema: The second KeySchemaElement is not a RANGE key type")
    local = lsi("loc", "l")
    local["KeySchema"].append({"AttributeName": "m", "KeyType": "RANGE"})
    message = message_of(
        unchecked.create_table,
        TableName="tbl",
        KeySchema=_schema(("pk", "HASH"), ("sk", "RANGE")),
        AttributeDefinitions=[
            {"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk", "l", "m")
        ],
        BillingMode="PAY_PER_REQUEST",
        LocalSecondaryIndexes=[local],
    )
    assert message.endswith(
        "at 'localSecondaryIndexes.1.member.keySchema' failed to satisfy constraint: Member "
        "must have length less than or equal to 2"
    )


# ---- property: paging a multi-attribute index returns every item once, in order ----

CONDITIONS = {
    "none": "",
    "eq": " AND r1 = :a",
    "gt": " AND r1 = :a AND r2 > :b",
    "le": " AND r1 = :a AND r2 <= :b",
    "between": " AND r1 = :a AND r2 BETWEEN :b AND :c",
    "begins": " AND r1 = :a AND begins_with(r2, :b)",
}

kinds = st.sampled_from(["S", "N"])
cell = st.integers(0, 3)


#: Values, in order, that the encoding must keep apart from the next attribute: a string
#: before its extensions (NUL the lowest), a number before those whose digits extend its.
TEXTS = ["a", "a\x00", "a\x00b", "ab", "b"]
NUMBERS = ["-1.25", "-1", "1", "1.2", "1.25"]


def _value(kind: str, n: int) -> dict[str, str]:
    return {"S": TEXTS[n]} if kind == "S" else {"N": NUMBERS[n]}


def _ordered(kind: str, n: int) -> Any:
    value = _value(kind, n)
    return value["S"].encode() if kind == "S" else Decimal(value["N"])


@settings(max_examples=30, deadline=None)
@given(
    st.tuples(kinds, kinds, kinds),
    st.lists(st.tuples(st.integers(0, 1), cell, cell, cell), max_size=30),
    st.integers(1, 5),
    st.booleans(),
    st.sampled_from(["none", "eq", "gt", "le", "between", "begins"]),
)
def test_paging_returns_every_item_once_in_tuple_order(
    types: tuple[str, str, str],
    rows: list[tuple[int, int, int, int]],
    limit: int,
    forward: bool,
    condition: str,
) -> None:
    h, r1, r2 = types
    with Headwater.in_memory(clock=ManualClock()) as hw:
        ddb = hw.dynamodb
        create_table(
            ddb,
            "prop",
            attributes={"h": h, "r1": r1, "r2": r2},
            GlobalSecondaryIndexes=[index("idx", ["h"], ["r1", "r2"])],
        )
        for n, (hv, a, b, c) in enumerate(rows):
            item = {"pk": {"S": f"i{n}"}, "h": _value(h, hv), "r1": _value(r1, a)}
            item["r2"] = _value(r2, b if c else b + 1)
            ddb.put_item(TableName="prop", Item=item)
        values: dict[str, Any] = {":h": _value(h, 0), ":a": _value(r1, 1)}
        text = "h = :h" + CONDITIONS[condition if condition != "begins" or r2 == "S" else "none"]
        if ":b" in text:
            values[":b"] = {"S": "a"} if condition == "begins" else _value(r2, 1)
        values[":c"] = _value(r2, 3)
        first, low, high = _ordered(r1, 1), _ordered(r2, 1), _ordered(r2, 3)

        def keep(a: Any, b: Any) -> bool:
            if "r1" in text and a != first:
                return False
            if condition == "gt":
                return bool(b > low)
            if condition == "le":
                return bool(b <= low)
            if condition == "between":
                return bool(low <= b <= high)
            if "begins_with" in text:
                return bool(b.startswith(b"a"))
            return True

        stored = ddb.scan(TableName="prop")["Items"]
        expected = sorted(
            (
                (_key(r1, i["r1"]), _key(r2, i["r2"]), i["pk"]["S"])
                for i in stored
                if i["h"] == values[":h"] and keep(_key(r1, i["r1"]), _key(r2, i["r2"]))
            ),
            reverse=not forward,
        )
        seen: list[tuple[Any, Any, str]] = []
        params: dict[str, Any] = {
            "TableName": "prop",
            "IndexName": "idx",
            "KeyConditionExpression": text,
            "ExpressionAttributeValues": {k: v for k, v in values.items() if k in text},
            "Limit": limit,
            "ScanIndexForward": forward,
        }
        while True:
            page = ddb.query(**params)
            seen += [(_key(r1, i["r1"]), _key(r2, i["r2"]), i["pk"]["S"]) for i in page["Items"]]
            if "LastEvaluatedKey" not in page:
                break
            params["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        assert sorted(seen, reverse=not forward) == expected  # every item once
        assert [s[:2] for s in seen] == [e[:2] for e in expected]  # in the sort key's order


def _key(kind: str, value: dict[str, str]) -> Any:
    return value["S"].encode() if kind == "S" else Decimal(value["N"])
