"""Table set-ups shared by the DynamoDB tests."""

from __future__ import annotations

from typing import Any


def create_table(
    ddb: Any,
    name: str = "items",
    *,
    hash_key: tuple[str, str] = ("pk", "S"),
    range_key: tuple[str, str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A PAY_PER_REQUEST table with the given keys (extra: indexes, stream, attributes)."""
    keys = [{"AttributeName": hash_key[0], "KeyType": "HASH"}]
    definitions = {hash_key[0]: hash_key[1]}
    if range_key is not None:
        keys.append({"AttributeName": range_key[0], "KeyType": "RANGE"})
        definitions[range_key[0]] = range_key[1]
    definitions.update(extra.pop("attributes", {}))
    result: dict[str, Any] = ddb.create_table(
        TableName=name,
        KeySchema=keys,
        AttributeDefinitions=[
            {"AttributeName": n, "AttributeType": t} for n, t in definitions.items()
        ],
        BillingMode="PAY_PER_REQUEST",
        **extra,
    )
    return result


def gsi(
    name: str,
    hash_key: str,
    range_key: str | None = None,
    projection: str = "ALL",
    non_key: tuple[str, ...] = (),
) -> dict[str, Any]:
    keys = [{"AttributeName": hash_key, "KeyType": "HASH"}]
    if range_key is not None:
        keys.append({"AttributeName": range_key, "KeyType": "RANGE"})
    spec: dict[str, Any] = {"ProjectionType": projection}
    if non_key:
        spec["NonKeyAttributes"] = list(non_key)
    return {"IndexName": name, "KeySchema": keys, "Projection": spec}


def lsi(
    name: str, range_key: str, projection: str = "ALL", non_key: tuple[str, ...] = ()
) -> dict[str, Any]:
    """A local secondary index of a table whose hash key is ``pk`` (a GSI's shape)."""
    return gsi(name, "pk", range_key, projection, non_key)
