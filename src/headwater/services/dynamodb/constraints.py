"""The member constraints AWS checks before a Query, Scan or batch reaches its table.

AWS reports every broken constraint of a request in one message ("2 validation errors
detected: ...; ..."), in its own member order (the order below, as AWS answers it), and
lists an enum's values in its own order too (not the botocore model's).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from typing import Any

from headwater.core.errors import constraint_finding, length_rule, validation_errors
from headwater.core.expressions.values import validation

SELECTS = ("SPECIFIC_ATTRIBUTES", "COUNT", "ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES")
CAPACITY_MODES = ("INDEXES", "TOTAL", "NONE")
METRICS_MODES = ("SIZE", "NONE")
CONDITIONAL_OPERATORS = ("OR", "AND")
COMPARISON_OPERATORS = (
    "IN", "NULL", "BETWEEN", "LT", "NOT_CONTAINS", "EQ", "GT", "NOT_NULL", "NE", "LE",
    "BEGINS_WITH", "GE", "CONTAINS",
)  # fmt: skip
INDEX_NAME = re.compile(r"[a-zA-Z0-9_.-]+")
MAX_TOTAL_SEGMENTS = 1_000_000


def _enum(findings: list[str], value: Any, member: str, allowed: tuple[str, ...]) -> None:
    if value is not None and value not in allowed:
        findings.append(
            constraint_finding(
                value, member, f"Member must satisfy enum value set: [{', '.join(allowed)}]"
            )
        )


def length_finding(
    entries: list[Any], most: int, *, member: str, long_member: str | None = None
) -> str | None:
    """The request model's length finding on a list of 1 to ``most`` entries, if broken.

    An empty list is echoed (thirty of thirty-three regions, 2026-10-08 captures); a long
    one is named, not echoed: the older form echoes every entry in Java's toString, the
    validation framework AWS is rolling out names the member (``long_member``, which it
    capitalises for some members), and that form is kept here."""
    rule = length_rule(len(entries), most)
    if rule is None:
        return None
    if not entries:
        return constraint_finding("[]", member, rule)
    return f"Value at '{long_member or member}' failed to satisfy constraint: {rule}"


def _return_modes(findings: list[str], params: Mapping[str, Any], *, metrics: bool) -> None:
    """ReturnConsumedCapacity, and a write's ReturnItemCollectionMetrics, in that order."""
    _enum(findings, params.get("ReturnConsumedCapacity"), "returnConsumedCapacity", CAPACITY_MODES)
    if metrics:
        _enum(
            findings,
            params.get("ReturnItemCollectionMetrics"),
            "returnItemCollectionMetrics",
            METRICS_MODES,
        )


def _within(
    findings: list[str], value: Any, member: str, low: int, high: int | None = None
) -> None:
    if value is None:
        return
    if value < low:
        findings.append(
            constraint_finding(
                value, member, f"Member must have value greater than or equal to {low}"
            )
        )
    elif high is not None and value > high:
        findings.append(
            constraint_finding(
                value, member, f"Member must have value less than or equal to {high}"
            )
        )


def _conditions(findings: list[str], conditions: Any, member: str) -> None:
    """Each legacy condition's ComparisonOperator: present, and one AWS knows."""
    if not isinstance(conditions, dict):
        return
    for name, condition in conditions.items():
        where = f"{member}.{name}.member.comparisonOperator"
        operator = condition.get("ComparisonOperator") if isinstance(condition, dict) else None
        if operator is None:
            findings.append(constraint_finding(None, where, "Member must not be null"))
        else:
            _enum(findings, operator, where, COMPARISON_OPERATORS)


def _index_name(findings: list[str], value: Any) -> None:
    if value is None:
        return
    if len(value) < 3:
        findings.append(
            constraint_finding(
                value, "indexName", "Member must have length greater than or equal to 3"
            )
        )
    if len(value) > 255:
        findings.append(
            constraint_finding(
                value, "indexName", "Member must have length less than or equal to 255"
            )
        )
    if not INDEX_NAME.fullmatch(value):
        findings.append(
            constraint_finding(
                value,
                "indexName",
                "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
            )
        )


def check_read(params: Mapping[str, Any], kind: str) -> None:
    """A Query's or Scan's member constraints (``kind`` is "Query" or "Scan")."""
    operator = params.get("ConditionalOperator")
    query_filter = params.get("QueryFilter") if kind == "Query" else None
    if (
        operator is not None
        and operator not in CONDITIONAL_OPERATORS
        and isinstance(query_filter, dict)
        and len(query_filter) >= 2
    ):
        # With the conditions it would join, AWS answers an unknown ConditionalOperator
        # bare and alone, listing the enum as the newer model has it (us-east-1 and
        # eu-west-2, 2026-10-09, a conformance suite); without them it is one more member
        # error below.
        raise validation(
            "Failed to satisfy constraint: Member must satisfy enum value set: [ALL, OR]"
        )
    findings: list[str] = []
    _enum(findings, params.get("Select"), "select", SELECTS)
    _index_name(findings, params.get("IndexName"))
    if kind == "Scan":
        _within(findings, params.get("TotalSegments"), "totalSegments", 1, MAX_TOTAL_SEGMENTS)
    _enum(findings, params.get("ReturnConsumedCapacity"), "returnConsumedCapacity", CAPACITY_MODES)
    if kind == "Query":
        _conditions(findings, params.get("QueryFilter"), "queryFilter")
    _enum(
        findings,
        params.get("ConditionalOperator"),
        "conditionalOperator",
        CONDITIONAL_OPERATORS,
    )
    if kind == "Scan":
        _conditions(findings, params.get("ScanFilter"), "scanFilter")
        _within(findings, params.get("Segment"), "segment", 0, MAX_TOTAL_SEGMENTS - 1)
    if kind == "Query":
        _attributes_to_get(findings, params)
    limit = params.get("Limit")
    if kind == "Query" and limit is not None and limit < 1:
        # Query's Limit has crossed to the validation framework's wording (the member
        # named, no value), a conformance suite pins it against live AWS in 2026; Scan's
        # keeps the echo.
        findings.append(
            "Value at 'Limit' failed to satisfy constraint: "
            "Member must have value greater than or equal to 1"
        )
    elif kind == "Scan":
        _within(findings, limit, "limit", 1)
    if kind == "Scan":
        _attributes_to_get(findings, params)
    if kind == "Query":
        _conditions(findings, params.get("KeyConditions"), "keyConditions")
    if findings:
        raise validation_errors(findings)


def _attributes_to_get(findings: list[str], params: Mapping[str, Any]) -> None:
    if params.get("AttributesToGet") == []:
        findings.append(
            constraint_finding(
                "[]", "attributesToGet", "Member must have length greater than or equal to 1"
            )
        )


TABLE_NAME = re.compile(r"[a-zA-Z0-9_.-]{3,255}")
TABLE_NAME_KEYS = (
    "Map keys must satisfy constraint: [Member must have length less than or equal to 255, "
    "Member must have length greater than or equal to 3, "
    "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+]"
)
MAX_BATCH_GET_KEYS = 100


def check_batch(params: Mapping[str, Any], writes: bool) -> None:
    """BatchWriteItem's (``writes``) or BatchGetItem's member constraints, before any table.

    As AWS answers them (us-east-1 and eu-west-2, 2026-10-09, a conformance suite's
    captures): BatchGetItem reports its RequestItems' constraints together with the
    enums'; BatchWriteItem reports the enums alone, then a malformed table name.
    """
    findings: list[str] = []
    requests = params.get("RequestItems")
    names_fit = not isinstance(requests, dict) or all(
        isinstance(name, str) and TABLE_NAME.fullmatch(name) for name in requests
    )
    if not writes and isinstance(requests, dict):
        if not requests:
            # BatchGetItem has crossed to the validation framework's wording in every
            # region but one (the suite's 2026-09-02 sweep).
            findings.append(
                "Value at 'RequestItems' failed to satisfy constraint: "
                "Member must have length greater than or equal to 1"
            )
        elif not names_fit:
            findings.append(
                constraint_finding(_json_shown(requests), "requestItems", TABLE_NAME_KEYS)
            )
        for name, request in requests.items():
            keys = request.get("Keys") if isinstance(request, dict) else None
            rule = length_rule(len(keys), MAX_BATCH_GET_KEYS) if isinstance(keys, list) else None
            if rule is not None:
                findings.append(
                    f"Value at 'RequestItems.{name}.member.Keys' failed to satisfy constraint: "
                    f"{rule}"
                )
    _return_modes(findings, params, metrics=True)
    if findings:
        raise validation_errors(findings)
    if writes and isinstance(requests, dict):
        if not requests:
            # Most regions' answer (a conformance suite's capture of all 33, 2026-10-07);
            # a few have moved to the validation framework's member wording.
            raise validation("The requestItems parameter is required for BatchWriteItem")
        if not names_fit:
            findings.append(
                constraint_finding(java_shown_writes(requests), "requestItems", TABLE_NAME_KEYS)
            )
        if findings:
            raise validation_errors(findings)


def _json_shown(value: Any) -> str:
    """A request member as AWS's BatchGetItem messages echo it: compact JSON."""
    return json.dumps(value, separators=(",", ":"), default=_json_bytes)


def _json_bytes(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    raise TypeError


#: The fields of AWS's Java AttributeValue, in the order its toString lists them (captured
#: from eu-west-2 by a conformance suite, 2026-09-20).
JAVA_ATTRIBUTE_FIELDS = (
    ("s", "S"), ("n", "N"), ("b", "B"), ("iNT", None), ("dECIMAL", None), ("dOUBLE", None),
    ("sS", "SS"), ("nS", "NS"), ("bS", "BS"), ("iNTSET", None), ("dECIMALSET", None),
    ("dOUBLESET", None), ("m", "M"), ("l", "L"), ("nULL", "NULL"), ("bOOL", "BOOL"),
)  # fmt: skip


def java_shown_writes(requests: Mapping[str, Any]) -> str:
    """BatchWriteItem's RequestItems as AWS echoes them in its length and table-name
    messages: Java's toString of the request objects, every field of each attribute value
    listed (26 of 33 regions; seven show JVM object identities instead)."""

    def scalar(inner: Any) -> str:
        if isinstance(inner, bytes | bytearray):
            return f"java.nio.HeapByteBuffer[pos=0 lim={len(inner)} cap={len(inner)}]"
        if isinstance(inner, bool):
            return "true" if inner else "false"
        return str(inner)

    def value(attribute: Any) -> str:
        # An empty value ({}) shows every field null, as Java's toString of it does.
        kind, inner = (
            next(iter(attribute.items()), ("", None)) if isinstance(attribute, dict) else ("", None)
        )
        fields = []
        for field, wire in JAVA_ATTRIBUTE_FIELDS:
            if wire is None or wire != kind:
                fields.append(f"{field}=null")
            elif kind == "M" and isinstance(inner, dict):
                fields.append(f"{field}={item(inner)}")
            elif kind in ("L", "SS", "NS", "BS") and isinstance(inner, list):
                shown = (value(v) for v in inner) if kind == "L" else (scalar(v) for v in inner)
                fields.append(f"{field}=[{', '.join(shown)}]")
            else:
                fields.append(f"{field}={scalar(inner)}")
        return f"AttributeValue({', '.join(fields)})"

    def item(attributes: Any) -> str:
        if not isinstance(attributes, dict):
            return "null"
        return "{" + ", ".join(f"{k}={value(v)}" for k, v in attributes.items()) + "}"

    def write_request(entry: Any) -> str:
        entry = entry if isinstance(entry, dict) else {}
        put, delete = entry.get("PutRequest"), entry.get("DeleteRequest")
        shown_put = (
            "null"
            if not isinstance(put, dict)
            else f"PutRequest(item={item(put.get('Item'))}, workloadProfileName=null)"
        )
        shown_delete = (
            "null"
            if not isinstance(delete, dict)
            else f"DeleteRequest(key={item(delete.get('Key'))}, workloadProfileName=null)"
        )
        return f"WriteRequest(putRequest={shown_put}, deleteRequest={shown_delete})"

    tables = []
    for name, entries in requests.items():
        listed = entries if isinstance(entries, list) else []
        tables.append(f"{name}=[" + ", ".join(write_request(e) for e in listed) + "]")
    return "{" + ", ".join(tables) + "}"


MAX_TRANSACT_ITEMS = 100
MAX_CLIENT_REQUEST_TOKEN = 36


def check_transaction(params: Mapping[str, Any], writes: bool) -> None:
    """TransactWriteItems' (``writes``) or TransactGetItems' member constraints.

    AWS checks these before it reads an action, looks up a table or looks for a duplicate
    target, so a request that breaks one writes nothing.
    """
    findings: list[str] = []
    actions = params.get("TransactItems")
    if isinstance(actions, list):
        finding = length_finding(
            actions, MAX_TRANSACT_ITEMS, member="transactItems", long_member="TransactItems"
        )
        if finding is not None:
            findings.append(finding)
    token = params.get("ClientRequestToken") if writes else None
    rule = length_rule(len(token), MAX_CLIENT_REQUEST_TOKEN) if isinstance(token, str) else None
    if rule is not None:
        findings.append(constraint_finding(token, "clientRequestToken", rule))
    _return_modes(findings, params, metrics=writes)
    if findings:
        raise validation_errors(findings)
