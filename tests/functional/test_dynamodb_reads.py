"""Query and Scan: DynamoDB's key order, paging, filters after the limit, indexes, segments."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from botocore.exceptions import ClientError

from headwater import Headwater
from tests.functional.dynamodb_tables import create_table, gsi, lsi


def query_all(ddb: Any, **params: Any) -> tuple[list[dict[str, Any]], int]:
    """Every item of a paged Query/Scan, and how many pages it took."""
    items: list[dict[str, Any]] = []
    pages = 0
    call = ddb.query if "KeyConditionExpression" in params else ddb.scan
    while True:
        page = call(**params)
        pages += 1
        items.extend(page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return items, pages
        params["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def message_of(call: Any, **params: Any) -> str:
    """The message of the ``ClientError`` that ``call(**params)`` raises."""
    with pytest.raises(ClientError) as caught:
        call(**params)
    return str(caught.value.response["Error"]["Message"])


NUMBERS = ["-1E+10", "-12.5", "-12", "-0.001", "0", "0.5", "1", "9.99", "10", "1E+100"]


def test_number_sort_keys_in_numeric_order(hw: Headwater) -> None:
    ddb = hw.dynamodb
    create_table(ddb, "tbl", range_key=("sk", "N"))
    for n in reversed(NUMBERS):
        ddb.put_item(TableName="tbl", Item={"pk": {"S": "p"}, "sk": {"N": n}})
    values = {":p": {"S": "p"}}
    items, _ = query_all(
        ddb, TableName="tbl", KeyConditionExpression="pk = :p", ExpressionAttributeValues=values
    )
    assert [Decimal(i["sk"]["N"]) for i in items] == sorted(Decimal(n) for n in NUMBERS)
    back, _ = query_all(
        ddb,
        TableName="tbl",
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues=values,
        ScanIndexForward=False,
        Limit=3,
    )
    assert [Decimal(i["sk"]["N"]) for i in back] == sorted(
        (Decimal(n) for n in NUMBERS), reverse=True
    )


def test_string_and_binary_keys_in_byte_order(hw: Headwater) -> None:
    ddb = hw.dynamodb
    create_table(ddb, "strs", range_key=("sk", "S"))
    create_table(ddb, "bins", range_key=("sk", "B"))
    strings = ["a", "B", "ab", "é", "😀", "Z", "aa", "\u00ff", "\uffff"]
    for s in strings:
        ddb.put_item(TableName="strs", Item={"pk": {"S": "p"}, "sk": {"S": s}})
    for b in [b"\xff", b"\x00", b"\x7f\x01", b"\x80"]:
        ddb.put_item(TableName="bins", Item={"pk": {"S": "p"}, "sk": {"B": b}})
    got = [
        i["sk"]["S"]
        for i in ddb.query(
            TableName="strs",
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": "p"}},
        )["Items"]
    ]
    assert got == sorted(strings, key=lambda s: s.encode("utf-8"))
    got_b = [
        i["sk"]["B"]
        for i in ddb.query(
            TableName="bins",
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": "p"}},
        )["Items"]
    ]
    assert got_b == [b"\x00", b"\x7f\x01", b"\x80", b"\xff"]


@pytest.fixture
def table(hw: Headwater) -> Any:
    ddb = hw.dynamodb
    create_table(ddb, "tbl", range_key=("sk", "S"))
    for p in ("x", "y"):
        for i in range(20):
            ddb.put_item(
                TableName="tbl",
                Item={"pk": {"S": p}, "sk": {"S": f"item#{i:02d}"}, "n": {"N": str(i)}},
            )
    return ddb


@pytest.mark.parametrize(
    ("condition", "values", "expected"),
    [
        ("pk = :p AND sk = :a", {":a": "item#03"}, ["item#03"]),
        ("pk = :p AND sk < :a", {":a": "item#02"}, ["item#00", "item#01"]),
        ("pk = :p AND sk <= :a", {":a": "item#01"}, ["item#00", "item#01"]),
        ("pk = :p AND sk > :a", {":a": "item#18"}, ["item#19"]),
        ("pk = :p AND sk >= :a", {":a": "item#18"}, ["item#18", "item#19"]),
        (
            "pk = :p AND sk BETWEEN :a AND :b",
            {":a": "item#05", ":b": "item#07"},
            ["item#05", "item#06", "item#07"],
        ),
        ("pk = :p AND begins_with(sk, :a)", {":a": "item#1"}, [f"item#1{i}" for i in range(10)]),
        (":p = pk AND :a > sk", {":a": "item#01"}, ["item#00"]),
    ],
)
def test_key_conditions(
    table: Any, condition: str, values: dict[str, str], expected: list[str]
) -> None:
    attrs = {":p": {"S": "x"}, **{k: {"S": v} for k, v in values.items()}}
    items, _ = query_all(
        table, TableName="tbl", KeyConditionExpression=condition, ExpressionAttributeValues=attrs
    )
    assert [i["sk"]["S"] for i in items] == expected


def test_limit_counts_items_before_the_filter(table: Any) -> None:
    page = table.query(
        TableName="tbl",
        KeyConditionExpression="pk = :p",
        FilterExpression="n >= :ten",
        ExpressionAttributeValues={":p": {"S": "x"}, ":ten": {"N": "10"}},
        Limit=5,
    )
    assert page["Count"] == 0 and page["ScannedCount"] == 5 and page["Items"] == []
    assert page["LastEvaluatedKey"] == {"pk": {"S": "x"}, "sk": {"S": "item#04"}}
    items, pages = query_all(
        table,
        TableName="tbl",
        KeyConditionExpression="pk = :p",
        FilterExpression="n >= :ten",
        ExpressionAttributeValues={":p": {"S": "x"}, ":ten": {"N": "10"}},
        Limit=5,
    )
    assert [int(i["n"]["N"]) for i in items] == list(range(10, 20)) and pages == 5


def test_select_count_and_projection(table: Any) -> None:
    count = table.query(
        TableName="tbl",
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "y"}},
        Select="COUNT",
    )
    assert count["Count"] == 20 and "Items" not in count
    projected = table.query(
        TableName="tbl",
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "y"}},
        ProjectionExpression="n",
        Limit=1,
    )
    assert projected["Items"] == [{"n": {"N": "0"}}]


# AWS's texts for a Select that does not fit the projection or the target (DynamoDB Local,
# AWS's own emulator, carries the same words; the ALL_PROJECTED one is quoted from AWS).
@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"Select": "SPECIFIC_ATTRIBUTES"},
            "Must specify the AttributesToGet or ProjectionExpression when choosing to get "
            "SPECIFIC_ATTRIBUTES",
        ),
        (
            {"Select": "ALL_PROJECTED_ATTRIBUTES"},
            "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName",
        ),
        (
            {"Select": "COUNT", "ProjectionExpression": "n"},
            "Cannot specify the ProjectionExpression when choosing to get only the Count",
        ),
        (
            {"Select": "COUNT", "AttributesToGet": ["n"]},
            "Cannot specify the AttributesToGet when choosing to get only the Count",
        ),
        (
            {"Select": "ALL_ATTRIBUTES", "ProjectionExpression": "n"},
            "Cannot specify the ProjectionExpression when choosing to get ALL_ATTRIBUTES",
        ),
    ],
)
def test_select_that_does_not_fit_is_refused(
    table: Any, params: dict[str, Any], message: str
) -> None:
    assert message_of(table.scan, TableName="tbl", **params) == message


def test_legacy_key_conditions_and_query_filter(table: Any) -> None:
    page = table.query(
        TableName="tbl",
        KeyConditions={
            "pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "x"}]},
            "sk": {"ComparisonOperator": "BEGINS_WITH", "AttributeValueList": [{"S": "item#0"}]},
        },
        QueryFilter={"n": {"ComparisonOperator": "GT", "AttributeValueList": [{"N": "7"}]}},
    )
    assert [i["sk"]["S"] for i in page["Items"]] == ["item#08", "item#09"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"KeyConditionExpression": "sk = :p"}, "Query condition missed key schema element: pk"),
        ({"KeyConditionExpression": "pk < :p"}, "Query key condition not supported"),
        (
            {"KeyConditionExpression": "pk = :p OR sk = :p"},
            "Invalid KeyConditionExpression: Invalid operator used in KeyConditionExpression: OR",
        ),
        (
            {"KeyConditionExpression": "pk = :n", "ExpressionAttributeValues": {":n": {"N": "1"}}},
            "One or more parameter values were invalid: Condition parameter type does not "
            "match schema type",
        ),
        (
            {"KeyConditionExpression": "pk = :p", "IndexName": "nope"},
            "The table does not have the specified index: nope",
        ),
        (
            {},
            "Either the KeyConditions or KeyConditionExpression parameter must be specified in "
            "the request.",
        ),
        # A filter may not name a key attribute (AWS: "FilterExpression does not allow key
        # attributes"); the hash key is named first when both are there.
        (
            {"KeyConditionExpression": "pk = :p", "FilterExpression": "begins_with(sk, :p)"},
            "Filter Expression can only contain non-primary key attributes: "
            "Primary key attribute: sk",
        ),
        (
            {
                "KeyConditionExpression": "pk = :p",
                "FilterExpression": "size(#s.x[0]) > :n OR NOT attribute_exists(pk)",
                "ExpressionAttributeNames": {"#s": "sk"},
                "ExpressionAttributeValues": {":p": {"S": "x"}, ":n": {"N": "1"}},
            },
            "Filter Expression can only contain non-primary key attributes: "
            "Primary key attribute: pk",
        ),
        (
            {
                "KeyConditions": {
                    "pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "x"}]}
                },
                "QueryFilter": {
                    "sk": {"ComparisonOperator": "NOT_NULL"},
                    "n": {"ComparisonOperator": "NOT_NULL"},
                },
            },
            "QueryFilter can only contain non-primary key attributes: Primary key attribute: sk",
        ),
    ],
)
def test_query_errors(table: Any, params: dict[str, Any], message: str) -> None:
    if "KeyConditionExpression" in params:
        params.setdefault("ExpressionAttributeValues", {":p": {"S": "x"}})
    assert message_of(table.query, TableName="tbl", **params) == message


def test_scan_pages_and_parallel_segments_return_every_item_once(table: Any) -> None:
    everything, pages = query_all(table, TableName="tbl", Limit=7)
    assert pages == 6 and len(everything) == 40
    keys = {(i["pk"]["S"], i["sk"]["S"]) for i in everything}
    assert len(keys) == 40
    by_segment: list[tuple[str, str]] = []
    for segment in range(4):
        items, _ = query_all(table, TableName="tbl", Segment=segment, TotalSegments=4, Limit=3)
        by_segment.extend((i["pk"]["S"], i["sk"]["S"]) for i in items)
    assert sorted(by_segment) == sorted(keys)
    assert message_of(table.scan, TableName="tbl", Segment=4, TotalSegments=4) == (
        "The Segment parameter is zero-based and must be less than parameter TotalSegments: "
        "Segment: 4 is not less than TotalSegments: 4"
    )


def test_scan_filter_legacy_and_expression(table: Any) -> None:
    legacy = table.scan(
        TableName="tbl",
        ScanFilter={
            "n": {"ComparisonOperator": "IN", "AttributeValueList": [{"N": "1"}, {"N": "2"}]}
        },
    )
    assert legacy["Count"] == 4 and legacy["ScannedCount"] == 40
    expr = table.scan(
        TableName="tbl",
        FilterExpression="pk = :p AND n < :two",
        ExpressionAttributeValues={":p": {"S": "y"}, ":two": {"N": "2"}},
    )
    assert sorted(i["sk"]["S"] for i in expr["Items"]) == ["item#00", "item#01"]


def test_one_megabyte_page_limit(hw: Headwater) -> None:
    ddb = hw.dynamodb
    create_table(ddb, "big", range_key=("sk", "N"))
    blob = "x" * 100_000
    for i in range(25):
        ddb.put_item(
            TableName="big", Item={"pk": {"S": "p"}, "sk": {"N": str(i)}, "v": {"S": blob}}
        )
    page = ddb.query(
        TableName="big",
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "p"}},
    )
    assert 9 <= page["Count"] <= 11 and "LastEvaluatedKey" in page
    items, pages = query_all(
        ddb,
        TableName="big",
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "p"}},
    )
    assert [int(i["sk"]["N"]) for i in items] == list(range(25)) and pages == 3


def test_global_secondary_index_is_sparse_and_kept_current(hw: Headwater) -> None:
    ddb = hw.dynamodb
    create_table(
        ddb,
        "orders",
        attributes={"status": "S", "total": "N"},
        GlobalSecondaryIndexes=[
            gsi("by_status", "status", "total"),
            gsi("keys", "status", projection="KEYS_ONLY"),
        ],
    )
    for i in range(6):
        item = {"pk": {"S": f"o{i}"}, "total": {"N": str(10 - i)}, "note": {"S": "n"}}
        if i % 2 == 0:
            item["status"] = {"S": "open"}
        ddb.put_item(TableName="orders", Item=item)
    ddb.update_item(
        TableName="orders",
        Key={"pk": {"S": "o2"}},
        UpdateExpression="SET #s = :c",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":c": {"S": "closed"}},
    )
    ddb.delete_item(TableName="orders", Key={"pk": {"S": "o4"}})
    values = {":s": {"S": "open"}}
    page = ddb.query(
        TableName="orders",
        IndexName="by_status",
        KeyConditionExpression="#s = :s",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues=values,
    )
    assert [i["pk"]["S"] for i in page["Items"]] == ["o0"]
    keys_only = ddb.query(
        TableName="orders",
        IndexName="keys",
        KeyConditionExpression="#s = :s",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues=values,
    )
    assert keys_only["Items"] == [{"pk": {"S": "o0"}, "status": {"S": "open"}}]
    assert ddb.scan(TableName="orders", IndexName="by_status")["Count"] == 2
    assert message_of(
        ddb.query,
        TableName="orders",
        IndexName="by_status",
        ConsistentRead=True,
        KeyConditionExpression="#s = :s",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues=values,
    ) == ("Consistent reads are not supported on global secondary indexes")
    assert message_of(
        ddb.put_item, TableName="orders", Item={"pk": {"S": "bad"}, "status": {"N": "1"}}
    ) == (
        "One or more parameter values were invalid: Type mismatch for Index Key status "
        "Expected: S Actual: N IndexName: keys"
    )


def test_index_query_filter_may_name_table_keys_but_not_the_index_keys(hw: Headwater) -> None:
    ddb = hw.dynamodb
    create_table(
        ddb,
        "orders",
        attributes={"status": "S", "total": "N"},
        GlobalSecondaryIndexes=[gsi("by_status", "status", "total")],
    )
    for i in range(4):
        ddb.put_item(
            TableName="orders",
            Item={"pk": {"S": f"o{i}"}, "status": {"S": "open"}, "total": {"N": str(i)}},
        )
    query = {"TableName": "orders", "IndexName": "by_status", "KeyConditionExpression": "#s = :s"}
    page = ddb.query(
        **query,
        FilterExpression="pk <> :o1",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": {"S": "open"}, ":o1": {"S": "o1"}},
    )
    assert [i["pk"]["S"] for i in page["Items"]] == ["o0", "o2", "o3"]
    assert message_of(
        ddb.query,
        **query,
        FilterExpression="#t > :one",
        ExpressionAttributeNames={"#s": "status", "#t": "total"},
        ExpressionAttributeValues={":s": {"S": "open"}, ":one": {"N": "1"}},
    ) == (
        "Filter Expression can only contain non-primary key attributes: "
        "Primary key attribute: total"
    )


def test_local_index_fetches_from_the_table_and_a_global_one_cannot(hw: Headwater) -> None:
    ddb = hw.dynamodb
    create_table(
        ddb,
        "orders",
        range_key=("sk", "N"),
        attributes={"kind": "S"},
        LocalSecondaryIndexes=[lsi("by_kind", "kind", "INCLUDE", ("total",))],
        GlobalSecondaryIndexes=[gsi("kinds", "kind", projection="KEYS_ONLY")],
    )
    ddb.put_item(
        TableName="orders",
        Item={
            "pk": {"S": "u"},
            "sk": {"N": "1"},
            "kind": {"S": "book"},
            "total": {"N": "5"},
            "note": {"S": "gift"},
        },
    )
    local = {
        "TableName": "orders",
        "IndexName": "by_kind",
        "KeyConditionExpression": "pk = :u",
        "ExpressionAttributeValues": {":u": {"S": "u"}},
    }
    # AWS: for ALL_ATTRIBUTES or named attributes a local index fetches the rest
    projected = ddb.query(**local)["Items"]
    assert projected == [
        {"pk": {"S": "u"}, "sk": {"N": "1"}, "kind": {"S": "book"}, "total": {"N": "5"}}
    ]
    everything = ddb.query(**local, Select="ALL_ATTRIBUTES")["Items"]
    assert everything[0]["note"] == {"S": "gift"} and len(everything[0]) == 5
    named = ddb.query(**local, ProjectionExpression="note")["Items"]
    assert named == [{"note": {"S": "gift"}}]
    # a global index holds only its projection, and AWS refuses a filter or a projection
    # naming anything else (texts quoted from live AWS in localstack#478, onetable#377)
    glob = {
        "TableName": "orders",
        "IndexName": "kinds",
        "KeyConditionExpression": "kind = :k",
    }
    assert message_of(
        ddb.query,
        **glob,
        FilterExpression="note = :g",
        ExpressionAttributeValues={":k": {"S": "book"}, ":g": {"S": "gift"}},
    ) == (
        "One or more parameter values were invalid: Secondary index kinds does not project "
        "one or more filter attributes: [note]"
    )
    assert message_of(
        ddb.query,
        **glob,
        ProjectionExpression="note, sk",
        ExpressionAttributeValues={":k": {"S": "book"}},
    ) == (
        "One or more parameter values were invalid: Global secondary index kinds does not "
        "project [note]"
    )
    assert ddb.query(
        **glob,
        FilterExpression="attribute_exists(sk)",
        ProjectionExpression="kind, sk",
        ExpressionAttributeValues={":k": {"S": "book"}},
    )["Items"] == [{"kind": {"S": "book"}, "sk": {"N": "1"}}]
    assert message_of(
        ddb.scan, TableName="orders", IndexName="kinds", AttributesToGet=["total"]
    ) == (
        "One or more parameter values were invalid: Global secondary index kinds does not "
        "project [total]"
    )


def test_an_index_read_is_charged_to_the_index(hw: Headwater) -> None:
    ddb = hw.dynamodb
    create_table(
        ddb,
        "orders",
        attributes={"status": "S"},
        GlobalSecondaryIndexes=[gsi("by_status", "status")],
    )
    ddb.put_item(TableName="orders", Item={"pk": {"S": "o"}, "status": {"S": "open"}})
    query = ddb.query(
        TableName="orders",
        IndexName="by_status",
        KeyConditionExpression="#s = :s",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": {"S": "open"}},
        ReturnConsumedCapacity="INDEXES",
    )
    # CapacityUnits alone, as AWS answers a read (dynalite; AWS CLI's batch examples)
    half = {"CapacityUnits": 0.5}
    assert query["ConsumedCapacity"] == {
        "TableName": "orders",
        **half,
        "Table": {"CapacityUnits": 0.0},
        "GlobalSecondaryIndexes": {"by_status": half},
    }
    scan = ddb.scan(TableName="orders", IndexName="by_status", ReturnConsumedCapacity="INDEXES")
    assert scan["ConsumedCapacity"]["GlobalSecondaryIndexes"] == {"by_status": half}
    table = ddb.scan(TableName="orders", ReturnConsumedCapacity="INDEXES")["ConsumedCapacity"]
    assert table["Table"] == half and "GlobalSecondaryIndexes" not in table


def test_index_query_pages_with_duplicate_index_keys(hw: Headwater) -> None:
    ddb = hw.dynamodb
    create_table(ddb, "dup", attributes={"g": "S"}, GlobalSecondaryIndexes=[gsi("by_g", "g")])
    for i in range(9):
        ddb.put_item(TableName="dup", Item={"pk": {"S": f"k{i}"}, "g": {"S": "same"}})
    items, pages = query_all(
        ddb,
        TableName="dup",
        IndexName="by_g",
        KeyConditionExpression="g = :g",
        ExpressionAttributeValues={":g": {"S": "same"}},
        Limit=2,
    )
    assert sorted(i["pk"]["S"] for i in items) == [f"k{i}" for i in range(9)] and pages == 5


@pytest.mark.parametrize(
    ("operation", "params", "message"),
    [
        (
            "scan",
            {"Segment": -1, "TotalSegments": 2},
            "1 validation error detected: Value '-1' at 'segment' failed to satisfy constraint: "
            "Member must have value greater than or equal to 0",
        ),
        (
            "scan",
            {"ReturnConsumedCapacity": "ALL"},
            "1 validation error detected: Value 'ALL' at 'returnConsumedCapacity' failed to "
            "satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]",
        ),
        (
            "scan",
            {"AttributesToGet": []},
            "1 validation error detected: Value '[]' at 'attributesToGet' failed to satisfy "
            "constraint: Member must have length greater than or equal to 1",
        ),
        (
            "scan",
            {"IndexName": "ix"},
            "1 validation error detected: Value 'ix' at 'indexName' failed to satisfy "
            "constraint: Member must have length greater than or equal to 3",
        ),
        (
            "scan",
            {"TotalSegments": 0, "Segment": -1, "Limit": 0, "Select": "SOME"},
            "4 validation errors detected: Value 'SOME' at 'select' failed to satisfy "
            "constraint: Member must satisfy enum value set: [SPECIFIC_ATTRIBUTES, COUNT, "
            "ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES]; Value '0' at 'totalSegments' failed to "
            "satisfy constraint: Member must have value greater than or equal to 1; Value '-1' "
            "at 'segment' failed to satisfy constraint: Member must have value greater than or "
            "equal to 0; Value '0' at 'limit' failed to satisfy constraint: Member must have "
            "value greater than or equal to 1",
        ),
        (
            "query",
            {"ConditionalOperator": "XOR", "Limit": 0, "KeyConditionExpression": "pk = :p"},
            "2 validation errors detected: Value 'XOR' at 'conditionalOperator' failed to "
            "satisfy constraint: Member must satisfy enum value set: [OR, AND]; Value at "
            "'Limit' failed to satisfy constraint: Member must have value greater than or "
            "equal to 1",
        ),
        (
            "scan",
            {"ScanFilter": {"n": {"ComparisonOperator": "ABOVE", "AttributeValueList": []}}},
            "1 validation error detected: Value 'ABOVE' at "
            "'scanFilter.n.member.comparisonOperator' failed to satisfy constraint: Member must "
            "satisfy enum value set: [IN, NULL, BETWEEN, LT, NOT_CONTAINS, EQ, GT, NOT_NULL, "
            "NE, LE, BEGINS_WITH, GE, CONTAINS]",
        ),
        (
            "query",
            {
                "KeyConditions": {"pk": {"AttributeValueList": [{"S": "x"}]}},
                "QueryFilter": {"n": {"ComparisonOperator": "ABOVE"}},
            },
            "2 validation errors detected: Value 'ABOVE' at 'queryFilter.n.member."
            "comparisonOperator' failed to satisfy constraint: Member must satisfy enum value "
            "set: [IN, NULL, BETWEEN, LT, NOT_CONTAINS, EQ, GT, NOT_NULL, NE, LE, BEGINS_WITH, GE, "
            "CONTAINS]; Value null at 'keyConditions.pk.member.comparisonOperator' failed to "
            "satisfy constraint: Member must not be null",
        ),
    ],
)
def test_member_constraints_are_reported_together(
    hw: Headwater, table: Any, operation: str, params: dict[str, Any], message: str
) -> None:
    """AWS checks the members' own constraints first and names every one broken."""
    unchecked = hw.client("dynamodb", validate=False)
    assert message_of(getattr(unchecked, operation), TableName="tbl", **params) == message


# AWS's answers to an ExclusiveStartKey that does not fit, as dynalite's AWS-checked tests
# have them: the wrong attributes are "invalid" with no reason on a Query, a value of the
# wrong type is named alone, a bad number is answered as it is.
@pytest.mark.parametrize(
    ("operation", "start", "message"),
    [
        ("query", {"pk": {"S": "x"}}, "The provided starting key is invalid"),
        (
            "query",
            {"pk": {"S": "x"}, "sk": {"N": "1"}},
            "The provided key element does not match the schema",
        ),
        (
            "query",
            {"pk": {"S": "x"}, "sk": {"S": "item#00"}, "n": {"N": "1"}},
            "The provided starting key is invalid",
        ),
        (
            "scan",
            {"pk": {"S": "x"}},
            "The provided starting key is invalid: The provided key element does not match the "
            "schema",
        ),
        (
            "scan",
            {"pk": {"S": "x"}, "sk": {"N": "1"}},
            "The provided starting key is invalid: The provided key element does not match the "
            "schema",
        ),
        (
            "scan",
            {"pk": {"S": "x"}, "sk": {"N": "one"}},
            "The parameter cannot be converted to a numeric value: one",
        ),
        (
            "scan",
            {"pk": {"S": ""}, "sk": {"S": "item#00"}},
            "The provided starting key is invalid: One or more parameter values are not valid. "
            "The AttributeValue for a key attribute cannot contain an empty string value. "
            "Key: pk",
        ),
    ],
)
def test_a_start_key_that_does_not_fit_the_key_schema(
    table: Any, operation: str, start: dict[str, Any], message: str
) -> None:
    params: dict[str, Any] = {"TableName": "tbl", "ExclusiveStartKey": start}
    if operation == "query":
        params["KeyConditionExpression"] = "pk = :p"
        params["ExpressionAttributeValues"] = {":p": {"S": "x"}}
    assert message_of(getattr(table, operation), **params) == message


@pytest.mark.parametrize(
    ("condition", "start", "message"),
    [
        (
            "pk = :p",
            {"pk": {"S": "y"}, "sk": {"S": "item#03"}},
            "The provided starting key is outside query boundaries based on provided conditions",
        ),
        (
            "pk = :p AND sk > :s",
            {"pk": {"S": "x"}, "sk": {"S": "item#03"}},
            "The provided starting key does not match the range key predicate",
        ),
        (
            "pk = :p AND sk > :s",
            {"pk": {"S": "y"}, "sk": {"S": "item#07"}},
            "The query can return at most one row and cannot be restarted",
        ),
    ],
)
def test_a_query_start_key_outside_its_key_conditions(
    table: Any, condition: str, start: dict[str, Any], message: str
) -> None:
    values = {":p": {"S": "x"}, ":s": {"S": "item#05"}}
    if ":s" not in condition:
        del values[":s"]
    params = {"KeyConditionExpression": condition, "ExpressionAttributeValues": values}
    assert message_of(table.query, TableName="tbl", ExclusiveStartKey=start, **params) == message
    resumed = table.query(
        TableName="tbl", ExclusiveStartKey={"pk": {"S": "x"}, "sk": {"S": "item#17"}}, **params
    )
    assert [i["sk"]["S"] for i in resumed["Items"]] == ["item#18", "item#19"]


def test_an_index_start_key_must_have_the_index_key_types(hw: Headwater) -> None:
    ddb = hw.dynamodb
    create_table(
        ddb,
        "indexed",
        attributes={"g": "S"},
        GlobalSecondaryIndexes=[gsi("by_g", "g")],
    )
    ddb.put_item(TableName="indexed", Item={"pk": {"S": "a"}, "g": {"S": "G"}})
    start = {"pk": {"S": "a"}, "g": {"N": "1"}}
    assert message_of(ddb.scan, TableName="indexed", IndexName="by_g", ExclusiveStartKey=start) == (
        "The provided key element does not match the schema"
    )
    assert message_of(
        ddb.scan, TableName="indexed", IndexName="by_g", ExclusiveStartKey={"pk": {"S": "a"}}
    ) == ("The provided starting key is invalid")


@pytest.mark.parametrize(
    ("conditions", "message"),
    [
        (
            {"sk": {"ComparisonOperator": "IN", "AttributeValueList": [{"S": "item#01"}]}},
            "Attempted conditional constraint is not an indexable operation",
        ),
        (
            {"sk": {"ComparisonOperator": "NE", "AttributeValueList": [{"S": "item#01"}]}},
            "Attempted conditional constraint is not an indexable operation",
        ),
        (
            {"sk": {"ComparisonOperator": "NOT_NULL"}},
            "Attempted conditional constraint is not an indexable operation",
        ),
    ],
)
def test_legacy_key_conditions_that_no_key_range_serves(
    table: Any, conditions: dict[str, Any], message: str
) -> None:
    """dynalite's AWS-checked texts for legacy KeyConditions: not the expression's."""
    hash_condition = {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "x"}]}
    assert (
        message_of(table.query, TableName="tbl", KeyConditions={"pk": hash_condition, **conditions})
        == message
    )


def test_empty_legacy_key_conditions(hw: Headwater, table: Any) -> None:
    unchecked = hw.client("dynamodb", validate=False)
    assert message_of(unchecked.query, TableName="tbl", KeyConditions={}) == (
        "Conditions can be of length 1 or 2 only"
    )


def test_a_key_is_read_only_as_a_whole(hw: Headwater) -> None:
    """AWS refuses a map lookup or list index into a table or index key in a projection or
    a filter (dynalite's AWS-checked scan and getItem texts)."""
    ddb = hw.dynamodb
    create_table(
        ddb,
        "keyed",
        range_key=("sk", "S"),
        attributes={"g": "S"},
        GlobalSecondaryIndexes=[gsi("by_g", "g")],
    )
    scalars = "Key attributes must be scalars; list random access '[]' and map lookup '.' are "
    assert message_of(ddb.scan, TableName="keyed", ProjectionExpression="n, pk.a") == (
        scalars + "not allowed: Key: pk"
    )
    assert message_of(ddb.scan, TableName="keyed", FilterExpression="attribute_exists(g[0])") == (
        scalars + "not allowed: IndexKey: g"
    )
    values = {":p": {"S": "x"}, ":v": {"S": "v"}}
    assert message_of(
        ddb.query,
        TableName="keyed",
        KeyConditionExpression="pk = :p",
        FilterExpression="#g.a = :v",
        ExpressionAttributeNames={"#g": "g"},
        ExpressionAttributeValues=values,
    ) == (scalars + "not allowed: IndexKey: g")
    assert message_of(
        ddb.batch_get_item,
        RequestItems={
            "keyed": {
                "Keys": [{"pk": {"S": "x"}, "sk": {"S": "y"}}],
                "ProjectionExpression": "sk.a",
            }
        },
    ) == (scalars + "not allowed: Key: sk")
    # A whole key, or a path into any other attribute, is read as usual.
    assert ddb.scan(TableName="keyed", ProjectionExpression="pk, g, n.a")["Items"] == []


# AWS checks what a Query or Scan asks before it looks its table up (dynalite's
# AWS-checked tests run these on a table that does not exist); whether a key condition
# or start key fits the key schema needs the table, so that comes after.
@pytest.mark.parametrize(
    ("operation", "params", "message"),
    [
        (
            "query",
            {},
            "Either the KeyConditions or KeyConditionExpression parameter must be specified in "
            "the request.",
        ),
        (
            "query",
            {"KeyConditions": {n: {"ComparisonOperator": "NOT_NULL"} for n in "abc"}},
            "Conditions can be of length 1 or 2 only",
        ),
        (
            "query",
            {
                "KeyConditions": {"a": {"ComparisonOperator": "NOT_NULL"}},
                "QueryFilter": {"x": {"ComparisonOperator": "EQ"}},
            },
            "One or more parameter values were invalid: Invalid number of argument(s) for the "
            "EQ ComparisonOperator",
        ),
        (
            "query",
            {
                "KeyConditionExpression": "a = :a",
                "ExpressionAttributeValues": {":a": {"S": "x"}},
                "ExclusiveStartKey": {"a": {"N": "x"}},
            },
            "The parameter cannot be converted to a numeric value: x",
        ),
        (
            "scan",
            {"Segment": 1},
            "The TotalSegments parameter is required but was not present in the request when "
            "Segment parameter is present",
        ),
        (
            "scan",
            {"AttributesToGet": ["a", "a"]},
            "One or more parameter values were invalid: Duplicate value in attribute name: a",
        ),
        ("query", {"KeyConditions": {"z": {"ComparisonOperator": "NULL"}}}, None),
        ("query", {"KeyConditions": {"z": {"ComparisonOperator": "NOT_NULL"}}}, None),
        ("scan", {"ExclusiveStartKey": {"b": {"S": "a"}}}, None),
    ],
)
def test_the_request_is_checked_before_its_table(
    hw: Headwater, operation: str, params: dict[str, Any], message: str | None
) -> None:
    with pytest.raises(ClientError) as caught:
        getattr(hw.dynamodb, operation)(TableName="missing", **params)
    error = caught.value.response["Error"]
    if message is None:
        assert error["Code"] == "ResourceNotFoundException"
    else:
        assert (error["Code"], error["Message"]) == ("ValidationException", message)


def test_a_parallel_scan_resumes_only_inside_its_segment(table: Any) -> None:
    """AWS (dynalite's AWS-checked scan test, and ScyllaDB quoting live DynamoDB) refuses a
    start key from another segment, naming the segment asked for."""
    first, _ = query_all(table, TableName="tbl", Segment=1, TotalSegments=2)
    assert first
    start = {"pk": first[0]["pk"], "sk": first[0]["sk"]}
    assert message_of(
        table.scan,
        TableName="tbl",
        Segment=0,
        TotalSegments=2,
        FilterExpression="attribute_exists(pk.a)",
        ExclusiveStartKey=start,
    ) == (
        "The provided starting key is invalid: Invalid ExclusiveStartKey. Please use "
        "ExclusiveStartKey with correct Segment. TotalSegments: 2 Segment: 0"
    )
    resumed = table.scan(TableName="tbl", Segment=1, TotalSegments=2, ExclusiveStartKey=start)
    assert len(resumed["Items"]) == len(first) - 1


def test_key_condition_operands_are_checked_clause_by_clause(hw: Headwater) -> None:
    """AWS (eu-west-2, 2026, a conformance suite): a value no key type could satisfy for its
    operator is an expression error, reported in the order the clauses are written, before
    an undefined value in a later clause and before the table is looked up; a value of
    another key type fails the schema check; extra conditions are counted against the key."""
    ddb = hw.dynamodb
    create_table(ddb, "numbered", range_key=("sk", "N"))

    def operand(operator: str, kind: str) -> str:
        return (
            "Invalid KeyConditionExpression: Incorrect operand type for operator or function; "
            f"operator or function: {operator}, operand type: {kind}"
        )

    schema = (
        "One or more parameter values were invalid: Condition parameter type does not match "
        "schema type"
    )
    p = {":p": {"S": "q"}}
    prefix_n = operand("begins_with", "N")
    cases: list[tuple[str, str, dict[str, Any], str]] = [
        ("numbered", "pk = :p AND begins_with(sk, :v)", {":v": {"N": "1"}}, prefix_n),
        ("numbered", "pk = :p AND begins_with(sk, :v)", {":v": {"S": "a"}}, schema),
        ("numbered", "pk = :p AND sk < :v", {":v": {"BOOL": True}}, operand("<", "BOOL")),
        ("numbered", "pk = :p AND :v >= sk", {":v": {"BOOL": True}}, operand(">=", "BOOL")),
        (
            "numbered",
            "pk = :p AND sk BETWEEN :a AND :b",
            {":a": {"BOOL": False}, ":b": {"BOOL": True}},
            operand("BETWEEN", "BOOL"),
        ),
        ("numbered", "pk = :p AND sk = :v", {":v": {"BOOL": True}}, schema),
        (
            "numbered",
            "pk = :p AND sk > :a AND extra = :b",
            {":a": {"N": "1"}, ":b": {"N": "5"}},
            "The number of query conditions (3) exceeds the number of key attributes defined "
            "in the schema (2)",
        ),
        ("numbered", "begins_with(sk, :v) AND pk = :missing", {":v": {"N": "1"}}, prefix_n),
        ("missing", "pk = :p AND begins_with(sk, :v)", {":v": {"N": "1"}}, prefix_n),
    ]
    for table_name, expression, values, message in cases:
        assert (
            message_of(
                ddb.query,
                TableName=table_name,
                KeyConditionExpression=expression,
                ExpressionAttributeValues={**p, **values},
            )
            == message
        ), expression
    assert message_of(
        ddb.query,
        TableName="numbered",
        KeyConditionExpression="pk = :missing AND begins_with(sk, :v)",
        ExpressionAttributeValues={":v": {"N": "1"}},
    ) == (
        "Invalid KeyConditionExpression: An expression attribute value used in expression is "
        "not defined; attribute value: :missing"
    )


def test_unknown_conditional_operator_beside_two_query_filters(hw: Headwater) -> None:
    """AWS (us-east-1, eu-west-2, 2026-10-09; a conformance suite): bare, in the newer enum
    form, and alone, ahead of an unknown Select and a missing table."""
    unchecked = hw.client("dynamodb", validate=False)
    assert (
        message_of(
            unchecked.query,
            TableName="missing",
            KeyConditions={"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "a"}]}},
            QueryFilter={"b": {"ComparisonOperator": "NULL"}, "c": {"ComparisonOperator": "NULL"}},
            ConditionalOperator="XOR",
            Select="BOGUS",
        )
        == "Failed to satisfy constraint: Member must satisfy enum value set: [ALL, OR]"
    )


def test_query_limit_is_named_in_the_validation_frameworks_words(hw: Headwater) -> None:
    """AWS (a conformance suite pinning live DynamoDB, 2026): Query's Limit below 1 names the
    member without its value; Scan's still echoes it."""
    unchecked = hw.client("dynamodb", validate=False)
    assert message_of(
        unchecked.query,
        TableName="missing",
        KeyConditionExpression="pk = :v",
        ExpressionAttributeValues={":v": {"S": "val"}},
        Limit=0,
    ) == (
        "1 validation error detected: Value at 'Limit' failed to satisfy constraint: Member "
        "must have value greater than or equal to 1"
    )
    assert message_of(unchecked.scan, TableName="missing", Limit=0) == (
        "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: "
        "Member must have value greater than or equal to 1"
    )
