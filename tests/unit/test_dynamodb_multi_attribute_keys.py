"""Multi-attribute index keys: the concatenated component bytes order as DynamoDB orders
the attributes' tuple, and a prefix of attributes is a prefix of bytes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from headwater.core.expressions.key_order import encode_key_component, escape_component

#: Numbers whose digits are a prefix of one another's (1, 1.2, 1.25) are what an unended
#: number component would misorder against the next attribute.
numbers = st.one_of(
    st.sampled_from(["1", "1.2", "1.25", "12", "0.1", "0.12", "-1", "-1.2", "-0.12", "0"]).map(
        Decimal
    ),
    st.decimals(
        allow_nan=False, allow_infinity=False, places=4, min_value=-(10**9), max_value=10**9
    ),
    st.sampled_from(["1E+125", "-1E+125", "1E-130", "-1E-130", "9" * 38]).map(Decimal),
)
strings = st.text(alphabet=st.sampled_from(["\x00", "\x01", "a", "b", "é", "\uffff", "😀"]))

#: A value of each key type, with the key DynamoDB orders it by.
typed_values = {
    "S": strings.map(lambda s: ({"S": s}, s.encode("utf-8"))),
    "N": numbers.map(lambda n: ({"N": format(n, "f") if n != 0 else "0"}, n)),
    "B": st.binary(max_size=6).map(lambda b: ({"B": b}, b)),
}


def encoded(values: list[dict[str, Any]]) -> bytes:
    return b"".join(encode_key_component(v) for v in values)


@st.composite
def tuples_of_one_schema(draw: Any) -> list[list[tuple[dict[str, Any], Any]]]:
    kinds = draw(st.lists(st.sampled_from(["S", "N", "B"]), min_size=1, max_size=4))
    row = st.tuples(*(typed_values[k] for k in kinds)).map(list)
    return list(draw(st.lists(row, min_size=2, max_size=8)))


@settings(max_examples=400)
@given(tuples_of_one_schema())
def test_byte_order_is_the_tuple_order(rows: list[list[tuple[dict[str, Any], Any]]]) -> None:
    by_bytes = sorted(rows, key=lambda row: encoded([v for v, _ in row]))
    by_tuple = sorted(rows, key=lambda row: tuple(k for _, k in row))
    assert [tuple(k for _, k in r) for r in by_bytes] == [tuple(k for _, k in r) for r in by_tuple]
    for a in rows:
        for b in rows:
            ka, kb = tuple(k for _, k in a), tuple(k for _, k in b)
            ea, eb = encoded([v for v, _ in a]), encoded([v for v, _ in b])
            assert (ea < eb) == (ka < kb) and (ea == eb) == (ka == kb)


@settings(max_examples=400)
@given(tuples_of_one_schema(), st.integers(0, 4))
def test_equal_leading_attributes_are_a_byte_prefix(
    rows: list[list[tuple[dict[str, Any], Any]]], size: int
) -> None:
    first = rows[0][:size]
    prefix = encoded([v for v, _ in first])
    for row in rows:
        same = [k for _, k in row[:size]] == [k for _, k in first]
        assert encoded([v for v, _ in row]).startswith(prefix) == same


@given(strings, strings)
def test_begins_with_is_a_byte_prefix(value: str, start: str) -> None:
    component = encode_key_component({"S": value})
    assert component.startswith(escape_component(start.encode("utf-8"))) == value.startswith(start)
