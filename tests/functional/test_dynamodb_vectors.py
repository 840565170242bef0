"""DynamoDB vector indexes: CreateTable / UpdateTable request checks."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from headwater import Headwater


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


def test_vector_indexes_are_refused_not_dropped(hw: Headwater) -> None:
    ddb = hw.dynamodb
    assert error_of(ddb.create_table, **table_params(VectorIndexes=[vector_index()])) == (
        "ValidationException",
        "Vector indexes are not supported by headwater",
    )
    assert ddb.list_tables()["TableNames"] == []
