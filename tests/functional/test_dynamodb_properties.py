"""Properties: conditional writes and transactions agree with a dict model; paging returns
every item exactly once, in DynamoDB's order."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from headwater import Headwater, ManualClock
from headwater.services.dynamodb.statements import MAX_DECOMPOSED_READS, TOO_MANY_READS
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


# ---- PartiQL SELECT: a Query or a Scan, the same items ----

ATOMS: list[tuple[str, Any]] = [
    ("pk = 'a'", lambda i: i["pk"] == "a"),
    ("'b' = pk", lambda i: i["pk"] == "b"),
    ("sk < 3", lambda i: i["sk"] < 3),
    ("2 <= sk", lambda i: i["sk"] >= 2),
    ("sk BETWEEN 1 AND 4", lambda i: 1 <= i["sk"] <= 4),
    ("sk = 0", lambda i: i["sk"] == 0),
    ("x = 2", lambda i: i.get("x") == 2),
    ("x IS MISSING", lambda i: "x" not in i),
    ("x IN [0, 3]", lambda i: i.get("x") in (0, 3)),
    ("NOT sk = 1", lambda i: i["sk"] != 1),
]

#: A generated term: its text, its test of an item, and how many AND-branches it has in
#: disjunctive form (an OR adds its sides' branches, an AND multiplies them).
Term = tuple[str, Any, int]


def _joined(operator: str, left: Term, right: Term) -> Term:
    if operator == "AND":
        return (
            f"({left[0]}) AND ({right[0]})",
            lambda i: left[1](i) and right[1](i),
            left[2] * right[2],
        )
    return (
        f"({left[0]}) OR ({right[0]})",
        lambda i: left[1](i) or right[1](i),
        left[2] + right[2],
    )


ATOM_TERMS: list[Term] = [(text, test, 1) for text, test in ATOMS]

conditions = st.recursive(
    st.sampled_from(ATOM_TERMS),
    lambda inner: st.tuples(st.sampled_from(["AND", "OR"]), inner, inner).map(
        lambda t: _joined(*t)
    ),
    max_leaves=4,
)

OVERLAP = "Overlapping conditions with range keys are not supported in where clause"

ROWS = [
    {"pk": pk, "sk": sk, **({} if (sk + len(pk)) % 3 == 0 else {"x": sk % 4})}
    for pk in ("a", "b", "c")
    for sk in range(6)
]


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.one_of(st.sampled_from(ATOM_TERMS), conditions), min_size=1, max_size=4),
    st.integers(1, 7),
)
# a key condition on both keys beside a filter, and a sort key named twice
@example([ATOM_TERMS[0], ATOM_TERMS[2], ATOM_TERMS[6]], 2)
@example([ATOM_TERMS[1], ATOM_TERMS[4], ATOM_TERMS[5], ATOM_TERMS[7]], 1)
def test_partiql_select_returns_what_its_where_says(terms: list[Term], limit: int) -> None:
    """Whichever terms move into a key condition, a SELECT pages through exactly the items
    its WHERE holds for, each once (a top-level AND of generated terms)."""
    with Headwater.in_memory(clock=ManualClock()) as hw:
        ddb = hw.dynamodb
        create_table(ddb, "rows", range_key=("sk", "N"))
        for row in ROWS:
            item = {"pk": {"S": row["pk"]}, "sk": {"N": str(row["sk"])}}
            if "x" in row:
                item["x"] = {"N": str(row["x"])}
            ddb.put_item(TableName="rows", Item=item)
        where = " AND ".join(f"({text})" for text, _, _ in terms)
        found: list[tuple[str, int]] = []
        token = None
        while True:
            extra = {"NextToken": token} if token else {}
            try:
                page = ddb.execute_statement(
                    Statement=f'SELECT pk, sk FROM "rows" WHERE {where}', Limit=limit, **extra
                )
            except ClientError as error:
                # AWS refuses OR branches of one partition whose sort-key ranges meet, and
                # a WHERE that splits into more than 50 reads
                message = error.response["Error"]["Message"]
                assert token is None, message
                if message == TOO_MANY_READS:
                    assert math.prod(branches for _, _, branches in terms) > MAX_DECOMPOSED_READS
                else:
                    assert message == OVERLAP, message
                return
            found += [(i["pk"]["S"], int(i["sk"]["N"])) for i in page["Items"]]
            token = page.get("NextToken")
            if token is None:
                break
    expected = [(r["pk"], r["sk"]) for r in ROWS if all(test(r) for _, test, _ in terms)]
    assert sorted(found) == sorted(expected)
    assert len(found) == len(set(found))
