"""``TableSchema.key_of``: its one-step path for plain keys (ASCII strings, positive
integers) gives what the general checks give, for any Key parameter."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from headwater.core.errors import AwsError
from headwater.services.dynamodb.schema import TableSchema
from headwater.store.tables import TableRow


def schema(range_type: str | None, hash_type: str = "S") -> TableSchema:
    keys = [{"AttributeName": "pk", "KeyType": "HASH"}]
    definitions = [{"AttributeName": "pk", "AttributeType": hash_type}]
    if range_type is not None:
        keys.append({"AttributeName": "sk", "KeyType": "RANGE"})
        definitions.append({"AttributeName": "sk", "AttributeType": range_type})
    spec = {
        "TableName": "t",
        "KeySchema": keys,
        "AttributeDefinitions": definitions,
        "TableArn": "arn:aws:dynamodb:us-east-1:000000000000:table/t",
    }
    return TableSchema.from_row(TableRow(1, "000000000000", "us-east-1", "t", 1, spec))


def outcome(call: Any, key: Any) -> Any:
    try:
        return call(key)
    except AwsError as error:
        return (error.code, error.message)


texts = st.one_of(
    st.text(max_size=5),
    st.text(alphabet="0123456789-.eE+", max_size=42),
    st.from_regex(r"[1-9][0-9]{35,40}", fullmatch=True),
    st.sampled_from(["", "0", "007", "1e3", "-1", "1.50", "a" * 1024, "a" * 1025, "é" * 600]),
    st.sampled_from(["a" * 2048, "a" * 2049, "9" * 38, "9" * 39, "1" + "0" * 37]),
)
values = st.one_of(
    st.builds(lambda kind, text: {kind: text}, st.sampled_from(["S", "N", "B", "BOOL"]), texts),
    st.just({"S": "a", "N": "1"}),
    st.just({}),
    st.just("a"),
    st.just({"S": 1}),
    st.just({"N": None}),
)


@given(
    range_type=st.sampled_from([None, "S", "N"]),
    hash_type=st.sampled_from(["S", "N"]),
    hash_value=values,
    range_value=values,
    extra=st.booleans(),
)
def test_the_plain_path_agrees_with_the_general_checks(
    range_type: str | None, hash_type: str, hash_value: Any, range_value: Any, extra: bool
) -> None:
    table = schema(range_type, hash_type)
    key: dict[str, Any] = {"pk": hash_value}
    if range_type is not None:
        key["sk"] = range_value
    if extra:
        key["other"] = {"S": "x"}
    assert outcome(table.key_of, key) == outcome(table.checked_key_of, key)


@pytest.mark.parametrize(
    "key", [None, [], {"pk": {"S": "a"}, "sk": {"N": "1"}}, {"sk": {"N": "1"}}]
)
def test_keys_of_the_wrong_shape_get_the_general_error(key: Any) -> None:
    table = schema(None)
    assert outcome(table.key_of, key) == outcome(table.checked_key_of, key)
    assert isinstance(outcome(table.key_of, key), tuple)


EDGES = [
    {"S": ""},
    {"S": "a" * 1024},
    {"S": "a" * 1025},
    {"S": "a" * 2048},
    {"S": "a" * 2049},
    {"S": "é"},
    {"N": "007"},
    {"N": "0"},
    {"N": "-1"},
    {"N": "1.50"},
    {"N": "1e3"},
    {"N": "9" * 38},
    {"N": "9" * 39},
    {"N": "1" + "0" * 37},
    {"N": "\uff11"},  # a full-width digit: not ASCII
    {"N": ""},
    {"B": b"a"},
    {"S": 1},
]


@pytest.mark.parametrize("range_type", ["S", "N"])
@pytest.mark.parametrize("value", EDGES, ids=lambda v: repr(v)[:20])
def test_edge_values_agree_with_the_general_checks(range_type: str, value: Any) -> None:
    for table, key in (
        (schema(None, range_type), {"pk": value}),
        (schema(range_type), {"pk": {"S": "a"}, "sk": value}),
    ):
        assert outcome(table.key_of, key) == outcome(table.checked_key_of, key)
