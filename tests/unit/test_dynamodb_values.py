"""DynamoDB attribute values: number rules, validation texts, sizes and key ordering."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from headwater.api.shapes import _attribute_value, _compile_checker, _is_plain_attribute_value
from headwater.core.errors import AwsError
from headwater.core.expressions.key_order import encode_key_value, scan_token, segment_bounds
from headwater.core.expressions.legacy import Legacy
from headwater.core.expressions.values import (
    ARITHMETIC,
    add_numbers,
    item_size,
    normalize_number,
    number_from_decimal,
    sized_item,
    sized_value,
    validate_value,
    value_size,
    values_equal,
)
from headwater.models import service_model


@pytest.mark.parametrize(
    ("text", "normal"),
    [
        ("0", "0"),
        ("-0", "0"),
        ("007", "7"),
        ("1.50", "1.5"),
        ("+3", "3"),
        ("1e2", "100"),
        ("1.5E-3", "0.0015"),
        ("-.5", "-0.5"),
        ("12345678901234567890123456789012345678", "12345678901234567890123456789012345678"),
        (
            "9.9999999999999999999999999999999999999E+125",
            "99999999999999999999999999999999999999" + "0" * 88,
        ),
        ("1E-130", "0." + "0" * 129 + "1"),
        ("0e125", "0"),
        ("0.00e126", "0"),
        ("0e-130", "0"),
    ],
)
def test_numbers_are_exact_and_normalized(text: str, normal: str) -> None:
    assert normalize_number(text) == normal


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "The parameter cannot be converted to a numeric value"),
        ("abc", "The parameter cannot be converted to a numeric value: abc"),
        ("1_000", "The parameter cannot be converted to a numeric value: 1_000"),
        ("NaN", "The parameter cannot be converted to a numeric value: NaN"),
        ("1" * 39, "Attempting to store more than 38 significant digits in a Number"),
        (
            "1E126",
            "Number overflow. Attempting to store a number with magnitude larger than "
            "supported range",
        ),
        (
            "1E-131",
            "Number underflow. Attempting to store a number with magnitude smaller than "
            "supported range",
        ),
        # AWS reads the exponent in full (eu-west-2, captured by a conformance suite):
        # past 32 bits it is range-checked, past 64 bits the text is no number at all,
        # and a zero is range-checked by the exponent it is written with.
        (
            "1e2147483648",
            "Number overflow. Attempting to store a number with magnitude larger than "
            "supported range",
        ),
        (
            "1e9223372036854775808",
            "The parameter cannot be converted to a numeric value: 1e9223372036854775808",
        ),
        (
            "1e-9223372036854775809",
            "The parameter cannot be converted to a numeric value: 1e-9223372036854775809",
        ),
        (
            "1e" + "9" * 5000,
            "The parameter cannot be converted to a numeric value: 1e" + "9" * 5000,
        ),
        (
            "0e126",
            "Number overflow. Attempting to store a number with magnitude larger than "
            "supported range",
        ),
        (
            "0e-131",
            "Number underflow. Attempting to store a number with magnitude smaller than "
            "supported range",
        ),
    ],
)
def test_invalid_numbers(text: str, message: str) -> None:
    with pytest.raises(AwsError) as caught:
        normalize_number(text)
    assert caught.value.message == message


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            {},
            "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes",
        ),
        (
            {"S": "a", "N": "1"},
            "Supplied AttributeValue has more than one datatypes set, must contain exactly one "
            "of the supported datatypes",
        ),
        (
            {"NULL": False},
            "One or more parameter values were invalid: Null attribute value types must have "
            "the value of true",
        ),
        ({"SS": []}, "One or more parameter values were invalid: An string set  may not be empty"),
        ({"NS": []}, "One or more parameter values were invalid: An number set  may not be empty"),
        ({"BS": []}, "One or more parameter values were invalid: Binary sets should not be empty"),
        (
            {"SS": ["a", "a"]},
            "One or more parameter values were invalid: Input collection [a, a] contains "
            "duplicates.",
        ),
        ({"NS": ["1", "1.0"]}, "Input collection contains duplicates"),
        (
            {"BS": [b"b", b"\x00", b"b"]},
            "One or more parameter values were invalid: Input collection [Yg==, AA==, Yg==]of "
            "type BS contains duplicates.",
        ),
        ({"L": [{"N": "x"}]}, "The parameter cannot be converted to a numeric value: x"),
    ],
)
def test_invalid_values(value: dict[str, object], message: str) -> None:
    with pytest.raises(AwsError) as caught:
        validate_value(value)
    assert caught.value.message == message


def test_validation_never_modifies_the_callers_value() -> None:
    value = {"M": {"n": {"N": "1.0"}, "l": {"L": [{"NS": ["02"]}]}}}
    checked = validate_value(value)
    assert checked == {"M": {"n": {"N": "1"}, "l": {"L": [{"NS": ["2"]}]}}}
    assert value == {"M": {"n": {"N": "1.0"}, "l": {"L": [{"NS": ["02"]}]}}}
    plain = {"S": "x"}
    assert validate_value(plain) is plain


def test_empty_strings_and_binary_allowed_outside_keys() -> None:
    assert validate_value({"S": ""}) == {"S": ""}
    assert validate_value({"B": b""}) == {"B": b""}


def test_nesting_depth_limit() -> None:
    value: dict[str, object] = {"S": "x"}
    for _ in range(33):
        value = {"L": [value]}
    with pytest.raises(AwsError, match="Nesting Levels have exceeded supported limits"):
        validate_value(value)


def map_wraps(count: int) -> dict[str, object]:
    value: dict[str, object] = {"S": "leaf"}
    for _ in range(count):
        value = {"M": {"n": value}}
    return value


def test_nesting_stops_at_a_leaf_on_level_32_as_aws_counts() -> None:
    # AWS counts the attribute as level 1: 31 single-key map wraps put the leaf at
    # level 32 and are accepted, 32 wraps are refused (eu-west-2 and us-east-1).
    assert validate_value(map_wraps(31)) == map_wraps(31)
    # An empty map on level 32 holds nothing on level 33.
    empty_on_level_32: dict[str, object] = {"M": {}}
    for _ in range(31):
        empty_on_level_32 = {"M": {"n": empty_on_level_32}}
    assert validate_value(empty_on_level_32) == empty_on_level_32
    with pytest.raises(AwsError) as caught:
        validate_value(map_wraps(32))
    assert caught.value.message == (
        "Nesting Levels have exceeded supported limits: Attributes in the item have nested "
        "levels beyond supported limit"
    )


def test_item_size_counts_names_and_values() -> None:
    assert item_size({"id": {"S": "abc"}}) == 5
    assert item_size({"n": {"N": "123"}}) == 1 + 3  # 2 bytes of digits + 1
    assert item_size({"l": {"L": [{"S": "ab"}, {"BOOL": True}]}}) == 1 + 3 + (2 + 1) + (1 + 1)


# Literals sized by AWS to the byte at the 400 KB gate (eu-west-2, captured by a
# conformance suite): base-100 digit pairs aligned on the decimal point, plus an
# exponent byte and a sign byte for negatives; zero is one byte.
@pytest.mark.parametrize(
    ("literal", "size"),
    [
        ("0", 1),
        ("-0", 1),
        ("1", 2),
        ("12", 2),
        ("123", 3),
        ("1234", 3),
        ("12345678901234567890123456789012345678", 20),
        ("0042", 2),
        ("100", 2),
        ("1010", 3),
        ("0.0000001", 2),
        ("1E125", 2),
        ("1E-100", 2),
        ("1.5", 3),
        ("15", 2),
        ("1.200", 3),
        ("1.234", 4),
        ("3.14159", 5),
        ("123456", 4),
        ("100.5", 4),
        ("0.15", 2),
        ("-42", 3),
    ],
)
def test_a_number_is_sized_as_aws_sizes_it(literal: str, size: int) -> None:
    assert value_size({"N": normalize_number(literal)}) == size
    assert sized_value({"N": literal})[1] == size
    assert sized_value({"NS": [literal]})[1] == size


def test_set_equality_ignores_order() -> None:
    assert values_equal({"SS": ["a", "b"]}, {"SS": ["b", "a"]})
    assert values_equal({"NS": ["1", "2.0"]}, {"NS": ["2", "1"]})
    assert not values_equal({"SS": ["a"]}, {"S": "a"})


numbers = (
    st.decimals(allow_nan=False, allow_infinity=False, places=None)
    .filter(lambda d: d == 0 or -130 <= d.adjusted() <= 125)
    .map(lambda d: normalize_number(format(d, "f")) if len(d.as_tuple().digits) <= 38 else "0")
)


@given(numbers, numbers)
def test_number_keys_sort_as_decimals(a: str, b: str) -> None:
    ka, kb = encode_key_value({"N": a}), encode_key_value({"N": b})
    da, db = Decimal(a), Decimal(b)
    assert (ka < kb) == (da < db)
    assert (ka == kb) == (da == db)


integers = st.integers(min_value=-(10**38) + 1, max_value=10**38 - 1).map(str)


@given(st.integers(min_value=-(10**38) + 1, max_value=10**38 - 1))
def test_integer_keys_encode_as_their_decimal_forms(value: int) -> None:
    """Plain integers take a shortcut past the number parser: same bytes as the same
    number written with a fraction, which takes the parser."""
    assert encode_key_value({"N": str(value)}) == encode_key_value({"N": f"{value}.00"})


def _decimal_sum(a: str, b: str, subtract: bool) -> str | AwsError:
    """The reference: Decimal arithmetic, as every number was added before."""
    op = ARITHMETIC.subtract if subtract else ARITHMETIC.add
    try:
        return number_from_decimal(op(Decimal(a), Decimal(b)))
    except AwsError as error:
        return error


@given(st.one_of(integers, numbers), st.one_of(integers, numbers), st.booleans())
def test_adding_numbers_matches_decimal_arithmetic(a: str, b: str, subtract: bool) -> None:
    """Integers take a shortcut (Python ints): same digits, same 38-digit error."""
    expected = _decimal_sum(a, b, subtract)
    try:
        got: str | AwsError = add_numbers(a, b, subtract=subtract)
    except AwsError as error:
        got = error
    if isinstance(expected, AwsError):
        assert isinstance(got, AwsError) and got.message == expected.message
    else:
        assert got == expected


def test_adding_integers_at_the_precision_limit() -> None:
    nines = "9" * 38
    assert add_numbers(nines, "1") == "1" + "0" * 38  # 39 digits, one of them significant
    # 10**38 - 1 + 2 = 10**38 + 1: 39 significant digits
    with pytest.raises(AwsError, match="more than 38 significant digits"):
        add_numbers(nines, "2")
    assert add_numbers("-" + nines, nines) == "0"
    assert add_numbers("100", "-1", subtract=True) == "101"


@given(st.text(), st.text())
def test_string_keys_sort_by_utf8_bytes(a: str, b: str) -> None:
    ka, kb = encode_key_value({"S": a}), encode_key_value({"S": b})
    assert (ka < kb) == (a.encode("utf-8", "surrogatepass") < b.encode("utf-8", "surrogatepass"))


@given(st.binary(), st.binary())
def test_binary_keys_sort_unsigned(a: bytes, b: bytes) -> None:
    assert (encode_key_value({"B": a}) < encode_key_value({"B": b})) == (a < b)


def test_scan_segments_cover_the_token_space() -> None:
    bounds = [segment_bounds(i, 7) for i in range(7)]
    assert bounds[0][0] == 0 and bounds[-1][1] == 1 << 31
    assert all(bounds[i][1] == bounds[i + 1][0] for i in range(6))
    assert 0 <= scan_token(b"anything") < 1 << 31


def test_legacy_expected_translation() -> None:
    legacy = Legacy()
    item = {"a": {"S": "x"}, "n": {"N": "5"}}
    condition = legacy.expected(
        {
            "a": {"Value": {"S": "x"}},
            "n": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [{"N": "1"}, {"N": "9"}]},
        },
        "AND",
    )
    assert condition.evaluate(item, legacy.values)
    missing = legacy.expected({"zz": {"Exists": False}}, None)
    assert missing.evaluate(item, legacy.values)
    with pytest.raises(AwsError) as caught:
        legacy.expected({"a": {"Exists": True}}, None)
    assert caught.value.message == (
        "One or more parameter values were invalid: Value must be provided when Exists is true "
        "for Attribute: a"
    )


_LEAF = st.one_of(
    st.text(max_size=3), st.binary(max_size=3), st.integers(), st.booleans(), st.none()
)
_SHAPED = st.recursive(
    st.dictionaries(
        st.sampled_from(["S", "N", "B", "SS", "NS", "BS", "NULL", "BOOL", "X"]),
        st.one_of(_LEAF, st.lists(_LEAF, max_size=3)),
        max_size=2,
    ),
    lambda inner: st.one_of(
        st.dictionaries(st.just("M"), st.dictionaries(st.text(max_size=2), inner, max_size=3)),
        st.dictionaries(st.just("L"), st.lists(inner, max_size=3)),
    ),
    max_leaves=8,
)


@given(_SHAPED)
def test_the_hand_written_attribute_value_checker_agrees_with_the_compiled_one(value: Any) -> None:
    shape = service_model("dynamodb").shape_for("AttributeValue")
    assert _is_plain_attribute_value(shape)
    compiled = _compile_checker(shape, {}, fast_attribute_values=False)
    assert _attribute_value(value) == compiled(value)


_NUMBER_TEXT = st.one_of(
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.decimals(min_value=-(10**20), max_value=10**20, places=4).map(str),
    st.sampled_from(["0.0", "-0", "1e5", "1.50E-3", "00012", "100"]),
)
_VALID = st.recursive(
    st.one_of(
        st.builds(lambda t: {"S": t}, st.text(max_size=4)),
        st.builds(lambda n: {"N": n}, _NUMBER_TEXT),
        st.builds(lambda b: {"B": b}, st.binary(max_size=4)),
        st.builds(lambda b: {"BOOL": b}, st.booleans()),
        st.just({"NULL": True}),
        st.builds(lambda s: {"SS": sorted(s)}, st.sets(st.text(max_size=3), min_size=1)),
        st.builds(lambda s: {"BS": sorted(s)}, st.sets(st.binary(max_size=3), min_size=1)),
        st.builds(
            lambda s: {"NS": [str(n) for n in s]},
            st.sets(st.integers(min_value=-(10**30), max_value=10**30), min_size=1),
        ),
    ),
    lambda inner: st.one_of(
        st.builds(lambda m: {"M": m}, st.dictionaries(st.text(max_size=3), inner, max_size=3)),
        st.builds(lambda items: {"L": items}, st.lists(inner, max_size=3)),
    ),
    max_leaves=10,
)


@given(_VALID)
def test_one_walk_checks_and_sizes_values_as_the_separate_ones_did(value: Any) -> None:
    checked, size = sized_value(value)
    assert checked == validate_value(value)
    assert size == value_size(checked)


@given(st.dictionaries(st.text(min_size=1, max_size=3), _VALID, max_size=4))
def test_one_walk_sizes_items_as_item_size(item: Any) -> None:
    checked, size = sized_item(item)
    assert size == item_size(checked)


@given(st.binary(max_size=64))
def test_scan_tokens_stay_the_md5_prefix_stored_data_was_written_with(partition: bytes) -> None:
    import hashlib

    expected = int.from_bytes(hashlib.md5(partition).digest()[:4], "big") >> 1
    assert scan_token(partition) == expected
