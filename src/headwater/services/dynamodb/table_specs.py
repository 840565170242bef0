"""CreateTable / UpdateTable input checked as AWS checks it, and a table's stored spec.

The spec is the JSON document kept per table: the parts of ``TableDescription`` that do
not change by themselves (key schema, indexes, billing, stream, SSE, class, tags, TTL and
backup settings). ``describe`` turns it into AWS's ``TableDescription``.
"""

from __future__ import annotations

import re
from typing import Any

from headwater.core.errors import validation_error
from headwater.core.expressions.values import invalid, validation

NAME_PATTERN = re.compile(r"[a-zA-Z0-9_.-]+")
KEY_TYPES = ("S", "N", "B")
PROJECTIONS = ("ALL", "KEYS_ONLY", "INCLUDE")
VIEW_TYPES = ("NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY")
MAX_GSI = 20
MAX_LSI = 5


def check_name(value: Any, member: str = "tableName") -> None:
    """Table / index names: 3-255 characters of ``[a-zA-Z0-9_.-]``."""
    errors: list[str] = []
    shown = f"'{value}'"
    if len(value) < 3:
        errors.append(
            f"Value {shown} at '{member}' failed to satisfy constraint: Member must have "
            "length greater than or equal to 3"
        )
    if len(value) > 255:
        errors.append(
            f"Value {shown} at '{member}' failed to satisfy constraint: Member must have "
            "length less than or equal to 255"
        )
    if not NAME_PATTERN.fullmatch(value):
        errors.append(
            f"Value {shown} at '{member}' failed to satisfy constraint: Member must satisfy "
            "regular expression pattern: [a-zA-Z0-9_.-]+"
        )
    if errors:
        count = len(errors)
        raise validation(
            f"{count} validation error{'s' if count > 1 else ''} detected: {'; '.join(errors)}"
        )


def _key_elements(elements: list[dict[str, str]], where: str) -> None:
    if not elements or len(elements) > 2:
        raise validation_error(
            "[" + ", ".join(str(e) for e in elements) + "]",
            where,
            "Member must have length less than or equal to 2"
            if elements
            else "Member must have length greater than or equal to 1",
        )
    if elements[0].get("KeyType") != "HASH":
        raise validation("Invalid KeySchema: The first KeySchemaElement is not a HASH key type")
    if len(elements) == 2:
        if elements[1].get("KeyType") != "RANGE":
            raise validation(
                "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type"
            )
        if elements[0]["AttributeName"] == elements[1]["AttributeName"]:
            raise validation(
                "Both the Hash Key and the Range Key element in the KeySchema have the same name"
            )


def _throughput(value: dict[str, Any] | None, billing: str, index: str | None) -> dict[str, Any]:
    if billing == "PAY_PER_REQUEST":
        if value:
            raise invalid(
                "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when "
                "BillingMode is PAY_PER_REQUEST"
            )
        return {"NumberOfDecreasesToday": 0, "ReadCapacityUnits": 0, "WriteCapacityUnits": 0}
    if not value:
        if index is not None:
            raise invalid(f"ProvisionedThroughput must be specified for index: {index}")
        raise invalid(
            "ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode "
            "is PROVISIONED"
        )
    for member in ("ReadCapacityUnits", "WriteCapacityUnits"):
        units = value.get(member)
        if units is None or units < 1:
            raise validation_error(
                units,
                f"provisionedThroughput.{member[0].lower() + member[1:]}",
                "Member must have value greater than or equal to 1",
            )
    return {
        "NumberOfDecreasesToday": 0,
        "ReadCapacityUnits": value["ReadCapacityUnits"],
        "WriteCapacityUnits": value["WriteCapacityUnits"],
    }


def _projection(projection: dict[str, Any]) -> dict[str, Any]:
    kind = projection.get("ProjectionType")
    non_key = projection.get("NonKeyAttributes")
    if kind is None:
        raise invalid("Unknown ProjectionType: null")
    if kind not in PROJECTIONS:
        raise validation_error(
            kind, "projection.projectionType",
            "Member must satisfy enum value set: [ALL, INCLUDE, KEYS_ONLY]",
        )  # fmt: skip
    if kind == "INCLUDE" and not non_key:
        raise invalid("ProjectionType is INCLUDE, but NonKeyAttributes is not specified")
    if kind != "INCLUDE" and non_key is not None:
        raise invalid(f"ProjectionType is {kind}, but NonKeyAttributes is specified")
    result: dict[str, Any] = {"ProjectionType": kind}
    if non_key:
        result["NonKeyAttributes"] = list(non_key)
    return result


def index_spec(
    index: dict[str, Any],
    kind: str,
    billing: str,
    table_keys: list[dict[str, str]],
    defined: set[str],
) -> dict[str, Any]:
    """One GSI or LSI of CreateTable / UpdateTable, checked."""
    name = index["IndexName"]
    check_name(name, "indexName")
    keys = index["KeySchema"]
    _key_elements(keys, "keySchema")
    missing = [k["AttributeName"] for k in keys if k["AttributeName"] not in defined]
    if missing:
        raise invalid(
            "Some index key attributes are not defined in AttributeDefinitions. "
            f"Keys: [{', '.join(missing)}], AttributeDefinitions: [{', '.join(sorted(defined))}]"
        )
    spec: dict[str, Any] = {
        "IndexName": name,
        "KeySchema": [{"AttributeName": k["AttributeName"], "KeyType": k["KeyType"]} for k in keys],
        "Projection": _projection(index.get("Projection") or {}),
    }
    if kind == "LSI":
        if len(table_keys) < 2:
            raise invalid(
                "Table KeySchema does not have a range key, which is required when specifying "
                "a LocalSecondaryIndex"
            )
        if keys[0]["AttributeName"] != table_keys[0]["AttributeName"]:
            raise invalid(
                "Index KeySchema does not have the same leading hash key as table KeySchema for "
                f"index: {name}. index hash key: {keys[0]['AttributeName']}, table hash key: "
                f"{table_keys[0]['AttributeName']}"
            )
        if len(keys) < 2:
            raise invalid(f"Index KeySchema must have a range key for index: {name}")
    else:
        spec["ProvisionedThroughput"] = _throughput(
            index.get("ProvisionedThroughput"), billing, name
        )
    return spec


def table_spec(params: dict[str, Any], arn: str, table_id: str, now: float) -> dict[str, Any]:
    """The stored spec of a new table, from CreateTable's params (raises AWS's errors)."""
    definitions = params["AttributeDefinitions"]
    keys = params["KeySchema"]
    _key_elements(keys, "keySchema")
    types: dict[str, str] = {}
    for definition in definitions:
        kind = definition["AttributeType"]
        if kind not in KEY_TYPES:
            raise validation_error(
                kind, "attributeDefinitions.member.attributeType",
                "Member must satisfy enum value set: [B, N, S]",
            )  # fmt: skip
        if definition["AttributeName"] in types:
            raise invalid(f"Duplicate AttributeName: {definition['AttributeName']}")
        types[definition["AttributeName"]] = kind
    defined = set(types)
    missing = [k["AttributeName"] for k in keys if k["AttributeName"] not in defined]
    if missing:
        raise invalid(
            "Some index key attributes are not defined in AttributeDefinitions. "
            f"Keys: [{', '.join(missing)}], AttributeDefinitions: [{', '.join(types)}]"
        )
    billing = params.get("BillingMode") or "PROVISIONED"
    spec: dict[str, Any] = {
        "TableName": params["TableName"],
        "TableArn": arn,
        "TableId": table_id,
        "CreationDateTime": now,
        "AttributeDefinitions": [
            {"AttributeName": d["AttributeName"], "AttributeType": d["AttributeType"]}
            for d in definitions
        ],
        "KeySchema": [{"AttributeName": k["AttributeName"], "KeyType": k["KeyType"]} for k in keys],
        "BillingMode": billing,
        "ProvisionedThroughput": _throughput(params.get("ProvisionedThroughput"), billing, None),
        "DeletionProtectionEnabled": bool(params.get("DeletionProtectionEnabled", False)),
    }
    if billing == "PAY_PER_REQUEST":
        spec["LastUpdateToPayPerRequestDateTime"] = now
    used = {k["AttributeName"] for k in keys}
    names: set[str] = set()
    for field, kind, limit in (
        ("LocalSecondaryIndexes", "LSI", MAX_LSI),
        ("GlobalSecondaryIndexes", "GSI", MAX_GSI),
    ):
        given = params.get(field)
        if given is None:
            continue
        if not given:
            raise invalid(f"List of {field} is empty")
        if len(given) > limit:
            raise invalid(f"{field} count has exceeded the maximum allowed count of {limit}")
        indexes = []
        for index in given:
            if index["IndexName"] in names:
                raise invalid(f"Duplicate index name: {index['IndexName']}")
            names.add(index["IndexName"])
            indexes.append(index_spec(index, kind, billing, keys, defined))
            used.update(k["AttributeName"] for k in index["KeySchema"])
        spec[field] = indexes
    if len(used) != len(types):
        raise invalid(
            "Number of attributes in KeySchema does not exactly match number of attributes "
            "defined in AttributeDefinitions"
        )
    stream = params.get("StreamSpecification")
    if stream is not None:
        spec["StreamSpecification"] = stream_specification(stream)
    sse = params.get("SSESpecification")
    if sse is not None and sse.get("Enabled"):
        spec["SSEDescription"] = sse_description(sse, arn)
    if params.get("TableClass"):
        spec["TableClassSummary"] = {"TableClass": params["TableClass"]}
    if params.get("WarmThroughput"):
        spec["WarmThroughput"] = dict(params["WarmThroughput"])
    if params.get("OnDemandThroughput"):
        spec["OnDemandThroughput"] = dict(params["OnDemandThroughput"])
    spec["Tags"] = [dict(t) for t in params.get("Tags") or []]
    return spec


def stream_specification(stream: dict[str, Any]) -> dict[str, Any]:
    if not stream.get("StreamEnabled"):
        if stream.get("StreamViewType"):
            raise invalid("Stream is not enabled but a StreamViewType was specified")
        return {"StreamEnabled": False}
    view = stream.get("StreamViewType")
    if view is None:
        raise invalid("You must specify a StreamViewType when enabling a stream")
    if view not in VIEW_TYPES:
        raise validation_error(
            view, "streamSpecification.streamViewType",
            "Member must satisfy enum value set: [NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES, "
            "KEYS_ONLY]",
        )  # fmt: skip
    return {"StreamEnabled": True, "StreamViewType": view}


def sse_description(sse: dict[str, Any], table_arn: str) -> dict[str, Any]:
    """SSE with KMS (AWS-managed key unless one is named): settings are stored, not used."""
    parts = table_arn.split(":")
    key = sse.get("KMSMasterKeyId") or "alias/aws/dynamodb"
    if not key.startswith("arn:"):
        key = f"arn:aws:kms:{parts[3]}:{parts[4]}:key/{_stable_uuid(key + parts[4])}"
    return {"Status": "ENABLED", "SSEType": sse.get("SSEType") or "KMS", "KMSMasterKeyArn": key}


def _stable_uuid(seed: str) -> str:
    import hashlib
    import uuid

    return str(uuid.UUID(bytes=hashlib.md5(seed.encode(), usedforsecurity=False).digest()))
