"""Properties: conditional writes and transactions agree with a dict model; paging returns
every item exactly once, in DynamoDB's order."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from headwater import Headwater, ManualClock
from tests.functional.dynamodb_tables import create_table

KEYS = ["a", "b", "c", "d"]

put = st.tuples(
    st.just("put"),
    st.sampled_from(KEYS),
    st.integers(0, 3),
    st.sampled_from(["none", "absent", "eq"]),
    st.integers(0, 3),
)
add = st.tuples(
    st.just("add"),
    st.sampled_from(KEYS),
    st.integers(-2, 2),
    st.sampled_from(["none", "exists", "lt"]),
    st.integers(0, 3),
)
delete = st.tuples(
    st.just("delete"),
    st.sampled_from(KEYS),
    st.just(0),
    st.sampled_from(["none", "eq"]),
    st.integers(0, 3),
)
transact = st.tuples(
    st.just("transact"),
    st.lists(
        st.tuples(
            st.sampled_from(KEYS),
            st.integers(0, 3),
            st.sampled_from(["none", "absent", "eq"]),
            st.integers(0, 3),
        ),
        min_size=1,
        max_size=3,
        unique_by=lambda t: t[0],
    ),
)
operations = st.lists(st.one_of(put, add, delete, transact), max_size=25)


def holds(model: dict[str, int], name: str, kind: str, operand: int) -> bool:
    value = model.get(name)
    if kind == "none":
        return True
    if kind == "absent":
        return value is None
    if kind == "exists":
        return value is not None
    if kind == "eq":
        return value == operand
    return value is not None and value < operand  # lt


def condition(kind: str, operand: int) -> dict[str, Any]:
    if kind == "none":
        return {}
    if kind == "absent":
        return {"ConditionExpression": "attribute_not_exists(pk)"}
    if kind == "exists":
        return {"ConditionExpression": "attribute_exists(pk)"}
    op = "=" if kind == "eq" else "<"
    return {
        "ConditionExpression": f"v {op} :c",
        "ExpressionAttributeValues": {":c": {"N": str(operand)}},
    }


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations)
def test_conditional_writes_and_transactions_match_a_model(ops: list[Any]) -> None:
    with Headwater.in_memory(clock=ManualClock()) as hw:
        ddb = hw.dynamodb
        create_table(
            ddb,
            "model",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        model: dict[str, int] = {}
        changes = 0
        for op in ops:
            if op[0] == "transact":
                ok = all(holds(model, name, kind, c) for name, _, kind, c in op[1])
                items = []
                for name, value, kind, c in op[1]:
                    cond = condition(kind, c)
                    items.append(
                        {
                            "Put": {
                                "TableName": "model",
                                "Item": {"pk": {"S": name}, "v": {"N": str(value)}},
                                **cond,
                            }
                        }
                    )
                try:
                    ddb.transact_write_items(TransactItems=items)
                    assert ok
                    for name, value, _, _ in op[1]:
                        changes += model.get(name) != value or name not in model
                        model[name] = value
                except ddb.exceptions.TransactionCanceledException as error:
                    assert not ok
                    reasons = error.response["CancellationReasons"]
                    assert [r["Code"] == "None" for r in reasons] == [
                        holds(model, n, k, c) for n, _, k, c in op[1]
                    ]
                continue
            verb, name, value, kind, c = op
            ok = holds(model, name, kind, c)
            key = {"pk": {"S": name}}
            try:
                if verb == "put":
                    ddb.put_item(
                        TableName="model",
                        Item={**key, "v": {"N": str(value)}},
                        **condition(kind, c),
                    )
                elif verb == "add":
                    params = condition(kind, c)
                    params.setdefault("ExpressionAttributeValues", {})[":d"] = {"N": str(value)}
                    ddb.update_item(
                        TableName="model", Key=key, UpdateExpression="ADD v :d", **params
                    )
                else:
                    ddb.delete_item(TableName="model", Key=key, **condition(kind, c))
                assert ok
            except ClientError as error:
                assert error.response["Error"]["Code"] == "ConditionalCheckFailedException"
                assert not ok
                continue
            before = model.get(name)
            if verb == "put":
                model[name] = value
            elif verb == "add":
                model[name] = model.get(name, 0) + value
            else:
                model.pop(name, None)
            changes += before != model.get(name) or (before is None) != (name not in model)
        stored = {i["pk"]["S"]: int(i["v"]["N"]) for i in ddb.scan(TableName="model")["Items"]}
        assert stored == model
        arn = ddb.describe_table(TableName="model")["Table"]["LatestStreamArn"]
        records = hw.service("dynamodb").feed.read(arn)
        assert [r.sequence for r in records] == list(range(1, len(records) + 1))
        # replaying the feed's new images rebuilds the table
        replay: dict[str, int] = {}
        for record in records:
            name = record.keys["pk"]["S"]
            if record.new_image is None:
                replay.pop(name, None)
            else:
                replay[name] = int(record.new_image["v"]["N"])
        assert replay == model


sort_numbers = st.decimals(min_value=-(10**6), max_value=10**6, places=3, allow_nan=False)


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["p", "q"]), sort_numbers), min_size=0, max_size=40, unique=True
    ),
    st.integers(1, 7),
    st.booleans(),
)
def test_paging_returns_every_item_once_in_order(
    rows: list[tuple[str, Decimal]], limit: int, forward: bool
) -> None:
    with Headwater.in_memory(clock=ManualClock()) as hw:
        ddb = hw.dynamodb
        create_table(ddb, "paged", range_key=("sk", "N"))
        stored = {}
        for pk, sk in rows:
            text = format(sk.normalize(), "f")
            stored[(pk, Decimal(text))] = text
            ddb.put_item(TableName="paged", Item={"pk": {"S": pk}, "sk": {"N": text}})
        for partition in ("p", "q"):
            seen: list[Decimal] = []
            params: dict[str, Any] = {
                "TableName": "paged",
                "KeyConditionExpression": "pk = :p",
                "ExpressionAttributeValues": {":p": {"S": partition}},
                "Limit": limit,
                "ScanIndexForward": forward,
            }
            while True:
                page = ddb.query(**params)
                assert page["Count"] <= limit
                seen.extend(Decimal(i["sk"]["N"]) for i in page["Items"])
                if "LastEvaluatedKey" not in page:
                    break
                params["ExclusiveStartKey"] = page["LastEvaluatedKey"]
            expected = sorted((sk for pk, sk in stored if pk == partition), reverse=not forward)
            assert seen == expected
        scanned: list[tuple[str, Decimal]] = []
        params = {"TableName": "paged", "Limit": limit}
        while True:
            page = ddb.scan(**params)
            scanned.extend((i["pk"]["S"], Decimal(i["sk"]["N"])) for i in page["Items"])
            if "LastEvaluatedKey" not in page:
                break
            params["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        assert sorted(scanned) == sorted(stored) and len(scanned) == len(stored)
