"""DynamoDB vector indexes and SearchVectors, through the boto3-shaped client.

Expected texts are AWS's as a conformance suite (paritysuite/dynamodb-conformance,
tests/tier3/error-messages/searchVectors.test.ts, createTable vector messages,
tests/tier2/vectorSearch/consumedCapacity.test.ts) and an emulator recorded them against
live AWS (eu-west-2 and us-east-1, August 2026). Scores are worked out by hand below.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from headwater import Headwater
from headwater.store.tables import TableStore
from tests.asgi_boto import in_process_aws

VECTOR_TEXT = (
    "Search vector contains invalid values. All values in the search vector must be a "
    "32-bit floating-point number attribute"
)


def vec(*numbers: float) -> list[dict[str, str]]:
    return [{"N": str(n)} for n in numbers]


def error_of(call: Any, **params: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**params)
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


def vector_index(**over: Any) -> dict[str, Any]:
    index: dict[str, Any] = {
        "IndexName": "vix",
        "VectorAttribute": {"AttributeName": "embedding"},
        "Dimensions": 3,
        "DistanceFunction": "COSINE",
        "Projection": {"ProjectionType": "ALL"},
    }
    index.update(over)
    return index


def table_params(name: str = "vec", **over: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "TableName": name,
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST",
    }
    params.update(over)
    return params


def test_vector_index_enums_are_checked_with_the_other_member_constraints(hw: Headwater) -> None:
    ddb = hw.client("dynamodb", validate=False)
    bad = vector_index(
        DistanceFunction="MANHATTAN",
        Dimensions=0,
        SearchSchema=[{"AttributeName": "tenant", "SearchSchemaElementType": "RANGE"}],
    )
    assert error_of(
        ddb.create_table,
        **table_params(
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "tenant", "AttributeType": "S"},
            ],
            VectorIndexes=[bad],
        ),
    ) == (
        "ValidationException",
        "3 validation errors detected: "
        "Value '0' at 'vectorIndexes.1.member.dimensions' failed to satisfy constraint: "
        "Member must have value greater than or equal to 1; "
        "Value 'MANHATTAN' at 'vectorIndexes.1.member.distanceFunction' failed to satisfy "
        "constraint: Member must satisfy enum value set: [COSINE, DOT_PRODUCT, EUCLIDEAN]; "
        "Value 'RANGE' at 'vectorIndexes.1.member.searchSchema.1.member.searchSchemaElementType' "
        "failed to satisfy constraint: Member must satisfy enum value set: [HASH, INLINE_FILTER]",
    )
    assert ddb.list_tables()["TableNames"] == []
    ddb.create_table(**table_params())
    assert error_of(
        ddb.update_table,
        TableName="vec",
        VectorIndexUpdates=[{"Create": vector_index(DistanceFunction="L1")}],
    ) == (
        "ValidationException",
        "1 validation error detected: Value 'L1' at "
        "'vectorIndexUpdates.1.member.create.distanceFunction' failed to satisfy constraint: "
        "Member must satisfy enum value set: [COSINE, DOT_PRODUCT, EUCLIDEAN]",
    )


def schema_table(ddb: Any) -> None:
    """Indexes: one per distance function, and one with a HASH and an INLINE_FILTER."""
    ddb.create_table(
        **table_params(
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "tenant", "AttributeType": "S"},
                {"AttributeName": "tier", "AttributeType": "N"},
            ],
            VectorIndexes=[
                vector_index(IndexName="cos"),
                vector_index(IndexName="euc", DistanceFunction="EUCLIDEAN"),
                vector_index(IndexName="dot", DistanceFunction="DOT_PRODUCT"),
                vector_index(
                    IndexName="scoped",
                    Projection={"ProjectionType": "KEYS_ONLY"},
                    SearchSchema=[
                        {"AttributeName": "tenant", "SearchSchemaElementType": "HASH"},
                        {"AttributeName": "tier", "SearchSchemaElementType": "INLINE_FILTER"},
                    ],
                ),
            ],
        )
    )
    #: a = the query, d = (3, 4, 0) (cosine 3/5 with it), b orthogonal, c opposite
    for pk, vector, extra in (
        ("a", (1, 0, 0), {"tenant": {"S": "t1"}, "tier": {"N": "1"}}),
        ("b", (0, 1, 0), {"tenant": {"S": "t1"}, "tier": {"N": "2"}}),
        ("c", (-1, 0, 0), {"tenant": {"S": "t2"}, "tier": {"N": "1"}}),
        ("d", (3, 4, 0), {"tenant": {"S": "t1"}}),
    ):
        ddb.put_item(
            TableName="vec",
            Item={"pk": {"S": pk}, "label": {"S": f"item-{pk}"}, "embedding": {"L": vec(*vector)}}
            | extra,
        )
    # in no index: no vector, and (for "scoped") no HASH attribute
    ddb.put_item(TableName="vec", Item={"pk": {"S": "plain"}, "label": {"S": "x"}})
    ddb.put_item(TableName="vec", Item={"pk": {"S": "e"}, "embedding": {"L": vec(0, 0, 1)}})


def ranked(result: dict[str, Any]) -> list[tuple[str, float]]:
    return [(r["Item"]["pk"]["S"], r["Score"]) for r in result["SearchResults"]]


def search(ddb: Any, index: str, *numbers: float, top_k: int = 10, **more: Any) -> Any:
    return ddb.search_vectors(
        TableName="vec", IndexName=index, SearchVector=vec(*numbers), TopK=top_k, **more
    )


def test_describe_table_gives_the_vector_indexes(hw: Headwater) -> None:
    ddb = hw.dynamodb
    schema_table(ddb)
    described = {
        i["IndexName"]: i for i in ddb.describe_table(TableName="vec")["Table"]["VectorIndexes"]
    }
    assert list(described) == ["cos", "euc", "dot", "scoped"]
    cos = described["cos"]
    assert cos["IndexArn"] == "arn:aws:dynamodb:us-east-1:000000000000:table/vec/index/cos"
    assert (cos["IndexStatus"], cos["Dimensions"], cos["DistanceFunction"]) == (
        "ACTIVE",
        3,
        "COSINE",
    )
    assert cos["VectorAttribute"] == {"AttributeName": "embedding"}
    assert cos["Projection"] == {"ProjectionType": "ALL"} and "SearchSchema" not in cos
    # a, b, c, d and e have a 3-number vector; "scoped" also needs the HASH attribute
    assert (cos["ItemCount"], described["scoped"]["ItemCount"]) == (5, 4)
    assert 0 < described["scoped"]["IndexSizeBytes"] < cos["IndexSizeBytes"]
    assert described["scoped"]["SearchSchema"] == [
        {"AttributeName": "tenant", "SearchSchemaElementType": "HASH"},
        {"AttributeName": "tier", "SearchSchemaElementType": "INLINE_FILTER"},
    ]


def test_each_distance_function_scores_and_orders_as_documented(hw: Headwater) -> None:
    ddb = hw.dynamodb
    schema_table(ddb)
    # COSINE: 1 - cos; a 0, d 1 - 3/5, b and e 1 (orthogonal), c 2; k smallest
    cos = ranked(search(ddb, "cos", 1, 0, 0))
    assert [pk for pk, _ in cos] == ["a", "d", "b", "e", "c"]  # equal scores in key order
    assert [score for _, score in cos] == pytest.approx([0.0, 0.4, 1.0, 1.0, 2.0])
    # EUCLIDEAN: distances 0, sqrt(2) (b, e), sqrt(4 + 16), 2 (c); k smallest
    euc = ranked(search(ddb, "euc", 1, 0, 0, top_k=3))
    assert euc == [("a", 0.0), ("b", pytest.approx(2**0.5)), ("e", pytest.approx(2**0.5))]
    assert ranked(search(ddb, "euc", 1, 0, 0))[3:] == [("c", 2.0), ("d", pytest.approx(20**0.5))]
    # DOT_PRODUCT: d 3, a 1, b and e 0, c -1; k highest
    assert ranked(search(ddb, "dot", 1, 0, 0)) == [
        ("d", 3.0),
        ("a", 1.0),
        ("b", 0.0),
        ("e", 0.0),
        ("c", -1.0),
    ]
    # a zero vector scores 1 under COSINE, whatever it is compared with
    assert {s for _, s in ranked(search(ddb, "cos", 0, 0, 0))} == {1.0}


def test_search_condition_scopes_to_the_hash_value_and_filters(hw: Headwater) -> None:
    ddb = hw.dynamodb
    schema_table(ddb)
    tenant = {"SearchConditionExpression": "tenant = :t"}
    t1 = search(ddb, "scoped", 1, 0, 0, ExpressionAttributeValues={":t": {"S": "t1"}}, **tenant)
    assert [pk for pk, _ in ranked(t1)] == ["a", "d", "b"]
    filtered = search(
        ddb,
        "scoped",
        1,
        0,
        0,
        SearchConditionExpression="#t = :t AND tier = :tier",
        ExpressionAttributeNames={"#t": "tenant"},
        ExpressionAttributeValues={":t": {"S": "t1"}, ":tier": {"N": "1.0"}},
    )
    assert ranked(filtered) == [("a", 0.0)]  # numbers compare as numbers; d has no tier
    # KEYS_ONLY: the table's key and the SearchSchema attributes, never the vector
    assert filtered["SearchResults"][0]["Item"] == {
        "pk": {"S": "a"},
        "tenant": {"S": "t1"},
        "tier": {"N": "1"},
    }


def test_results_leave_the_vector_out_unless_the_projection_names_it(hw: Headwater) -> None:
    ddb = hw.dynamodb
    schema_table(ddb)
    first = search(ddb, "cos", 1, 0, 0, top_k=1)["SearchResults"][0]
    assert first["Item"] == {
        "pk": {"S": "a"},
        "label": {"S": "item-a"},
        "tenant": {"S": "t1"},
        "tier": {"N": "1"},
    }
    named = search(ddb, "cos", 1, 0, 0, top_k=1, ProjectionExpression="pk, embedding")
    # the index's 32-bit copy of the vector
    assert named["SearchResults"][0]["Item"] == {
        "pk": {"S": "a"},
        "embedding": {"L": [{"N": "1.0"}, {"N": "0.0"}, {"N": "0.0"}]},
    }
    keys_only = search(
        ddb,
        "scoped",
        1,
        0,
        0,
        top_k=1,
        ProjectionExpression="pk, embedding, label",
        SearchConditionExpression="tenant = :t",
        ExpressionAttributeValues={":t": {"S": "t2"}},
    )
    assert keys_only["SearchResults"][0]["Item"] == {"pk": {"S": "c"}}


def test_writes_a_vector_index_cannot_hold_are_refused(hw: Headwater) -> None:
    ddb = hw.dynamodb
    schema_table(ddb)
    prefix = "One or more parameter values were invalid."
    for value, message in (
        (
            {"L": vec(1, 0)},
            f"{prefix} Invalid size for parameter embedding, Expected: 3, Actual: 2 IndexName: cos",
        ),
        (
            {"NS": ["1", "2", "3"]},
            f"{prefix} Invalid type for parameter embedding, "
            "Expected: 32-bit floating point number list IndexName: cos",
        ),
        (
            {"L": [{"N": "1"}, {"S": "x"}, {"N": "1"}]},
            f"{prefix} Invalid type for parameter "
            "embedding[1], Expected: 32-bit floating point number, Actual: S. IndexName: cos",
        ),
        (
            {"L": vec(1, 0, "-4E+38")},
            f"{prefix} Invalid value for parameter embedding[2], "
            "Value: -400000000000000000000000000000000000000 is outside valid range "
            "[-3.4028235E38, 3.4028235E38]. IndexName: cos",
        ),
    ):
        item = {"pk": {"S": "a"}, "embedding": value}
        assert error_of(ddb.put_item, TableName="vec", Item=item) == (
            "ValidationException",
            message,
        )
    assert error_of(
        ddb.put_item, TableName="vec", Item={"pk": {"S": "z"}, "tier": {"S": "gold"}}
    ) == (
        "ValidationException",
        f"{prefix} Attribute 'tier' type mismatch. Expected: N, Actual: S. IndexName: scoped",
    )
    assert error_of(
        ddb.put_item, TableName="vec", Item={"pk": {"S": "z"}, "tenant": {"S": ""}}
    ) == (
        "ValidationException",
        "One or more parameter values are not valid. A value specified for a secondary index "
        "key is not supported. The AttributeValue for a key attribute cannot contain an empty "
        "string value. IndexName: scoped, IndexKey: tenant",
    )
    assert error_of(
        ddb.update_item,
        TableName="vec",
        Key={"pk": {"S": "a"}},
        UpdateExpression="SET embedding[3] = :n",
        ExpressionAttributeValues={":n": {"N": "1"}},
    ) == (
        "ValidationException",
        f"{prefix} Invalid size for parameter embedding, Expected: 3, Actual: 4 IndexName: cos",
    )
    with pytest.raises(ClientError):
        ddb.batch_write_item(
            RequestItems={
                "vec": [{"PutRequest": {"Item": {"pk": {"S": "q"}, "embedding": {"S": "v"}}}}]
            }
        )
    # nothing changed; an update leaving the vector alone is not held to it
    item = ddb.get_item(TableName="vec", Key={"pk": {"S": "a"}})["Item"]
    assert item["embedding"] == {"L": vec(1, 0, 0)}
    assert "Item" not in ddb.get_item(TableName="vec", Key={"pk": {"S": "q"}})
    ddb.update_item(
        TableName="vec",
        Key={"pk": {"S": "a"}},
        UpdateExpression="SET label = :l",
        ExpressionAttributeValues={":l": {"S": "changed"}},
    )


def test_create_table_refuses_vector_indexes_as_aws_does(hw: Headwater) -> None:
    ddb = hw.dynamodb
    invalid = "One or more parameter values were invalid: "
    with_tenant = [
        {"AttributeName": "pk", "AttributeType": "S"},
        {"AttributeName": "tenant", "AttributeType": "S"},
    ]
    for params, message in (
        (
            table_params(
                BillingMode="PROVISIONED",
                ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
                VectorIndexes=[vector_index()],
            ),
            "Vector indexes are only supported for PAY_PER_REQUEST tables",
        ),
        (
            table_params(
                VectorIndexes=[
                    vector_index(
                        SearchSchema=[
                            {"AttributeName": "tenant", "SearchSchemaElementType": "HASH"}
                        ]
                    )
                ]
            ),
            "One element in SearchSchema is not defined in attribute definitions",
        ),
        (
            table_params(VectorIndexes=[vector_index(Dimensions=4097)]),
            "Number of dimensions must be between 1 and 4096 inclusive.",
        ),
        (
            table_params(VectorIndexes=[vector_index(IndexName=f"vix-{i}") for i in range(6)]),
            "VectorIndex count exceeds the per-table limit of 5",
        ),
        (
            table_params(
                VectorIndexes=[vector_index(), vector_index(IndexName="vix2", Dimensions=4)]
            ),
            "Conflicting attribute definition for 'embedding'. All VectorIndexes on the same "
            "vector attribute must use the same dimensions.",
        ),
        (
            table_params(
                AttributeDefinitions=with_tenant,
                VectorIndexes=[vector_index(VectorAttribute={"AttributeName": "tenant"})],
            ),
            "Conflicting attribute definition for 'tenant'. An attribute cannot be defined in "
            "AttributeDefinitions when used as a VectorAttribute.",
        ),
    ):
        assert error_of(ddb.create_table, **params) == ("ValidationException", invalid + message)
    assert ddb.list_tables()["TableNames"] == []
    # a SearchSchema attribute uses its definition, as an index key does
    ddb.create_table(
        **table_params(
            AttributeDefinitions=with_tenant,
            VectorIndexes=[
                vector_index(
                    SearchSchema=[
                        {"AttributeName": "tenant", "SearchSchemaElementType": "INLINE_FILTER"}
                    ]
                )
            ],
        )
    )


def test_update_table_adds_and_removes_vector_indexes(hw: Headwater) -> None:
    ddb = hw.dynamodb
    ddb.create_table(**table_params())
    ddb.put_item(TableName="vec", Item={"pk": {"S": "old"}, "embedding": {"L": vec(1, 2)}})
    ddb.put_item(TableName="vec", Item={"pk": {"S": "bad"}, "embedding": {"L": vec(1, 2, 3)}})
    ddb.update_table(
        TableName="vec",
        VectorIndexUpdates=[{"Create": vector_index(Dimensions=2, DistanceFunction="EUCLIDEAN")}],
    )
    # the items already there are searchable at once; the 3-number vector is left out
    assert ranked(search(ddb, "vix", 1, 1)) == [("old", 1.0)]
    described = ddb.describe_table(TableName="vec")["Table"]["VectorIndexes"]
    assert [(i["IndexName"], i["IndexStatus"], i["ItemCount"]) for i in described] == [
        ("vix", "ACTIVE", 1)
    ]
    assert error_of(
        ddb.update_table, TableName="vec", VectorIndexUpdates=[{"Create": vector_index()}]
    ) == ("ValidationException", "Attempting to create an index which already exists")
    tenant = {"AttributeName": "tenant", "SearchSchemaElementType": "HASH"}
    # the SearchSchema's definitions come with the request, not from the table
    assert error_of(
        ddb.update_table,
        TableName="vec",
        VectorIndexUpdates=[
            {"Create": vector_index(IndexName="vix2", Dimensions=2, SearchSchema=[tenant])}
        ],
    ) == (
        "ValidationException",
        "One or more parameter values were invalid: One element in SearchSchema is not "
        "defined in attribute definitions",
    )
    assert error_of(
        ddb.update_table,
        TableName="vec",
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
    ) == (
        "ValidationException",
        "One or more parameter values were invalid: Vector indexes are only supported for "
        "PAY_PER_REQUEST tables",
    )
    # the table's key is no vector (as AWS words it when the request does not define it)
    assert error_of(
        ddb.update_table,
        TableName="vec",
        VectorIndexUpdates=[
            {"Create": vector_index(IndexName="onkey", VectorAttribute={"AttributeName": "pk"})}
        ],
    ) == (
        "ValidationException",
        "One or more parameter values were invalid: Attributes cannot be redefined. Please "
        "check that your attribute has the same type as previously defined. Existing schema: "
        "Schema:[SchemaElement: key{pk:S:HASH}] New schema: VectorIndexSchema:[VectorAttribute: "
        "key{pk:L:3}]",
    )
    assert error_of(ddb.update_table, TableName="vec", VectorIndexUpdates=[{}]) == (
        "ValidationException",
        "One or more parameter values were invalid: One of VectorIndexUpdate.Create, "
        "VectorIndexUpdate.Delete must not be null",
    )
    ddb.update_table(TableName="vec", VectorIndexUpdates=[{"Delete": {"IndexName": "vix"}}])
    assert "VectorIndexes" not in ddb.describe_table(TableName="vec")["Table"]
    assert error_of(
        ddb.search_vectors, TableName="vec", IndexName="vix", SearchVector=vec(1, 1), TopK=1
    ) == (
        "ValidationException",
        "The table does not have the specified index: vix",
    )
    assert (
        error_of(
            ddb.update_table, TableName="vec", VectorIndexUpdates=[{"Delete": {"IndexName": "vix"}}]
        )[0]
        == "ResourceNotFoundException"
    )
    # without the index, the vector attribute is an ordinary attribute again
    ddb.put_item(TableName="vec", Item={"pk": {"S": "free"}, "embedding": {"S": "text"}})


def test_search_vectors_refuses_as_aws_does(hw: Headwater) -> None:
    ddb = hw.client("dynamodb", validate=False)  # as a client that does not check first
    schema_table(ddb)
    for params, message in (
        (
            {"IndexName": "cos", "SearchVector": vec(1, 0, 0), "TopK": 101},
            "Provided TopK value '101' is out of valid range. The value must be between 1 and "
            "100 inclusive",
        ),
        (
            {"IndexName": "scoped", "SearchVector": vec(1, 0, 0), "TopK": 1},
            "SearchConditionExpression must be provided when SearchSchema has a HASH key",
        ),
        (
            {
                "IndexName": "scoped",
                "SearchVector": vec(1, 0, 0),
                "TopK": 1,
                "SearchConditionExpression": "tenant < :t",
                "ExpressionAttributeValues": {":t": {"S": "t9"}},
            },
            "Invalid SearchConditionExpression: Invalid comparator used in "
            "SearchConditionExpression",
        ),
        (
            {
                "IndexName": "scoped",
                "SearchVector": vec(1, 0, 0),
                "TopK": 1,
                "SearchConditionExpression": "tenant = :t AND tier < :c",
                "ExpressionAttributeValues": {":t": {"S": "t1"}, ":c": {"N": "9"}},
            },
            "Invalid SearchConditionExpression: Invalid comparator used in "
            "SearchConditionExpression",
        ),
        (
            {"IndexName": "cos", "SearchVector": vec(1, 0), "TopK": 1},
            "Input search vector dimension 2 does not match vector index dimension 3",
        ),
        (
            {
                "IndexName": "cos",
                "SearchVector": vec(1, 0, 0),
                "TopK": 1,
                "SearchConditionExpression": "tenant = :t",
                "ExpressionAttributeValues": {":t": {"S": "t1"}},
            },
            "SearchConditionExpression must not contain any attributes that is not in "
            "SearchSchema. Invalid attribute: tenant",
        ),
        ({"IndexName": "cos", "SearchVector": [{"L": vec(1, 0, 0)}], "TopK": 1}, VECTOR_TEXT),
        ({"IndexName": "cos", "SearchVector": vec("1E+39", 0, 0), "TopK": 1}, VECTOR_TEXT),
        # texts Python's float() reads but no DynamoDB Number is
        ({"IndexName": "cos", "SearchVector": vec("1_0", 0, 0), "TopK": 1}, VECTOR_TEXT),
        ({"IndexName": "cos", "SearchVector": vec(" 1", 0, 0), "TopK": 1}, VECTOR_TEXT),
        # nor a Number out of DynamoDB's range, which no stored vector can hold (PutItem:
        # "Number underflow" / "Number overflow"); float() reads the first two as 0
        ({"IndexName": "cos", "SearchVector": vec("1E-131", 1, 0), "TopK": 1}, VECTOR_TEXT),
        ({"IndexName": "cos", "SearchVector": vec("0E+126", 1, 0), "TopK": 1}, VECTOR_TEXT),
        ({"IndexName": "cos", "SearchVector": vec("1E+126", 1, 0), "TopK": 1}, VECTOR_TEXT),
        (
            {
                "IndexName": "scoped",
                "SearchVector": vec(1, 0, 0),
                "TopK": 1,
                "SearchConditionExpression": "tenant = :t",
                "ExpressionAttributeValues": {":t": {"N": "1"}},
            },
            "Type of 'tenant' attribute in SearchConditionExpression (N) does not match type "
            "in search schema (S)",
        ),
        (
            {
                "IndexName": "scoped",
                "SearchVector": vec(1, 0, 0),
                "TopK": 1,
                "SearchConditionExpression": "tenant = :t",
                "ExpressionAttributeValues": {":t": {"S": ""}},
            },
            "One or more parameter values are not valid. The AttributeValue for a key "
            "attribute cannot contain an empty string value. Key: tenant",
        ),
        (
            {"IndexName": "absent", "SearchVector": vec(1, 0, 0), "TopK": 1},
            "The table does not have the specified index: absent",
        ),
        (
            {"IndexName": "cos", "SearchVector": vec(1, 0, 0), "TopK": 0},
            "1 validation error detected: Value '0' at 'topK' failed to satisfy constraint: "
            "Member must have value greater than or equal to 1",
        ),
        (
            {"IndexName": "ab", "SearchVector": vec(1, 0, 0), "TopK": 1},
            "1 validation error detected: Value at 'IndexName' failed to satisfy constraint: "
            "Member must have length greater than or equal to 3",
        ),
    ):
        assert error_of(ddb.search_vectors, TableName="vec", **params) == (
            "ValidationException",
            message,
        ), params
    assert error_of(
        ddb.search_vectors, TableName="absent", IndexName="cos", SearchVector=vec(1), TopK=1
    ) == ("ResourceNotFoundException", "Requested resource not found")
    # the smallest Number is below the 32-bit range: taken, as a stored vector takes it, as 0
    tiny = ddb.search_vectors(
        TableName="vec", IndexName="cos", SearchVector=vec("1E-130", 1, 0), TopK=1
    )
    assert ranked(tiny) == [("b", 0.0)]


def test_an_empty_hash_value_is_refused_whatever_its_type(hw: Headwater) -> None:
    """An empty binary HASH value in the search condition is refused as the empty string
    one is, in the words for any empty key value (binary for B)."""
    ddb = hw.client("dynamodb", validate=False)
    ddb.create_table(
        **table_params(
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "owner", "AttributeType": "B"},
            ],
            VectorIndexes=[
                vector_index(
                    SearchSchema=[{"AttributeName": "owner", "SearchSchemaElementType": "HASH"}]
                )
            ],
        )
    )
    ddb.put_item(
        TableName="vec",
        Item={"pk": {"S": "a"}, "owner": {"B": b"o"}, "embedding": {"L": vec(1, 0, 0)}},
    )

    def searched(owner: bytes) -> Any:
        return ddb.search_vectors(
            TableName="vec",
            IndexName="vix",
            SearchVector=vec(1, 0, 0),
            TopK=1,
            SearchConditionExpression="#o = :o",
            ExpressionAttributeNames={"#o": "owner"},
            ExpressionAttributeValues={":o": {"B": owner}},
        )

    assert ranked(searched(b"o")) == [("a", 0.0)]
    assert error_of(searched, owner=b"") == (
        "ValidationException",
        "One or more parameter values are not valid. The AttributeValue for a key attribute "
        "cannot contain an empty binary value. Key: owner",
    )


def test_consumed_capacity_of_searches_and_vector_writes(hw: Headwater) -> None:
    ddb = hw.dynamodb
    ddb.create_table(
        **table_params(
            VectorIndexes=[
                vector_index(),
                vector_index(IndexName="vkeys", Projection={"ProjectionType": "KEYS_ONLY"}),
                vector_index(
                    IndexName="vdims", VectorAttribute={"AttributeName": "sixdimvec"}, Dimensions=6
                ),
            ]
        )
    )

    def put(item: dict[str, Any], mode: str = "INDEXES") -> dict[str, Any]:
        return ddb.put_item(TableName="vec", Item=item, ReturnConsumedCapacity=mode)[
            "ConsumedCapacity"
        ]

    small = put({"pk": {"S": "f0"}, "embedding": {"L": vec(0, 1, 0)}})
    assert small["CapacityUnits"] == 1 and small["Table"] == {"CapacityUnits": 1.0}
    assert small["VectorIndexes"] == {
        "vix": {"VectorWriteRequestBytes": 1024.0},
        "vkeys": {"VectorWriteRequestBytes": 1024.0},
    }
    assert "VectorIndexes" not in put(
        {"pk": {"S": "t0"}, "embedding": {"L": vec(0, 0, 1)}}, "TOTAL"
    )
    assert "VectorIndexes" not in put({"pk": {"S": "p0"}, "label": {"S": "no vector"}})
    # an identical overwrite changes nothing an index holds
    assert "VectorIndexes" not in put({"pk": {"S": "f0"}, "embedding": {"L": vec(0, 1, 0)}})
    # a projected attribute changing: only the index that projects it is charged
    noted = put({"pk": {"S": "f0"}, "embedding": {"L": vec(0, 1, 0)}, "note": {"S": "n"}})
    assert list(noted["VectorIndexes"]) == ["vix"]
    # the entry's item size, the vector counted as its name plus 4 bytes a dimension
    blob = {"blob": {"S": "x" * 1500}}
    three = put({"pk": {"S": "3b"}, "embedding": {"L": vec(1, 0, 0)}} | blob)["VectorIndexes"]
    six = put({"pk": {"S": "6b"}, "sixdimvec": {"L": vec(1, 0, 0, 0, 1, 0)}} | blob)
    assert three["vix"]["VectorWriteRequestBytes"] == 2 + 2 + 9 + 12 + 4 + 1500
    assert three["vkeys"]["VectorWriteRequestBytes"] == 1024.0
    assert (
        six["VectorIndexes"]["vdims"]["VectorWriteRequestBytes"] - 12 == 2 + 2 + 9 + 12 + 4 + 1500
    )
    # a search: a bare VectorSearchRequestBytes, the same under TOTAL and INDEXES
    request = {"TableName": "vec", "IndexName": "vix", "SearchVector": vec(1, 0, 0), "TopK": 1}
    total = ddb.search_vectors(**request, ReturnConsumedCapacity="TOTAL")["ConsumedCapacity"]
    indexes = ddb.search_vectors(**request, ReturnConsumedCapacity="INDEXES")["ConsumedCapacity"]
    assert list(total) == ["VectorSearchRequestBytes"] and total == indexes
    assert total["VectorSearchRequestBytes"] > 0
    assert "ConsumedCapacity" not in ddb.search_vectors(**request, ReturnConsumedCapacity="NONE")


def test_search_vectors_over_the_wire(tmp_path: Path) -> None:
    """Real boto3 through the HTTP app: SearchVectors' request and its double scores."""
    with Headwater(tmp_path / "data") as hw, in_process_aws(hw) as aws:
        ddb = aws.client("dynamodb")
        ddb.create_table(
            **table_params(VectorIndexes=[vector_index(DistanceFunction="DOT_PRODUCT")])
        )
        for pk, vector in (("a", (1, 0, 0)), ("b", (0.5, 0.25, 2))):
            ddb.put_item(TableName="vec", Item={"pk": {"S": pk}, "embedding": {"L": vec(*vector)}})
        found = ddb.search_vectors(
            TableName="vec", IndexName="vix", SearchVector=vec(2, 2, 0.5), TopK=5
        )
        # a: 2; b: 1 + 0.5 + 1 = 2.5
        assert ranked(found) == [("b", 2.5), ("a", 2.0)]
        assert error_of(
            ddb.search_vectors, TableName="vec", IndexName="vix", SearchVector=vec(1), TopK=1
        ) == (
            "ValidationException",
            "Input search vector dimension 1 does not match vector index dimension 3",
        )


def test_search_vectors_body_is_read_strictly(tmp_path: Path) -> None:
    """An explicit null for a required member, or a missing TableName, is the
    deserialiser's error before any member is validated (the table is never looked up)."""
    valid = {"TableName": "absent", "IndexName": "vix", "SearchVector": [{"N": "1"}], "TopK": 1}
    with Headwater(tmp_path / "data") as hw, in_process_aws(hw) as aws:
        ddb = aws.client("dynamodb", parameter_validation=False)

        def with_body(body: dict[str, Any]) -> tuple[str, str]:
            def replace(request: Any, **_: Any) -> None:
                request.data = json.dumps(body, separators=(",", ":")).encode()

            ddb.meta.events.register_first("before-sign.dynamodb.SearchVectors", replace)
            try:
                return error_of(ddb.search_vectors, **valid)
            finally:
                ddb.meta.events.unregister("before-sign.dynamodb.SearchVectors", replace)

        for member, expected in (
            ("IndexName", "a string"),
            ("TableName", "a string"),
            ("SearchVector", "a sequence"),
            ("TopK", "i32"),
        ):
            code, message = with_body({**valid, member: None})
            assert code == "SerializationException"
            assert re.fullmatch(
                f"invalid type: null, expected {expected} at line 1 column \\d+", message
            ), message
        code, message = with_body({**valid, "TopK": 3.5})
        assert code == "SerializationException"
        assert re.fullmatch(
            r"invalid type: floating point `3.5`, expected i32 at line 1 column \d+", message
        )
        # Other JSON kinds in the deserialiser's (serde's) words, as the null and the
        # fraction above: a JSON boolean is no i32 (Python's bool would read as 1), the
        # column is where the reader stopped in the body boto3 sends.
        body_text = json.dumps(valid, separators=(",", ":"))
        for member, value, finding in (
            ("TopK", True, "invalid type: boolean `true`, expected i32"),
            ("TopK", False, "invalid type: boolean `false`, expected i32"),
            ("TopK", "5", 'invalid type: string "5", expected i32'),
            ("TopK", 2**31, "invalid value: integer `2147483648`, expected i32"),
            ("TableName", 5, "invalid type: integer `5`, expected a string"),
            ("SearchVector", {"N": "1"}, "invalid type: map, expected a sequence"),
        ):
            written = json.dumps(value, separators=(",", ":"))
            sent = body_text.replace(
                f'"{member}":{json.dumps(valid[member], separators=(",", ":"))}',
                f'"{member}":{written}',
            )
            stop = sent.index(f'"{member}":') + len(f'"{member}":')
            column = stop if isinstance(value, dict) else stop + len(written)
            assert with_body({**valid, member: value}) == (
                "SerializationException",
                f"{finding} at line 1 column {column}",
            )
        without_name = {k: v for k, v in valid.items() if k != "TableName"}
        for body in (without_name, {**without_name, "IndexName": "ab"}):
            code, message = with_body(body)
            assert code == "ValidationException"
            assert re.fullmatch(r"missing field `TableName` at line 1 column \d+", message)


def test_a_vector_is_billed_at_four_bytes_a_dimension_on_writes(hw: Headwater) -> None:
    ddb = hw.dynamodb
    ddb.create_table(**table_params(VectorIndexes=[vector_index()]))
    wide = "12345678901234567890123456789012345678"  # 20 bytes as a number, 4 billed

    def units(pk: str, billed: int) -> float:
        # pk (2) + key (2) + embedding (9) + 12 + pad (3) + padding = billed
        item = {
            "pk": {"S": pk},
            "embedding": {"L": vec(wide, wide, wide)},
            "pad": {"S": "x" * (billed - 2 - 2 - 9 - 12 - 3)},
        }
        capacity = ddb.put_item(TableName="vec", Item=item, ReturnConsumedCapacity="TOTAL")
        return float(capacity["ConsumedCapacity"]["CapacityUnits"])

    assert (units("a3", 1024), units("b3", 1025)) == (1.0, 2.0)
    # a read sizes the vector by its numbers: 3 + 3 * 21 bytes, not 12
    read = ddb.get_item(TableName="vec", Key={"pk": {"S": "a3"}}, ReturnConsumedCapacity="TOTAL")[
        "ConsumedCapacity"
    ]
    assert read["CapacityUnits"] == 0.5


def test_batches_transactions_and_partiql_bill_vector_writes_as_single_writes(
    hw: Headwater,
) -> None:
    """BatchWriteItem, TransactWriteItems, ExecuteStatement and ExecuteTransaction bill a
    vector at 4 bytes a dimension and report VectorWriteRequestBytes per vector index under
    INDEXES, as PutItem does (the developer guide lists BatchWriteItem and
    TransactWriteItems among the writes reporting it). A batch sums each index's figure
    over its requests, as it sums index units; a transaction doubles its units but not the
    bytes replicated to an index (headwater's reading: no capture of either)."""
    ddb = hw.dynamodb
    ddb.create_table(
        **table_params(
            VectorIndexes=[
                vector_index(),
                vector_index(IndexName="vkeys", Projection={"ProjectionType": "KEYS_ONLY"}),
            ]
        )
    )
    wide = "12345678901234567890123456789012345678"  # 20 bytes as a number, 4 billed

    def item(pk: str) -> dict[str, Any]:
        # 1024 bytes billed (pk 2 + key 2 + embedding 9 + 12 + pad 3 + padding), 1078 stored
        return {
            "pk": {"S": pk},
            "embedding": {"L": vec(wide, wide, wide)},
            "pad": {"S": "x" * (1024 - 2 - 2 - 9 - 12 - 3)},
        }

    floor = {"VectorWriteRequestBytes": 1024.0}
    (batch,) = ddb.batch_write_item(
        RequestItems={"vec": [{"PutRequest": {"Item": item(pk)}} for pk in ("b1", "b2")]},
        ReturnConsumedCapacity="INDEXES",
    )["ConsumedCapacity"]
    assert (batch["CapacityUnits"], batch["Table"]) == (2.0, {"CapacityUnits": 2.0})
    assert batch["VectorIndexes"] == {
        "vix": {"VectorWriteRequestBytes": 2048.0},
        "vkeys": {"VectorWriteRequestBytes": 2048.0},
    }
    (deleted,) = ddb.batch_write_item(
        RequestItems={"vec": [{"DeleteRequest": {"Key": {"pk": {"S": "b1"}}}}]},
        ReturnConsumedCapacity="INDEXES",
    )["ConsumedCapacity"]
    assert deleted["CapacityUnits"] == 1.0
    assert deleted["VectorIndexes"] == {"vix": floor, "vkeys": floor}
    (total,) = ddb.batch_write_item(
        RequestItems={"vec": [{"PutRequest": {"Item": item("b3")}}]},
        ReturnConsumedCapacity="TOTAL",
    )["ConsumedCapacity"]
    assert total == {"TableName": "vec", "CapacityUnits": 1.0}

    (transaction,) = ddb.transact_write_items(
        TransactItems=[{"Put": {"TableName": "vec", "Item": item("t1")}}],
        ReturnConsumedCapacity="INDEXES",
    )["ConsumedCapacity"]
    assert transaction["CapacityUnits"] == 2.0
    assert transaction["Table"] == {"CapacityUnits": 2.0, "WriteCapacityUnits": 2.0}
    assert transaction["VectorIndexes"] == {"vix": floor, "vkeys": floor}
    (unchanged,) = ddb.transact_write_items(
        TransactItems=[{"Put": {"TableName": "vec", "Item": item("t1")}}],
        ReturnConsumedCapacity="INDEXES",
    )["ConsumedCapacity"]
    assert unchanged["CapacityUnits"] == 2.0 and "VectorIndexes" not in unchanged

    statement = "INSERT INTO \"vec\" VALUE {'pk': ?, 'embedding': ?, 'pad': ?}"

    def parameters(pk: str) -> list[dict[str, Any]]:
        written = item(pk)
        return [written["pk"], written["embedding"], written["pad"]]

    single = ddb.execute_statement(
        Statement=statement, Parameters=parameters("s1"), ReturnConsumedCapacity="INDEXES"
    )["ConsumedCapacity"]
    assert single["CapacityUnits"] == 1.0
    assert single["VectorIndexes"] == {"vix": floor, "vkeys": floor}
    (partiql,) = ddb.execute_transaction(
        TransactStatements=[{"Statement": statement, "Parameters": parameters("s2")}],
        ReturnConsumedCapacity="INDEXES",
    )["ConsumedCapacity"]
    assert partiql["CapacityUnits"] == 2.0
    assert partiql["VectorIndexes"] == {"vix": floor, "vkeys": floor}


def test_batch_execute_statement_reports_vector_write_bytes(hw: Headwater) -> None:
    ddb = hw.dynamodb
    ddb.create_table(**table_params(VectorIndexes=[vector_index()]))
    statement = "INSERT INTO \"vec\" VALUE {'pk': ?, 'embedding': [1, 0, 0]}"
    (capacity,) = ddb.batch_execute_statement(
        Statements=[{"Statement": statement, "Parameters": [{"S": pk}]} for pk in "ab"],
        ReturnConsumedCapacity="INDEXES",
    )["ConsumedCapacity"]
    assert capacity == {
        "TableName": "vec",
        "CapacityUnits": 2.0,
        "Table": {"CapacityUnits": 2.0},
        "VectorIndexes": {"vix": {"VectorWriteRequestBytes": 2048.0}},
    }


def test_describe_table_keeps_vector_index_statistics_without_reading_the_items(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ItemCount and IndexSizeBytes of a vector index move with every kind of write and
    with UpdateTable's index changes, and DescribeTable answers them without reading the
    table's items (as it answers the table's own ItemCount and TableSizeBytes)."""

    def statistics(ddb: Any) -> dict[str, tuple[int, int]]:
        def no_scan(*_: Any, **__: Any) -> Any:
            raise AssertionError("DescribeTable read the items")

        with monkeypatch.context() as patched:
            patched.setattr(TableStore, "scan_items", no_scan)
            described = ddb.describe_table(TableName="vec")["Table"].get("VectorIndexes", [])
        return {i["IndexName"]: (i["ItemCount"], i["IndexSizeBytes"]) for i in described}

    def entry(pk: str, *numbers: float, **more: Any) -> dict[str, Any]:
        return {"pk": {"S": pk}, "embedding": {"L": vec(*numbers)}, **more}

    with Headwater(tmp_path / "data") as hw:
        ddb = hw.dynamodb
        ddb.create_table(
            **table_params(
                VectorIndexes=[
                    vector_index(),
                    vector_index(IndexName="vkeys", Projection={"ProjectionType": "KEYS_ONLY"}),
                ]
            )
        )
        assert statistics(ddb) == {"vix": (0, 0), "vkeys": (0, 0)}
        ddb.put_item(TableName="vec", Item=entry("a", 1, 0, 0, note={"S": "n"}))
        ddb.put_item(TableName="vec", Item={"pk": {"S": "plain"}, "note": {"S": "no vector"}})
        # pk (2 + 1) + embedding (9 + 3 + 1 + 2 + 1 + 1 + 1 + 1) + note (4 + 1)
        assert statistics(ddb) == {"vix": (1, 27), "vkeys": (1, 22)}
        ddb.update_item(
            TableName="vec",
            Key={"pk": {"S": "a"}},
            UpdateExpression="SET note = :n",
            ExpressionAttributeValues={":n": {"S": "longer"}},
        )
        assert statistics(ddb) == {"vix": (1, 32), "vkeys": (1, 22)}
        ddb.batch_write_item(
            RequestItems={"vec": [{"PutRequest": {"Item": entry(p, 0, 1, 0)}} for p in "bc"]}
        )
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": "vec", "Item": entry("d", 0, 0, 1)}},
                {"Delete": {"TableName": "vec", "Key": {"pk": {"S": "b"}}}},
            ]
        )
        ddb.execute_statement(Statement="DELETE FROM \"vec\" WHERE pk = 'c'")
        assert statistics(ddb) == {"vix": (2, 32 + 22), "vkeys": (2, 44)}
        # an index added to a table with items counts them at once; a deleted one goes
        ddb.update_table(
            TableName="vec",
            AttributeDefinitions=[{"AttributeName": "tag", "AttributeType": "S"}],
            VectorIndexUpdates=[
                {
                    "Create": vector_index(
                        IndexName="vtag",
                        SearchSchema=[{"AttributeName": "tag", "SearchSchemaElementType": "HASH"}],
                    )
                }
            ],
        )
        ddb.update_table(TableName="vec", VectorIndexUpdates=[{"Delete": {"IndexName": "vkeys"}}])
        assert statistics(ddb) == {"vix": (2, 54), "vtag": (0, 0)}
        ddb.put_item(TableName="vec", Item=entry("d", 0, 0, 1, tag={"S": "t"}))
        assert statistics(ddb) == {"vix": (2, 58), "vtag": (1, 26)}
    with Headwater(tmp_path / "data") as hw:
        assert statistics(hw.dynamodb) == {"vix": (2, 58), "vtag": (1, 26)}
        # a table stored before the statistics were kept has them counted when asked
        store = hw.service("dynamodb").store
        with store.db.transaction():
            store.replace_vector_stats(store.table("000000000000", "us-east-1", "vec").id, {})
        described = hw.dynamodb.describe_table(TableName="vec")["Table"]["VectorIndexes"]
        assert [(i["ItemCount"], i["IndexSizeBytes"]) for i in described] == [(2, 58), (1, 26)]


def test_table_size_counts_a_vector_at_its_billed_size(hw: Headwater) -> None:
    """TableSizeBytes follows the write billing: a vector an index holds counts as its
    name plus 4 bytes a dimension (a conformance suite's capture against eu-west-2 and
    us-east-1, 2026-10-09); once no index reads the attribute, its numbers count."""
    ddb = hw.dynamodb
    ddb.create_table(**table_params(VectorIndexes=[vector_index()]))
    wide = "12345678901234567890123456789012345678"  # 20 bytes as a number, 4 billed

    def table_size() -> int:
        return int(ddb.describe_table(TableName="vec")["Table"]["TableSizeBytes"])

    # 1024 bytes billed (pk 2 + key 2 + embedding 9 + 12 + pad 3 + padding), 1078 stored
    item = {
        "pk": {"S": "a3"},
        "embedding": {"L": vec(wide, wide, wide)},
        "pad": {"S": "x" * (1024 - 2 - 2 - 9 - 12 - 3)},
    }
    ddb.put_item(TableName="vec", Item=item)
    # a list no index reads is sized by its numbers
    ddb.put_item(TableName="vec", Item={"pk": {"S": "p"}, "other": {"L": vec(wide)}})
    assert table_size() == 1024 + (3 + 5 + 3 + 21)
    ddb.update_item(
        TableName="vec",
        Key={"pk": {"S": "a3"}},
        UpdateExpression="SET embedding = :v",
        ExpressionAttributeValues={":v": {"L": vec(1, 0, 0)}},
    )
    assert table_size() == 1024 + 32
    ddb.delete_item(TableName="vec", Key={"pk": {"S": "p"}})
    assert table_size() == 1024
    ddb.put_item(TableName="vec", Item=item)
    ddb.update_table(TableName="vec", VectorIndexUpdates=[{"Delete": {"IndexName": "vix"}}])
    assert table_size() == 1024 - 12 + (3 + 3 * 21)


def test_vector_indexes_are_stored_with_the_table(tmp_path: Path) -> None:
    with Headwater(tmp_path / "data") as hw:
        hw.dynamodb.create_table(**table_params(VectorIndexes=[vector_index()]))
        hw.dynamodb.put_item(
            TableName="vec", Item={"pk": {"S": "a"}, "embedding": {"L": vec(0, 0, 2)}}
        )
    with Headwater(tmp_path / "data") as hw:
        ddb = hw.dynamodb
        (described,) = ddb.describe_table(TableName="vec")["Table"]["VectorIndexes"]
        assert (described["IndexName"], described["ItemCount"]) == ("vix", 1)
        assert ranked(search(ddb, "vix", 0, 0, 1)) == [("a", 0.0)]
        # PartiQL writes are held to the index too
        assert error_of(
            ddb.execute_statement,
            Statement="INSERT INTO \"vec\" VALUE {'pk': 'b', 'embedding': [1, 2]}",
        ) == (
            "ValidationException",
            "One or more parameter values were invalid. Invalid size for parameter embedding, "
            "Expected: 3, Actual: 2 IndexName: vix",
        )
